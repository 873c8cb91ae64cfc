"""Write a DataFrame to the file formats of ``-o``: the suffix picks the format."""

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

TABLE_SUFFIXES = (".csv", ".json", ".md", ".html")
PLOT_SUFFIXES = (".png", ".svg")
OUTPUT_SUFFIXES = TABLE_SUFFIXES + PLOT_SUFFIXES


def check_outputs(paths: list[Path], suffixes: tuple[str, ...] = OUTPUT_SUFFIXES) -> None:
    """Every output must have a known suffix and a place we can really write to, checked before any work.

    Writability is tested by creating (and removing) a temp file named as the atomic writer names
    its own, in the nearest directory that exists: ``os.access`` says yes to root on ``/proc`` and
    knows nothing of read-only mounts or names too long for the file system.
    """
    for path in paths:
        if path.suffix.lower() not in suffixes:
            raise EffprofError(
                f"cannot write {str(path)!r}: unknown suffix {path.suffix or '(none)'!r}; "
                f"use one of {', '.join(suffixes)}"
            )
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
    rows = [{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")]
    doc = {"meta": meta, "rows": rows, **(extra or {})}
    return json.dumps(doc, indent=2, default=str) + "\n"


def write_output(path: Path, df: pd.DataFrame, meta: dict[str, Any], *, kind: str, extra: dict[str, Any] | None = None) -> Path:
    """Write ``df`` to ``path`` in the format its suffix names.

    ``kind`` (compare | profile | bench) picks the plot of .png/.svg and what a .html report holds
    besides the table (its plot, a profile's summary, a bench's comparison from ``extra``).
    """
    if path.suffix.lower() in PLOT_SUFFIXES:
        from effprof.reports import plots

        draw = plots.plot_profile if kind == "profile" else plots.plot_compare
        return write_plot(path, lambda tmp: draw(df.infer_objects(), tmp))
    if path.suffix.lower() == ".html":
        from effprof.reports.html import report_html

        return _write_text(path, report_html(df, meta, kind=kind, extra=extra))
    return write_table(path, df, meta, extra)


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
    from effprof.reports.html import _cell

    text = _cell(None if value is pd.NA else value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def to_markdown_text(df: pd.DataFrame) -> str:
    """A GitHub table: cells pre-formatted (so tabulate re-parses nothing), numeric columns right-aligned."""
    shown = df.astype(object).apply(lambda column: column.map(_md_cell))
    shown.columns = [_md_cell(str(c)) for c in df.columns]
    align = ["right" if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) else "left"
             for c in df.columns]  # fmt: skip
    return shown.to_markdown(index=False, disable_numparse=True, colalign=align) + "\n"


def write_table(path: Path, df: pd.DataFrame, meta: dict[str, Any], extra: dict[str, Any] | None = None) -> Path:
    """Write ``df`` to ``path`` in the table format its suffix names; returns the path written."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = df.to_csv(index=False)
    elif suffix == ".json":
        text = to_json_text(df, meta, extra)
    elif suffix == ".md":
        text = to_markdown_text(df)
    elif suffix == ".html":
        from effprof.reports.html import to_html

        text = to_html(df, meta)
    else:
        raise EffprofError(f"cannot write {str(path)!r}: unknown suffix {suffix!r}; use one of {', '.join(TABLE_SUFFIXES)}")
    return _write_text(path, text)
