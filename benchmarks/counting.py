"""How long each MAC counter takes on every registered model: analytic vs fvcore vs FlopCounterMode.

Run: ``.venv/bin/python benchmarks/counting.py`` (every model at its default resolution, 2-5
minutes on 2 cores), ``--quick`` for a seven-model subset, ``--models 'efficientnet*,vit_b_16'``
for a selection (shell wildcards, comma-separated).

Each model is built once on the meta device (what the analytic and torch counters run on) and once
on the CPU (fvcore traces real tensors; ptflops and thop, when importable, run real forwards);
only the counting is timed. The fast counters (analytic, torch, and analytic on resnet18 as the
baseline) run ``--repeats`` rounds, rotating who goes first, so machine load hits them alike; the
slow ones run up to ``--repeats`` times (fewer once one run takes over ``--slow-s`` seconds).
Medians are kept, with the first call and the process CPU time beside them; one untimed warm-up
per counter first (imports, JIT). Also timed: the analytic counter handed the CPU-built model (it
copies it to meta first), as a user holding a CPU model would call it.

On a shared 2-core machine, fvcore's times (real multi-threaded forwards) swing up to 10x with
other processes' load; the load average is printed at the end: compare runs taken at low load.

Written to ``reports/counting_benchmark.csv`` (one row per model, as each finishes) and printed
with the ratios fvcore/analytic, torch/analytic and analytic/analytic-of-resnet18. The target it
reports on: the analytic counter fastest on every model and never slower than 2x its resnet18 time.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

import effprof  # noqa: F401  (makes torchvision importable beside a CPU-only torch)
from effprof.counters.analytic import count_analytic
from effprof.counters.fvcore import count_fvcore
from effprof.counters.torch_mode import count_torch
from effprof.models import build_model, list_models

ROOT = Path(__file__).resolve().parents[1]
QUICK = [
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "efficientnet_b0",
    "vit_b_16",
    "swin_t",
    "convnext_tiny",
]
COUNTERS = ("analytic", "analytic_from_cpu", "torch", "fvcore", "ptflops", "thop")
COLUMNS = [
    "model", "input_shape", "params", "macs_analytic", "macs_fvcore", "macs_torch", "torch_calls", "resnet18_s",
    *[f"{c}_{k}" for c in COUNTERS for k in ("s", "first_s", "cpu_s", "runs")],
    "fvcore_over_analytic", "torch_over_analytic", "analytic_over_resnet18", "analytic_ms_per_call",
    "analytic_fastest", "error",
]  # fmt: skip


@dataclass
class Timing:
    """Wall and process-CPU seconds of repeated calls; the first call kept apart (cold caches)."""

    wall_s: list[float]
    cpu_s: list[float]
    result: object

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def first_s(self) -> float:
        return self.wall_s[0]

    @property
    def median_cpu_s(self) -> float:
        return statistics.median(self.cpu_s)


def timed(fn: Callable[[], object], repeats: int, slow_s: float) -> Timing:
    """Call ``fn`` up to ``repeats`` times (stops early once a call is slow), timing each call.

    CPU time is reported beside wall time because this machine may be shared: other processes
    stretch wall time, not the CPU time this process spends (summed over its threads).
    """
    wall, cpu, result = [], [], None
    for _ in range(repeats):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if wall[-1] > slow_s:
            break
    return Timing(wall, cpu, result)


def optional_counters() -> dict[str, Callable[[torch.nn.Module, tuple[int, ...]], object]]:
    """ptflops and thop, when installed (they are not dependencies of effprof)."""
    found: dict[str, Callable[[torch.nn.Module, tuple[int, ...]], object]] = {}
    try:
        from ptflops import get_model_complexity_info

        def ptflops(model, shape):
            return get_model_complexity_info(
                model, tuple(shape[1:]), as_strings=False, print_per_layer_stat=False, verbose=False
            )

        found["ptflops"] = ptflops
    except ImportError:
        pass
    try:
        import thop

        def run_thop(model, shape):
            with torch.no_grad():
                return thop.profile(model, inputs=(torch.zeros(shape),), verbose=False)

        found["thop"] = run_thop
    except ImportError:
        pass
    return found


def warm_up(extra: dict) -> None:
    """Imports, first-call JIT and dispatcher caches: paid once, not by the first model."""
    model = build_model("resnet18", resolution=64, device="cpu").module
    shape = (1, 3, 64, 64)
    count_analytic(model, shape)
    count_fvcore(model, shape)
    count_torch(model, shape)
    for fn in extra.values():
        fn(model, shape)


def record(row: dict, label: str, timing: Timing) -> object:
    row[f"{label}_s"] = timing.median_s
    row[f"{label}_first_s"] = timing.first_s
    row[f"{label}_cpu_s"] = timing.median_cpu_s
    row[f"{label}_runs"] = len(timing.wall_s)
    return timing.result


def timed_rounds(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, Timing]:
    """Time fast counters in rounds, rotating who goes first, so load on a shared machine hits all alike."""
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    results: dict[str, object] = {}
    labels = list(fns)
    for i in range(repeats):
        for label in labels[i % len(labels) :] + labels[: i % len(labels)]:
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            results[label] = fns[label]()
            wall[label].append(time.perf_counter() - start)
            cpu[label].append(time.process_time() - start_cpu)
    return {k: Timing(wall[k], cpu[k], results[k]) for k in fns}


def bench_model(name: str, args: argparse.Namespace, extra: dict, baseline: Callable[[], object]) -> dict:
    row: dict = {"model": name}
    built = build_model(name)
    shape = built.input_shape
    row["input_shape"] = "x".join(map(str, shape))
    fast = timed_rounds(
        {
            "analytic": lambda: count_analytic(built.module, shape),
            "torch": lambda: count_torch(built.module, shape),
            "resnet18": baseline,  # in the same rounds: the 2x-resnet18 ratio sees the same load
        },
        args.repeats,
    )
    analytic = record(row, "analytic", fast["analytic"])
    torch_res = record(row, "torch", fast["torch"])
    row["resnet18_s"] = fast["resnet18"].median_s
    # every torch call the analytic counter saw: its cost is per call (meta kernels run in Python)
    calls = sum(r.calls for r in analytic.layers) + sum(n for n, _ in analytic.ignored.values())
    calls += sum(analytic.unsupported.values())
    row.update(
        params=analytic.params, macs_analytic=analytic.macs, macs_torch=torch_res.macs, torch_calls=calls
    )
    cpu = build_model(name, device="cpu").module
    record(row, "analytic_from_cpu", timed(lambda: count_analytic(cpu, shape), args.repeats, args.slow_s))
    if not args.no_fvcore:
        fv = record(row, "fvcore", timed(lambda: count_fvcore(cpu, shape), args.repeats, args.slow_s))
        row["macs_fvcore"] = fv.macs
    for label, fn in extra.items():
        try:
            record(row, label, timed(lambda fn=fn: fn(cpu, shape), args.repeats, args.slow_s))
        except Exception as exc:  # noqa: BLE001 - a third-party counter failing is a row entry
            row["error"] = f"{label}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return row


def finish(row: dict) -> dict:
    a = row.get("analytic_s")
    if a:
        for other in ("fvcore", "torch"):
            if row.get(f"{other}_s") is not None:
                row[f"{other}_over_analytic"] = row[f"{other}_s"] / a
        if row.get("resnet18_s"):
            row["analytic_over_resnet18"] = a / row["resnet18_s"]
        if row.get("torch_calls"):
            row["analytic_ms_per_call"] = 1e3 * a / row["torch_calls"]
        others = [row[k] for k in ("fvcore_s", "torch_s", "ptflops_s", "thop_s") if row.get(k) is not None]
        row["analytic_fastest"] = all(a <= t for t in others)
    return row


def fmt(value: object, digits: int = 3) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(rows: list[dict], extra: dict) -> None:
    cols = [
        ("model", "model"), ("shape", "input_shape"), ("GMACs", "macs_analytic"), ("calls", "torch_calls"),
        ("analytic s", "analytic_s"), ("from cpu s", "analytic_from_cpu_s"), ("torch s", "torch_s"),
        ("fvcore s", "fvcore_s"), ("fvcore 1st s", "fvcore_first_s"), ("fvcore cpu s", "fvcore_cpu_s"),
        *[(f"{k} s", f"{k}_s") for k in extra],
        ("fv/an", "fvcore_over_analytic"), ("tor/an", "torch_over_analytic"),
        ("an/r18", "analytic_over_resnet18"), ("ms/call", "analytic_ms_per_call"), ("fastest", "analytic_fastest"),
    ]  # fmt: skip
    table = []
    for row in rows:
        cells = []
        for _, key in cols:
            v = row.get(key)
            if key == "macs_analytic" and v is not None:
                v = v / 1e9
            digits = 1 if key.endswith("over_analytic") else 3
            cells.append(fmt(v, digits))
        table.append(cells)
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, (h, _) in enumerate(cols)]
    print("  ".join(h.ljust(w) for (h, _), w in zip(cols, widths, strict=True)))
    for cells in table:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=None, help="comma-separated names or wildcards (default: all)")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--slow-s", type=float, default=3.0, help="one run slower than this: stop repeating")
    parser.add_argument("--no-fvcore", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "counting_benchmark.csv")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    names = [cfg.name for cfg in list_models()]
    if args.quick:
        names = [n for n in names if n in QUICK]
    if args.models:
        patterns = [p.strip() for p in args.models.split(",") if p.strip()]
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]
    if not names:
        print("no registered model matches", file=sys.stderr)
        return 2
    extra = optional_counters()
    skipped = sorted({"ptflops", "thop"} - set(extra))
    if skipped:
        print(f"not installed, skipped: {', '.join(skipped)}")
    warm_up(extra)

    # The baseline of the "2x resnet18" target: timed beside every model, even when resnet18 is
    # filtered out, so both see the same machine load.
    base = build_model("resnet18")

    def baseline() -> object:
        return count_analytic(base.module, base.input_shape)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    started = time.perf_counter()
    with args.output.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for name in names:
            try:
                row = bench_model(name, args, extra, baseline)
            except Exception as exc:  # noqa: BLE001 - failures are data: the row says what broke
                row = {"model": name, "error": (str(exc).splitlines() or [type(exc).__name__])[0]}
            rows.append(finish(row))
            writer.writerow(rows[-1])
            fh.flush()  # an interrupt loses nothing already measured
            print(
                f"  {name}: analytic {fmt(row.get('analytic_s'))} s, fvcore {fmt(row.get('fvcore_s'))} s",
                flush=True,
            )
    print()
    print_table(rows, extra)
    measured = [r for r in rows if r.get("analytic_s")]
    fastest = sum(bool(r.get("analytic_fastest")) for r in measured)
    worst = max(measured, key=lambda r: r["analytic_over_resnet18"], default=None)
    print()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    base_s = statistics.median(r["resnet18_s"] for r in measured) if measured else float("nan")
    print(
        f"resnet18 analytic baseline (median over models' rounds): {base_s * 1e3:.1f} ms; wall time"
        f" {time.perf_counter() - started:.0f} s; {torch.get_num_threads()} torch threads;"
        f" load average at the end {load:.2f}"
    )
    print(f"analytic fastest on {fastest}/{len(measured)} models")
    if worst:
        print(
            f"slowest analytic relative to resnet18: {worst['model']} at {worst['analytic_over_resnet18']:.2f}x"
        )
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
