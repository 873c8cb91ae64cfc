"""The one error type effprof raises for anything a user can fix or should know about."""

from __future__ import annotations


class EffprofError(Exception):
    """A one-line, user-facing error.

    ``exit_code`` follows the CLI contract: 2 for a user mistake (bad spec, option, path),
    1 for a failure of the work itself (a model that cannot run, a regression).
    """

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
