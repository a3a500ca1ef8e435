"""One rule for survey answers on every path: /export and `palabre export --as` (the workbook's
survey sheets), the /results spreadsheet, `palabre survey export`. Only submitted answers; a
partner reads only their own; coordinators and observers their scope; admins everyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.core.announcements import AnnouncementService, Audience
from bot.core.surveys import SurveyService
from bot.documents import Documents
from storage import Store
from tests.auxil.seed import Seeded, seed
from tests.auxil.texts import tr

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
FORMS = Path(__file__).resolve().parents[1] / "forms"


@pytest.fixture
async def answered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Seeded:
    """A joint campaign to eau-ziguinchor: Aminata (partner) and Claire (observer, Rennes)
    submitted; Binta (partner, same project) is still answering."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "palabre.db"))
    monkeypatch.setenv("PALABRE_TIMEZONE", "Europe/Paris")
    store = await Store.open(tmp_path / "palabre.db")
    try:
        seeded = await seed(store, NOW)
        project = seeded.projects["eau-ziguinchor"]
        aminata = await store.members.by_id(seeded.members["Aminata"])
        assert aminata is not None
        async with store.transaction():
            seeded.members["Binta"] = await store.members.create(
                telegram_user_id=6001, display_name="Binta", username=None, role="partner",
                organisation_id=aminata.organisation_id, language="fr",
                timezone="Africa/Dakar", status="active", consent_at=NOW, invitation_id=None,
                project_ids=[project], now=NOW)
        surveys = SurveyService(store, AnnouncementService(store, "UTC"), "UTC")
        form, _new = await surveys.import_form(FORMS / "water_points.xlsx", NOW)
        campaign_id, _invited = await surveys.launch(
            author=None, form=form, audience=Audience({"project": ("eau-ziguinchor",)}),
            joint=True, opens_at=NOW, closes_at=NOW + timedelta(days=7), now=NOW)
        for name, side, submitted in (("Aminata", "partner", True), ("Binta", "partner", False),
                                      ("Claire", "collectivity", True)):
            async with store.transaction():
                response = await store.surveys.start_response(
                    campaign_id, seeded.members[name], side, 0, NOW)  # type: ignore[arg-type]
                await store.surveys.set_answer(response, "country", f"{name}-secret", NOW)
                if submitted:
                    await store.surveys.update_response(response, NOW, status="submitted",
                                                        step="done", submitted_at=NOW)
        return seeded
    finally:
        await store.close()


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _names_in_workbook(path: Path) -> set[str]:
    book = openpyxl.load_workbook(path)
    names: set[str] = set()
    for sheet in book.worksheets[3:]:  # after Reports, Indicator values, Attachments
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            names.add(str(row[header.index("Nom")]))
            assert not str(row[header.index("Pays")]).startswith("Binta")
    return names


@pytest.mark.parametrize(("who", "expected"), [
    ("Aminata", {"Aminata"}),  # a partner: their own answers only
    ("Binta", set()),  # still answering: nothing to export yet, not even the others'
    ("Claire", {"Aminata", "Claire"}),  # observer of Rennes: the project's, submitted
    ("Didier", set()),  # observer of the Drôme: not their project
    ("Sophie", {"Aminata", "Claire"}),  # administrator: every submitted response
    (None, {"Aminata", "Claire"}),  # the operator, without --as
])
def test_export_as_each_role(answered: Seeded, tmp_path: Path, who: str | None,
                             expected: set[str]) -> None:
    out = tmp_path / f"{who}.xlsx"
    extra = [] if who is None else ["--as", str(answered.members[who])]
    _run("export", "--out", str(out), *extra)
    assert _names_in_workbook(out) == expected


def test_survey_export_holds_submitted_answers_only(answered: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "wide.csv"
    assert "Wrote 2 responses" in _run("survey", "export", "1", "--out", str(out))
    text = out.read_text(encoding="utf-8-sig")
    assert "Binta" not in text and "Aminata-secret" in text


@pytest.mark.parametrize(("who", "count"), [("Claire", 2), ("Sophie", 2)])
async def test_results_spreadsheet_follows_the_same_rule(answered: Seeded, tmp_path: Path,
                                                         who: str, count: int) -> None:
    store = await Store.open(tmp_path / "palabre.db")
    try:
        surveys = SurveyService(store, AnnouncementService(store, "UTC"), "UTC",
                                Documents(store, tmp_path / "palabre.db"))
        reader = await store.members.by_id(answered.members[who])
        assert reader is not None
        outcome = await surveys.export(reader, 1)
        document = outcome.replies[0].document
        assert document is not None
        path = tmp_path / "results.xlsx"
        path.write_bytes(document.content)
        sheet = openpyxl.load_workbook(path).worksheets[0]
        header = [c.value for c in sheet[1]]
        names = {row[header.index(tr(reader.language, "Name"))]
                 for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert len(names) == count and "Binta" not in names
    finally:
        await store.close()
