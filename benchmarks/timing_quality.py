"""How far effprof's latency numbers can be trusted: agreement with torch.utils.benchmark, repeatability.

Run: ``.venv/bin/python benchmarks/timing_quality.py`` (about half a minute on 2 cores);
on a GPU: ``python benchmarks/timing_quality.py --device cuda --models resnet50 --batch 64``.

For each model (torchvision, weights=None, batch 1, 224 px) and ``--repeats`` rounds, in
alternating order so drift in machine load hits both equally:
  - effprof's eager median (``effprof.latency.measure``), and
  - ``torch.utils.benchmark.Timer(...).blocked_autorange(min_run_time=budget)`` median,
both under ``torch.inference_mode`` with the same thread count and time budget; on CUDA also
  - the median of CUDA-event timings (``torch.cuda.Event``, 20 forwards between two events),
    the GPU's own clock, independent of host-side synchronisation.
Reported: the ratio of the two (median over rounds; target 0.9-1.1) and the coefficient of
variation of each tool's median across rounds (run-to-run repeatability). The table is written
to ``reports/timing_quality.csv`` and printed.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
from pathlib import Path

import torch
from torch.utils import benchmark

import effprof  # noqa: F401  (makes torchvision importable beside a CPU-only torch)
from effprof.latency import environment, measure

ROOT = Path(__file__).resolve().parents[1]


def torch_median_s(
    model: torch.nn.Module, shape: tuple[int, ...], threads: int, budget_s: float, device: str
) -> float:
    """torch.utils.benchmark's blocked_autorange median for one forward, in seconds (it synchronises CUDA)."""
    x = torch.randn(shape, device=device)
    timer = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x}, num_threads=threads)
    with torch.inference_mode():  # thread-local, and the Timer runs in this thread
        return timer.blocked_autorange(min_run_time=budget_s).median


def cuda_event_median_s(
    model: torch.nn.Module, shape: tuple[int, ...], budget_s: float, per_block: int = 20
) -> float:
    """Median over blocks of (CUDA-event elapsed time / forwards in the block), in seconds."""
    x = torch.randn(shape, device="cuda")
    times: list[float] = []
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        torch.cuda.synchronize()
        spent = 0.0
        while spent < budget_s or len(times) < 5:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(per_block):
                model(x)
            end.record()
            end.synchronize()
            block_s = start.elapsed_time(end) / 1e3
            spent += block_s
            times.append(block_s / per_block)
    return statistics.median(times)


def cv(values: list[float]) -> float:
    return statistics.stdev(values) / statistics.mean(values) if len(values) > 1 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet18,mobilenet_v2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--budget-s", type=float, default=1.0, help="timing budget per measurement, both tools"
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "timing_quality.csv")
    args = parser.parse_args(argv)
    shape = (args.batch, 3, 224, 224)
    cuda = args.device.startswith("cuda")
    import torchvision  # only after effprof (imported above): its shim makes this import work here

    rows = []
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None).eval().to(args.device)
        ours_ms: list[float] = []
        theirs_ms: list[float] = []
        events_ms: list[float] = []
        runs: list[int] = []
        for i in range(args.repeats):
            first_ours = i % 2 == 0  # alternate who goes first
            for who in ("ours", "theirs") if first_ours else ("theirs", "ours"):
                if who == "ours":
                    m = measure(
                        model,
                        shape,
                        "eager",
                        device=args.device,
                        threads=args.threads,
                        budget_s=args.budget_s,
                    )
                    ours_ms.append(m.median_ms)
                    runs.append(m.runs)
                else:
                    theirs_ms.append(
                        torch_median_s(model, shape, args.threads, args.budget_s, args.device) * 1e3
                    )
                    if cuda:
                        events_ms.append(cuda_event_median_s(model, shape, args.budget_s) * 1e3)
        ratios = [a / b for a, b in zip(ours_ms, theirs_ms, strict=True)]
        event_columns = {}
        if cuda:
            event_ratios = [a / b for a, b in zip(ours_ms, events_ms, strict=True)]
            event_columns = {
                "cuda_events_median_ms": round(statistics.median(events_ms), 3),
                "ratio_effprof_over_events": round(statistics.median(event_ratios), 3),
            }
        rows.append(
            {
                "model": name,
                "device": args.device,
                "input_shape": "x".join(map(str, shape)),
                "threads": args.threads,
                "budget_s": args.budget_s,
                "repeats": args.repeats,
                "effprof_median_ms": round(statistics.median(ours_ms), 3),
                "torch_benchmark_median_ms": round(statistics.median(theirs_ms), 3),
                "ratio_effprof_over_torch": round(statistics.median(ratios), 3),
                "ratio_min": round(min(ratios), 3),
                "ratio_max": round(max(ratios), 3),
                **event_columns,
                "effprof_cv_of_median": round(cv(ours_ms), 4),
                "torch_cv_of_median": round(cv(theirs_ms), 4),
                "effprof_runs_per_measurement": round(statistics.median(runs)),
            }
        )

    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    env = environment(args.device)
    gpu = f", {env['gpu']}" if cuda else ""
    print(
        f"# {env['cpu']}, {env['logical_cores']} logical cores{gpu}, torch {env['torch']}, load {os.getloadavg()}"
    )
    keys = list(rows[0])
    widths = [max(len(k), *(len(str(r[k])) for r in rows)) for k in keys]
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r[k]).ljust(w) for k, w in zip(keys, widths, strict=True)))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
