"""Hostile texts and files against the exports and imports of the command line: control
characters, formula injection, crafted references and oversized or impossible JSON Lines."""

from __future__ import annotations

import csv
import json
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.exports.cells import clean, csv_text, is_formula_like
from storage import Store
from tests.auxil.seed import Seeded, seed

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
FORMULAS = ("=1+2", "@SUM(1,2)", "+cmd", "-2+3", "\t=1+2", "\r=1+2", "  =1+2")


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


def _fail(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.output


def test_the_cell_rule() -> None:
    assert clean("a\x00b\x07c\x1fd\ufffee\tf\ng\rh") == "abcde\tf\ng\rh"
    for text in FORMULAS:
        assert is_formula_like(text) and csv_text(text) == "'" + text
    assert csv_text("\x00=1+2") == "'=1+2"  # a NUL in front does not hide a formula
    for text in ("Le puits n°3", "12", "a=b", ""):
        assert not is_formula_like(text) and csv_text(text) == text


def _hostile_texts(database: Path) -> None:
    """A NUL and other controls in a narrative and a name; formula-like captions."""
    with sqlite3.connect(database) as db:
        db.execute("UPDATE report_versions SET narrative = ?", ("puits\x00 n°3\x01\x0b ok",))
        db.execute("UPDATE members SET display_name = ? WHERE display_name = 'Aminata'",
                   ("Ami\x00nata",))
        rows = db.execute("SELECT id FROM attachments ORDER BY id").fetchall()
        for (attachment_id,), caption in zip(rows, ("\t=1+2", "@SUM(1,2)", "+cmd"), strict=False):
            db.execute("UPDATE attachments SET caption = ? WHERE id = ?",
                       (caption, attachment_id))


def test_a_nul_never_breaks_an_xlsx_export(seeded: Seeded, tmp_path: Path) -> None:
    _hostile_texts(tmp_path / "palabre.db")
    out = tmp_path / "export.xlsx"
    _run("export", "--format", "xlsx", "--out", str(out))
    book = openpyxl.load_workbook(out)
    narratives = {row[11] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert narratives == {"puits n°3 ok"}
    attachments = book.worksheets[2]
    captions = [row[9] for row in attachments.iter_rows(min_row=2, values_only=True)]
    assert "\t=1+2" in captions and all(c.data_type == "s" for c in attachments["J"][1:])


def test_csv_cells_never_start_a_formula(seeded: Seeded, tmp_path: Path) -> None:
    _hostile_texts(tmp_path / "palabre.db")
    out = tmp_path / "r.csv"
    _run("export", "--format", "csv", "--out", str(out))
    with (tmp_path / "r_attachments.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    captions = {row[9] for row in rows[1:]}
    assert captions == {"'\t=1+2", "'@SUM(1,2)", "'+cmd"}
    assert "\x00" not in out.read_text(encoding="utf-8-sig")


def test_media_pack_index_is_escaped(seeded: Seeded, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "palabre.db") as db:
        db.execute("UPDATE attachments SET caption = ?", ("=1+2\x00",))
    out = tmp_path / "pack.zip"
    _run("media", "pack", "--project", "eau-ziguinchor", "--out", str(out))
    with zipfile.ZipFile(out) as archive:
        index = list(csv.reader(archive.read("index.csv").decode("utf-8-sig").splitlines()))
    assert index[1][7] == "'=1+2"


def test_media_pack_refuses_a_reference_that_leaves_the_folder(seeded: Seeded,
                                                               tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "palabre.db") as db:
        db.execute("UPDATE reports SET reference = '../../evil' WHERE id = ("
                   "SELECT r.id FROM reports r JOIN report_versions v ON v.report_id = r.id"
                   " JOIN attachments a ON a.report_version_id = v.id LIMIT 1)")
    out = tmp_path / "pack.zip"
    output = _fail("media", "pack", "--project", "eau-ziguinchor", "--out", str(out))
    assert "'../../evil' is not a report reference" in output
    assert len(output.strip().splitlines()) == 1
    assert not out.exists()


def _dump(tmp_path: Path) -> list[str]:
    dump = tmp_path / "all.jsonl"
    _run("export", "--format", "json", "--out", str(dump))
    return dump.read_text(encoding="utf-8").splitlines()


def _import(tmp_path: Path, lines: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    dump = tmp_path / "hostile.jsonl"
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "moved" / "palabre.db"))
    output = _fail("import", str(dump))
    assert len(output.strip().splitlines()) == 1, output
    with sqlite3.connect(tmp_path / "moved" / "palabre.db") as db:
        assert db.execute("SELECT COUNT(*) FROM organisations").fetchone() == (0,)
    return output


def _edit(lines: list[str], table: str, **changes: object) -> list[str]:
    for index, line in enumerate(lines):
        record = json.loads(line)
        if record.get("table") == table:
            record["row"].update(changes)
            lines[index] = json.dumps(record, ensure_ascii=False)
            return lines
    raise AssertionError(table)


def test_import_refuses_an_oversized_line(seeded: Seeded, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _dump(tmp_path)
    lines = _edit(lines, "report_versions", narrative="x" * (2 * 1024 * 1024))
    output = _import(tmp_path, lines, monkeypatch)
    assert "longer than" in output and "line " in output


@pytest.mark.parametrize(("table", "changes", "message"), [
    ("reports", {"reference": "../../evil"}, "reference"),
    ("reports", {"created_at": "2026-02-30T10:00:00+00:00"}, "reports.created_at"),
    ("reports", {"status_at": "yesterday"}, "reports.status_at"),
    ("reports", {"period_end": "2026-13-01"}, "reports.period_end"),
    ("attachments", {"latitude": 91.0, "longitude": 0.0}, "coordinates"),
    ("members", {"timezone": "Mars/Olympus"}, "timezone"),
    ("members", {"language": "xx"}, "language"),
    ("organisations", {"timezone": "../../etc/passwd"}, "timezone"),
])
def test_import_validates_fields(seeded: Seeded, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch, table: str,
                                 changes: dict[str, object], message: str) -> None:
    output = _import(tmp_path, _edit(_dump(tmp_path), table, **changes), monkeypatch)
    assert message in output and "line " in output


def test_network_file_size_is_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "palabre.db"))
    big = tmp_path / "network.yaml"
    big.write_text("collectivities: []\n# " + "x" * (6 * 1024 * 1024) + "\n", encoding="utf-8")
    output = _fail("network", "load", str(big))
    assert "larger than" in output and len(output.strip().splitlines()) == 1


def test_network_file_aliases_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "palabre.db"))
    bomb = tmp_path / "network.yaml"
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + n)}: &{chr(98 + n)} [" + ", ".join([f"*{chr(97 + n)}"] * 9) + "]"
               for n in range(8)]
    bomb.write_text("\n".join(levels) + "\n", encoding="utf-8")
    output = _fail("network", "load", str(bomb))
    assert "aliases" in output and len(output.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [
    ["export", "--out", "x.xlsx", "--as", "9" * 20],
    ["survey", "export", "9" * 20],
])
def test_huge_ids_on_the_command_line(seeded: Seeded, args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output  # a bad option, told in one line
    assert isinstance(result.exception, SystemExit), result.exception
