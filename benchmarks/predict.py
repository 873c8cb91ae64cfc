"""How well effprof predicts eager CPU latency: MACs only vs plain roofline vs calibrated roofline.

Run: ``.venv/bin/python benchmarks/predict.py`` (every registered model at its default resolution,
3 rounds: about 4 minutes on 2 cores, plus ~40 s of calibration when none is cached), ``--quick``
for the 14-model subset, ``--rounds N``, ``--refresh`` to re-measure the device limits and
re-run the calibration first, ``--calibrations K`` to re-run the calibration K times and score
the calibrated predictor against each (how much its MAPE moves with calibration noise).

Each model is timed ``--rounds`` times, round-robin (a slow spell of a shared machine then hits
every model a little rather than a few a lot), and its latency is the median over rounds. The
predictors see only counts and this run's or this device's cached calibration figures, never the
model's own time (effprof/hardware/predict.py says how each works).

Written to ``reports/predict_benchmark.csv`` (one row per model) and printed: MAPE per predictor
over all models and per family, the load average before and after, and the target it reports on:
the calibrated roofline under 25% MAPE while MACs-only is far worse.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import effprof  # noqa: F401  (makes torchvision importable beside a CPU-only torch)
from effprof.hardware import device_calibration, device_limits, predict_models
from effprof.hardware.fit import mape
from effprof.hardware.predict import PREDICTORS, QUICK_MODELS, calibrated_ms, count_model
from effprof.models import get_model_cfg, list_models

ROOT = Path(__file__).resolve().parents[1]
TARGET_MAPE = 25.0


def _family(spec: str) -> str:
    try:
        return get_model_cfg(spec).family
    except effprof.EffprofError:
        return "other"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 14-model subset instead of the registry")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=0.5, help="seconds of timed runs per model and round")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--refresh", action="store_true", help="re-measure limits and re-run the calibration first")
    parser.add_argument("--calibrations", type=int, default=1, help="score against this many fresh calibrations")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "predict_benchmark.csv")
    args = parser.parse_args(argv)

    specs = list(QUICK_MODELS) if args.quick else [c.name for c in list_models()]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    limits = device_limits("cpu", threads=args.threads, refresh=args.refresh)
    print(f"limits: {limits.peak_gmacs_per_s():.1f} GMAC/s fp32, {limits.bandwidth_gb_per_s:.1f} GB/s, "
          f"ridge {limits.ridge_macs_per_byte():.2f} MACs/byte ({'cached' if limits.from_cache else 'measured'})")  # fmt: skip
    calibration = device_calibration(limits, refresh=args.refresh)
    print(f"calibration: {len(calibration.references)} layers, {len(calibration.networks)} networks "
          f"({'cached' if calibration.from_cache else 'timed'}); composition x{calibration.composition.scale:.2f} "
          f"+ {calibration.composition.overhead_ms * 1e3:.1f} us per op call")  # fmt: skip
    result = predict_models(specs, limits, calibration, rounds=args.rounds, budget_s=args.budget_s,
                            on_timed=lambda s: print(".", end="", flush=True))  # fmt: skip
    print()

    extra_mapes = []
    for i in range(1, args.calibrations):
        again = device_calibration(limits, refresh=True)
        preds, meas = [], []
        for m in result.scored():
            _, count = count_model(m.model)
            preds.append(calibrated_ms(count, limits.peak_gmacs_per_s(), limits.bandwidth_gb_per_s,
                                       again.references, again.composition))  # fmt: skip
            meas.append(m.measured_ms)
        extra_mapes.append(mape(preds, meas))
        print(f"calibration {i + 1}: calibrated MAPE {extra_mapes[-1]:.1f}%")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**m.to_row(), "family": _family(m.model)} for m in result.models]
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    print(f"\n{'model':22s} {'measured ms':>11s} " + " ".join(f"{p + ' err':>15s}" for p in PREDICTORS))
    for m in result.models:
        if m.error:
            print(f"{m.model:22s} error: {m.error}")
            continue
        errs = " ".join(f"{m.error_pct(p):+14.0f}%" for p in PREDICTORS)
        print(f"{m.model + (' (ref)' if m.is_reference else ''):22s} {m.measured_ms:11.2f} {errs}")
    print(f"\nMAPE over {len(result.scored())} models (reference {result.reference} left out):")
    for p in PREDICTORS:
        print(f"  {p:12s} {result.mape(p):6.1f}%")
    if extra_mapes:
        all_cal = [result.mape("calibrated"), *extra_mapes]
        print(f"  calibrated over {len(all_cal)} calibrations: {min(all_cal):.1f}% .. {max(all_cal):.1f}%")
    print("\nper family (calibrated / MACs only):")
    families: dict[str, list] = {}
    for m in result.scored():
        families.setdefault(_family(m.model), []).append(m)
    for family, ms in families.items():
        cal = mape([m.predicted_ms["calibrated"] for m in ms], [m.measured_ms for m in ms])
        macs = mape([m.predicted_ms["macs"] for m in ms], [m.measured_ms for m in ms])
        print(f"  {family:14s} {len(ms):2d} models  {cal:5.1f}% / {macs:5.1f}%")
    met = result.mape("calibrated") < TARGET_MAPE and result.mape("macs") > 1.5 * result.mape("calibrated")
    print(f"\ntarget (calibrated < {TARGET_MAPE:.0f}% MAPE, MACs only far worse): {'met' if met else 'NOT met'}")
    print(f"took {time.perf_counter() - start:.0f} s; load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after (compare runs taken at low load); wrote {args.out}")  # fmt: skip
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
