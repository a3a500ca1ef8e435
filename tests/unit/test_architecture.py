"""Rules of the code base that tests can hold: the core stays channel-free, commands are
documented, settings are read in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.core.commands import ALIASES, COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_core_does_not_import_telegram() -> None:
    for path in [*(ROOT / "bot" / "core").rglob("*.py"), *(ROOT / "storage").rglob("*.py")]:
        offending = {n for n in _imports(path) if n.split(".")[0] in ("telegram", "handlers")}
        assert not offending, f"{path} imports {offending}"


def test_the_import_contracts_hold() -> None:
    """The layers of pyproject.toml's import-linter contracts (also run by `make lint`). In a
    process of its own: import-linter reconfigures logging, which would hide later tests'
    log records from caplog."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import "
                           "lint_imports; sys.exit(lint_imports(no_cache=True))"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_sql_in_the_core() -> None:
    """Queries live in storage/ repositories; the core asks them."""
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b[^\n]*\b(FROM|INTO|SET|WHERE)\b")
    for path in (ROOT / "bot" / "core").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ".db." not in text.replace(".db.checkpoint", ""), path
        assert not sql.search(text), path


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c.name for c in COMMANDS if f"`/{c.name}`" not in readme]
    assert missing == []
    # A former name still answered is named too, beside its new one.
    assert [old for old in ALIASES if f"`/{old}`" not in readme] == []


def test_every_cli_command_is_documented_in_the_readme() -> None:
    from typer.main import get_command

    from bot.cli import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    group = get_command(app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        names += [f"palabre {name} {sub}" for sub in subcommands] if subcommands else [
            f"palabre {name}"]
    assert [n for n in names if n not in readme] == []


def test_every_registered_command_handler_is_in_the_registry() -> None:
    import handlers

    registered = handlers.command_names()
    assert registered == {c.name for c in COMMANDS} | set(ALIASES)
    assert set(ALIASES.values()) <= {c.name for c in COMMANDS}


def test_environment_is_read_only_by_settings() -> None:
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py"),
                 *(ROOT / "storage").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "os.environ" not in text and "getenv" not in text, path


def test_env_example_lists_every_setting() -> None:
    from bot.config import Settings

    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for field in Settings.model_fields:
        assert f"PALABRE_{field.upper()}=" in example, field
