"""The main job's cost against fvcore alone: `effprof compare mobilenet_v2 resnet50` (three counters)
versus fvcore's FlopCountAnalysis on the same two models, each in a fresh process, in one run.

Run: ``.venv/bin/python benchmarks/main_job.py [--rounds 5]``. Each round runs, in rotating order:

- ``main job``: ``python -m effprof compare mobilenet_v2 resnet50`` (analytic + fvcore + FlopCounterMode);
- ``fvcore alone``: import torch, torchvision and fvcore, build both models on the CPU (as a fvcore
  user does: torchvision's random init) and run ``FlopCountAnalysis(...).total()`` on each;
- ``import floor``: ``import torch, torchvision`` alone, which both pay (torchvision imports
  torch._dynamo through torchvision.ops, ~1.7 s here).

Wall seconds and CPU seconds (user + sys of the child) are kept per run; the medians and the ratios
main job / fvcore alone are printed, with the load average before and after (a shared machine's
load moves every figure: compare runs taken at low load). The target (issue 12): main job <= 0.75x.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FVCORE_ALONE = """
import effprof._compat  # only registers torchvision's missing op schemas beside a CPU torch (see _compat.py)
import torch, torchvision
from fvcore.nn import FlopCountAnalysis
for name in ("mobilenet_v2", "resnet50"):
    model = torchvision.models.get_model(name, weights=None).eval()
    flops = FlopCountAnalysis(model, (torch.zeros(1, 3, 224, 224),))
    flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    print(name, flops.total())
"""
IMPORT_FLOOR = "import effprof._compat, torch, torchvision"
JOBS = {
    "main job": [sys.executable, "-m", "effprof", "compare", "mobilenet_v2", "resnet50"],
    "fvcore alone": [sys.executable, "-c", FVCORE_ALONE],
    "import floor": [sys.executable, "-c", IMPORT_FLOOR],
}


def run_once(cmd: list[str]) -> tuple[float, float]:
    """(wall s, child CPU s) of one fresh process; a failing command stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in JOBS}
    names = list(JOBS)
    for i in range(args.rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate who goes first
            times[name].append(run_once(JOBS[name]))
    load_after = os.getloadavg()
    med = {n: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for n, t in times.items()}
    print(f"{'job':<14} {'wall s (median)':>16} {'cpu s (median)':>15}  runs")
    for name, (wall, cpu) in med.items():
        print(f"{name:<14} {wall:>16.2f} {cpu:>15.2f}  {' '.join(f'{w:.2f}' for w, _ in times[name])}")
    main_wall, main_cpu = med["main job"]
    fv_wall, fv_cpu = med["fvcore alone"]
    floor_wall, _ = med["import floor"]
    print(f"main job / fvcore alone: {main_wall / fv_wall:.2f}x wall, {main_cpu / fv_cpu:.2f}x cpu (target <= 0.75x)")
    print(f"above the shared import floor: {(main_wall - floor_wall) / (fv_wall - floor_wall):.2f}x "
          f"({main_wall - floor_wall:.2f} s vs {fv_wall - floor_wall:.2f} s)")  # fmt: skip
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
