"""Does effprof ever report a latency silently off on a busy machine?

Run: ``.venv/bin/python benchmarks/contention.py [--threads N]`` (about two minutes on 2 cores; start it on a
quiet machine). Without ``--threads`` the thread policy chooses (fewer threads beside competitors, which
flags the row); ``--threads 2`` and ``--threads 1`` test the contention detector itself.

``effprof.compare(["mobilenet_v2", "resnet18"], backends="eager,onnxruntime")`` is run three times, in
one process, with default threads (effprof's thread policy): on the machine as it is (quiet), then
with one and with two busy-loop competitor processes (benchmarks/competitors.py). For every
(model, backend) it prints the contended/quiet ratio of the medians, the threads used, the cores
others took while timing, and whether the row was flagged (it carries a warning: contended, fewer
threads than a quiet run, or a spread too wide). Goal: every row within 1.25x of quiet, or flagged;
none silently off. The table is written to ``reports/contention.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

from competitors import competitors

import effprof
from effprof.latency.contention import PROBE, sample_others

ROOT = Path(__file__).resolve().parents[1]
GOAL_RATIO = 1.25


def run(models: list[str], backends: str, budget_s: float, threads: int | None) -> dict[tuple[str, str], dict]:
    result = effprof.compare(models, backends=backends, budget_s=budget_s, threads=threads, counters="analytic")
    return {(r["model"], r["backend"]): r for r in result.to_pandas().to_dict("records")}


def warnings_of(row: dict) -> str:
    """The row's warnings ('' when none: pandas gives NaN for a missing one, which is truthy)."""
    value = row.get("warnings")
    return value if isinstance(value, str) else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mobilenet_v2,resnet18")
    parser.add_argument("--backends", default="eager,onnxruntime")
    parser.add_argument("--budget-s", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=None,
                        help="fixed thread count (default: effprof's thread policy, which drops busy cores)")
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "contention.csv")
    args = parser.parse_args(argv)
    models = args.models.split(",")

    load = sample_others(1.0)
    print(f"load before the quiet run: others used {load if load is None else round(load, 2)} of "
          f"{PROBE.usable_cores()} usable cores; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    quiet = run(models, args.backends, args.budget_s, args.threads)
    rows, silent = [], 0
    for n in (1, 2):
        with competitors(n):
            busy = run(models, args.backends, args.budget_s, args.threads)
        for key, r in busy.items():
            q = quiet[key]
            ratio = r["latency_ms"] / q["latency_ms"]
            flagged = bool(warnings_of(r))
            ok = ratio <= GOAL_RATIO or flagged
            silent += not ok
            rows.append({
                "competitors": n, "model": key[0], "backend": key[1], "quiet_ms": q["latency_ms"],
                "quiet_threads": q["threads"], "busy_ms": r["latency_ms"], "busy_threads": r["threads"],
                "ratio": ratio, "others_cores": r.get("others_cores"), "contended": r.get("contended"),
                "flagged": flagged, "goal_met": ok, "warnings": warnings_of(r), "quiet_warnings": warnings_of(q),
            })  # fmt: skip

    header = f"{'competitors':>11} {'model':<14} {'backend':<12} {'quiet ms':>9} {'thr':>3} {'busy ms':>9} {'thr':>3} " \
             f"{'ratio':>6} {'others':>6} {'flagged':>7}  goal"  # fmt: skip
    print(header)
    for r in rows:
        others = "" if r["others_cores"] is None else f"{r['others_cores']:.2f}"
        print(f"{r['competitors']:>11} {r['model']:<14} {r['backend']:<12} {r['quiet_ms']:>9.2f} {r['quiet_threads']:>3} "
              f"{r['busy_ms']:>9.2f} {r['busy_threads']:>3} {r['ratio']:>5.2f}x {others:>6} "
              f"{'yes' if r['flagged'] else 'no':>7}  {'ok' if r['goal_met'] else 'SILENTLY OFF'}")  # fmt: skip
    quiet_flags = {k: warnings_of(r) for k, r in quiet.items() if warnings_of(r)}
    if quiet_flags:
        print(f"note: the quiet run itself carried warnings on {len(quiet_flags)} rows: {quiet_flags}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for r in rows:
        if r["flagged"]:
            print(f"  {r['competitors']} competitor(s), {r['model']} {r['backend']}: {r['warnings']}")
    print(f"{silent} of {len(rows)} rows silently off (goal: 0); wrote {args.output}")
    return 1 if silent else 0


if __name__ == "__main__":
    sys.exit(main())
