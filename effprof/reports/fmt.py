"""How numbers look when rendered (terminal, Markdown, HTML). Rounding happens here and nowhere before.

Rule: exact counts keep every digit where exactness matters (``count``: ``3,504,872``), SI prefixes
where size matters (``si``: ``3.5 M``), times three significant figures (``ms``), fixed units where a
column must line up (``fixed``: GMACs). A missing value is always '' (the footer says why).
"""

from __future__ import annotations

import math
import numbers
from typing import Any


def missing(value: Any) -> bool:
    """None, pandas' NA or a float NaN."""
    if value is None or (isinstance(value, numbers.Real) and value != value):
        return True
    return type(value).__name__ == "NAType"


def si(value: float | int | None, unit: str = "", digits: int = 3) -> str:
    """12_345_678 -> '12.3 M' (3 significant digits); None -> ''."""
    if missing(value):
        return ""
    value = float(value)
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}".rstrip()
    return f"{value:.{digits}g} {unit}".rstrip()


def fixed(value: float | int | None, scale: float, decimals: int) -> str:
    """A value in a fixed unit (e.g. GMACs) so a column lines up; None -> ''."""
    return "" if missing(value) else f"{value / scale:,.{decimals}f}"


def count(value: Any) -> str:
    """A whole number with thousands separators ('3,504,872'); other numbers to 4 significant figures."""
    if missing(value):
        return ""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.4g}"


def ratio(value: float | None, base: float | None) -> str:
    """value / base as '13.60x'; '' when either is missing or zero."""
    if not value or not base or missing(value) or missing(base):
        return ""
    return f"{value / base:.2f}x"


def ms(value: float | None) -> str:
    """Milliseconds to 3 significant figures, whole above 100 ('18.1', '0.337', '1,234')."""
    if missing(value) or not math.isfinite(value):
        return ""
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def pct(value: float | None) -> str:
    """A fraction as a whole percent: 0.42 -> '42%'."""
    return "" if missing(value) or not math.isfinite(value) else f"{100 * value:.0f}%"


def signed_pct(value: float | None) -> str:
    """A percent with its sign: 12.3 -> '+12%'."""
    return "" if missing(value) or not math.isfinite(value) else f"{value:+.0f}%"


def cell(value: Any) -> str:
    """One table cell of a file report: whole numbers with separators, else 4 significant figures; '' if missing."""
    if missing(value):
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return str(bool(value))
    if isinstance(value, numbers.Integral) or (isinstance(value, numbers.Real) and float(value).is_integer()
                                               and abs(value) >= 1000):  # fmt: skip
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    return str(value)
