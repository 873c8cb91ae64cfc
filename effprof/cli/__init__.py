"""effprof's command line: thin Typer commands that gather options, call the library and render.

Every command is registered here from its module (data: list, profile, compare; lecture; demos: roadmap,
claims; hardware; bench; finetune; choose: pareto, search); effprof/cli/common.py holds what they share,
including the one map from errors to exit codes:

- 0: every requested row was measured (and every output written);
- 1: some rows or measurements failed (a model, a backend, OOM, per-layer time, a formula check),
  and the results that finished were written; or an output could not be written;
- 2: a usage or input error (bad spec, option, path, suite), found before any work;
- 3: ``effprof bench``: the latency verdict is inconclusive (the machine was too noisy to judge);
- 130: interrupted by Ctrl-C; 143: terminated by SIGTERM. Both keep and write the finished rows.

Nothing heavy is imported until a command runs: ``effprof --help`` imports neither torch nor pandas.
"""

from __future__ import annotations

import errno
import os
import signal
import sys

import typer

from effprof.cli import bench, choose, data, demos, finetune, hardware, lecture
from effprof.cli.common import OneLineErrors, on_sigterm, register_commands, say
from effprof.errors import EXIT_FAILED

app = typer.Typer(
    name="effprof",
    cls=OneLineErrors,
    help="Profile efficient vision models: params, MACs (three ways), latency, and the gap between them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


for _module in (data, lecture, demos, hardware, bench, finetune, choose):
    register_commands(app, _module.COMMANDS)


def main() -> None:
    """Console-script entry point: SIGTERM unwinds like Ctrl-C; a stdout that cannot be written is one line."""
    signal.signal(signal.SIGTERM, on_sigterm)
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


__all__ = ["app", "main"]

if __name__ == "__main__":
    sys.exit(main())
