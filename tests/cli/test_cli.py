"""The command line, run in-process with a real database in a temporary folder."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT / "examples" / "network.yaml"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no developer's .env in the way
    for name in ("PALABRE_TELEGRAM_TOKEN", "PALABRE_ADMIN_IDS", "PALABRE_TELEGRAM_BASE_URL",
                 "PALABRE_WHATSAPP_TOKEN", "PALABRE_WHATSAPP_PHONE_NUMBER_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "data" / "palabre.db"))
    return CliRunner()


def test_network_load_is_idempotent(cli: CliRunner, tmp_path: Path) -> None:
    for _ in range(2):
        result = cli.invoke(app, ["network", "load", str(NETWORK)])
        assert result.exit_code == 0, result.output
        assert "Loaded 5 organisations, 3 projects, 6 indicators" in result.output
    with sqlite3.connect(tmp_path / "data" / "palabre.db") as db:
        assert db.execute("SELECT COUNT(*) FROM projects").fetchone() == (3,)


def test_network_load_reports_problems_in_one_place(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("partners: [{id: x, name: X, country: sn, timezone: Mars/Base}]\n")
    result = cli.invoke(app, ["network", "load", str(bad)])
    assert result.exit_code == 1
    assert "partners.0.country" in result.output and "Mars/Base" in result.output
    assert "Traceback" not in result.output
    result = cli.invoke(app, ["network", "load", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1 and "cannot read" in result.output


def test_invitations_create_list_revoke(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["network", "load", str(NETWORK)]).exit_code == 0
    qr = tmp_path / "invite.png"
    result = cli.invoke(app, ["invite", "create", "--role", "partner", "--project",
                              "eau-ziguinchor", "--uses", "3", "--expires", "7d", "--qr", str(qr),
                              "--bot-username", "@palabre_bot"])
    assert result.exit_code == 0, result.output
    code = re.search(r"Code: (\S+)  \(label (#\w{6})\)", result.output)
    assert code is not None
    assert f"Link: https://t.me/palabre_bot?start={code[1]}" in result.output
    assert "of ziguinchor" in result.output
    assert qr.read_bytes().startswith(b"\x89PNG")

    # The username is remembered: no token, no flag needed the second time.
    result = cli.invoke(app, ["invite", "create", "--role", "observer", "--project",
                              "ecoles-cusco", "--org", "drome"])
    assert result.exit_code == 0, result.output
    assert "t.me/palabre_bot?start=" in result.output

    listing = cli.invoke(app, ["invite", "list"])
    assert listing.exit_code == 0
    assert code[2] in listing.output and "0/3" in listing.output
    assert code[1] not in listing.output  # full codes are never shown again

    assert cli.invoke(app, ["invite", "revoke", code[1]]).exit_code == 0
    assert "revoked" in cli.invoke(app, ["invite", "list"]).output
    again = cli.invoke(app, ["invite", "revoke", code[1]])
    assert again.exit_code == 1 and "no open invitation" in again.output
    # By label, as the listing shows it.
    other = re.search(r"(#\w{6}) +observer", listing.output)
    assert other is not None
    assert cli.invoke(app, ["invite", "revoke", other[1]]).exit_code == 0
    assert cli.invoke(app, ["invite", "list"]).output.count("revoked") == 2


def test_whatsapp_invitations_open_a_chat_with_the_code_typed(cli: CliRunner) -> None:
    assert cli.invoke(app, ["network", "load", str(NETWORK)]).exit_code == 0
    # Without the number, and no WhatsApp settings to ask Meta for it: one line, and no
    # invitation created (none to list).
    result = cli.invoke(app, ["invite", "create", "--role", "partner", "--project",
                              "eau-ziguinchor", "--channel", "whatsapp"])
    assert result.exit_code == 1
    assert "--whatsapp-number" in result.output and len(result.output.strip().splitlines()) == 1
    assert "No invitations yet." in cli.invoke(app, ["invite", "list"]).output

    result = cli.invoke(app, ["invite", "create", "--role", "partner", "--project",
                              "eau-ziguinchor", "--channel", "whatsapp",
                              "--whatsapp-number", "+221 77 000 00 01"])
    assert result.exit_code == 0, result.output
    code = re.search(r"Code: (\S+)", result.output)
    assert code is not None
    assert f"Link: https://wa.me/221770000001?text={code[1]}" in result.output
    # The number is remembered.
    result = cli.invoke(app, ["invite", "create", "--role", "partner", "--project",
                              "eau-ziguinchor", "--channel", "whatsapp"])
    assert result.exit_code == 0 and "https://wa.me/221770000001?text=" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "partner", "--project", "nowhere"], "unknown project 'nowhere'"),
    (["--role", "partner"], "needs --project"),
    (["--role", "observer", "--project", "ecoles-cusco"], "--org is needed"),
    (["--role", "partner", "--project", "eau-ziguinchor", "--org", "rennes"],
     "a partner belongs to a partner organisation"),
    (["--role", "partner", "--project", "eau-ziguinchor", "--expires", "soon"],
     "not a duration"),
])
def test_invitation_errors_are_one_line(cli: CliRunner, args: list[str], message: str) -> None:
    assert cli.invoke(app, ["network", "load", str(NETWORK)]).exit_code == 0
    result = cli.invoke(app, ["invite", "create", *args, "--bot-username", "b"])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_db_upgrade_and_backup(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and "Applied 0001_initial" in result.output
    assert "Applied" not in cli.invoke(app, ["db", "upgrade"]).output
    assert cli.invoke(app, ["network", "load", str(NETWORK)]).exit_code == 0
    copy = tmp_path / "backup" / "copy.db"
    result = cli.invoke(app, ["db", "backup", str(copy)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT COUNT(*) FROM organisations").fetchone() == (5,)


def test_run_without_token_is_one_line(cli: CliRunner) -> None:
    result = cli.invoke(app, ["run"])
    assert result.exit_code == 1
    assert result.output.strip() == ("palabre: error: PALABRE_TELEGRAM_TOKEN is not set: get a "
                                     "token from @BotFather and put it in .env")


def test_unusable_database_is_one_line(cli: CliRunner, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("PALABRE_DATABASE", str(tmp_path / "afile" / "palabre.db"))
    monkeypatch.setenv("PALABRE_TELEGRAM_TOKEN", "123:never-used")
    for args in (["db", "upgrade"], ["run"]):
        result = cli.invoke(app, args)
        assert result.exit_code == 1, args
        assert result.output.startswith("palabre: error: cannot open database"), result.output
        assert "123:never-used" not in result.output


def test_bad_setting_is_one_line(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALABRE_DEFAULT_LANGUAGE", "de")
    result = cli.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.startswith("palabre: error: PALABRE_DEFAULT_LANGUAGE")


def test_i18n_check(cli: CliRunner) -> None:
    result = cli.invoke(app, ["i18n", "check"])
    assert result.exit_code == 0, result.output


def test_demo_can_be_scripted(tmp_path: Path) -> None:
    script = "/start\n1\n1\n:as marc\n/start\n1\n1\n/help\n:quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"], input=script, capture_output=True, text=True,
        timeout=120, cwd=tmp_path, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Bienvenue, Aminata !" in out
    assert "Welcome, Marc!" in out
    assert "/mydata" in out and "/forget" in out
    assert "Traceback" not in result.stderr


def test_backup_while_a_writer_holds_a_transaction(cli: CliRunner, tmp_path: Path) -> None:
    """The copy is consistent: committed rows are in it, a transaction under way is not."""
    assert cli.invoke(app, ["network", "load", str(NETWORK)]).exit_code == 0
    writer = sqlite3.connect(tmp_path / "data" / "palabre.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO kv (key, value) VALUES ('half', 'written')")
        copy = tmp_path / "copy.db"
        result = cli.invoke(app, ["db", "backup", str(copy)])
        assert result.exit_code == 0, result.output
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT COUNT(*) FROM kv WHERE key = 'half'").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM projects").fetchone() == (3,)


def _member(db: sqlite3.Connection, telegram_id: int, project: str, language: str) -> None:
    stamp = "2026-03-03T12:00:00+00:00"
    org = db.execute("SELECT organisation_id FROM project_organisations po JOIN organisations o"
                     " ON o.id = po.organisation_id JOIN projects p ON p.id = po.project_id"
                     " WHERE p.slug = ? AND o.kind = 'partner'", (project,)).fetchone()[0]
    cur = db.execute(
        "INSERT INTO members (telegram_user_id, display_name, role, organisation_id, language,"
        " timezone, consent_at, status, created_at, updated_at) VALUES (?, ?, 'partner', ?, ?,"
        " 'UTC', ?, 'active', ?, ?)", (telegram_id, f"P{telegram_id}", org, language, stamp,
                                       stamp, stamp))
    db.execute("INSERT INTO member_projects (member_id, project_id) SELECT ?, id FROM projects"
               " WHERE slug = ?", (cur.lastrowid, project))


def test_announce_from_the_command_line(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["network", "load", str(NETWORK)]).exit_code == 0
    with sqlite3.connect(tmp_path / "data" / "palabre.db") as db:
        _member(db, 501, "eau-ziguinchor", "fr")
        _member(db, 502, "eau-ziguinchor", "en")
        _member(db, 503, "ecoles-cusco", "es")
    text, english = tmp_path / "msg.txt", tmp_path / "msg.en.txt"
    text.write_text("Réunion mardi <10 h>\n", encoding="utf-8")
    english.write_text("Meeting on Tuesday\n", encoding="utf-8")
    base = ["announce", "--text-file", str(text), "--lang-file", f"en={english}"]

    result = cli.invoke(app, [*base, "--audience", "project=eau-ziguinchor"], input="n\n")
    assert result.exit_code == 1 and "Recipients: 2 (en, fr)" in result.output
    assert "Nothing was sent." in result.output

    result = cli.invoke(app, [*base, "--audience", "project=eau-ziguinchor",
                              "--audience", "language=en", "--at", "2099-01-01T09:00", "--ack",
                              "--yes"])
    assert result.exit_code == 0, result.output
    assert "Recipients: 1 (en)" in result.output and "queued for 1 person" in result.output
    with sqlite3.connect(tmp_path / "data" / "palabre.db") as db:
        assert db.execute("SELECT status, ack, send_at, audience FROM announcements").fetchall() \
            == [("scheduled", 1, "2099-01-01T09:00:00+00:00",
                 '{"language": ["en"], "project": ["eau-ziguinchor"]}')]
        assert db.execute("SELECT chat_id, language, state FROM outbox").fetchall() == [
            (502, "en", "pending")]
        assert db.execute("SELECT language, text FROM announcement_versions").fetchall() == [
            ("en", "Meeting on Tuesday")]

    for bad, message in ((["--audience", "planet=mars"], "unknown audience"),
                         (["--audience", "project=nowhere"], "nobody matches"),
                         (["--at", "yesterday"], "ISO 8601"),
                         (["--lang-file", "de=x.txt"], "LANG=FILE")):
        result = cli.invoke(app, [*base, *bad, "--yes"])
        assert result.exit_code == 1 and message in result.output, result.output
        assert "Traceback" not in result.output
