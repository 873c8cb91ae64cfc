"""effprof's command line: thin Typer commands that parse options, call the library and render.

A user mistake raises EffprofError in the library; ``main`` turns it into one red line on stderr
and exit code 2 (1 for a failure of the work itself), never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from effprof.errors import EffprofError

app = typer.Typer(
    name="effprof",
    help="Profile efficient vision models: params, MACs (three ways), latency, and the gap between them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
err = Console(stderr=True, highlight=False)
# Piped output (a file, CI log) gets room for the whole table instead of 80 columns of ellipses.
out = Console(highlight=False) if Console().is_terminal else Console(highlight=False, width=200)

Resolution = Annotated[
    int | None,
    typer.Option("--resolution", "-r", help="Input resolution in pixels (square). Default: the model's own."),
]
Batch = Annotated[int, typer.Option("--batch", "-b", help="Batch size.")]
Device = Annotated[str, typer.Option("--device", help="Where to time: cpu or cuda (cuda:N).")]
Threads = Annotated[
    int | None, typer.Option("--threads", min=1, help="CPU threads for timing. Default: all cores.")
]
BudgetS = Annotated[
    float | None,
    typer.Option("--budget-s", min=0.01, help="Seconds of timed runs per model and backend (default 1.0)."),
]
Counters = Annotated[
    str,
    typer.Option("--counters", help="MAC counters: analytic,fvcore,torch, or auto (fvcore and torch up to 5 GMACs)."),
]
Outputs = Annotated[
    list[Path] | None,
    typer.Option("--output", "-o", help="Write results; repeatable. Format by suffix: .csv .json .md .html .png .svg"),
]


def handle_errors(fn):
    """Turn EffprofError into a one-line red message and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except EffprofError as exc:
            err.print(f"[red]error:[/red] {exc.message}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/yellow]")
            raise typer.Exit(130) from None

    return wrapper


def _progress(total: int) -> Progress:
    # Drawn only on a terminal, and cleared when done: piped output stays a clean table.
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal or total < 2,
    )


def _write(outputs: list[Path], df, meta, extra=None, *, kind: str = "compare", quiet: bool = False) -> None:
    from effprof.reports.writers import write_output

    for path in outputs:
        write_output(path, df, meta, kind=kind, extra=extra)
        if not quiet:
            err.print(f"wrote {path}", style="dim")


@contextlib.contextmanager
def _nothing():
    yield


@app.command("list", epilog="Examples:  effprof list  •  effprof list 'mobilenet*'  •  effprof list -o models.csv")
@handle_errors
def list_cmd(
    pattern: Annotated[str | None, typer.Argument(help="Shell-style wildcard on the name, e.g. 'mobilenet*'.")] = None,
    output: Outputs = None,
) -> None:
    """List every registered model: family, default resolution, params, and the paper's figures."""
    import pandas as pd

    from effprof.models import build_model, list_models
    from effprof.reports.meta import run_meta
    from effprof.reports.render import render_models_list
    from effprof.reports.writers import TABLE_SUFFIXES, check_outputs

    outputs = list(output or [])
    check_outputs(outputs, TABLE_SUFFIXES)
    cfgs = list_models(pattern)
    if not cfgs:
        raise EffprofError(f"no registered model matches {pattern!r}; run `effprof list` to see them all")
    params: dict[str, int] = {}
    with _progress(len(cfgs)) as bar:
        task = bar.add_task("building", total=len(cfgs))
        for cfg in cfgs:
            module = build_model(cfg.name).module
            params[cfg.name] = sum(p.numel() for p in module.parameters())
            bar.advance(task)
    out.print(render_models_list(cfgs, params))
    if outputs:
        rows = [
            {
                "model": c.name, "family": c.family, "source": c.source, "resolution": c.resolution,
                "params": params[c.name], "paper_params": c.paper.params if c.paper else None,
                "paper_macs": c.paper.macs if c.paper else None,
                "paper_resolution": c.paper.resolution if c.paper else None,
                "reference": c.paper.citation if c.paper else None, "note": c.paper.note if c.paper else None,
            }
            for c in cfgs
        ]  # fmt: skip
        _write(outputs, pd.DataFrame(rows), run_meta())


