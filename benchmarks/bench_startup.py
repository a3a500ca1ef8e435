"""Benchmark: start-up time and idle memory of `palabre run` with 10,000 members.

The emulator runs in this process; the bot runs as `python -m bot run` in a child process
with the environment pointing at it. Printed: the time from spawning the child to its first
getUpdates (interpreter start and imports included), its RSS once idle (3 s of long polling
later), and the RSS of a bare `import bot.app` for comparison.

Usage: python benchmarks/bench_startup.py [--members 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import ROOT, deployment, seed_members

IDLE_SECONDS = 3.0


@dataclass(frozen=True)
class Startup:
    members: int
    first_get_updates: float  # seconds from spawn
    idle_rss_mib: float
    import_rss_mib: float
    timeline: str  # the Bot API calls before the first getUpdates, seconds after spawn


def _rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert found is not None
    return int(found.group(1)) / 1024


def import_rss_mib() -> float:
    """RSS of a fresh interpreter that only imports bot.app (its own VmRSS: ru_maxrss would
    carry this process's peak across fork and exec)."""
    code = ("import re, bot.app; print(re.search(r'VmRSS:\\s+(\\d+)', "
            "open('/proc/self/status').read()).group(1))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,  # noqa: S603
                         capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024


async def measure(members: int) -> Startup:
    async with deployment({}) as (emu, settings, store):
        await seed_members(store, 5_000_000, members)
        await store.close()  # the child is the only one using the database
        env = {**os.environ, "PALABRE_TELEGRAM_TOKEN": emu.token,
               "PALABRE_TELEGRAM_BASE_URL": emu.base_url,
               "PALABRE_DATABASE": str(settings.database),
               "PALABRE_MEDIA_DIR": str(settings.media_dir)}
        started, wall = time.perf_counter(), time.time()
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            while not emu.stats["getUpdates"]:
                if child.returncode is not None:
                    raise RuntimeError("the bot stopped before polling")
                await asyncio.sleep(0.005)
            first = time.perf_counter() - started
            timeline = ", ".join(f"{c.method} {c.at - wall:.2f}" for c in emu.calls)
            await asyncio.sleep(IDLE_SECONDS)
            idle = _rss_mib(child.pid)
        finally:
            child.send_signal(signal.SIGINT)
            _out, err = await asyncio.wait_for(child.communicate(), 30)
        if child.returncode != 0:
            raise RuntimeError(f"palabre run failed: {err.decode()[-2000:]}")
    return Startup(members, first, idle, import_rss_mib(), timeline)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()
    r = asyncio.run(measure(args.members))
    print(f"{r.members:,} members: first getUpdates {r.first_get_updates:.2f} s after spawn; "
          f"idle RSS {r.idle_rss_mib:.0f} MiB; `import bot.app` alone {r.import_rss_mib:.0f} MiB")
    print(f"calls (s after spawn): {r.timeline}")
