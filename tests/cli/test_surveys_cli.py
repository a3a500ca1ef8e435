"""`palabre survey import|list|launch|export`, and the survey tables in the JSON Lines dump."""

from __future__ import annotations

import asyncio
import csv
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage import Store
from tests.auxil.seed import Seeded, seed

FORMS = Path(__file__).resolve().parents[1] / "forms"
NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Seeded:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "palabre.db"))
    monkeypatch.setenv("PALABRE_TIMEZONE", "Europe/Paris")
    store = await Store.open(tmp_path / "palabre.db")
    try:
        return await seed(store, NOW)
    finally:
        await store.close()


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


async def _answer(database: Path, member_id: int) -> None:
    """One submitted response, as the conversation stores it (long form)."""
    store = await Store.open(database)
    try:
        async with store.transaction():
            response_id = await store.surveys.start_response(1, member_id, "partner", 0, NOW)
            for name, value in (("satisfaction", "partly"), ("strengths", "trust visits"),
                                ("improve", "=HYPERLINK(\"x\")"), ("meetings", "12"),
                                ("budget_share", "45.5"), ("consent", "OK")):
                await store.surveys.set_answer(response_id, name, value, NOW)
            await store.surveys.update_response(response_id, NOW, status="submitted",
                                                step="done", submitted_at=NOW)
    finally:
        await store.close()


