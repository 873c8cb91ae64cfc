"""``parse_spec``: the one owner of the model-spec syntax typed on the command line.

Forms (DESIGN.md): ``NAME`` (registry), ``tv:NAME``, ``timm:NAME``, ``pkg.module:factory`` and
``path/to/model.onnx``; any but the last may end in keyword arguments, ``NAME(width=0.5)``, whose
values are Python literals read with ``ast.literal_eval`` (never ``eval``).

A spec is untrusted text: it is bounded in length, its keywords are one flat call with literal
values, and ``pkg.module:factory`` never names the standard library (checked before any import).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from effprof.errors import EffprofError

FORMS = (
    "NAME (see `effprof list`), tv:NAME, timm:NAME, pkg.module:factory or path/to/model.onnx, "
    "with optional keyword arguments like \"mobilenet_v1(width=0.5)\""
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: far longer than any real spec (keywords included); bounds the parser's work and the error message
MAX_SPEC_CHARS = 1000
#: how much of a bad spec an error message repeats
_SHOWN_CHARS = 80


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec. ``kind`` is registry | torchvision | timm | import | onnx."""

    kind: str
    name: str  # registry/torchvision/timm name, "pkg.module:factory", or the .onnx path
    kwargs: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    @property
    def label(self) -> str:
        """How the model is named in tables: the spec as typed."""
        return self.text or self.name


def shown(text: str) -> str:
    """``repr(text)``, cut to its first characters when long: an error message stays one short line."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return f"{text[:_SHOWN_CHARS]!r}... ({len(text)} characters)"


def _malformed(text: str, why: str) -> EffprofError:
    return EffprofError(f"malformed model spec {shown(text)}: {why}; expected {FORMS}")


def check_spec_length(text: str) -> None:
    """A spec longer than MAX_SPEC_CHARS is refused before any parsing (it is never a real model)."""
    if len(text) > MAX_SPEC_CHARS:
        raise _malformed(text, f"it is {len(text)} characters long, the limit is {MAX_SPEC_CHARS}")


def _literal(text: str, name: str, node: ast.expr) -> Any:
    """The value of one keyword: a Python literal, hashable where Python needs it (set items, dict keys)."""
    try:
        return ast.literal_eval(node)
    except TypeError as exc:  # a literal, but {[1]: 2} or {[1]}: dict keys and set items must be hashable
        raise _malformed(text, f"the value of {name!r} is not a valid literal ({exc})") from None
    # ValueError: not a literal; RecursionError/MemoryError: nesting deep enough to exhaust the evaluator
    except (ValueError, RecursionError, MemoryError):
        raise _malformed(text, f"the value of {name!r} must be a literal (number, string, list, ...)") from None


def _parse_kwargs(text: str, body: str) -> dict[str, Any]:
    """Keywords of ONE call ``NAME(k=v, ...)``: no positional arguments, no ``**``, no repeats, no chaining."""
    try:
        call = ast.parse(f"f({body})", mode="eval").body
    # RecursionError/MemoryError: the parser's own limits on nesting (-----1, [[[...]]])
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise _malformed(text, "the arguments in parentheses are not valid Python syntax") from None
    # Anything but the one call f(...) means the text closed our parenthesis early: a chained call
    # f(x=1)(y=2), an operator f(x=1) + g(), a tuple f(x=1), (y).
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "f"):
        raise _malformed(text, "keyword arguments go in one pair of parentheses at the end (no chained calls)")
    if call.args:
        raise _malformed(text, "arguments in parentheses must be keywords, e.g. (width=0.5)")
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise _malformed(text, "** is not allowed in a spec")
        if kw.arg in kwargs:  # ast accepts f(a=1, a=2); only the compiler rejects it
            raise _malformed(text, f"keyword {kw.arg!r} is given twice")
        kwargs[kw.arg] = _literal(text, kw.arg, kw.value)
    return kwargs


def _check_import_target(text: str, module: str, attr: str) -> None:
    """``pkg.module:factory`` names the user's model code: never the standard library or a dunder.

    Checked on the text alone, before anything is imported: ``os:system``, ``subprocess:getoutput``
    and ``builtins:eval`` must not run even once.
    """
    top = module.split(".")[0]
    if top in sys.stdlib_module_names:
        raise EffprofError(
            f"model spec {shown(text)} refused: {top!r} is Python's standard library, not model code; "
            "pkg.module:factory imports your own module (running its code, like python -m) and calls an "
            "nn.Module class or a function returning one"
        )
    if attr.startswith("__") and attr.endswith("__"):
        raise EffprofError(f"model spec {shown(text)} refused: {attr!r} is a Python internal, not an nn.Module class or factory")


def parse_spec(text: str) -> ModelSpec:
    """Parse one model spec string; raises EffprofError listing the valid forms when malformed."""
    if not isinstance(text, str):
        raise EffprofError(f"a model spec is a string like 'resnet50', got {type(text).__name__}")
    check_spec_length(text)
    raw = text.strip()
    if not raw:
        raise _malformed(text, "it is empty")
    if raw.lower().endswith(".onnx"):
        if "\x00" in raw:  # the OS cannot even look such a path up
            raise _malformed(text, "a file path cannot contain a NUL character")
        return ModelSpec("onnx", raw, {}, raw)
    kwargs: dict[str, Any] = {}
    head = raw
    if "(" in raw or ")" in raw:
        if not raw.endswith(")") or raw.count("(") < 1:
            raise _malformed(text, "keyword arguments go in one pair of parentheses at the end")
        head, body = raw.split("(", 1)
        kwargs = _parse_kwargs(text, body[:-1])
        head = head.strip()
    if ":" in head:
        prefix, _, rest = head.partition(":")
        if prefix in ("tv", "torchvision", "timm"):
            if not _NAME.match(rest):
                raise _malformed(text, f"{rest!r} is not a model name")
            return ModelSpec("timm" if prefix == "timm" else "torchvision", rest, kwargs, raw)
        if _DOTTED.match(prefix) and _IDENT.match(rest):
            _check_import_target(text, prefix, rest)
            return ModelSpec("import", head, kwargs, raw)
        raise _malformed(text, f"{head!r} is neither tv:/timm:NAME nor pkg.module:factory")
    if not _NAME.match(head):
        raise _malformed(text, f"{head!r} is not a model name")
    return ModelSpec("registry", head, kwargs, raw)
