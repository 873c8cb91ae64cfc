"""Does the CI latency gate cry wolf on a shared machine, and does it still catch a real slow-down?

Run: ``.venv/bin/python benchmarks/gate_stability.py`` (about a quarter of an hour on 2 cores; start it on a quiet machine).

1. The ci suite (benchmarks/ci.toml), with mobilenet_v2 built by ``slowdown:mobilenet_v2``
   (benchmarks/slowdown.py: the same model, plus an optional slow-down no gated count sees), is run
   once to make a baseline, then ``--runs`` times against it on unchanged code, every second run with
   a busy-loop competitor process (benchmarks/competitors.py). Counted: exit 1 (a false regression:
   the goal is 0), exit 3 (inconclusive), exit 0 (pass), and each model's change with its 95% interval.
2. The slow-down is sized to make mobilenet_v2 about 30% slower (measured here, on the suite's thread
   count and resolution), and one run on the quiet machine must exit 1 with mobilenet_v2's latency
   as the regression.
Everything is written under ``reports/gate_stability/``; the table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from competitors import competitors

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
SPEC = "slowdown:mobilenet_v2"


def effprof(*args: str, repeats: int = 0) -> int:
    env = {**os.environ, "PYTHONPATH": str(HERE), "EFFPROF_SLOWDOWN_REPEATS": str(repeats)}
    cmd = [sys.executable, "-m", "effprof", *args]
    return subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).returncode


def changes(path: Path) -> tuple[str, dict[str, str]]:
    doc = json.loads(path.read_text())
    comp = doc.get("comparison") or {}
    out = {}
    for c in comp.get("latency", []):
        if c["spec"] == doc["meta"]["bench"]["reference"]:
            continue
        span = "" if c["change_low_pct"] is None else f" [{c['change_low_pct']:+.1f}, {c['change_high_pct']:+.1f}]"
        out[c["spec"].replace("slowdown:", "")] = f"{c['change_pct']:+.1f}%{span} {c['status']}"
    return comp.get("verdict", "?"), out


def slowdown_repeats(target: float, threads: int, resolution: int) -> tuple[int, float]:
    """ReLU6 repeats that make mobilenet_v2 ``target`` times slower here, and the factor then measured.

    Both figures come from the bench's own method: the plain and the slowed model timed in alternating
    slices (``measure_paired``), the factor being the trimmed geometric mean of the slice-pair ratios.
    """
    from slowdown import mobilenet_v2

    from effprof.bench.noise import pair_center
    from effprof.latency import measure_paired

    shape = (1, 3, resolution, resolution)

    def factor(repeats: int) -> float:
        base, slow = measure_paired((mobilenet_v2(0), shape, None), (mobilenet_v2(repeats), shape, None),
                                    threads=threads, budget_s=6.0, slices=30)  # fmt: skip
        return pair_center([s / b for s, b in zip(slow.slice_ms, base.slice_ms, strict=True)])

    probe = 300
    per_op = (factor(probe) - 1) / probe
    repeats = max(1, round((target - 1) / per_op))
    return repeats, factor(repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--slowdown", type=float, default=1.30)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "gate_stability")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "benchmarks" / "ci.toml").read_text().replace('"mobilenet_v2",', f'"{SPEC}",')
    suite = args.out / "ci-slowdown.toml"
    suite.write_text(text)
    base = args.out / "base.json"
    print(f"load average {os.getloadavg()[0]:.2f}; baseline run ...", flush=True)
    code = effprof("bench", str(suite), "-o", str(base))
    if code not in (0,):
        print(f"baseline run exited {code}")
        return 2

    tally = {0: 0, 1: 0, 3: 0}
    print(f"{'run':>3} {'competitor':>10} {'exit':>4} {'verdict':<12} per-model change of latency × resnet18 [95% interval]")
    for i in range(1, args.runs + 1):
        busy = i % 2 == 0
        out = args.out / f"run{i}.json"
        with competitors(1 if busy else 0):
            code = effprof("bench", str(suite), "--baseline", str(base), "-o", str(out))
        tally[code] = tally.get(code, 0) + 1
        verdict, per_model = changes(out)
        shown = "; ".join(f"{k} {v}" for k, v in per_model.items())
        print(f"{i:>3} {'yes' if busy else 'no':>10} {code:>4} {verdict:<12} {shown}", flush=True)
    print(f"unchanged code, {args.runs} runs: {tally.get(1, 0)} false regressions (exit 1), "
          f"{tally.get(3, 0)} inconclusive (exit 3), {tally.get(0, 0)} pass (exit 0)")  # fmt: skip

    repeats, factor = slowdown_repeats(args.slowdown, threads=1, resolution=160)
    out = args.out / "slow.json"
    code = effprof("bench", str(suite), "--baseline", str(base), "-o", str(out), repeats=repeats)
    verdict, per_model = changes(out)
    print(f"injected slow-down: {repeats} ReLU6 ops, mobilenet_v2 measured {factor:.2f}x beside the plain one; "
          f"bench exit {code} ({verdict}): {per_model.get('mobilenet_v2')}")  # fmt: skip
    return 0 if tally.get(1, 0) == 0 and code == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