def test_import_launch_export_and_round_trip(seeded: Seeded, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    form = str(FORMS / "joint_evaluation.xlsx")
    assert "joint_eval_2026 version 1 (10 questions): imported." in _run("survey", "import", form)
    assert "unchanged, already imported" in _run("survey", "import", form)

    output = _run("survey", "launch", "joint_eval_2026", "--deadline", "2030-01-01T18:00",
                  "--audience", "project=eau-ziguinchor", "--joint", "--yes")
    assert "Campaign 1:" in output and "people invited" in output
    with sqlite3.connect(tmp_path / "palabre.db") as db:
        sides = dict(db.execute("SELECT side, COUNT(*) FROM survey_invitations GROUP BY side"))
        assert set(sides) == {"collectivity", "partner"}  # joint: both sides
        assert db.execute("SELECT COUNT(*) FROM outbox o JOIN announcements a"
                          " ON a.id = o.announcement_id WHERE a.campaign_id = 1").fetchone()[0] \
            == sum(sides.values())
    asyncio.run(_answer(tmp_path / "palabre.db", seeded.members["Aminata"]))
    assert "1/" in _run("survey", "list")

    _run("survey", "export", "1", "--format", "csv", "--codes", "--out",
         str(tmp_path / "wide.csv"))
    with (tmp_path / "wide.csv").open(encoding="utf-8-sig") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["strengths"] == "trust visits"
    assert (row["strengths/trust"], row["strengths/funding"], row["strengths/visits"]) == \
        ("1", "0", "1")
    assert row["improve"].startswith("'=")  # never run as a formula
    assert row["side"] == "partner" and row["status"] == "submitted"
    _run("survey", "export", "1", "--format", "xlsx", "--codes", "--out",
         str(tmp_path / "wide.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "wide.xlsx").active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["meetings"] == 12 and values["budget_share"] == 45.5
    assert values["strengths/training"] == 0

    # By default, as a funder reads it: titles and labels in French, the side named, the
    # sending time as a date cell, 1/0 per choice ticked; in a ';' CSV, decimals with a comma.
    _run("survey", "export", "1", "--format", "xlsx", "--out", str(tmp_path / "read.xlsx"))
    book = openpyxl.load_workbook(tmp_path / "read.xlsx")
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert header[:5] == ["Référence", "Nom", "Organisation", "Côté",
                          "Envoyé le (Europe/Paris)"]
    assert values["Êtes-vous satisfait·e du partenariat ?"] == "En partie"
    assert values["Quels sont ses points forts ?"] == "La confiance; Les visites"
    assert values["Quels sont ses points forts ? — La confiance"] == 1
    assert values["Quels sont ses points forts ? — Le financement"] == 0
    assert values["Côté"] == "Partenaires"
    assert values["Envoyé le (Europe/Paris)"] == datetime(2026, 3, 30, 11, 0)
    assert values["Combien de réunions de suivi cette année ?"] == 12
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.column_dimensions["A"].width >= 10
    _run("survey", "export", "1", "--delimiter", ";", "--out", str(tmp_path / "read.csv"))
    with (tmp_path / "read.csv").open(encoding="utf-8-sig") as handle:
        [row] = list(csv.DictReader(handle, delimiter=";"))
    assert row["Part du budget exécutée (%)"] == "45,5"
    assert row["Envoyé le (Europe/Paris)"] == "2026-03-30 11:00"
    _run("survey", "export", "1", "--delimiter", ";", "--decimal", ".", "--out",
         str(tmp_path / "machine.csv"))
    with (tmp_path / "machine.csv").open(encoding="utf-8-sig") as handle:
        [row] = list(csv.DictReader(handle, delimiter=";"))
    assert row["Part du budget exécutée (%)"] == "45.5"

    # The survey tables travel in the JSON Lines dump, and come back byte for byte.
    first = tmp_path / "first.jsonl"
    _run("export", "--format", "json", "--out", str(first))
    assert '"survey_answers"' in first.read_text(encoding="utf-8")
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "moved" / "palabre.db"))
    _run("import", str(first))
    second = tmp_path / "second.jsonl"
    _run("export", "--format", "json", "--out", str(second))
    assert first.read_bytes() == second.read_bytes()


def test_refused_import_and_launch(seeded: Seeded, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("form_id: x\ntitle: X\nquestions:\n  - {name: a, type: text, "
                   "relevant: 'frobnicate(1)'}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["survey", "import", str(bad)])
    assert result.exit_code == 1
    assert "sheet questions, row 1, column relevant: unsupported function frobnicate()" \
        in result.output
    result = CliRunner().invoke(app, ["survey", "launch", "nothing", "--deadline",
                                      "2030-01-01", "--yes"])
    assert result.exit_code == 1 and "no questionnaire 'nothing'" in result.output


async def test_each_survey_command_opens_one_store(seeded: Seeded,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`survey import` and `survey launch` work on the command's one store (they opened a
    second one, for the bot's services, before)."""
    opened: list[Store] = []
    original = Store.open

    async def counting(path: Path) -> Store:
        store = await original(path)
        opened.append(store)
        return store

    monkeypatch.setattr(Store, "open", staticmethod(counting))
    form = str(FORMS / "joint_evaluation.xlsx")
    await asyncio.to_thread(_run, "survey", "import", form)
    assert len(opened) == 1
    await asyncio.to_thread(_run, "survey", "launch", "joint_eval_2026", "--deadline",
                            "2030-01-01T18:00", "--joint", "--yes")
    assert len(opened) == 2

def test_data_files_given_later_with_files(seeded: Seeded, tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(FORMS / "field_mapping.xlsx", upload)
    form = str(upload / "field_mapping.xlsx")
    output = _run("survey", "import", form)
    assert "Data file villages.csv not found beside the form" in output
    assert "field_mapping version 1" in output
    result = CliRunner().invoke(app, ["survey", "launch", "field_mapping", "--deadline",
                                      "2030-01-01", "--yes"])
    assert result.exit_code == 1
    assert "field_mapping v1 cannot be sent yet: it needs villages.csv" in result.output
    # A folder of the form's files (other files in it are left aside): a new version.
    files = tmp_path / "files"
    files.mkdir()
    shutil.copy(FORMS / "villages.csv", files)
    (files / "notes.txt").write_text("not for the form", encoding="utf-8")
    output = _run("survey", "import", form, "--files", str(files))
    assert "Data file" not in output and "field_mapping version 2" in output
    assert "people invited" in _run("survey", "launch", "field_mapping", "--deadline",
                                    "2030-01-01", "--yes")
    result = CliRunner().invoke(app, ["survey", "import", form, "--files",
                                      str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "no such file or folder" in result.output
