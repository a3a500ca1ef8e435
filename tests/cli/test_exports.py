"""Exports from the command line: XLSX, CSV, JSON Lines round trip, scope, media packs."""

from __future__ import annotations

import csv
import json
import sqlite3
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.core.announcements import AnnouncementService, Audience
from bot.core.reminders import ReminderService
from bot.core.reports import ReportService
from bot.core.surveys import SurveyService
from storage import Store
from tests.auxil.seed import PHOTO, Seeded, seed

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
FORMS = Path(__file__).resolve().parents[1] / "forms"


@pytest.fixture
async def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Seeded:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "palabre.db"))
    monkeypatch.setenv("PALABRE_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("PALABRE_TIMEZONE", "Europe/Paris")
    store = await Store.open(tmp_path / "palabre.db")
    try:
        return await seed(store, NOW, tmp_path / "media")
    finally:
        await store.close()


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_xlsx_cell_by_cell(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "out" / "export.xlsx"
    output = _run("export", "--format", "xlsx", "--out", str(out))
    assert "Wrote" in output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Rapports", "Valeurs des indicateurs", "Pièces jointes"]
    reports = book["Rapports"]
    assert reports.freeze_panes == "A2"
    assert reports.auto_filter.ref == "A1:M7"
    header = [c.value for c in reports[1]]
    assert header[:3] == ["Référence", "Type", "Projet"]
    first = [c.value for c in reports[2]]
    assert first[0] == "R-2026-000001"
    assert first[2] == "Accès à l'eau potable à Ziguinchor"
    # A date cell in the spreadsheet's own short format (built-in 14: 26/01/2026 in French).
    assert first[5] == datetime(2026, 1, 26) and reports.cell(2, 6).number_format == "mm-dd-yy"
    assert header[9] == "Envoyé le (Europe/Paris)"  # a time's column names its zone
    assert isinstance(first[9], datetime)  # submitted at, local time
    assert first[8] == 1 and first[7] == "reçu"
    # A narrative starting like a formula stays text.
    assert first[11] == "=1+1 Période 1 : « ça avance »" and reports.cell(2, 12).data_type == "s"
    values = book["Valeurs des indicateurs"]
    row = [c.value for c in values[2]]
    assert row[0] == "R-2026-000001" and row[4] == "wells" and row[5] == "Puits réhabilités"
    assert row[7] == 10 and values.cell(2, 8).data_type == "n" and row[8] == 12
    attachments = book["Pièces jointes"]
    assert attachments.max_row == 4  # one photo in each project's second report
    photo = [c.value for c in attachments[2]]
    assert photo[2] == "photo" and photo[6] == len(PHOTO) and len(photo[7]) == 64
    assert photo[8].startswith(photo[7][:2] + "/")  # stored by its SHA-256…
    assert photo[4] == f"{photo[0]}-1.jpg"  # …named for a reader by its report


def test_xlsx_in_english_for_a_member(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "marc.xlsx"
    _run("export", "--out", str(out), "--as", str(seeded.members["Marc"]))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Reports", "Indicator values", "Attachments"]
    projects = {row[2] for row in book["Reports"].iter_rows(min_row=2, values_only=True)}
    assert projects == {"Waste management in Garanhuns"}


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_with_either_delimiter(seeded: Seeded, tmp_path: Path, delimiter: str) -> None:
    out = tmp_path / "rapports.csv"
    _run("export", "--format", "csv", "--delimiter", delimiter, "--out", str(out),
         "--project", "eau-ziguinchor")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets then read UTF-8
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    assert rows[0][0] == "Référence" and len(rows) == 3
    assert [r[0] for r in rows[1:]] == seeded.references["eau-ziguinchor"]
    assert rows[1][11] == "'=1+1 Période 1 : « ça avance »"  # never run as a formula
    values = tmp_path / "rapports_indicator_values.csv"
    with values.open(encoding="utf-8-sig", newline="") as handle:
        value_rows = list(csv.reader(handle, delimiter=delimiter))
    assert len(value_rows) == 1 + 2 * 3  # two reports, three indicators
    assert (tmp_path / "rapports_attachments.csv").exists()


def test_since_keeps_later_reports(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "since.csv"
    _run("export", "--format", "csv", "--out", str(out), "--since", "2026-03-01")
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 1 + 3  # the second report of each project


@pytest.mark.parametrize(("who", "visible"), [
    ("Claire", {"eau-ziguinchor", "ecoles-cusco"}),  # observer, Rennes
    ("Didier", {"dechets-garanhuns", "ecoles-cusco"}),  # observer, Drôme
    ("Marc", {"dechets-garanhuns"}),  # coordinator of one project
    ("Aminata", {"eau-ziguinchor"}),  # partner
    ("Sophie", {"eau-ziguinchor", "dechets-garanhuns", "ecoles-cusco"}),  # admin
])
def test_each_role_exports_only_its_scope(seeded: Seeded, tmp_path: Path, who: str,
                                         visible: set[str]) -> None:
    out = tmp_path / f"{who}.jsonl"
    _run("export", "--format", "json", "--out", str(out), "--as", str(seeded.members[who]))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    projects = {r["row"]["slug"] for r in records if r["table"] == "projects"}
    assert projects == visible
    project_ids = {seeded.projects[s] for s in visible}
    assert {r["row"]["project_id"] for r in records if r["table"] == "reports"} == project_ids
    assert not any(r["table"] == "invitations" for r in records)
    xlsx = tmp_path / f"{who}.xlsx"
    _run("export", "--out", str(xlsx), "--as", str(seeded.members[who]))
    references = {row[0] for row in openpyxl.load_workbook(xlsx).worksheets[0]
                  .iter_rows(min_row=2, values_only=True)}
    assert references == {ref for slug in visible for ref in seeded.references[slug]}


def test_a_project_outside_the_scope_is_refused(seeded: Seeded, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "x.xlsx"), "--as",
                                      str(seeded.members["Marc"]), "--project",
                                      "eau-ziguinchor"])
    assert result.exit_code == 1
    assert "outside what member" in result.output
    assert not (tmp_path / "x.xlsx").exists()


@pytest.fixture
async def planned(seeded: Seeded, tmp_path: Path) -> Seeded:
    """The seeded store with its reminders planned (their keys keep a moved bot from
    repeating one, so they travel too)."""
    store = await Store.open(tmp_path / "palabre.db")
    try:
        surveys = SurveyService(store, AnnouncementService(store, "UTC"), "UTC")
        reminders = ReminderService(store, ReportService(store, "UTC"), surveys, "UTC")
        assert await reminders.plan(NOW) > 0
    finally:
        await store.close()
    return seeded


def test_json_lines_round_trip_is_byte_identical(planned: Seeded, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "first.jsonl"
    _run("export", "--format", "json", "--out", str(first))
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "moved" / "palabre.db"))
    assert "Imported" in _run("import", str(first))
    second = tmp_path / "second.jsonl"
    _run("export", "--format", "json", "--out", str(second))
    assert first.read_bytes() == second.read_bytes()
    # A second import into the now non-empty database is refused, and changes nothing.
    result = CliRunner().invoke(app, ["import", str(first)])
    assert result.exit_code == 1 and "not empty" in result.output
    with sqlite3.connect(tmp_path / "moved" / "palabre.db") as db:
        assert db.execute("SELECT COUNT(*) FROM reports").fetchone() == (6,)
        assert db.execute("SELECT COUNT(*) FROM reminders").fetchone()[0] > 0


def test_a_scoped_dump_imports_on_its_own(seeded: Seeded, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    dump = tmp_path / "drome.jsonl"
    _run("export", "--format", "json", "--out", str(dump), "--as", str(seeded.members["Didier"]))
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "drome" / "palabre.db"))
    _run("import", str(dump))
    with sqlite3.connect(tmp_path / "drome" / "palabre.db") as db:
        assert db.execute("SELECT COUNT(*) FROM reports").fetchone() == (4,)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_a_broken_import_names_the_line_and_loads_nothing(seeded: Seeded, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    dump = tmp_path / "all.jsonl"
    _run("export", "--format", "json", "--out", str(dump))
    lines = dump.read_text(encoding="utf-8").splitlines()
    lines[5] = json.dumps({"table": "sqlite_master", "row": {"x": 1}})
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "other" / "palabre.db"))
    result = CliRunner().invoke(app, ["import", str(dump)])
    assert result.exit_code == 1 and "line 6: unknown table 'sqlite_master'" in result.output
    with sqlite3.connect(tmp_path / "other" / "palabre.db") as db:
        assert db.execute("SELECT COUNT(*) FROM organisations").fetchone() == (0,)


