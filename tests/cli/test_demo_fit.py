"""The demo shows a network with a past, keeps what it sends, and never takes a typed answer
for a menu button."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_demo_has_history_saves_files_and_types_numbers(tmp_path: Path) -> None:
    script = ("/start\n1\n1\na\n7\n:as claire\n/start\n1\n1\n/overdue\n/summary\n"
              "/results\n1\n:quit\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"], input=script, capture_output=True, text=True,
        timeout=180, cwd=tmp_path, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    folder = tmp_path / "palabre-demo-files"
    assert f"saved in {folder.resolve()}" in out  # the folder is named
    # "a" is the menu's first button (Report); "7" is then an answer, not a menu button.
    assert "Aminata> 7" in out and "2/3 · Ménages raccordés" in out
    assert "jours de retard" in out  # the water project's last period is late
    saved = sorted(p.name for p in folder.iterdir())
    assert any("accès-à-l-eau" in name for name in saved)  # the /summary chart
    assert len(saved) >= 2  # and the /results chart
    for path in folder.iterdir():
        assert path.read_bytes().startswith(b"\x89PNG")
        assert str(path.resolve()) in out  # each saved file is named where it arrives