@app.command(
    epilog="Examples:  effprof profile mobilenet_v2  •  "
    "effprof profile \"mobilenet_v1(width=0.5)\" -r 160 --layers 20 -o reports/mnv1.csv  •  "
    "effprof profile resnet50 --backend none  •  effprof profile mobilenet_v2 --backend onnxruntime -o time.png  •  "
    "effprof profile vit_b_16 --reconcile --backend none"
)
@handle_errors
def profile(
    model: Annotated[str, typer.Argument(help="Model spec: NAME, tv:NAME, timm:NAME, pkg.module:factory, NAME(k=v).")],
    resolution: Resolution = None,
    batch: Batch = 1,
    layers: Annotated[int, typer.Option("--layers", help="How many of the heaviest layers to show.", min=0)] = 10,
    backend: Annotated[
        str,
        typer.Option("--backend", help="Backends to time, comma-separated: eager, onnxruntime, compile; 'none' to count only."),
    ] = "eager",
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    counters: Counters = "auto",
    reconcile: Annotated[
        bool, typer.Option("--reconcile", help="Count three ways, stock and effprof-completed, and explain every difference.")
    ] = False,
    roofline: Annotated[
        bool, typer.Option("--roofline", help="Each layer against the device's roofs (effprof hw); -o x.png draws the roofline.")
    ] = False,
    output: Outputs = None,
) -> None:
    """Profile one model: totals, MACs and params by op class, the heaviest layers, and where the time goes."""
    from effprof import api
    from effprof.reports.writers import check_outputs

    outputs = list(output or [])
    check_outputs(outputs)
    with err.status("profiling", spinner="dots") if err.is_terminal else _nothing():
        result = api.profile(
            model, resolution=resolution, batch=batch, layers=layers, backends=backend,
            device=device, threads=threads, budget_s=budget_s, counters=counters, reconcile=reconcile,
        )  # fmt: skip
    out.print(result)
    extra = {"summary": result.summary()}
    if reconcile:
        extra["reconcile"] = {
            kind: {"coverage": rec.coverage, "rows": rec.to_rows(only_disagreements=True)}
            for kind, rec in (("stock", result.reconciliation()), ("completed", result.reconciliation(completed=True)))
        }
    if roofline:
        from effprof.cli.hardware import emit_roofline

        emit_roofline(result, outputs, extra, device=device, threads=threads)
        return
    _write(outputs, result.to_pandas(), result.meta, extra, kind="profile")


@app.command(
    epilog="Examples:  effprof compare mobilenet_v2 resnet50  •  "
    "effprof compare mobilenet_v2 resnet50 -o reports/cmp.json -o reports/cmp.md  •  "
    "effprof compare mobilenet_v2 resnet50 --backend eager,onnxruntime -o reports/gap.csv -o reports/gap.png  •  "
    "effprof compare '*' -o reports/registry.csv"
)
@handle_errors
def compare(
    models: Annotated[
        list[str], typer.Argument(help="Model specs; ratios are to the first. Registry wildcards work: 'mobilenet*', '*'.")
    ],
    resolution: Resolution = None,
    batch: Batch = 1,
    backend: Annotated[
        str,
        typer.Option("--backend", help="Also time on these backends, comma-separated: eager, onnxruntime, compile."),
    ] = "none",
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    counters: Counters = "auto",
    output: Outputs = None,
) -> None:
    """Compare models side by side: params, MACs, FLOPs, activations, latency, and ratios to the first model."""
    from effprof import api
    from effprof.reports.writers import TABLE_SUFFIXES, check_outputs

    outputs = list(output or [])
    check_outputs(outputs)
    models = api.expand_specs(models)
    api.check_specs(models)
    # a bad backend or device fails before any work
    meta = api.timing_meta(api.Timing.parse(backend, device=device, threads=threads, budget_s=budget_s))
    api.parse_counters(counters)
    finished: list = []
    tables = [p for p in outputs if p.suffix.lower() in TABLE_SUFFIXES]

    def on_result(p) -> None:
        # Rewrite the table files after every model: an interrupt or crash keeps what finished.
        finished.append(p)
        partial = api.CompareResult(finished, meta)
        _write(tables, partial.to_pandas(), meta, quiet=True)
        bar.advance(task)

    with _progress(len(models)) as bar:
        task = bar.add_task("timing" if backend != "none" else "counting", total=len(models))
        result = api.compare(
            models, resolution=resolution, batch=batch, backends=backend, device=device,
            threads=threads, budget_s=budget_s, counters=counters, on_result=on_result,
        )  # fmt: skip
    out.print(result)
    _write(outputs, result.to_pandas(), result.meta)
    if result.interrupted:
        err.print(f"[yellow]interrupted:[/yellow] kept {len(result.profiles)} of {len(models)} models")
        raise typer.Exit(130)
    if result.failed:
        names = ", ".join(p.model for p in result.failed)
        err.print(f"[red]error:[/red] {len(result.failed)} of {len(result.profiles)} models failed: {names}")
        raise typer.Exit(max(p.exit_code for p in result.failed) or 1)


from effprof.cli.lecture import register as _register_lecture  # noqa: E402  (uses _write, _progress above)

_register_lecture(app)
from effprof.cli.hardware import register as _register_hardware  # noqa: E402

_register_hardware(app)
from effprof.cli.bench import register as _register_bench  # noqa: E402

_register_bench(app)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="effprof")


if __name__ == "__main__":
    sys.exit(main())
