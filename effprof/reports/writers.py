"""Write a DataFrame to the file formats of ``-o``: the suffix picks the format."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from effprof.errors import EffprofError

TABLE_SUFFIXES = (".csv", ".json", ".md", ".html")
PLOT_SUFFIXES = (".png", ".svg")
OUTPUT_SUFFIXES = TABLE_SUFFIXES + PLOT_SUFFIXES


def check_outputs(paths: list[Path], suffixes: tuple[str, ...] = OUTPUT_SUFFIXES) -> None:
    """Reject unknown suffixes and unwritable places before any work is done."""
    for path in paths:
        if path.suffix.lower() not in suffixes:
            raise EffprofError(
                f"cannot write {str(path)!r}: unknown suffix {path.suffix or '(none)'!r}; "
                f"use one of {', '.join(suffixes)}"
            )
        parent = path.parent if str(path.parent) else Path(".")
        existing = next((p for p in (parent, *parent.parents) if p.exists()), Path("."))
        if not existing.is_dir() or not os.access(existing, os.W_OK):
            raise EffprofError(f"cannot write {str(path)!r}: {str(existing)!r} is not a writable directory")
        if path.is_dir():
            raise EffprofError(f"cannot write {str(path)!r}: it is a directory; give a file name")


def _clean(value: Any) -> Any:
    # JSON has no NaN: missing values become null.
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, text: str) -> None:
    # Write beside the target then rename, so an interrupt never leaves half a report.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        # mkstemp makes the file private (0600); a report (an HTML handout, a CI artifact) gets the
        # permissions any other new file would have.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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

        path.parent.mkdir(parents=True, exist_ok=True)
        draw = plots.plot_profile if kind == "profile" else plots.plot_compare
        return draw(df.infer_objects(), path)
    if path.suffix.lower() == ".html":
        from effprof.reports.html import report_html

        return _write_text(path, report_html(df, meta, kind=kind, extra=extra))
    return write_table(path, df, meta, extra)


def _write_text(path: Path, text: str) -> Path:
    try:
        _atomic_write(path, text)
    except OSError as exc:
        raise EffprofError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def write_table(path: Path, df: pd.DataFrame, meta: dict[str, Any], extra: dict[str, Any] | None = None) -> Path:
    """Write ``df`` to ``path`` in the table format its suffix names; returns the path written."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = df.to_csv(index=False)
    elif suffix == ".json":
        text = to_json_text(df, meta, extra)
    elif suffix == ".md":
        text = df.to_markdown(index=False) + "\n"
    elif suffix == ".html":
        from effprof.reports.html import to_html

        text = to_html(df, meta)
    else:
        raise EffprofError(f"cannot write {str(path)!r}: unknown suffix {suffix!r}; use one of {', '.join(TABLE_SUFFIXES)}")
    return _write_text(path, text)
