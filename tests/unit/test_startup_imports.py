"""What the bot loads at start: the heavy libraries wait for their first use (issue 13: start-up
time and idle memory)."""

from __future__ import annotations

import json
import subprocess
import sys

# Loaded on first use only: charts (matplotlib, numpy, PIL), spreadsheets (openpyxl, the
# exports' writers), form reading (pyxform, YAML), and httpx's command line (rich, click,
# pygments), which the bot never runs.
LATER = ("matplotlib", "numpy", "PIL", "openpyxl", "pyxform", "yaml", "httpx._main", "rich",
         "pygments", "click", "bot.charts", "bot.survey_charts", "bot.exports.spreadsheets",
         "bot.exports.survey_wide", "bot.exports.tables", "bot.exports.xlsx_stream")


def _loaded_after(statement: str) -> list[str]:
    script = (f"import sys\n{statement}\nimport json\n"
              f"print(json.dumps([m for m in {list(LATER)!r} if sys.modules.get(m)]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=120)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_bot_loads_none_of_the_heavy_modules() -> None:
    assert _loaded_after("import bot.app") == []


def test_the_run_command_loads_none_of_the_heavy_modules() -> None:
    """`python -m bot run` imports the command line first (yaml: the network file's reader)."""
    later = [m for m in _loaded_after("import bot.cli; import bot.app") if m != "yaml"]
    assert later == []


def test_an_export_still_finds_its_writers() -> None:
    assert set(_loaded_after("import bot.app\nfrom bot.exports import spreadsheets")) >= {
        "bot.exports.spreadsheets", "bot.exports.tables", "bot.exports.xlsx_stream"}
