"""Run the district benchmark: python -m benchmarks.district [--database sqlite|postgresql]
[--quick] [--repeat N] [--only STEP,...]. Prints each row as it is measured, then one
markdown table."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.district import report, steps
from benchmarks.district.setup import FULL, QUICK, Stage


@contextlib.contextmanager
def profiled(stage: Stage, name: str, on: bool):
    """With --profile: py-spy samples the server through the step, into the run's folder
    (raw collapsed stacks, one file per step: feed them to flamegraph.pl or speedscope)."""
    if not on:
        yield
        return
    spy = stage.procs.start(
        f"py-spy-{name}",
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--format",
            "raw",
            "--rate",
            "200",
            "-p",
            str(stage.server.pid),
            "-o",
            str(stage.workdir / f"profile-{name}.txt"),
        ],
    )
    try:
        yield
    finally:
        stage.procs.stop(spy)


STEPS = (
    steps.roster_import,
    steps.pages,
    steps.saves,
    steps.stop_burst,
    steps.requests_and_outbox,
    steps.mass_text,
    steps.export,
    steps.stop_during_import,
    steps.staff_pages,
)


async def one_run(
    database: str, sizes, ports: range, keep: bool, profile: bool = False, only=()
) -> list[report.Row]:
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    stage = Stage(workdir, database, ports)
    rows: list[report.Row] = []

    def show(new: list[report.Row]) -> None:
        rows.extend(new)
        for line in report.markdown(new).splitlines()[2:]:
            print(line, file=sys.stderr, flush=True)

    try:
        await stage.open()
        for step in STEPS:
            # The roster import always runs: the later steps use the people it loads.
            if only and step is not steps.roster_import and step.__name__ not in only:
                continue
            with profiled(stage, step.__name__, profile):
                show(await step(stage, sizes))
        show(steps.peak_rss(stage))
    finally:
        await stage.close()
        if keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return rows


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="small sizes: about two minutes")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the table shows medians")
    parser.add_argument("--ports", default="18500-18599", help="loopback ports to use (A-B)")
    parser.add_argument("--keep", action="store_true", help="keep each run's folder and logs")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the server through each step (needs --keep)"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated steps to run after the roster import: "
        + ", ".join(step.__name__ for step in STEPS[1:]),
    )
    args = parser.parse_args()
    only = tuple(name for name in args.only.split(",") if name)
    unknown = set(only) - {step.__name__ for step in STEPS}
    if unknown:
        parser.error(f"unknown step: {', '.join(sorted(unknown))}")
    first, last = (int(p) for p in args.ports.split("-"))
    sizes = QUICK if args.quick else FULL
    runs = []
    for n in range(args.repeat):
        print(f"run {n + 1} of {args.repeat} ({args.database})", file=sys.stderr, flush=True)
        ports = range(first, last + 1)
        runs.append(
            asyncio.run(one_run(args.database, sizes, ports, args.keep, args.profile, only))
        )
    rows = report.median_rows(runs) if len(runs) > 1 else runs[0]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"\n{'Quick' if args.quick else 'Full'} run on {args.database}, {when}, {machine()}"
        + (f", median of {len(runs)} runs" if len(runs) > 1 else "")
        + "\n"
    )
    print(report.markdown(rows))


if __name__ == "__main__":
    main()
