"""effprof's command line: thin Typer commands that parse options, call the library and render.

A user mistake raises EffprofError in the library; ``handle_errors`` turns it into one red line on
stderr, never a traceback. User text (specs, paths, error messages) is printed as plain text, never
parsed as rich markup.

Exit codes, the same for every command:

- 0: every requested row was measured (and every output written);
- 1: some rows or measurements failed (a model, a backend, OOM, per-layer time, a formula check),
  and the results that finished were written; or an output could not be written;
- 2: a usage or input error (bad spec, option, path, suite), found before any work;
- 3: ``effprof bench``: the latency verdict is inconclusive (the machine was too noisy to judge);
- 130: interrupted by Ctrl-C; 143: terminated by SIGTERM. Both keep and write the finished rows.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

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

# Text, read by effprof.models.parse_resolution/parse_batch: a bad or huge value is one line from the
# library (exit 2), where a typed int option would print click's usage box.
Resolution = Annotated[
    str | None,
    typer.Option(
        "--resolution", "-r", metavar="N|HxW",
        help="Input size in pixels: 224 (square) or 224x320 (height x width), up to 8192 a side. "
        "Default: the model's own.",
    ),
]  # fmt: skip
Batch = Annotated[str, typer.Option("--batch", "-b", metavar="N", help="Batch size, 1 to 4096.")]
Device = Annotated[str, typer.Option("--device", help="Where to time: cpu or cuda (cuda:N).")]
Threads = Annotated[
    int | None, typer.Option("--threads", min=1, help="CPU threads for timing (clamped to the usable cores). Default: the usable cores other processes are not busy on, sampled before timing.")
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


EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INCONCLUSIVE = 3  # effprof bench: a latency verdict the noise or contention does not allow
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
#: printed at the end of every data command's --help
EXIT_EPILOG = (
    "Exit codes: 0 every row measured; 1 some rows failed (the rest were written); 2 usage or input error; "
    "130 Ctrl-C, 143 SIGTERM (finished rows kept)."
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it unwinds like Ctrl-C and finished rows are written."""


_signals = {"terminated": False}


def _on_sigterm(signum, frame) -> None:
    _signals["terminated"] = True
    raise Terminated


def interrupt_exit(kept: str | None = None) -> typer.Exit:
    """The one-line message and exit code (130 Ctrl-C, 143 SIGTERM) of a run stopped early."""
    terminated = _signals["terminated"]
    say("terminated" if terminated else "interrupted", "yellow", kept or "nothing finished was lost")
    return typer.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)


def say(label: str, style: str, message: str) -> None:
    """One line on stderr: a styled ``label:``, then ``message`` as plain text (never parsed as markup)."""
    err.print(Text.assemble((f"{label}:", style), " ", message), soft_wrap=True, highlight=False)


def failed_exit(message: str) -> typer.Exit:
    """Say which requested rows failed (one line) and exit 1: the rest were measured and written."""
    say("error", "red", message)
    return typer.Exit(EXIT_FAILED)


