"""Benchmark: the fault suite at full size (tests/auxil/fault_suite.py).

The real `palabre run` process, SIGKILLed --kills times at seeded moments and restarted,
against the emulator injecting 5% 5xx, 2% connections dropped before and 2% after processing,
latency spikes and random 429s, while --partners partners file a guided report and answer a
survey, and an announcement, survey invitations and reminders are sent.
Printed: every figure (all must be 0 / ok, except `uncertain`), then a few details of each kind.
Usage: python benchmarks/bench_faults.py [--partners 100] [--kills 20] [--seed 1] [--strict]
(--strict: exit 1 when a figure is wrong; without it `make bench` goes on to the next script.)
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

import harness  # noqa: F401  (puts the repository on sys.path)

from bot.emulator import FaultPlan
from tests.auxil.fault_suite import SuiteConfig, run_fault_suite


async def main(partners: int, kills: int, seed: int) -> int:
    plan = FaultPlan(seed=seed, server_error=0.05, drop_before=0.02, drop_after=0.02,
                     too_many=0.01, latency=0.03, spike=(0.5, 3.0))
    config = SuiteConfig(partners=partners, kills=kills, seed=seed, faults=plan,
                         patience=15.0, stall_after=60.0, drain_timeout=180.0)
    folder = Path(tempfile.mkdtemp(prefix="palabre-faults-"))
    figures = await run_fault_suite(config, folder)
    print(f"Fault suite: {partners} partners, {kills} kills, seed {seed} "
          f"(bot log and database kept in {folder}):")
    print(figures.table())
    for line in figures.examples():
        print("  " + line)
    failures = figures.failures()
    print("RESULT:", "all figures as they must be" if not failures else f"FAILED {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--partners", type=int, default=100)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    failed = asyncio.run(main(args.partners, args.kills, args.seed))
    raise SystemExit(failed if args.strict else 0)
