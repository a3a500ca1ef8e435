"""Benchmark: consultation over a large store (generated): /summary latency and export throughput.

A temporary database gets the sample network (`examples/network.yaml`), a partner per project,
an administrator and an observer, every project raised to 5 indicators, then `--reports`
reports (default 200,000) spread over the 3 projects and monthly periods going back ten
years, each with one version and 5 indicator values (1,000,000 values by default) and a photo
or a location on one report in 40. The rows are written with plain sqlite3 `executemany` in
big transactions, not through the bot.

Printed:
- generation time and the database size;
- `/summary` as an administrator (all 3 projects, charts drawn with matplotlib): median and max
  of 5 runs, the text part alone, and each query of `storage/consultation.py` per project;
- CSV and XLSX exports of everything (`Scope()`): rows/s, each run in a fresh child process
  (multiprocessing, spawn) whose peak RSS is reported next to its RSS before the export, to
  show that rows are streamed, not loaded whole;
- the `sqlite3` command-line tool's `.mode csv` dump of the same rows (same joins and order),
  its rows/s and peak RSS, and the ratios palabre csv / sqlite3 and palabre xlsx / sqlite3.

Usage: .venv/bin/python benchmarks/bench_consultation.py [--reports N] [--keep DIR]
(`--reports 20000` is a smoke run of about half a minute; `--keep DIR` keeps the database and files.)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Only what an export child needs is imported at module level: a spawned child imports this
# module again, and its RSS before the export should be the export code's, not matplotlib's.
from bot.exports.spreadsheets import write_csv, write_xlsx  # noqa: E402
from bot.exports.tables import Scope, connect_readonly, total_rows  # noqa: E402
from bot.i18n import use_language  # noqa: E402

if TYPE_CHECKING:
    from storage import Store

NETWORK = ROOT / "examples" / "network.yaml"
TIMEZONE = "Europe/Paris"
LANGUAGE = "fr"
INDICATORS_PER_PROJECT = 5
YEARS = 10
ATTACHMENT_EVERY = 40  # one report in 40 has a photo or a location
BATCH = 25_000  # reports per transaction
SUMMARY_RUNS = 5
T = TypeVar("T")

NARRATIVES = (
    "Deux puits réparés ce mois-ci, la pompe du quartier Boucotte arrive la semaine prochaine.",
    "Les comités se sont réunis ; la saison des pluies a retardé les travaux au nord.",
    "- collecte élargie à trois quartiers\n- formation des agents terminée",
    "Réunion avec la mairie le 12, les enseignants ont reçu le matériel. « Ça avance. »",
    "RAS. Les chiffres de ce mois sont provisoires, la fiche du district n'est pas encore arrivée.",
)

# The rows of the export, as `bot/exports/tables.py` selects them (same joins and order), for
# the sqlite3 command-line tool.
CLI_QUERIES = {
    "reports": (
        "SELECT r.reference, r.kind, p.name, o.name, m.display_name, r.period_start,"
        " r.period_end, r.status, r.version, r.created_at, r.status_at, v.narrative,"
        " r.status_comment FROM reports r"
        " JOIN projects p ON p.id = r.project_id JOIN members m ON m.id = r.member_id"
        " LEFT JOIN organisations o ON o.id = m.organisation_id"
        " LEFT JOIN report_versions v ON v.report_id = r.id AND v.version = r.version"
        " ORDER BY r.id;"),
    "indicator_values": (
        "SELECT r.reference, p.name, r.period_start, r.period_end, i.code, i.name, i.unit,"
        " iv.value, i.target, v.version, v.version = r.version, v.created_at FROM reports r"
        " JOIN projects p ON p.id = r.project_id"
        " JOIN report_versions v ON v.report_id = r.id"
        " JOIN indicator_values iv ON iv.report_version_id = v.id"
        " JOIN indicators i ON i.id = iv.indicator_id"
        " ORDER BY r.id, v.version, i.position;"),
    "attachments": (
        "SELECT r.reference, p.name, a.kind, a.purpose, a.path, a.mime_type, a.size, a.sha256,"
        " a.caption, a.latitude, a.longitude, a.state, a.created_at FROM reports r"
        " JOIN projects p ON p.id = r.project_id"
        " JOIN report_versions v ON v.report_id = r.id AND v.version = r.version"
        " JOIN attachments a ON a.report_version_id = v.id"
        " ORDER BY r.id, a.id;"),
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def own_peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM). In a spawned child, ru_maxrss is not: Linux keeps
    the parent's high-water mark across fork and exec, so it would show the parent's peak."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return peak_rss_mib()
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else peak_rss_mib()


def mib(size: int) -> float:
    return size / (1024 * 1024)


# --- the store ----------------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    admin: int
    observer: int
    partners: dict[int, int]  # project id -> the partner who reports for it


async def prepare(database: Path, now: datetime) -> People:
    """Migrations, the sample network and its people, through the store as the bot does."""
    from bot.core import network_file
    from storage import Store

    store = await Store.open(database)
    try:
        await network_file.load(store, network_file.read(NETWORK), now - timedelta(days=366 * YEARS))
        return await _people(store, now)
    finally:
        await store.close()


async def _people(store: Store, now: datetime) -> People:
    orgs = {o.slug: o.id for o in await store.network.organisations()}
    projects = {p.slug: p.id for p in await store.network.projects()}
    partner_orgs = {"eau-ziguinchor": "ziguinchor", "dechets-garanhuns": "garanhuns",
                    "ecoles-cusco": "cusco"}
    partners: dict[int, int] = {}

    async def create(user_id: int, name: str, role: Any, org: str | None,
                     project_ids: list[int]) -> int:
        return await store.members.create(
            telegram_user_id=user_id, display_name=name, username=None, role=role,
            organisation_id=orgs[org] if org else None, language=LANGUAGE, timezone=TIMEZONE,
            status="active", consent_at=now, invitation_id=None, project_ids=project_ids,
            now=now)

    async with store.transaction():
        for index, (slug, org) in enumerate(partner_orgs.items()):
            partners[projects[slug]] = await create(
                7000 + index, f"Partenaire {org.title()}", "partner", org, [projects[slug]])
        admin = await create(7100, "Sophie", "admin", None, [])
        observer = await create(7101, "Claire", "observer", "rennes", [])
    return People(admin=admin, observer=observer, partners=partners)


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _add_indicators(conn: sqlite3.Connection) -> dict[int, list[tuple[int, str]]]:
    """Raise every project to INDICATORS_PER_PROJECT indicators; return (id, type) by project."""
    projects = [int(r[0]) for r in conn.execute("SELECT id FROM projects ORDER BY id")]
    for project_id in projects:
        count, last = conn.execute(
            "SELECT COUNT(*), COALESCE(MAX(position), -1) FROM indicators WHERE project_id = ?",
            (project_id,)).fetchone()
        for n in range(count, INDICATORS_PER_PROJECT):
            last += 1
            name = {"fr": f"Indicateur {n + 1}", "en": f"Indicator {n + 1}",
                    "pt": f"Indicador {n + 1}", "es": f"Indicador {n + 1}"}
            conn.execute(
                "INSERT INTO indicators (project_id, code, name, unit, type, target, min_value,"
                " max_value, position) VALUES (?, ?, ?, '', 'integer', 1000, 0, NULL, ?)",
                (project_id, f"extra{n + 1}", json.dumps(name, ensure_ascii=False,
                                                         sort_keys=True), last))
    found: dict[int, list[tuple[int, str]]] = {p: [] for p in projects}
    for indicator_id, project_id, kind in conn.execute(
            "SELECT id, project_id, type FROM indicators ORDER BY project_id, position"):
        found[project_id].append((indicator_id, kind))
    return found


def _value(kind: str, rng: random.Random) -> float:
    if kind == "integer":
        return float(rng.randint(0, 1000))
    if kind == "percent":
        return round(rng.uniform(0, 100), 1)
    return round(rng.uniform(0, 2000), 2)


@dataclass
class Batch:
    reports: list[tuple[Any, ...]]
    versions: list[tuple[Any, ...]]
    values: list[tuple[int, int, float]]
    attachments: list[tuple[Any, ...]]


def _batches(total: int, people: People, indicators: dict[int, list[tuple[int, str]]],
             now: datetime) -> Iterator[Batch]:
    """Reports in id order, sent over ten years (about every 26 minutes at 200,000), each for
    the month before it was sent; ids are those of a fresh table (1, 2, …)."""
    rng = random.Random(20_260_325)
    projects = sorted(indicators)
    span = timedelta(days=366 * YEARS)
    for first in range(1, total + 1, BATCH):
        batch = Batch([], [], [], [])
        for report_id in range(first, min(first + BATCH, total + 1)):
            project_id = projects[report_id % len(projects)]
            member_id = people.partners[project_id]
            # A float fraction: span * (a large int) overflows timedelta above ~273,000.
            sent = now - span * ((total - report_id + 1) / total)
            start = _months_back(sent.date(), 1)
            end = _months_back(sent.date(), 0) - timedelta(days=1)
            created = sent.isoformat()
            accepted = report_id < total * 0.97 or rng.random() < 0.3
            status_at = (sent + timedelta(hours=rng.randint(2, 72))).isoformat() if accepted \
                else created
            batch.reports.append((
                report_id, f"R-{sent.year}-{report_id:06d}", project_id, member_id,
                start.isoformat(), end.isoformat(), "accepted" if accepted else "submitted",
                people.admin if accepted else None, status_at, created, status_at))
            batch.versions.append((report_id, report_id, rng.choice(NARRATIVES), member_id,
                                   created))
            batch.values.extend((report_id, indicator_id, _value(kind, rng))
                                for indicator_id, kind in indicators[project_id])
            if report_id % ATTACHMENT_EVERY == 0:
                digest = hashlib.sha256(report_id.to_bytes(8, "big")).hexdigest()
                if report_id % (2 * ATTACHMENT_EVERY) == 0:
                    batch.attachments.append((
                        member_id, report_id, "photo", f"photo-{report_id}", "image/jpeg",
                        rng.randint(80_000, 900_000), "Le puits n°3", None, None, digest,
                        f"photo/{digest[:2]}/{digest}.jpg", "stored", created))
                else:
                    batch.attachments.append((
                        member_id, report_id, "location", None, None, None, None,
                        round(12.56 + rng.uniform(-0.05, 0.05), 5),
                        round(-16.27 + rng.uniform(-0.05, 0.05), 5), None, None, "none",
                        created))
        yield batch


def generate(database: Path, total: int, people: People, now: datetime) -> None:
    """Bulk rows with plain sqlite3, a transaction per BATCH reports, then ANALYZE."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        indicators = _add_indicators(conn)
        conn.execute("COMMIT")
        for batch in _batches(total, people, indicators, now):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO reports (id, reference, kind, project_id, member_id, period_start,"
                " period_end, status, status_by, status_at, version, created_at, updated_at)"
                " VALUES (?, ?, 'report', ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)", batch.reports)
            conn.executemany(
                "INSERT INTO report_versions (id, report_id, version, narrative, created_by,"
                " created_at) VALUES (?, ?, 1, ?, ?, ?)", batch.versions)
            conn.executemany(
                "INSERT INTO indicator_values (report_version_id, indicator_id, value)"
                " VALUES (?, ?, ?)", batch.values)
            conn.executemany(
                "INSERT INTO attachments (member_id, report_version_id, kind, file_id,"
                " mime_type, size, caption, latitude, longitude, sha256, path, state,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch.attachments)
            conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


# --- /summary -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryTimes:
    full: list[float]  # seconds, charts included
    text: list[float]  # the text blocks alone (no series query, no drawing)
    projects: int
    charts: int
    queries: dict[str, float]  # storage/consultation.py query -> seconds, all projects


async def _timed(call: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    started = time.perf_counter()
    result = await call()
    return result, time.perf_counter() - started


async def time_summary(database: Path, admin_id: int, now: datetime) -> SummaryTimes:
    from bot.core.announcements import AnnouncementService
    from bot.core.consultation import ConsultationService
    from bot.core.periods import Cadence
    from bot.core.reports import ReportService
    from bot.core.status import periods_to_check
    from bot.core.surveys import SurveyService
    from bot.documents import Documents
    from storage import Store

    store = await Store.open(database)
    try:
        member = await store.members.by_id(admin_id)
        assert member is not None
        surveys = SurveyService(store, AnnouncementService(store, TIMEZONE), TIMEZONE)
        service = ConsultationService(store, ReportService(store, TIMEZONE), surveys,
                                      Documents(store, database))
        full: list[float] = []
        text: list[float] = []
        queries = dict.fromkeys(("last_report", "reported_periods", "latest_values", "series"),
                                0.0)
        with use_language(member.language):
            outcome = None
            for _run in range(SUMMARY_RUNS):
                outcome, seconds = await _timed(lambda: service.summary(member, now))
                full.append(seconds)
            assert outcome is not None
            projects = await service._projects(member)
            for _run in range(SUMMARY_RUNS):
                started = time.perf_counter()
                for project in projects:
                    await service._project_block(member, project, now)
                text.append(time.perf_counter() - started)
            repo = store.consultation
            for project in projects:
                today = now.date()
                ends = [p.end for p in periods_to_check(Cadence(project.cadence), today)
                        if p is not None]
                calls: dict[str, Callable[[], Awaitable[object]]] = {
                    "last_report": partial(repo.last_report, project.id),
                    "reported_periods": partial(repo.reported_periods, project.id, ends),
                    "latest_values": partial(repo.latest_values, project.id),
                    "series": partial(repo.series, project.id),
                }
                for name, call in calls.items():
                    queries[name] += (await _timed(call))[1]
        charts = sum(1 for reply in outcome.replies if reply.photo is not None)
        return SummaryTimes(full, text, len(projects), charts, queries)
    finally:
        await store.close()


# --- exports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRun:
    rows: int
    seconds: float
    rss_before_mib: float  # the child's peak RSS once imported, before exporting
    peak_mib: float
    size_bytes: int


def export_child(kind: str, database: str, out: str) -> ExportRun:
    """Run in a fresh process: one export of everything, with its own peak RSS."""
    before = own_peak_rss_mib()
    counted = 0

    def progress(rows: int) -> None:
        nonlocal counted
        counted += rows

    with use_language(LANGUAGE):
        started = time.perf_counter()
        if kind == "xlsx":
            write_xlsx(Path(database), Path(out), Scope(), TIMEZONE, progress)
            files = [Path(out)]
        else:
            files = list(write_csv(Path(database), Path(out), Scope(), TIMEZONE,
                                   progress=progress).values())
        seconds = time.perf_counter() - started
    return ExportRun(counted, seconds, before, own_peak_rss_mib(),
                     sum(f.stat().st_size for f in files))


def run_export(kind: str, database: Path, out: Path) -> ExportRun:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(export_child, kind, str(database), str(out)).result()


@dataclass(frozen=True)
class CliRun:
    seconds: float
    peak_mib: float | None  # measured with GNU time when there is one
    size_bytes: int


def run_sqlite_cli(cli: str, database: Path, folder: Path) -> CliRun:
    """The same rows through `sqlite3 -readonly db '.mode csv' '.once f' 'SELECT …'`, under
    GNU time (a small parent, so the peak RSS it reports is the tool's own) if installed."""
    gnu_time = Path("/usr/bin/time")
    rss_file = folder / "sqlite3_rss.txt"
    args = [str(gnu_time), "-f", "%M", "-o", str(rss_file)] if gnu_time.exists() else []
    args += [cli, "-bail", "-readonly", str(database), ".headers on", ".mode csv"]
    files = []
    for key, query in CLI_QUERIES.items():
        path = folder / f"sqlite3_{key}.csv"
        files.append(path)
        args += [f".once {path}", query]
    started = time.perf_counter()
    subprocess.run(args, check=True)  # noqa: S603  # our own arguments, no shell
    seconds = time.perf_counter() - started
    peak = int(rss_file.read_text().split()[-1]) / 1024 if gnu_time.exists() else None
    return CliRun(seconds, peak, sum(f.stat().st_size for f in files))


# --- main ---------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def export_line(label: str, run: ExportRun, expected: int) -> str:
    check = "" if run.rows == expected else f" (MISMATCH: {expected:,} expected)"
    return (f"{label}: {run.rows:,} rows in {run.seconds:.1f} s = "
            f"{run.rows / run.seconds:,.0f} rows/s{check}; {mib(run.size_bytes):,.1f} MiB "
            f"written; peak RSS {run.peak_mib:.0f} MiB (child, {run.rss_before_mib:.0f} MiB "
            f"before exporting)")


def main(reports: int, keep: Path | None) -> dict[str, float]:
    """Print every figure; return the export rates (rows/s) and peak RSS for the summary."""
    found: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="palabre-bench-") as temporary:
        folder = keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        database = folder / "bench.db"
        for stale in folder.glob("bench.db*"):
            stale.unlink()
        now = datetime.now(UTC)

        started = time.perf_counter()
        people = asyncio.run(prepare(database, now))
        generate(database, reports, people, now)
        generated = time.perf_counter() - started
        conn = connect_readonly(database)
        try:
            counts = {table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                      for table in ("reports", "indicator_values", "attachments")}
            expected = total_rows(conn, Scope())
        finally:
            conn.close()
        print(f"store: {counts['reports']:,} reports, {counts['indicator_values']:,} indicator "
              f"values, {counts['attachments']:,} attachments; generated in {generated:.1f} s; "
              f"{mib(database.stat().st_size):,.0f} MiB")
        print(f"peak RSS after generation: {peak_rss_mib():.0f} MiB (benchmark process)")

        times = asyncio.run(time_summary(database, people.admin, now))
        print(f"summary: median {ms(statistics.median(times.full))}, max {ms(max(times.full))}"
              f" ({times.projects} projects, {times.charts} charts included; first run "
              f"{ms(times.full[0])})")
        print(f"summary text only: median {ms(statistics.median(times.text))}, "
              f"max {ms(max(times.text))} (no chart)")
        print("summary queries, all projects: " + ", ".join(
            f"{name} {seconds * 1000:.1f} ms" for name, seconds in times.queries.items()))
        print(f"peak RSS after summary: {peak_rss_mib():.0f} MiB (benchmark process)")

        cli = shutil.which("sqlite3")
        cli_run = None
        if cli is None:
            print("sqlite3 .mode csv: no sqlite3 command-line tool on PATH, comparison skipped")
        else:
            cli_run = run_sqlite_cli(cli, database, folder)
            print(f"sqlite3 .mode csv: {expected:,} rows in {cli_run.seconds:.1f} s = "
                  f"{expected / cli_run.seconds:,.0f} rows/s; {mib(cli_run.size_bytes):,.1f} MiB "
                  "written; peak RSS " + ("unknown (no /usr/bin/time)" if cli_run.peak_mib is None
                                          else f"{cli_run.peak_mib:.0f} MiB"))

        csv_run = run_export("csv", database, folder / "export.csv")
        print(export_line("csv export", csv_run, expected))
        xlsx_run = run_export("xlsx", database, folder / "export.xlsx")
        print(export_line("xlsx export", xlsx_run, expected))
        print(f"peak RSS after exports: {peak_rss_mib():.0f} MiB (benchmark process)")

        found.update(csv=csv_run.rows / csv_run.seconds, xlsx=xlsx_run.rows / xlsx_run.seconds,
                     csv_peak=csv_run.peak_mib, xlsx_peak=xlsx_run.peak_mib,
                     before=max(csv_run.rss_before_mib, xlsx_run.rss_before_mib),
                     rows=float(expected))
        if cli_run is not None:
            cli_rate = expected / cli_run.seconds
            found["sqlite3"] = cli_rate
            for label, run in (("csv", csv_run), ("xlsx", xlsx_run)):
                print(f"ratio palabre {label} / sqlite3 csv: "
                      f"{run.rows / run.seconds / cli_rate:.2f}")
        if keep is not None:
            print(f"kept: {folder}")
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=200_000,
                        help="reports to generate (5 indicator values each)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the database and exports here and keep them")
    args = parser.parse_args()
    main(args.reports, args.keep)