def handle_errors(fn):
    """Turn EffprofError into a one-line red message and its exit code; Ctrl-C into 130, SIGTERM into 143."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _signals["terminated"] = False
        try:
            return fn(*args, **kwargs)
        except EffprofError as exc:
            say("error", "red", exc.message)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise interrupt_exit() from None

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
            wrote(path)


def wrote(path: Path) -> None:
    """``wrote PATH`` on stderr (dim); the path is plain text, brackets and all."""
    err.print(f"wrote {path}", style="dim", markup=False, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _nothing():
    yield


@app.command(
    "list", epilog="Examples:  effprof list  •  effprof list 'mobilenet*'  •  effprof list -o models.csv\n\n" + EXIT_EPILOG
)
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
    "effprof profile vit_b_16 --reconcile --backend none\n\n" + EXIT_EPILOG
)
@handle_errors
def profile(
    model: Annotated[
        str,
        typer.Argument(
            help="Model spec: NAME, tv:NAME, timm:NAME, pkg.module:factory, path/to/model.onnx, NAME(k=v). "
            "pkg.module:factory imports that module and runs its code, like python -m: name only your own "
            "model code (the standard library is refused)."
        ),
    ],
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
    else:
        _write(outputs, result.to_pandas(), result.meta, extra, kind="profile")
    failures = profile_failures(result.profile)
    if failures:
        raise failed_exit(f"{len(failures)} requested measurement{'s' if len(failures) != 1 else ''} of "
                          f"{result.profile.model} failed: {'; '.join(failures)}")  # fmt: skip


def profile_failures(p) -> list[str]:
    """What was requested of one model and not measured: its count, a backend, per-layer time, a counter."""
    if p.error:
        return [p.error]
    return [f"{what}: {message}" for what, message in (*p.latency_errors.items(), *p.counter_errors.items())]


@app.command(
    epilog="Examples:  effprof compare mobilenet_v2 resnet50  •  "
    "effprof compare mobilenet_v2 resnet50 -o reports/cmp.json -o reports/cmp.md  •  "
    "effprof compare mobilenet_v2 resnet50 --backend eager,onnxruntime -o reports/gap.csv -o reports/gap.png  •  "
    "effprof compare '*' -o reports/registry.csv\n\n" + EXIT_EPILOG
)
@handle_errors
def compare(
    models: Annotated[
        list[str],
        typer.Argument(
            help="Model specs; ratios are to the first. Registry wildcards work: 'mobilenet*', '*'. "
            "pkg.module:factory imports that module and runs its code, like python -m: name only your own "
            "model code (the standard library is refused)."
        ),
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
    # a bad backend, device, thread count or budget fails before any work; threads are chosen once, here
    timing = api.Timing.parse(backend, device=device, threads=threads, budget_s=budget_s).resolved()
    meta = api.timing_meta(timing)
    api.parse_counters(counters)
    finished: list = []
    tables = [p for p in outputs if p.suffix.lower() in TABLE_SUFFIXES]

    def on_result(p) -> None:
        # Rewrite the table files after every model: an interrupt or crash keeps what finished.
        finished.append(p)
        partial = api.CompareResult(finished, meta)
        _write(tables, partial.to_pandas(), meta, quiet=True)
        bar.advance(task)

    try:
        with _progress(len(models)) as bar:
            task = bar.add_task("timing" if backend != "none" else "counting", total=len(models))
            result = api.compare(
                models, resolution=resolution, batch=batch, timing=timing, counters=counters,
                on_result=on_result,
            )  # fmt: skip
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM between two models (while rewriting the files): keep every finished one.
        result = api.CompareResult(finished, meta, interrupted=True)
    out.print(result)
    _write(outputs, result.to_pandas(), result.meta)
    if result.interrupted:
        raise interrupt_exit(f"kept {len(result.profiles)} of {len(models)} models")
    if result.failed:
        names = ", ".join(p.model for p in result.failed)
        raise failed_exit(f"{len(result.failed)} of {len(result.profiles)} models failed: {names}")
    partial = [f"{p.model} ({f})" for p in result.profiles for f in profile_failures(p)]
    if partial:
        raise failed_exit(f"{len(partial)} requested measurement{'s' if len(partial) != 1 else ''} failed: "
                          f"{'; '.join(partial)}")  # fmt: skip


from effprof.cli.lecture import register as _register_lecture  # noqa: E402  (uses _write, _progress above)

_register_lecture(app)
from effprof.cli.hardware import register as _register_hardware  # noqa: E402

_register_hardware(app)
from effprof.cli.bench import register as _register_bench  # noqa: E402

_register_bench(app)
from effprof.cli.choose import register as _register_choose  # noqa: E402

_register_choose(app)


def main() -> None:
    """Console-script entry point: SIGTERM unwinds like Ctrl-C; a stdout that cannot be written is one line."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app(prog_name="effprof")
    except OSError as exc:
        # Only printing can raise this far (files are written through EffprofError): stdout is a full
        # disk, a closed pipe or a broken device.
        _stdout_gone()
        if exc.errno != errno.EPIPE:  # `effprof list | head` is not an error
            say("error", "red", f"cannot write the output: {exc.strerror or exc}")
        sys.exit(EXIT_FAILED)


def _stdout_gone() -> None:
    # Python flushes stdout again at exit and would print a second traceback: point it at /dev/null.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
