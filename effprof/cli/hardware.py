"""Hardware commands: ``hw`` (device limits) and ``predict`` (latency three ways), and the
``profile --roofline`` output. Thin: parse, call effprof.hardware, render, write.

``register(app)`` adds the commands to effprof's Typer app; it is idempotent.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from effprof.cli.common import (
    Device,
    Resolution,
    Steps,
    Threads,
    Wide,
    check,
    failed_exit,
    interrupt_exit,
    out,
    outputs_option,
    register_commands,
    show,
    status,
    write,
)  # fmt: skip
from effprof.errors import EffprofError
from effprof.results import LimitsResult, PredictReport, RooflineReport


def _limits(device: str, threads: int | None, refresh: bool):
    """Cached limits, or measured with a status line (a few seconds) when there are none."""
    from effprof.hardware import device_limits
    from effprof.latency.devices import check_device

    check_device(device)  # a CUDA request without a GPU fails here, before anything is measured
    with status("device limits: cached, or measured now (GEMM, copy, triad)"):
        return device_limits(device, threads=threads, refresh=refresh)


def hw(
    device: Device = "cpu",
    threads: Threads = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Re-measure instead of using the cached figures.")] = False,
    output: outputs_option(LimitsResult) = None,
) -> None:
    """Measure (once per machine, then cached) the device's peak GMAC/s and memory GB/s, and the ridge point."""
    from effprof.latency import environment
    from effprof.reports.meta import run_meta
    from effprof.reports.roofline import render_limits

    outputs = check(output, LimitsResult)  # a table of ceilings has no figure: .png is refused here
    limits = _limits(device, threads, refresh)
    out.print(render_limits(limits))
    rows = [{k: v for k, v in c.to_dict().items() if k != "times_s"} | {"unit": "GMAC/s" if c.kind == "compute" else "GB/s"}
            for c in limits.ceilings]  # fmt: skip
    extra = {"limits": limits.to_dict(), "ridge_macs_per_byte": {d: limits.ridge_macs_per_byte(d) for d in limits.dtypes}}
    meta = run_meta(command="hw", environment=environment(limits.device), device=limits.device, threads=limits.threads)
    write(outputs, LimitsResult(rows, meta, extra, source=limits))


def roofline_report(result: Any, *, device: str, threads: int | None) -> RooflineReport:
    """``profile --roofline``: print the roofline tables and return the report its ``-o`` files are written from.

    With --roofline, ``-o x.png``/``x.svg`` draws the roofline plot instead of the op-class bars
    (run without --roofline for those); .csv/.json/.md/.html get the layer rows with ``bound``,
    ``roofline_ms``, ``efficiency`` ... added, and .json also the device's roofs under "roofline".
    """
    from effprof.hardware import roofline
    from effprof.reports.roofline import render_roofline, roofline_frame

    limits = _limits(device, threads, refresh=False)
    rl = roofline(result, limits)
    out.print(render_roofline(rl, top=result.top_layers))
    return RooflineReport(result, rl, roofline_frame(rl, result.to_pandas()))


def predict(
    models: Annotated[
        list[str] | None, typer.Argument(help="Model specs (default: every registered model at its own resolution).")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="A 14-model subset, one or two per family (about a third of the time).")
    ] = False,
    reference: Annotated[
        str, typer.Option("--reference", help="The model whose achieved GMAC/s the MACs-only predictor uses.")
    ] = "resnet18",
    resolution: Resolution = None,
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: Annotated[
        float, typer.Option("--budget-s", min=0.01, help="Seconds of timed runs per model and round (eager).")
    ] = 0.5,
    rounds: Annotated[
        int, typer.Option("--rounds", min=1, help="Time every model this many times, round-robin; report the median.")
    ] = 1,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Re-measure the device limits and re-run the calibration.")
    ] = False,
    wide: Wide = False,
    output: outputs_option(PredictReport) = None,
) -> None:
    """Predict each model's eager latency three ways (MACs only, roofline, calibrated roofline) and score them."""
    from effprof.api import check_specs
    from effprof.hardware import device_calibration, predict_models
    from effprof.hardware.blocks import CALIBRATION_BLOCKS
    from effprof.hardware.networks import CALIBRATION_NETWORKS
    from effprof.hardware.predict import QUICK_MODELS
    from effprof.latency import environment
    from effprof.models import list_models, parse_resolution
    from effprof.reports.meta import run_meta

    outputs = check(output, PredictReport)
    resolution = parse_resolution(resolution)  # 224 or 224x320; a bad size fails before any work
    if models and quick:
        raise EffprofError("give model specs or --quick, not both")
    specs = list(models) if models else list(QUICK_MODELS) if quick else [c.name for c in list_models()]
    check_specs([reference, *specs])
    limits = _limits(device, threads, refresh)
    total = len(CALIBRATION_BLOCKS) + len(CALIBRATION_NETWORKS)
    with Steps("calibrating", total) as steps:
        calibration = device_calibration(limits, refresh=refresh, on_block=lambda name: steps.advance(str(name)))
    meta = run_meta(command="predict", environment=environment(limits.device), device=limits.device,
                    threads=limits.threads, backends=["eager"])  # fmt: skip
    total = rounds * len(dict.fromkeys([reference, *specs]))
    with Steps("timing", total) as steps:
        result = predict_models(specs, limits, calibration, reference=reference, resolution=resolution,
                                budget_s=budget_s, rounds=rounds, on_timed=lambda spec: steps.advance(str(spec)))  # fmt: skip
    report = PredictReport(result.to_rows(), meta, {"summary": result.summary()}, source=result)
    show(report, wide=wide)
    write(outputs, report)
    if result.interrupted:
        raise interrupt_exit(f"kept {len(result.models)} models")
    failed = [m for m in result.models if m.error]
    if failed:
        raise failed_exit(f"{len(failed)} of {len(result.models)} models failed: {', '.join(m.model for m in failed)}")


COMMANDS = (
    ("hw", hw, "Examples:  effprof hw  •  effprof hw --refresh  •  effprof hw --device cuda  •  effprof hw -o hw.json"),
    ("predict", predict, "Examples:  effprof predict  •  effprof predict --quick  •  effprof predict mobilenet_v2 resnet50  "
     "•  effprof predict --rounds 3 -o reports/predict.csv -o reports/predict.png"),
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``hw`` and ``predict`` to ``app``; a command already registered under its name is left alone."""
    register_commands(app, COMMANDS)
