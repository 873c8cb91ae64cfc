"""``parse_spec``: the one owner of the model-spec syntax typed on the command line.

Forms (DESIGN.md): ``NAME`` (registry), ``tv:NAME``, ``timm:NAME``, ``pkg.module:factory`` and
``path/to/model.onnx``; any but the last may end in keyword arguments, ``NAME(width=0.5)``, whose
values are Python literals read with ``ast.literal_eval`` (never ``eval``).
"""

from __future__ import annotations

import ast
import re
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


def _malformed(text: str, why: str) -> EffprofError:
    return EffprofError(f"malformed model spec {text!r}: {why}; expected {FORMS}")


def _parse_kwargs(text: str, body: str) -> dict[str, Any]:
    try:
        call = ast.parse(f"f({body})", mode="eval").body
    except SyntaxError:
        raise _malformed(text, "the arguments in parentheses are not valid Python syntax") from None
    assert isinstance(call, ast.Call)
    if call.args:
        raise _malformed(text, "arguments in parentheses must be keywords, e.g. (width=0.5)")
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise _malformed(text, "** is not allowed in a spec")
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise _malformed(text, f"the value of {kw.arg!r} must be a literal (number, string, list, ...)") from None
    return kwargs


def parse_spec(text: str) -> ModelSpec:
    """Parse one model spec string; raises EffprofError listing the valid forms when malformed."""
    raw = text.strip()
    if not raw:
        raise _malformed(text, "it is empty")
    if raw.lower().endswith(".onnx"):
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
            return ModelSpec("import", head, kwargs, raw)
        raise _malformed(text, f"{head!r} is neither tv:/timm:NAME nor pkg.module:factory")
    if not _NAME.match(head):
        raise _malformed(text, f"{head!r} is not a model name")
    return ModelSpec("registry", head, kwargs, raw)
