"""effprof's own counter: shape-only formulas applied to every torch call of one forward pass.

Counting rule: run the model once on the meta device (no data, no arithmetic, so the cost does
not grow with resolution) under a ``TorchFunctionMode`` that sees every torch call at the Python
API level -- module calls and functional ones alike (``F.scaled_dot_product_attention``, ``@``,
``torch.einsum``, a residual ``+``). Each call is looked up in ``handles.HANDLES`` (counted with a
formula of effprof.formulas), ``handles.IGNORED`` (skipped, with the reason) or neither
(unsupported, reported per module). Forward hooks keep a stack of the modules being run, so each
call is charged to the innermost module whose own ``forward`` made it.

Autograd stays enabled: under ``no_grad``/``inference_mode`` nn.MultiheadAttention takes a fused
fast path that hides its matmuls.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from effprof.counters import handles
from effprof.counters.result import ACTIVATION_OP_CLASSES, CountResult, LayerCount
from effprof.errors import EffprofError


class _Recorder(TorchFunctionMode):
    def __init__(self, stack: list[str]) -> None:
        super().__init__()
        self.stack = stack
        # (module path, op_class) -> running totals
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.unsupported: dict[str, Counter[str]] = defaultdict(Counter)
        self.ignored: Counter[str] = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = handles.canonical_name(func)
        found = handles.lookup(name)
        if isinstance(found, str):
            self.ignored[name] += 1
        elif found is not None:
            self._record(found(args, kwargs, out), args, kwargs, out)
        elif handles.first_tensor(out) is not None:
            self.unsupported[self.stack[-1]][name] += 1
        else:
            self.ignored[name] += 1  # returned no tensor: a query, counted as metadata
        return out

    def _record(self, parts: list[handles.Part], args: tuple, kwargs: dict, out: Any) -> None:
        module = self.stack[-1]
        tensors = [*args, *kwargs.values(), out]
        moved = sum(t.numel() * t.element_size() for t in _tensors(tensors))
        out_t = handles.first_tensor(out)
        for i, part in enumerate(parts):
            row = self.rows.setdefault(
                (module, part.op_class),
                {"macs": 0, "other_ops": 0, "activations": 0, "bytes": 0, "calls": 0, "shape": ()},
            )
            row["macs"] += part.macs
            row["other_ops"] += part.other_ops
            row["activations"] += part.activations if part.op_class in ACTIVATION_OP_CLASSES else 0
            row["bytes"] += moved if i == 0 else 0
            row["calls"] += 1
            if out_t is not None:
                row["shape"] = tuple(out_t.shape)


def _tensors(values: Any):
    for v in values:
        if isinstance(v, torch.Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from _tensors(v)


def to_meta(model: nn.Module) -> nn.Module:
    """A meta-device copy of ``model``; the caller's module is left untouched."""
    if all(p.is_meta for p in model.parameters()) and all(b.is_meta for b in model.buffers()):
        return model
    return copy.deepcopy(model).to("meta")


def count_analytic(model: nn.Module, input_shape: tuple[int, ...], *, name: str | None = None) -> CountResult:
    """Count params, MACs, other ops, activations and bytes of ``model`` on one input shape.

    ``model`` may live on any device; counting happens on a meta copy. Raises EffprofError when the
    model rejects the input shape (the model's own message is kept).
    """
    model = to_meta(model)
    model.eval()
    paths = {}
    for path, module in model.named_modules():
        paths.setdefault(id(module), path)
    stack: list[str] = [""]
    hooks = []

    def push(module, _args):
        stack.append(paths.get(id(module), type(module).__name__))

    def pop(module, _args, _out):
        if len(stack) > 1:
            stack.pop()

    for module in model.modules():
        hooks.append(module.register_forward_pre_hook(push))
        hooks.append(module.register_forward_hook(pop, always_call=True))
    recorder = _Recorder(stack)
    x = torch.empty(input_shape, device="meta")
    try:
        with torch.enable_grad(), recorder:
            model(x)
    except Exception as exc:  # the model's own complaint about the shape, kept in one line
        label = name or type(model).__name__
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EffprofError(f"{label} rejects input shape {tuple(input_shape)}: {detail}") from exc
    finally:
        for h in hooks:
            h.remove()
    return _result(model, tuple(input_shape), recorder)


def _own_params(module: nn.Module, seen: set[int]) -> int:
    total = 0
    for p in module.parameters(recurse=False):
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total


def _result(model: nn.Module, input_shape: tuple[int, ...], rec: _Recorder) -> CountResult:
    modules = dict(model.named_modules())
    seen: set[int] = set()
    layers: list[LayerCount] = []
    first_row: set[str] = set()
    for (path, op_class), row in rec.rows.items():
        module = modules.get(path)
        params = 0
        if path not in first_row and module is not None:
            first_row.add(path)
            params = _own_params(module, seen)
        layers.append(
            LayerCount(
                layer=path,
                type=type(module).__name__ if module is not None else "?",
                op_class=op_class,
                macs=row["macs"],
                other_ops=row["other_ops"],
                params=params,
                activations=row["activations"],
                bytes=row["bytes"],
                output_shape=row["shape"],
                calls=row["calls"],
            )
        )
    macs_by_module: dict[str, int] = defaultdict(int)
    for layer in layers:
        macs_by_module[layer.layer] += layer.macs
    unsupported: Counter[str] = Counter()
    for per_module in rec.unsupported.values():
        unsupported.update(per_module)
    params = list(model.parameters())  # shared parameters appear once
    return CountResult(
        counter="analytic",
        input_shape=input_shape,
        macs=sum(r.macs for r in layers),
        params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        other_ops=sum(r.other_ops for r in layers),
        activations=sum(r.activations for r in layers),
        weight_bytes=sum(p.numel() * p.element_size() for p in params),
        layers=layers,
        macs_by_module=dict(macs_by_module),
        unsupported=unsupported,
        unsupported_by_module={k: v for k, v in rec.unsupported.items() if v},
        ignored={name: (n, handles.IGNORED.get(name, handles._META)) for name, n in rec.ignored.items()},
    )
