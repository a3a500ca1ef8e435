"""The README is the short door; the rest lives in docs/ and every link there resolves."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)")


def test_the_readme_is_short_and_points_to_the_guides() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"(?m)^## (.+)$", readme)
    assert headings[:5] == ["Quick start", "Running for real", "What people can do in the chat",
                            "Command line", "The network file"]
    for guide in ("user-guide", "operations", "architecture", "benchmarks"):
        assert f"(docs/{guide}.md)" in readme


def test_every_link_between_documents_resolves() -> None:
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            assert (page.parent / target).resolve().is_file(), f"{page.name} → {target}"


def test_operations_cover_service_logs_backup_and_upgrades() -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for part in ("## Running as a service", "## Logs", "## Backup and restore", "## Upgrades",
                 "palabre db backup", "palabre db upgrade", "PALABRE_MEDIA_DIR"):
        assert part in text
