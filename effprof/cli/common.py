"""What every effprof command shares: the consoles, the option types, progress, printing a result to fit
the terminal, and the one map from errors to exit codes.

Rule: the library raises EffprofError (with its exit code) for anything a user can fix or should know;
``handle_errors`` turns it into one red line on stderr and that exit code, never a traceback; Ctrl-C
exits 130 and SIGTERM 143 (effprof.errors lists the codes). User text (specs, paths, messages) is
printed as plain text, never parsed as rich markup. Imports here are light (typer, rich): ``--help``
must not pay for torch or pandas.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup

from effprof.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED, EffprofError
from effprof.results import Result, renderer_of

err = Console(stderr=True, highlight=False)
# Piped output (a file, a CI log) with no COLUMNS gets room for whole tables instead of 80 columns.
out = Console(highlight=False) if Console().is_terminal or os.environ.get("COLUMNS") else Console(
    highlight=False, width=200
)

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
Wide = Annotated[
    bool, typer.Option("--wide", help="Show every column (default: the columns that fit the terminal; -o FILE.csv has them all).")
]


def outputs_option(result_type: type[Result]) -> Any:
    """The repeatable ``-o/--output`` option of a command whose result is ``result_type``: its help names
    exactly the suffixes that result can be written as."""
    suffixes = " ".join(result_type.suffixes())
    return Annotated[
        list[Path] | None,
        typer.Option("--output", "-o", help=f"Write results; repeatable. Format by suffix: {suffixes}"),
    ]


#: printed at the end of every data command's --help
EXIT_EPILOG = (
    "Exit codes: 0 every row measured; 1 some rows failed (the rest were written); 2 usage or input error; 3 bench only: inconclusive; "
    "130 Ctrl-C, 143 SIGTERM (finished rows kept)."
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it unwinds like Ctrl-C and finished rows are written."""


_signals = {"terminated": False}


def on_sigterm(signum, frame) -> None:
    _signals["terminated"] = True
    raise Terminated


try:  # the click that Typer parses with: its own copy since typer 0.2x, click itself before
    from typer._click import exceptions as _click_errors
except ImportError:  # pragma: no cover - older typer
    from click import exceptions as _click_errors


class OneLineErrors(TyperGroup):
    """effprof's command group: a usage error click finds (a value it cannot parse, an unknown option,
    a missing argument) is one line, like every effprof error, with exit code 2; not click's boxed usage."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: ANN001
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _click_errors.NoArgsIsHelpError as exc:  # `effprof` alone: the help, as before
            exc.show()
            raise SystemExit(exc.exit_code) from None
        except _click_errors.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "effprof"
            say("error", "red", f"{exc.format_message().rstrip('.')}; run `{where} --help` for the options")
            raise SystemExit(exc.exit_code) from None
        except _click_errors.ClickException as exc:
            exc.show()
            raise SystemExit(exc.exit_code) from None
        except typer.Abort:
            say("error", "red", "aborted")
            raise SystemExit(EXIT_FAILED) from None
        raise SystemExit(rv if isinstance(rv, int) else 0)


def say(label: str, style: str, message: str) -> None:
    """One line on stderr: a styled ``label:``, then ``message`` as plain text (never parsed as markup)."""
    err.print(Text.assemble((f"{label}:", style), " ", message), soft_wrap=True, highlight=False)


def wrote(path: Path) -> None:
    """``wrote PATH`` on stderr (dim); the path is plain text, brackets and all."""
    err.print(f"wrote {path}", style="dim", markup=False, highlight=False, soft_wrap=True)


def interrupt_exit(kept: str | None = None) -> typer.Exit:
    """The one-line message and exit code (130 Ctrl-C, 143 SIGTERM) of a run stopped early."""
    terminated = _signals["terminated"]
    say("terminated" if terminated else "interrupted", "yellow", kept or "nothing finished was lost")
    return typer.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)


def failed_exit(message: str, label: str = "error", code: int = EXIT_FAILED) -> typer.Exit:
    """Say what failed (one line) and exit with ``code`` (1: some requested rows failed, the rest were written)."""
    say(label, "red" if code == EXIT_FAILED else "yellow", message)
    return typer.Exit(code)


def handle_errors(fn):
    """The one map from errors to exit codes: EffprofError -> its code, Ctrl-C -> 130, SIGTERM -> 143."""

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


def show(result: Any, *, wide: bool = False) -> None:
    """Print ``result`` fitted to the terminal's width, or with every column (``wide``) and no cropping."""
    from effprof.reports import render, roofline  # noqa: F401  (their imports register the renderers)

    draw = renderer_of(result)
    if draw is None:
        out.print(result)
        return
    if not wide:
        out.print(draw(result, width=out.width))
        return
    group = draw(result, width=None, wide=True)
    needed = Measurement.get(out, out.options.update(width=10**5), group).maximum
    out.print(group, width=max(out.width, needed), crop=False)


