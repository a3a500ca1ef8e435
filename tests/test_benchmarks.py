"""CI runs the benchmarks at their smoke size: a benchmark that no longer runs fails here.

Only that they run to the end and print their table is checked; their figures are not
(speed is measured by `make bench`, never asserted in a test on a shared machine).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmarks_run_to_the_end() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout.split("Palabre benchmarks (quick size", 1)[1]
    for figure in ("echo bot, PTB defaults", "/report steps", "/help p95", "broadcast N=1000",
                   "reminders", "CSV export", "XLSX export", "idle RSS",
                   "first getUpdates"):
        assert figure in table, table
    assert "FAILED" not in table, table
