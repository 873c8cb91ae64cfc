"""The sizes a user types: -r/--resolution, -b/--batch and input_shape, parsed and bounded.

Each parser takes an int, an int-like value or its text and returns whole, positive numbers within
effprof's bounds, or raises one EffprofError line saying what was wrong and what would be right.
Torch-free.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Sequence

from effprof.errors import EffprofError
from effprof.models.spec import shown

#: Bounds on what a user may ask for. Far beyond any vision model's input (gigapixel slides are
#: tiled far smaller), yet small enough that shapes and counts never overflow or exhaust memory.
MAX_RESOLUTION = 8192
MAX_BATCH = 4096
#: largest input (elements) any spec or input_shape may describe: MAX_BATCH x 3 x MAX_RESOLUTION^2 fits
MAX_INPUT_ELEMENTS = 2**40
MAX_INPUT_DIMS = 6

_RESOLUTION_TEXT = re.compile(r"^\s*([+-]?\d+)\s*(?:[xX]\s*([+-]?\d+))?\s*$")
_INT_TEXT = re.compile(r"^\s*([+-]?\d+)\s*$")


def _bounded(what: str, value: int, limit: int, unit: str = "") -> int:
    """``value`` itself when 1 <= value <= limit; otherwise a one-line error saying which bound."""
    if value <= 0:
        raise EffprofError(f"{what} must be a positive integer, got {value}")
    if value > limit:
        raise EffprofError(f"{what} {shown(str(value))[1:-1]} is beyond effprof's limit of {limit}{unit}")
    return value


def _whole(what: str, value: object, example: str) -> int:
    """An int from an int-like value or its decimal text; floats, bools and other text are refused."""
    if isinstance(value, str):
        m = _INT_TEXT.match(value)
        if m is None:
            raise EffprofError(f"{what} must be a whole number like {example}, got {shown(value)}")
        digits = m.group(1)
        if len(digits) > 100:  # int() refuses text over 4300 digits; this is past every bound anyway
            raise EffprofError(f"{what} {shown(value.strip())} is far beyond effprof's limits")
        return int(digits)
    if isinstance(value, bool):  # True is an int to Python, never a size to a user
        raise EffprofError(f"{what} must be a whole number like {example}, got {value!r}")
    try:
        return operator.index(value)  # int, numpy integers; not 224.0
    except TypeError:
        raise EffprofError(f"{what} must be a whole number like {example}, got {shown(repr(value))[1:-1]}") from None


def parse_batch(value: object) -> int:
    """The batch size: a whole number from 1 to MAX_BATCH (``8`` or ``"8"``); anything else is one-line error."""
    return _bounded("--batch", _whole("--batch", value, "8"), MAX_BATCH)


def parse_resolution(value: object) -> tuple[int, int] | None:
    """(H, W) in pixels from ``224`` (square), ``"224"``, ``"224x320"`` (H x W) or ``(224, 320)``; None stays None.

    Each side is a whole number from 1 to MAX_RESOLUTION.
    """
    what, example = "--resolution", "224 or 224x320 (height x width)"
    if value is None:
        return None
    if isinstance(value, str):
        m = _RESOLUTION_TEXT.match(value)
        if m is None:
            raise EffprofError(f"{what} must be N or HxW in whole pixels, like {example}, got {shown(value)}")
        sides = [m.group(1), m.group(2) or m.group(1)]
    elif isinstance(value, Sequence):
        if len(value) != 2:
            raise EffprofError(f"{what} must be one side or (height, width), got {len(value)} values")
        sides = list(value)
    else:
        sides = [value, value]
    h, w = (_bounded(what, _whole(what, side, example), MAX_RESOLUTION, " pixels per side") for side in sides)
    return h, w


def check_input_shape(input_shape: object) -> tuple[int, ...]:
    """A tuple of whole positive dims (batch first), within the batch/side/element bounds above."""
    if isinstance(input_shape, str) or not isinstance(input_shape, Sequence):
        raise EffprofError(f"input_shape must be a tuple of sizes like (1, 3, 224, 224), got {shown(repr(input_shape))[1:-1]}")
    if not 1 <= len(input_shape) <= MAX_INPUT_DIMS:
        raise EffprofError(f"input_shape must have 1 to {MAX_INPUT_DIMS} dimensions, got {len(input_shape)}")
    shape = tuple(_whole("input_shape", d, "224") for d in input_shape)
    if any(d <= 0 for d in shape):
        raise EffprofError(f"input_shape must be all positive, got {shape}")
    parse_batch(shape[0])
    if len(shape) >= 3:
        parse_resolution(shape[-2:])
    if functools.reduce(operator.mul, shape, 1) > MAX_INPUT_ELEMENTS:
        raise EffprofError(f"input_shape {shape} has more than effprof's limit of 2**40 elements")
    return shape