def write(paths: list[Path], result: Result, *, quiet: bool = False) -> None:
    """Write ``result`` to every ``-o`` path (format by suffix), saying ``wrote PATH`` for each unless quiet."""
    if not paths:
        return
    from effprof.reports.writers import write_outputs  # pandas: only when something is written

    write_outputs(paths, result, on_written=None if quiet else wrote)


def check(paths: list[Path] | None, result_type: type[Result]) -> list[Path]:
    """The ``-o`` paths, each checked (suffix for ``result_type``, writable place) before any work."""
    paths = list(paths or [])
    if not paths:  # the writers import pandas: not worth it for a command that writes nothing
        return paths
    from effprof.reports.writers import check_outputs

    check_outputs(paths, result_type)
    return paths


class Steps:
    """Progress of a long command: a transient bar on a terminal; off one (a CI log, a pipe), a plain line
    on stderr per finished step, so a long run is never silent."""

    def __init__(self, description: str, total: int) -> None:
        self.description, self.total, self.done_steps = description, total, 0
        self.bar: Progress | None = None
        self.task: Any = None
        self.started = time.monotonic()

    def __enter__(self) -> Steps:
        if err.is_terminal:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                console=err, transient=True, disable=self.total < 2)  # fmt: skip
            self.bar.__enter__()
            self.task = self.bar.add_task(self.description, total=self.total)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def describe(self, text: str) -> None:
        """What is being worked on now (the bar's label on a terminal)."""
        if self.bar is not None:
            self.bar.update(self.task, description=text)

    def advance(self, what: str = "") -> None:
        """One step finished: the bar moves, or a line ``effprof: compare 2/5 resnet50 (12.3 s)`` is printed."""
        self.done_steps += 1
        if self.bar is not None:
            self.bar.advance(self.task)
            return
        elapsed = time.monotonic() - self.started
        label = f" {what}" if what else ""
        err.print(f"effprof: {self.description} {self.done_steps}/{self.total}{label} ({elapsed:.1f} s)",
                  markup=False, highlight=False, soft_wrap=True)  # fmt: skip


@contextlib.contextmanager
def status(message: str, *, plain: bool = True) -> Iterator[None]:
    """A spinner on a terminal while one long step runs; off a terminal, one plain line when it has
    finished (``effprof: profiling x: done (3.1 s)``; none when it fails: the error is the one line),
    unless not ``plain`` (a quick command piped into another stays silent)."""
    if err.is_terminal:
        with err.status(message, spinner="dots"):
            yield
        return
    started = time.monotonic()
    yield
    if plain:
        err.print(f"effprof: {message}: done ({time.monotonic() - started:.1f} s)", markup=False, highlight=False,
                  soft_wrap=True)  # fmt: skip


def register_commands(app: typer.Typer, commands: Any) -> None:
    """Add ``commands`` ((name, function, epilog) each) to ``app``, each behind ``handle_errors`` and with the
    exit codes under its help; a command already there by name is left alone (so this is idempotent)."""
    present = {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}
    for name, command, epilog in commands:
        if name not in present:
            app.command(name, epilog=f"{epilog}\n\n{EXIT_EPILOG}")(handle_errors(command))
