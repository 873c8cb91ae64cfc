"""Typed fields for the files effprof reads (suites, baselines, caches), and their one-line errors.

Rule: a file is validated once, on load, against a pydantic v2 model built from the field types
below; every value is checked strictly (no "3" for 3, no true for 1, no NaN or Infinity) and
against its range. A failure reads ``<field path>: must be <rule>, got <value>`` on one line, the
rule spelled out by the field type itself, so the message and the check cannot drift apart.

This module sits below every other effprof module (it imports only pydantic and effprof.errors):
the bench package and the hardware cache both build their file formats from it.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError

#: how deep a JSON or TOML document may nest; effprof's own files nest at most ~6 levels, and a
#: deeper one would only exhaust Python's recursion on the way in or back out
MAX_DEPTH = 32
#: longest value shown after "got": a hostile 100k-character value must not become the message
SHOWN_CHARS = 60


def described(rule: str) -> WrapValidator:
    """Any failure of the value itself reads ``must be <rule>``; failures inside it keep their own path.

    Why wrap: pydantic names the one constraint that failed ("greater than or equal to 0"), a user
    needs the whole rule ("a finite number >= 0 or null") to write a value that passes.
    """

    def wrap(value: Any, handler):
        try:
            return handler(value)
        except ValidationError as exc:
            if any(e["loc"] for e in exc.errors()):  # an item inside a list or table: its own message
                raise
            raise PydanticCustomError("effprof_rule", "must be {rule}", {"rule": rule}) from None

    return WrapValidator(wrap)


def _whole_float_to_int(value: Any) -> Any:
    # JSON writers may spell a whole number 3.0; a fractional or non-finite one stays a float and fails.
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _range(ge: float | None, le: float | None, gt: float | None) -> str:
    low = f">= {ge:g}" if ge is not None else f"> {gt:g}" if gt is not None else ""
    if le is None:
        return low
    if ge is not None:
        return f"from {ge:g} to {le:g}"
    return f"{low} and <= {le:g}" if low else f"<= {le:g}"


def _or_null(rule: str, null: bool) -> str:
    return f"{rule} or null" if null else rule


def _finish(inner: Any, rule: str, null: bool) -> Any:
    # null is allowed around the checked value, not inside it: a constraint cannot apply to "int or None"
    return Annotated[inner | None if null else inner, described(_or_null(rule, null))]


def whole(ge: int | None = 0, le: int | None = None, *, null: bool = False) -> Any:
    """A whole number (not a bool, not a string) within [ge, le]; ``null``: JSON null allowed too."""
    inner = Annotated[int, BeforeValidator(_whole_float_to_int), Field(strict=True, ge=ge, le=le)]
    return _finish(inner, f"a whole number {_range(ge, le, None)}".rstrip(), null)


def number(
    ge: float | None = 0, le: float | None = None, *, gt: float | None = None, null: bool = False
) -> Any:
    """A finite number (int or float, not a bool, not NaN or Infinity) within the bounds given."""
    inner = Annotated[float, Field(strict=True, ge=ge, gt=gt, le=le, allow_inf_nan=False)]
    return _finish(inner, f"a finite number {_range(ge, le, gt)}".rstrip(), null)


def _one_line(value: Any) -> Any:
    # A name or spec is shown in one-line messages, tables and Markdown headings: no line breaks or
    # other control characters, which would break all three.
    if isinstance(value, str) and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PydanticCustomError("effprof_control", "contains a line break or control character")
    return value


def text(*, min_length: int = 0, max_length: int | None = None, one_line: bool = False, strip: bool = False,
         null: bool = False, rule: str | None = None) -> Any:  # fmt: skip
    """A string (never a number or list); ``strip`` trims spaces first; ``one_line`` refuses control characters."""
    what = rule or ("a non-empty string" if min_length else "a string")
    if one_line:
        what += " on one line"
    if max_length is not None:
        what += f" of at most {max_length} characters"
    parts: list[Any] = [str, Field(strict=True, min_length=min_length, max_length=max_length)]
    # the last annotation runs first: trim, then look for line breaks, then check type and length
    if one_line:
        parts.append(BeforeValidator(_one_line))
    if strip:
        parts.append(BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v))
    # Annotated[tuple] is Annotated[a, b, ...] in the spelling Python 3.10 accepts (no * in subscripts)
    return _finish(Annotated[tuple(parts)], what, null)


def items(item: Any, *, min_length: int = 0, max_length: int | None = None, null: bool = False,
          rule: str) -> Any:  # fmt: skip
    """A list of ``item``; a bad item is named by its index (``resolutions[1]``), a non-list by ``rule``."""
    bounds = f" of at most {max_length} items" if max_length is not None else ""
    inner = Annotated[list[item], Field(min_length=min_length, max_length=max_length)]
    return _finish(inner, rule + bounds, null)


# ---- reading a file --------------------------------------------------------------------------


class FileProblem(ValueError):
    """Why a file could not be read or parsed, as a phrase: 'is not UTF-8 text (byte 0xff at 3)'."""


def read_text(path: Path, *, max_bytes: int) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``; anything else raises FileProblem.

    FileNotFoundError passes through (callers say how to make the file). A directory, device or
    pipe is refused before it is opened: ``/dev/zero`` would never end, a FIFO would block.
    """
    if not path.exists():
        raise FileNotFoundError(str(path))
    if path.is_dir():
        raise FileProblem("is a directory, not a file")
    if not path.is_file():
        raise FileProblem("is not a regular file (a device, pipe or socket)")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise FileProblem(f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise FileProblem(f"is larger than {max_bytes // 2**20} MiB, effprof's limit for this kind of file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def depth(doc: Any) -> int:
    """How deep ``doc`` nests (a scalar is 0, ``[1]`` is 1); walked without recursion."""
    deepest, stack = 0, [(doc, 0)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(value, dict):
            stack.extend((v, level + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, level + 1) for v in value)
    return deepest


def check_depth(doc: Any) -> Any:
    if depth(doc) > MAX_DEPTH:
        raise FileProblem(f"nests deeper than {MAX_DEPTH} levels")
    return doc


def parse_json(text: str) -> Any:
    """A JSON document; bad syntax or nesting beyond MAX_DEPTH raises FileProblem.

    NaN and Infinity (which Python's json accepts) are parsed, so the schema can name the field
    that holds one.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileProblem(f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise FileProblem(f"nests deeper than {MAX_DEPTH} levels") from None
    return check_depth(doc)


# ---- one-line errors -----------------------------------------------------------------------


def shown(value: Any) -> str:
    """``value`` as a message shows it: repr, one line, at most SHOWN_CHARS characters."""
    try:
        text_ = repr(value)
    except RecursionError:  # a self-referencing or absurdly deep value
        text_ = f"<a {type(value).__name__}>"
    return text_ if len(text_) <= SHOWN_CHARS else text_[: SHOWN_CHARS - 3] + "..."


def field_path(loc: tuple[int | str, ...]) -> str:
    """('models', 1, 'resolutions', 0) -> 'models[1].resolutions[0]'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _valid_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys the table at ``loc`` accepts, found by walking ``model``'s nested field types."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return []
        current = fields[part].annotation
        # unwrap Optional/list/Annotated down to a model, if there is one
        for _ in range(4):
            if isinstance(current, type) and issubclass(current, BaseModel):
                break
            args = [a for a in get_args(current) if a is not type(None)]
            current = args[0] if args else current
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


_TYPE_WORDS = {
    "dict_type": "must be a {table}", "model_type": "must be a {table}",
    "model_attributes_type": "must be a {table}", "list_type": "must be a list",
    "string_type": "must be a string", "int_type": "must be a whole number", "float_type": "must be a number",
    "bool_type": "must be true or false", "tuple_type": "must be a list",
}  # fmt: skip


def describe_error(exc: ValidationError, model: type[BaseModel], *, table: str = "table") -> str:
    """The first problem of ``exc`` as '<field path>: <what is wrong>, got <value>' (+ how many more).

    ``table`` is what the file format calls a mapping: "table" in TOML, "JSON object" in JSON.
    """
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    where = field_path(loc)
    kind = first["type"]
    if kind == "extra_forbidden":
        key, parent = str(loc[-1]), loc[:-1]
        valid = _valid_keys(model, parent)
        match = difflib.get_close_matches(key, valid, n=1)
        hint = f" (did you mean {match[0]!r}?)" if match else ""
        prefix = f"{field_path(parent)}: " if parent else ""
        message = f"{prefix}unknown key {key!r}{hint}; valid keys: {', '.join(valid)}"
    elif kind == "missing":
        message = f"{where}: is required"
    else:
        what = (
            first["msg"]
            if kind.startswith("effprof_")
            else _TYPE_WORDS.get(kind, first["msg"]).format(table=table)
        )
        message = f"{where + ': ' if where else ''}{what}, got {shown(first.get('input'))}"
    more = len(errors) - 1
    return message + (f" (and {more} more problem{'s' if more != 1 else ''})" if more else "")
