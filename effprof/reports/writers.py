"""Write a result to the file formats of ``-o``: the suffix alone picks the format, one atomic writer for all.

Rule: a result type says which suffixes it can be written as (``Result.suffixes()``: every table
format, and .png/.svg when it has a figure), so ``check_outputs`` refuses a suffix before any work
and ``write_output`` never guesses. Every file is written to a temp file beside it and renamed:
an interrupt or a failed write never leaves half a report or clobbers the previous one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from effprof.errors import EffprofError
from effprof.reports.fmt import cell
from effprof.results import PLOT_SUFFIXES, TABLE_SUFFIXES, Result

OUTPUT_SUFFIXES = TABLE_SUFFIXES + PLOT_SUFFIXES


def _unknown_suffix(path: Path, suffixes: tuple[str, ...]) -> str:
    return (f"cannot write {str(path)!r}: unknown suffix {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(suffixes)}")  # fmt: skip


def check_outputs(paths: list[Path], result_type: type[Result] | tuple[str, ...] = OUTPUT_SUFFIXES) -> None:
    """Every output must have a suffix ``result_type`` can be written as (``Result.suffixes()``) and a place
    we can really write to, checked before any work.

    Writability is tested by creating (and removing) a temp file named as the atomic writer names
    its own, in the nearest directory that exists: ``os.access`` says yes to root on ``/proc`` and
    knows nothing of read-only mounts or names too long for the file system.
    """
    suffixes = result_type if isinstance(result_type, tuple) else result_type.suffixes()
    for path in paths:
        if path.suffix.lower() not in suffixes:
            raise EffprofError(_unknown_suffix(path, suffixes))
        try:
            _check_writable(path)
        except OSError as exc:  # a name too long, a loop of links: stat itself fails
            raise EffprofError(f"cannot write {str(path)!r}: {exc.strerror or exc}; choose another -o path") from None


def _check_writable(path: Path) -> None:
    """Raise EffprofError unless ``path`` can be created or replaced (OSError where even stat fails)."""
    if path.is_dir():
        raise EffprofError(f"cannot write {str(path)!r}: it is a directory; give a file name")
    if path.exists() and not path.is_file():
        raise EffprofError(f"cannot write {str(path)!r}: it is not a regular file; give a new file name")
    parent = path.parent if str(path.parent) else Path(".")
    existing = next((p for p in (parent, *parent.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise EffprofError(f"cannot write {str(path)!r}: {str(existing)!r} is not a writable directory (it is a file)")
    try:
        fd, tmp = tempfile.mkstemp(dir=existing, prefix=_temp_prefix(path), suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise EffprofError(
            f"cannot write {str(path)!r}: {str(existing)!r} is not a writable directory "
            f"({exc.strerror or exc}); choose another -o path"
        ) from None


def _temp_prefix(path: Path) -> str:
    # cut short: a 250-character name is valid, and its temp name must not be the one that is too long
    return f".{path.name[:64]}."


def _clean(value: Any) -> Any:
    """JSON has no NaN or pd.NA: a missing value becomes null; numpy scalars become Python numbers."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; when the block ends without error it is renamed onto ``path``.

    An interrupt or a failed write never leaves half a report, and never clobbers the previous one.
    The temp name keeps the suffix, so a writer that picks its format by suffix (matplotlib) still can.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); a report (an HTML handout, a CI artifact) gets the
        # permissions any other new file would have.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_write(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def to_json_text(df: pd.DataFrame, meta: dict[str, Any], extra: dict[str, Any] | None = None) -> str:
    """``{"meta": ..., "rows": [...], **extra}``; NaN and NA become null, numpy scalars Python numbers."""
    rows = [{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")]
    doc = {"meta": meta, "rows": rows, **(extra or {})}
    return json.dumps(doc, indent=2, default=_json_default) + "\n"


def _json_default(value: Any) -> Any:
    cleaned = _clean(value)
    return str(cleaned) if cleaned is value else cleaned


def write_output(path: Path, result: Result) -> Path:
    """Write ``result`` to ``path`` in the format its suffix names, atomically; returns the path written.

    .csv/.md: the result's table (``export_frame()`` where it has one); .json: ``{"meta", "rows", ...}``
    with the result's own extra keys; .html: one self-contained page; .png/.svg: its first figure.
    """
    suffix = path.suffix.lower()
    if suffix not in type(result).suffixes():
        raise EffprofError(_unknown_suffix(path, type(result).suffixes()))
    if suffix in PLOT_SUFFIXES:
        from effprof.reports.plots import draw  # matplotlib is slow to import: only for a plot

        return write_plot(path, lambda tmp: draw(result, tmp))
    return _write_text(path, render_text(result, suffix))


def write_outputs(paths: list[Path], result: Result, on_written: Callable[[Path], Any] | None = None) -> None:
    """``write_output`` for each path, in order; ``on_written(path)`` after each (the CLI says "wrote")."""
    for path in paths:
        write_output(path, result)
        if on_written is not None:
            on_written(path)


def render_text(result: Result, suffix: str) -> str:
    """The text of a table-format report (.csv .json .md .html) of ``result``."""
    if suffix == ".json":
        return to_json_text(result.json_frame(), result.meta, result.json_extra())
    if suffix == ".html":
        from effprof.reports.html import report_html

        return report_html(result)
    if suffix == ".md" and hasattr(result, "to_markdown"):
        return result.to_markdown()
    frame = result.export_frame() if hasattr(result, "export_frame") else result.to_pandas()
    return frame.to_csv(index=False) if suffix == ".csv" else to_markdown_text(frame)


def _cannot_write(path: Path, exc: OSError) -> EffprofError:
    # exit 1: the work is done and its results could not be kept; that is a failure, not a typo
    return EffprofError(f"cannot write {str(path)!r}: {exc.strerror or exc}", exit_code=1)


def _write_text(path: Path, text: str) -> Path:
    try:
        _atomic_write(path, text)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    return path


def write_plot(path: Path, draw: Callable[[Path], Any]) -> Path:
    """Save the figure ``draw(tmp)`` draws through the same atomic writer as every table."""
    try:
        with atomic_path(path) as tmp:
            draw(tmp)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    except EffprofError as exc:
        raise EffprofError(f"cannot write {str(path)!r}: {exc.message}", exit_code=exc.exit_code) from None
    return path


def _md_cell(value: Any) -> str:
    """A Markdown cell: numbers as the HTML report shows them, '' for missing, no '|' or newline left bare."""
    text = cell(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def to_markdown_text(df: pd.DataFrame) -> str:
    """A GitHub table: cells pre-formatted (so tabulate re-parses nothing), numeric columns right-aligned."""
    shown = df.astype(object).apply(lambda column: column.map(_md_cell))
    shown.columns = [_md_cell(str(c)) for c in df.columns]
    align = ["right" if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) else "left"
             for c in df.columns]  # fmt: skip
    return shown.to_markdown(index=False, disable_numparse=True, colalign=align) + "\n"
