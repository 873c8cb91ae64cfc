"""Tables that fit the terminal: every number whole, the columns that matter for the width, long text below.

Rule: a table is a list of ``Column``s, each with a ``drop`` rank (0: always shown; the highest rank is
dropped first). Given the console's width, columns are dropped, highest rank first (the rightmost of
a rank first), until the table's natural width fits; ``wide`` keeps them all. Numbers never wrap and are
never cut: a column is either shown whole or not at all, and the columns left out are named under the
table. Only free-text columns (model names, layer paths) may wrap; one with ``wrap`` set counts as at
most that wide while fitting (rich wraps it to fit), so a long sentence does not push every number out.
A header may take two lines ('onnxruntime\n× step 0'): its widest line counts. A failed row shows a
short red ``error`` marker; its message goes under the table, where it can take the whole width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

Cell = str | Text


def add_row(table: Table, *cells: Cell) -> None:
    """``table.add_row``, with every str cell taken literally: model names, layer paths and errors are user
    text, and ``Table.add_row`` would parse ``[/x]`` in them as markup (and crash or drop it)."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


@dataclass(frozen=True)
class Column:
    """One column: its header, how a row becomes its cell, and how soon it goes when space is short."""

    header: str
    cell: Callable[[Any], Cell]
    justify: str = "right"
    #: 0: always shown; otherwise the higher, the sooner it is left out on a narrow terminal
    drop: int = 0
    #: free text (may wrap); anything else is a number or a short token and never wraps
    text: bool = False
    style: str | None = None
    #: a text column counts as at most this many characters wide while fitting (rich wraps it); None: whole
    wrap: int | None = None


@dataclass
class Fitted:
    """A table built for a width, and the headers of the columns it left out."""

    table: Table
    hidden: list[str]


ERROR_MARK = Text("error", style="bold red")


def _width(cell: Cell) -> int:
    return max((cell_len(line) for line in str(cell).splitlines()), default=0)


def _table_width(widths: Sequence[int]) -> int:
    # rich's default box: one border per column edge, one space of padding either side of each cell
    return sum(w + 2 for w in widths) + len(widths) + 1


def fit_table(
    title: str | Text | None,
    columns: Sequence[Column],
    rows: Sequence[Any],
    *,
    width: int | None,
    wide: bool = False,
    failed: Callable[[Any], bool] = lambda row: False,
    **table_options: Any,
) -> Fitted:
    """The table of ``rows`` with as many of ``columns`` as fit in ``width`` (all of them when ``wide``).

    A row for which ``failed(row)`` is true shows ``error`` in its first number column and nothing
    else beyond its text columns (say what failed under the table).
    """
    cells = [[None if failed(r) and not c.text else c.cell(r) for c in columns] for r in rows]
    marks = any(failed(r) for r in rows)
    widths = []
    for i, c in enumerate(columns):
        values = [_width(row[i]) for row in cells if row[i] is not None]
        if marks and not c.text:
            values.append(len("error"))
        natural = max([_width(c.header), *values])
        widths.append(min(natural, max(c.wrap, _width(c.header))) if c.text and c.wrap else natural)
    keep = list(range(len(columns)))
    if not wide and width:
        while _table_width([widths[i] for i in keep]) > width:
            droppable = [i for i in keep if columns[i].drop > 0]
            if not droppable:
                break
            keep.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    table = Table(title=title, title_justify="left", **table_options)
    for i in keep:
        c = columns[i]
        table.add_column(c.header, justify=c.justify, style=c.style, no_wrap=not c.text,  # type: ignore[arg-type]
                         overflow="fold" if c.text else "ellipsis", min_width=None if c.text else widths[i])  # fmt: skip
    for r, row in zip(rows, cells, strict=True):
        shown = [row[i] for i in keep]
        if failed(r):
            first = next((n for n, i in enumerate(keep) if not columns[i].text), None)
            shown = [ERROR_MARK if n == first else (v if v is not None else "") for n, v in enumerate(shown)]
        add_row(table, *shown)
    return Fitted(table, [columns[i].header.replace("\n", " ") for i in range(len(columns)) if i not in keep])


def hidden_note(hidden: Sequence[str], width: int | None) -> Text | None:
    """'not shown at 80 columns: ...' under a table that left columns out; None when none were."""
    if not hidden:
        return None
    where = f"at {width} columns" if width else "here"
    return Text(f"not shown {where}: {', '.join(hidden)} (--wide shows every column; -o FILE.csv has them all)",
                style="dim")  # fmt: skip


def error_lines(failures: list[tuple[str, str]]) -> list[Text]:
    """One red line per failed row under a table: 'error: LABEL: MESSAGE' (plain text, wraps at the width)."""
    return [Text.assemble(("error: ", "bold red"), (f"{label}: {message}", "red")) for label, message in failures]