def test_media_pack(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    assert "Packed 1 files" in _run("media", "pack", "--project", "eau-ziguinchor",
                                    "--out", str(out))
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        index = archive.read("index.csv").decode("utf-8-sig").splitlines()
        photo = next(n for n in names if n != "index.csv")
        assert archive.read(photo) == PHOTO
    reference = seeded.references["eau-ziguinchor"][1]
    assert photo.startswith(reference + "/")
    assert index[0].startswith("file,reference,kind")
    assert index[1].startswith(f"{photo},{reference},photo,attachment,image/jpeg")


def test_media_pack_skips_a_path_outside_the_media_folder(seeded: Seeded,
                                                          tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the zip")
    with sqlite3.connect(tmp_path / "palabre.db") as db:
        db.execute("UPDATE attachments SET path = '../secret.txt'")
    out = tmp_path / "pack.zip"
    assert "1 not downloaded yet or missing" in _run("media", "pack", "--project",
                                                     "eau-ziguinchor", "--out", str(out))
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["index.csv"]


def test_seeded_dates_are_what_the_tests_expect() -> None:
    assert date(2026, 1, 26) < NOW.date()


@pytest.fixture
async def surveyed(seeded: Seeded, tmp_path: Path) -> Seeded:
    """A campaign to eau-ziguinchor with Aminata's answers submitted."""
    store = await Store.open(tmp_path / "palabre.db")
    try:
        surveys = SurveyService(store, AnnouncementService(store, "UTC"), "UTC")
        form, _new = await surveys.import_form(FORMS / "water_points.xlsx", NOW)
        campaign_id, invited = await surveys.launch(
            author=None, form=form, audience=Audience({"project": ("eau-ziguinchor",)}),
            joint=False, opens_at=NOW, closes_at=NOW + timedelta(days=7), now=NOW)
        assert invited == 1
        async with store.transaction():
            response = await store.surveys.start_response(
                campaign_id, seeded.members["Aminata"], "partner", 0, NOW)
            await store.surveys.set_answer(response, "country", "SN", NOW)
            # Submitted: answers still in progress are exported to nobody.
            await store.surveys.update_response(response, NOW, status="submitted",
                                                step="done", submitted_at=NOW)
    finally:
        await store.close()
    return seeded


def test_survey_responses_are_sheets_of_the_workbook_within_scope(surveyed: Seeded,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "all.xlsx"
    _run("export", "--out", str(out))
    book = openpyxl.load_workbook(out)
    # Read as the reader reads it: the questionnaire's title, titles and labels in French.
    assert book.sheetnames[3:] == ["Water point monitoring #1"]
    sheet = book["Water point monitoring #1"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Référence", "Nom", "Organisation", "Côté",
                          "Envoyé le (Europe/Paris)"]
    assert "Pays" in header and "member_id" not in header
    row = [c.value for c in sheet[2]]
    assert row[1] == "Aminata" and row[header.index("Pays")] == "Sénégal"
    assert row[3] == "Partenaires" and isinstance(row[4], datetime)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref is not None
    for who, seen in (("Claire", True), ("Didier", False)):  # observers of Rennes, Drôme
        mine = tmp_path / f"{who}.xlsx"
        _run("export", "--out", str(mine), "--as", str(surveyed.members[who]))
        assert ("Water point monitoring #1" in openpyxl.load_workbook(mine).sheetnames) is seen


def _per_cell_csv_value(value: object) -> object:
    """The CSV conversion as it was before it was chosen per column (the reference)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _make_awkward(database: Path, texts: list[str | None], values: dict[int, float], *,
                  status_comment: str | None = None) -> None:
    """Give the seeded store the awkward values: these narratives in turn, these indicator
    values (by rowid), a status comment, and a location without a file."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        versions = [r[0] for r in conn.execute("SELECT id FROM report_versions ORDER BY id")]
        for index, version in enumerate(versions):
            conn.execute("UPDATE report_versions SET narrative = ? WHERE id = ?",
                         (texts[index % len(texts)], version))
        if status_comment is not None:
            conn.execute("UPDATE reports SET status_comment = ? WHERE id = 1", (status_comment,))
        for rowid, value in values.items():
            conn.execute("UPDATE indicator_values SET value = ? WHERE rowid = ?", (value, rowid))
        conn.execute(
            "INSERT INTO attachments (member_id, report_version_id, kind, latitude, longitude,"
            " state, created_at) SELECT created_by, id, 'location', -16.27, 12.5, 'none',"
            " created_at FROM report_versions ORDER BY id LIMIT 1")
    finally:
        conn.close()


def test_csv_conversions_per_column_are_byte_identical(seeded: Seeded, tmp_path: Path) -> None:
    """Every column kind, with the awkward values: empty and formula-like texts, None,
    fractions, negative numbers, a location without a file, accents and line breaks."""
    from zoneinfo import ZoneInfo

    from bot.exports.spreadsheets import write_csv
    from bot.exports.tables import TABLES, Scope, connect_readonly, headers
    from bot.i18n import use_language

    database = tmp_path / "palabre.db"
    _make_awkward(database, ["", "-", "+33 6 12", "@here", "=SUM(A1)", "ligne 1\nligne 2 « é »",
                             None], {1: -0.1, 2: 1e-7, 3: 123456789012}, status_comment="-12")
    with use_language("fr"):
        paths = write_csv(database, tmp_path / "new.csv", Scope(), "Europe/Paris", ";")
        reference = tmp_path / "reference"
        reference.mkdir()
        zone = ZoneInfo("Europe/Paris")
        conn = connect_readonly(database)
        try:
            for table in TABLES:
                with (reference / f"{table.key}.csv").open("w", encoding="utf-8-sig",
                                                           newline="") as handle:
                    writer = csv.writer(handle, delimiter=";")
                    writer.writerow(headers(table, "Europe/Paris"))
                    for row in table.rows(conn, Scope(), zone):
                        writer.writerow([_per_cell_csv_value(v) for v in row])
        finally:
            conn.close()
    for table in TABLES:
        produced = paths[table.key].read_bytes()
        assert produced == (reference / f"{table.key}.csv").read_bytes(), table.key
    assert "'=SUM(A1)" in paths["reports"].read_text(encoding="utf-8-sig")
    assert ";-0.1;" in paths["indicator_values"].read_text(encoding="utf-8-sig")


def test_xlsx_header_is_coloured_and_columns_sized(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "export.xlsx"
    _run("export", "--format", "xlsx", "--out", str(out))
    reports = openpyxl.load_workbook(out)["Rapports"]
    header = reports.cell(1, 1)
    assert header.font.bold and header.font.color.rgb.endswith("FFFFFF")
    assert header.fill.fgColor.rgb.endswith("1F6F8B")
    assert reports.cell(2, 1).fill.fgColor.rgb in (None, "00000000")  # data rows: no fill
    assert reports.column_dimensions["L"].width >= 60  # the narrative
    assert reports.column_dimensions["A"].width >= 16


def test_xlsx_prints_landscape_on_the_page_width_with_its_header(seeded: Seeded,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "export.xlsx"
    _run("export", "--format", "xlsx", "--out", str(out))
    book = openpyxl.load_workbook(out)
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.print_title_rows == "$1:$1"  # the header on every printed page


def test_amended_values_are_counted_once_unless_all_versions_are_asked(
        seeded: Seeded, tmp_path: Path) -> None:
    import asyncio

    async def amend() -> None:
        store = await Store.open(tmp_path / "palabre.db")
        try:
            report = await store.reports.by_reference(seeded.references["eau-ziguinchor"][1])
            assert report is not None
            version_id, _narrative = await store.reports.latest_version(report.id)
            values = await store.reports.version_values(version_id)
            now = datetime(2026, 3, 28, tzinfo=UTC)
            async with store.transaction():
                await store.reports.add_version(report.id, 2, narrative=None,
                                                created_by=report.member_id, now=now,
                                                values=sorted(values.items()))
                await store.reports.set_status(report.id, "amended", report.member_id, now,
                                               version=2)
        finally:
            await store.close()

    asyncio.run(amend())
    current, every = tmp_path / "current.xlsx", tmp_path / "every.xlsx"
    _run("export", "--format", "xlsx", "--out", str(current))
    _run("export", "--format", "xlsx", "--all-versions", "--out", str(every))
    rows = openpyxl.load_workbook(current)["Valeurs des indicateurs"].max_row
    all_rows = openpyxl.load_workbook(every)["Valeurs des indicateurs"].max_row
    assert all_rows - rows == 3  # the 3 values of version 1, only when asked


def test_percent_cells_and_a_french_csv(seeded: Seeded, tmp_path: Path) -> None:
    """A percent indicator is a percent cell (shown 12 % by a French spreadsheet, 12% by an
    English one), its unit named; a ';' CSV writes decimals with a comma and whole numbers
    whole (never 5.0;12.0), a ',' one stays machine-readable, and --decimal says otherwise."""
    conn = sqlite3.connect(tmp_path / "palabre.db", isolation_level=None)
    try:
        conn.execute("UPDATE indicator_values SET value = 45.5 WHERE rowid = (SELECT MIN(iv.rowid)"
                     " FROM indicator_values iv JOIN indicators i ON i.id = iv.indicator_id"
                     " WHERE i.code = 'households')")
    finally:
        conn.close()
    out = tmp_path / "export.xlsx"
    _run("export", "--format", "xlsx", "--out", str(out), "--project", "eau-ziguinchor")
    values = openpyxl.load_workbook(out)["Valeurs des indicateurs"]
    rows = {(r[0].value, r[4].value): r for r in values.iter_rows(min_row=2)}
    committees = rows[("R-2026-000001", "committees")]
    assert committees[6].value == "%"
    assert committees[7].value == 0.12 and committees[7].number_format == "0%"
    assert committees[8].value == 1.0 and committees[8].number_format == "0%"
    wells = rows[("R-2026-000001", "wells")]
    assert wells[7].value == 10 and wells[7].number_format == "General"

    french = tmp_path / "fr.csv"
    _run("export", "--format", "csv", "--delimiter", ";", "--out", str(french),
         "--project", "eau-ziguinchor")
    lines = (tmp_path / "fr_indicator_values.csv").read_text(encoding="utf-8-sig").splitlines()
    households = next(line for line in lines if ";households;" in line)
    assert ";45,5;800;" in households
    assert ";wells;Puits réhabilités;;10;12;" in next(line for line in lines if ";wells;" in line)
    machine = tmp_path / "machine.csv"
    _run("export", "--format", "csv", "--out", str(machine), "--project", "eau-ziguinchor")
    text = (tmp_path / "machine_indicator_values.csv").read_text(encoding="utf-8-sig")
    assert ",45.5,800.0," in text
    _run("export", "--format", "csv", "--delimiter", ";", "--decimal", ".", "--out",
         str(tmp_path / "point.csv"), "--project", "eau-ziguinchor")
    assert ";45.5;" in (tmp_path / "point_indicator_values.csv").read_text(encoding="utf-8-sig")


def test_xlsx_written_column_by_column_reads_as_the_rows(seeded: Seeded, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """The export's column path (days and instants from the stored texts, each distinct
    value's cell cached, a column's cache emptied on the way) gives the cells the row-by-row
    writer gives from the tables' rows: same values, types and formats, awkward values
    included (empty, formula-like, illegal characters, a percent equal to a plain number)."""
    from zoneinfo import ZoneInfo

    from bot.exports import xlsx_stream
    from bot.exports.spreadsheets import write_xlsx
    from bot.exports.tables import TABLES, Scope, connect_readonly, headers
    from bot.i18n import use_language

    database = tmp_path / "palabre.db"
    _make_awkward(database, ["", "-", "+33 6 12", "@here", "=SUM(A1)", "a\x00b\x07 <é> & 'x'",
                             None], {1: -0.1, 2: 1e-7, 3: 12, 4: 12.0})
    monkeypatch.setattr(xlsx_stream, "CACHE_LIMIT", 2)  # caches emptied between chunks
    monkeypatch.setattr("bot.exports.tables.BATCH", 3)
    zone = ZoneInfo("Europe/Paris")
    with use_language("fr"):
        write_xlsx(database, tmp_path / "columns.xlsx", Scope(), "Europe/Paris")
        conn = connect_readonly(database)
        try:
            book = xlsx_stream.Workbook(tmp_path / "rows.xlsx")
            for table in TABLES:
                book.sheet(table.title, headers(table, "Europe/Paris"),
                           [c.width for c in table.columns])
                book.rows([c.kind for c in table.columns], table.rows(conn, Scope(), zone))
            book.close()
        finally:
            conn.close()
    produced = openpyxl.load_workbook(tmp_path / "columns.xlsx")
    expected = openpyxl.load_workbook(tmp_path / "rows.xlsx")
    assert any(c.number_format == "0%" for c in produced.worksheets[1]["H"])  # a percent
    for mine, theirs in zip(produced.worksheets, expected.worksheets, strict=True):
        assert mine.max_row == theirs.max_row > 2
        for row, reference in zip(mine.iter_rows(), theirs.iter_rows(), strict=True):
            assert [(c.value, type(c.value), c.data_type, c.number_format) for c in row] == [
                (c.value, type(c.value), c.data_type, c.number_format) for c in reference]
