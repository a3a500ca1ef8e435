"""A store with the sample network, its people and a few reports, written through the repos."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.core import network_file
from bot.core.media import store_file
from storage import Store

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT / "examples" / "network.yaml"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"P" * 1500


@dataclass
class Seeded:
    members: dict[str, int] = field(default_factory=dict)  # name -> member id
    projects: dict[str, int] = field(default_factory=dict)  # slug -> project id
    references: dict[str, list[str]] = field(default_factory=dict)  # slug -> references


async def seed(store: Store, now: datetime, media_dir: Path | None = None) -> Seeded:
    """Load the network; add partners, observers (Rennes, Drôme), a coordinator, an admin and
    two monthly reports for each project, one with a stored photo."""
    await network_file.load(store, network_file.read(NETWORK), now - timedelta(days=120))
    seeded = Seeded()
    projects = await store.network.projects()
    seeded.projects = {p.slug: p.id for p in projects}
    orgs = {o.slug: o.id for o in await store.network.organisations()}
    people = (
        ("Aminata", "partner", "ziguinchor", ["eau-ziguinchor"], "fr"),
        ("João", "partner", "garanhuns", ["dechets-garanhuns"], "pt"),
        ("Rosa", "partner", "cusco", ["ecoles-cusco"], "es"),
        ("Claire", "observer", "rennes", [], "fr"),
        ("Didier", "observer", "drome", [], "fr"),
        ("Marc", "coordinator", "drome", ["dechets-garanhuns"], "en"),
        ("Sophie", "admin", None, [], "fr"),
    )
    async with store.transaction():
        for index, (name, role, org, slugs, language) in enumerate(people):
            seeded.members[name] = await store.members.create(
                telegram_user_id=5000 + index, display_name=name, username=None,
                role=role,  # type: ignore[arg-type]
                organisation_id=orgs.get(org) if org else None, language=language,
                timezone="Europe/Paris", status="active", consent_at=now, invitation_id=None,
                project_ids=[seeded.projects[s] for s in slugs], now=now)
    authors = {"eau-ziguinchor": "Aminata", "dechets-garanhuns": "João", "ecoles-cusco": "Rosa"}
    for slug, author in authors.items():
        project_id = seeded.projects[slug]
        indicators = await store.network.indicators(project_id)
        for month, (start, end) in enumerate(((date(2026, 1, 26), date(2026, 2, 25)),
                                              (date(2026, 2, 26), date(2026, 3, 25)))):
            moment = now - timedelta(days=30 * (1 - month), hours=2)
            async with store.transaction():
                report_id = await store.reports.create_report(
                    kind="report", prefix="R", project_id=project_id,
                    member_id=seeded.members[author], period_start=start, period_end=end,
                    chat_id=None, now=moment)
                values = [(i.id, Decimal(10 * (month + 1) + n)) for n, i in enumerate(indicators)]
                version_id = await store.reports.add_version(
                    report_id, 1, narrative=f"=1+1 Période {month + 1} : « ça avance »",
                    created_by=seeded.members[author], now=moment, values=values)
                if media_dir is not None and month == 1:
                    digest, relative = store_file(media_dir, PHOTO, "photo", "image/jpeg")
                    attachment = await store.reports.add_attachment(
                        member_id=seeded.members[author], draft_id=None, now=moment,
                        kind="photo", file_id=f"photo-{slug}", mime_type="image/jpeg",
                        size=len(PHOTO), caption="Le puits n°3", state="stored")
                    await store.db.execute(
                        "UPDATE attachments SET report_version_id = ?, sha256 = ?, path = ?"
                        " WHERE id = ?", (version_id, digest, relative, attachment))
            report = await store.reports.report(report_id)
            assert report is not None
            seeded.references.setdefault(slug, []).append(report.reference)
    return seeded
