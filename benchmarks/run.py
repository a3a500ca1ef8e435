"""Run every benchmark that has a goal and print one table: figure, goal, baseline, ratio.

Baselines are measured in the same run on the same machine (ratios, not absolute figures,
carry from one machine to another): a bare python-telegram-bot echo bot with PTB's defaults
and the same echo bot on the fastest client adopted (bench_inbound.py), and the `sqlite3`
command-line tool for exports (bench_consultation.py; skipped with a line when the tool is
not installed).

Usage: python benchmarks/run.py [--quick] [--only inbound,broadcast,reminders,exports,startup]
`--quick` is a smoke size for CI (about a minute): the figures are noisy there, the point is
that every benchmark still runs to the end. Exit status 1 when a benchmark fails to run; a
goal missed is shown in the table, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

SECTIONS = ("inbound", "broadcast", "reminders", "exports", "startup")


@dataclass(frozen=True)
class Size:
    users: int
    steps: int
    rate: float
    seconds: float
    broadcasts: tuple[tuple[float, int], ...]  # (N msg/s, recipients)
    talkers: int
    reminders: int
    reports: int
    members: int


FULL = Size(users=500, steps=8, rate=200, seconds=10,
            broadcasts=((30, 900), (200, 4_000), (1_000, 10_000)), talkers=5, reminders=1_500,
            reports=200_000, members=10_000)
QUICK = Size(users=40, steps=8, rate=200, seconds=2,
             broadcasts=((30, 90), (200, 400), (1_000, 2_000)), talkers=2, reminders=120,
             reports=3_000, members=2_000)


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    goal: str
    baseline: str = ""
    met: bool | None = None


# Each section imports its benchmark when it runs: the export benchmark spawns children that
# import this module again, and their memory must be the export's, not the bot's.


def inbound(size: Size) -> list[Row]:
    import bench_inbound

    r = asyncio.run(bench_inbound.main(size.users, size.steps, size.rate, size.seconds))
    default, fast = r["echo_default"].per_second, r["echo_fast"].per_second
    report, help_ = r["report"].per_second, r["help"].per_second
    load = f"{size.users} people x {size.steps} steps"
    return [
        Row("echo bot, PTB defaults (httpx)", f"{default:.0f} upd/s", "baseline", load),
        Row("echo bot, AiohttpRequest", f"{fast:.0f} upd/s", "baseline", load),
        Row("/report steps vs PTB-default echo", f"{report:.0f} upd/s = {report / default:.2f}x",
            ">= 1.0x", f"{default:.0f} upd/s", report / default >= 1.0),
        Row("/report steps vs fastest echo", f"{report / fast:.2f}x", ">= 0.5x",
            f"{fast:.0f} upd/s", report / fast >= 0.5),
        Row("/help vs fastest echo", f"{help_:.0f} upd/s = {help_ / fast:.2f}x", ">= 0.8x",
            f"{fast:.0f} upd/s", help_ / fast >= 0.8),
        Row(f"/help p95 at {size.rate:.0f} upd/s", f"{r['fixed'].p95_ms:.0f} ms"
            f" (p50 {r['fixed'].p50_ms:.0f})", "<= 50 ms",
            f"{r['fixed'].per_second:.0f} upd/s sent", r["fixed"].p95_ms <= 50),
    ]


def broadcast(size: Size) -> list[Row]:
    import bench_announcements

    rows = []
    for rate, recipients in size.broadcasts:
        r = asyncio.run(bench_announcements.run(recipients, rate, size.talkers))
        # N is shared: the talkers' replies take their part of it first (5 msg/s of 30).
        share, used = r["achieved"] / rate, r["overall"] / rate
        ok = used >= 0.95 and r["duplicates"] == 0 and r["missing"] == 0
        rows.append(Row(
            f"broadcast N={rate:g}, {recipients:,} recipients",
            f"{used:.3f} of N used ({share:.3f} broadcast), dup {r['duplicates']:.0f}, "
            f"talkers p95 {r['p95']:.0f} ms", ">= 0.95 N, 0 dup",
            f"N = {rate:g} msg/s (emulator limit)", ok))
    return rows


def reminders(size: Size) -> list[Row]:
    import bench_reminders

    r = asyncio.run(bench_reminders.sending(size.reminders, 30.0))
    share = r["achieved"] / r["rate"]
    return [Row(f"reminders, {size.reminders:,} due at once", f"{share:.3f} of N, dup "
                f"{r['duplicates']:.0f}", ">= 0.95 N, 0 dup", "N = 30 msg/s",
                share >= 0.95 and r["duplicates"] == 0)]


def exports(size: Size) -> list[Row]:
    import bench_consultation

    r = bench_consultation.main(size.reports, None)
    rows = int(r["rows"])
    cli = r.get("sqlite3")
    flat = f"peak {r['csv_peak']:.0f}/{r['xlsx_peak']:.0f} MiB (before {r['before']:.0f})"
    if cli is None:
        return [Row("exports", "sqlite3 CLI not installed: comparison skipped", "", flat)]
    return [
        Row(f"CSV export, {rows:,} rows", f"{r['csv']:,.0f} rows/s = {r['csv'] / cli:.2f}x",
            ">= 0.5x sqlite3", f"sqlite3 .mode csv {cli:,.0f} rows/s", r["csv"] / cli >= 0.5),
        Row(f"XLSX export, {rows:,} rows", f"{r['xlsx']:,.0f} rows/s = {r['xlsx'] / cli:.2f}x",
            ">= 0.25x sqlite3", f"sqlite3 .mode csv {cli:,.0f} rows/s",
            r["xlsx"] / cli >= 0.25),
        Row("export memory", flat, "flat", ""),
    ]


def startup(size: Size) -> list[Row]:
    import bench_startup

    r = asyncio.run(bench_startup.measure(size.members))
    return [
        Row(f"idle RSS, {size.members:,} members", f"{r.idle_rss_mib:.0f} MiB", "<= 70 MiB",
            f"import bot.app alone {r.import_rss_mib:.0f} MiB", r.idle_rss_mib <= 70),
        Row("spawn to first getUpdates", f"{r.first_get_updates:.2f} s", "<= 0.5 s", "",
            r.first_get_updates <= 0.5),
    ]


RUNNERS = {"inbound": inbound, "broadcast": broadcast, "reminders": reminders,
           "exports": exports, "startup": startup}


def table(rows: list[Row]) -> str:
    header = ("figure", "value", "goal", "baseline (same run)", "met")
    cells = [header] + [(r.figure, r.value, r.goal, r.baseline,
                         "" if r.met is None else ("yes" if r.met else "NO")) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    model = next((line.split(":", 1)[1].strip()
                  for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) \
        if Path("/proc/cpuinfo").exists() else platform.processor()
    return (f"{platform.node()}: {os.cpu_count()} CPUs ({model}), Python "
            f"{platform.python_version()}, load average {load}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke sizes (CI)")
    parser.add_argument("--reports", type=int, default=None,
                        help="reports generated for the exports (full size: 200,000)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections: " + ", ".join(SECTIONS))
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    if args.reports is not None:
        size = dataclasses.replace(size, reports=args.reports)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    print(f"machine at start: {machine()}", flush=True)
    started = time.perf_counter()
    rows: list[Row] = []
    broken: list[str] = []
    for name in wanted:
        print(f"== {name}", flush=True)
        try:
            rows += RUNNERS[name](size)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            broken.append(name)
            rows.append(Row(name, f"FAILED: {type(exc).__name__}: {exc}", ""))
            traceback.print_exc()
    print()
    print(f"Palabre benchmarks ({'quick' if args.quick else 'full'} size, "
          f"{time.perf_counter() - started:.0f} s); machine at end: {machine()}")
    print(table(rows))
    if broken:
        print(f"FAILED to run: {', '.join(broken)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
