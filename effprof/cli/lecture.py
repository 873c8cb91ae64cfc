"""Lecture commands: ``formulas``, ``sweep``, ``scale`` and ``explain`` (thin: parse, call, render).

``register(app)`` adds them to effprof's Typer app; it is idempotent, so tests may call it on an app
that already has them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from effprof.cli.common import Batch, Steps, check, failed_exit, out, outputs_option, register_commands, write
from effprof.errors import EffprofError
from effprof.results import ChecksResult, ScaleResult, SweepReport


def formulas(
    checks: Annotated[
        list[str] | None,
        typer.Argument(help="Checks to run (default: all): dwconv, mobilenet_v1, se, vit, ..."),
    ] = None,
    fvcore: Annotated[
        bool, typer.Option("--fvcore/--no-fvcore", help="Also count single modules with fvcore.")
    ] = True,
    output: outputs_option(ChecksResult) = None,
) -> None:
    """Check each lecture formula against counts on real modules and models; exit 1 if any check fails."""
    from effprof.lecture.checks import resolve_checks, run_checks
    from effprof.lecture.render import render_checks
    from effprof.reports.meta import run_meta

    outputs = check(output, ChecksResult)  # a table of checks has no figure: .png is refused here
    selected = resolve_checks(checks)
    with Steps("checking", len(selected)) as steps:
        rows = run_checks([c.name for c in selected], fvcore=fvcore, on_check=lambda name: steps.advance(str(name)))
    out.print(render_checks(rows, {c.name: c.title for c in selected}))
    write(outputs, ChecksResult([r.as_dict() for r in rows], run_meta(command="formulas")))
    failed = [r for r in rows if r.passed is False]
    if failed:
        names = ", ".join(dict.fromkeys(f"{r.check}: {r.quantity}" for r in failed))
        raise failed_exit(f"{len(failed)} of {len(rows)} checks failed: {names}")


def sweep(
    model: Annotated[str, typer.Argument(help="Model spec: NAME, tv:NAME, timm:NAME, NAME(k=v).")],
    resolution: Annotated[
        str | None,
        typer.Option(
            "--resolution",
            "-r",
            help="Comma-separated resolutions to sweep, e.g. 128,160,224,320; "
            "with --width, one resolution for every width.",
        ),
    ] = None,  # fmt: skip
    width: Annotated[
        str | None,
        typer.Option(
            "--width",
            "-w",
            help="Comma-separated width multipliers, e.g. 0.25,0.5,1.0 (models whose "
            "factory takes width or width_mult).",
        ),
    ] = None,  # fmt: skip
    batch: Batch = 1,
    output: outputs_option(SweepReport) = None,
) -> None:
    """Count one model over resolutions or widths; fit the growth exponent of its MACs (log-log)."""
    from effprof.lecture.sweep import parse_values
    from effprof.lecture.sweep import sweep as run_sweep
    from effprof.reports.meta import run_meta

    outputs = check(output, SweepReport)
    if width is None and resolution is None:
        raise EffprofError("sweep needs --resolution 128,160,224 or --width 0.25,0.5,1.0")
    if width is not None:
        widths = parse_values(width, "--width", float)
        single = _single_resolution(resolution)
        total = len(widths)
        kwargs = {"widths": widths, "resolution": single}
    else:
        resolutions = parse_values(resolution, "--resolution", int)
        total = len(resolutions)
        kwargs = {"resolutions": resolutions}
    with Steps("counting", total) as steps:
        axis = "width" if width is not None else "resolution"
        result = run_sweep(model, batch=batch, on_point=lambda row: steps.advance(f"{axis} {row.get(axis)}"), **kwargs)
    out.print(result)
    meta = run_meta(command="sweep", model=model, axis=result.axis)
    write(outputs, SweepReport(result.rows, meta, {"fits": result.fits_table()}, source=result))
    if result.failed:
        points = ", ".join(str(r[result.axis]) for r in result.failed)
        raise failed_exit(f"{len(result.failed)} of {len(result.rows)} points failed ({result.axis} {points})")


def _single_resolution(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise EffprofError(
            "with --width, --resolution takes one resolution (the sweep is over width)"
        ) from None
    if value <= 0:
        raise EffprofError(f"--resolution must be a positive integer, got {value}")
    return value


def scale(output: outputs_option(ScaleResult) = None) -> None:
    """EfficientNet B0-B7: released depth/width/resolution, params and MACs vs B0, next to 2^phi and the literal rule."""
    from effprof.lecture.render import render_scale
    from effprof.lecture.scale import scale_table
    from effprof.reports.meta import run_meta

    outputs = check(output, ScaleResult)
    with Steps("counting", 8) as steps:
        rows = scale_table(on_row=lambda row: steps.advance(str(row.get("model", ""))))
    out.print(render_scale(rows))
    write(outputs, ScaleResult(rows, run_meta(command="scale")))


def _opt(flag: str, help_text: str, *short: str, kind: type = int):
    return Annotated[kind | None, typer.Option(flag, *short, help=help_text, show_default=False)]


def explain(
    topic: Annotated[
        str, typer.Argument(help="dwconv, inverted-residual, se, compound-scaling, vit, swin, ghost, shuffle")
    ],
    cin: _opt("--cin", "Input channels.") = None,
    cout: _opt("--cout", "Output channels.") = None,
    kernel: _opt("--kernel", "Kernel size (ghost: the primary conv's).", "-k") = None,
    size: _opt("--size", "Feature-map side in pixels (vit: the image side).") = None,
    expansion: _opt("--expansion", "Inverted-residual expansion e.") = None,
    reduction: _opt("--reduction", "SE reduction r.") = None,
    phi: _opt("--phi", "Compound-scaling coefficient φ.", kind=float) = None,
    patch: _opt("--patch", "ViT patch size.") = None,
    window: _opt("--window", "Swin window size M.") = None,
    dim: _opt("--dim", "Token width d (vit, swin).") = None,
    ratio: _opt("--ratio", "Ghost ratio s.") = None,
    dw_size: _opt("--dw-size", "Ghost cheap-op kernel d.") = None,
    groups: _opt("--groups", "Group-conv groups g.") = None,
) -> None:
    """A lecture derivation with your numbers, next to a count on a real module. Options default per topic."""
    from effprof.lecture.explain import explain as run_explain

    result = run_explain(
        topic, cin=cin, cout=cout, kernel=kernel, size=size, expansion=expansion, reduction=reduction, phi=phi,
        patch=patch, window=window, dim=dim, ratio=ratio, dw_size=dw_size, groups=groups,
    )  # fmt: skip
    out.print(result)
    if any(r.passed is False for r in result.rows):
        raise failed_exit("a formula disagrees with the count on this configuration")


COMMANDS = (
    ("formulas", formulas, "Examples:  effprof formulas  •  effprof formulas dwconv se  •  effprof formulas -o checks.md"),
    ("sweep", sweep, "Examples:  effprof sweep vit_b_16 -r 224,320,448  •  effprof sweep swin_t -r 224,448,672 "
     "-o sweep.png  •  effprof sweep mobilenet_v1 --width 0.25,0.5,1.0"),
    ("scale", scale, "Examples:  effprof scale  •  effprof scale -o scale.csv"),
    ("explain", explain, "Examples:  effprof explain dwconv --cin 256 --cout 256 -k 3 --size 56  •  "
     "effprof explain inverted-residual --expansion 6  •  effprof explain vit --patch 16 --size 384"),
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the lecture commands to ``app``; a command already registered under its name is left alone."""
    register_commands(app, COMMANDS)
