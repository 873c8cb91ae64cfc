"""The one error type effprof raises for anything a user can fix or should know about, the exit codes
of the command-line contract, and the one helper that makes any exception a one-line message."""

from __future__ import annotations

#: Exit codes, the same for every command (README, "Exit codes").
EXIT_OK = 0
EXIT_FAILED = 1  # some rows or measurements failed (the rest were written), or a regression
EXIT_USAGE = 2  # a usage or input error, found before any work
EXIT_INCONCLUSIVE = 3  # effprof bench: a latency verdict the noise or contention does not allow
EXIT_INTERRUPTED = 130  # Ctrl-C (finished rows kept)
EXIT_TERMINATED = 143  # SIGTERM (finished rows kept)


class EffprofError(Exception):
    """A one-line, user-facing error.

    ``exit_code`` follows the CLI contract: 2 for a user mistake (bad spec, option, path),
    1 for a failure of the work itself (a model that cannot run, a regression).
    """

    def __init__(self, message: str, *, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


def first_line(exc: BaseException | str, limit: int | None = None) -> str:
    """The first non-empty line of an exception's message (or of a text), cut to ``limit`` characters.

    An exception with no message is named by its type, so the line is never empty. Used wherever a
    foreign error (a model's own code, a library, a failed plot) becomes a row's ``error`` or a note.
    """
    text = exc if isinstance(exc, str) else str(exc)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line and not isinstance(exc, str):
        line = type(exc).__name__
    if limit is not None and len(line) > limit:
        line = line[: max(limit - 3, 0)] + "..."
    return line
