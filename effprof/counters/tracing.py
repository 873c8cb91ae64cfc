"""Tracing helpers every counter shares: where the model runs, in which mode, and which module is running.

- ``to_meta`` / ``on_device`` / ``model_device``: a copy of the model where the count runs (the
  caller's module is never modified);
- ``counting_mode``: eval(), the MHA fast path off, autograd and inference mode as asked, all restored;
- ``single_thread``: one intra-op thread while real tensors are counted;
- ``module_stack``: forward hooks keeping the stack of running module paths, so an op is charged to
  the innermost module whose own forward made it;
- ``exclusive``: inclusive per-module tables (fvcore, FlopCounterMode) -> exclusive ones;
- ``first_tensor`` / ``tensors_in``: tensors in nested call values;
- ``op_table`` / ``model_result``: a counter's per-module per-op figures -> the one count table ->
  a CountResult with the model's params and module names.
"""

from __future__ import annotations

import contextlib
import copy
from collections import Counter
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from effprof.counters.result import CountResult, CountTable, OpCount
from effprof.counters.vocabulary import op_class_of
from effprof.formulas.ops import conv_op_class


def to_meta(model: nn.Module) -> nn.Module:
    """A meta-device copy of ``model``; the caller's module is left untouched."""
    if all(p.is_meta for p in model.parameters()) and all(b.is_meta for b in model.buffers()):
        return model
    return copy.deepcopy(model).to("meta")


def on_device(model: nn.Module, device: str) -> nn.Module:
    """``model`` itself when it already lives on ``device``, else a copy there.

    A meta model (no data) is materialised with ``to_empty`` and zero-filled: counting needs
    shapes, not values, and zeros keep the run deterministic (uninitialised memory may hold NaNs).
    """
    tensors = [*model.parameters(), *model.buffers()]
    if all(t.device.type == torch.device(device).type for t in tensors):
        return model
    if device == "meta":
        return to_meta(model)
    if any(t.is_meta for t in tensors):
        copied = copy.deepcopy(model).to_empty(device=device)
        with torch.no_grad():
            for t in [*copied.parameters(), *copied.buffers()]:
                t.zero_()
        return copied
    return copy.deepcopy(model).to(device)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a stateless model)."""
    for t in [*model.parameters(), *model.buffers()]:
        return t.device
    return torch.device("cpu")


def is_meta_model(model: nn.Module) -> bool:
    """Whether any parameter or buffer of ``model`` lives on the meta device (no data)."""
    return any(t.is_meta for t in [*model.parameters(), *model.buffers()])


@contextlib.contextmanager
def counting_mode(model: nn.Module, *, grad: bool) -> Iterator[None]:
    """eval() for the count, the MHA fast path off, autograd as asked; all restored afterwards.

    Inference mode is lifted too: under it the dispatcher hands composite ops (``conv2d``,
    ``linear``) to dispatch modes undecomposed, so the ops seen would depend on the caller's mode.
    """
    training = {m: m.training for m in model.modules()}
    fastpath = torch.backends.mha.get_fastpath_enabled()
    model.eval()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.inference_mode(False), torch.set_grad_enabled(grad):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        for module, mode in training.items():
            module.training = mode


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """One intra-op thread while a count runs real tensors (fvcore's trace, FlopCounterMode on CPU).

    A count needs shapes, not speed: the answer is the same on any thread count, and on a busy
    machine the thread pool's spin-waiting costs several times the arithmetic (mobilenet_v2 +
    resnet50 traced at load 6 on 2 cores: 4.8 CPU s on 2 threads, 1.0 on one). Restored afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def module_stack(model: nn.Module) -> Iterator[list[str]]:
    """The dotted paths of the modules running right now, innermost last ("" is the root).

    Forward pre-hooks push, forward hooks pop (``always_call``: an exception still pops); a module
    called without being registered is pushed under its class name. The hooks go when the block ends.
    """
    paths: dict[int, str] = {}
    for path, module in model.named_modules():
        paths.setdefault(id(module), path)
    stack: list[str] = [""]

    def push(module, _args):
        stack.append(paths.get(id(module), type(module).__name__))

    def pop(module, _args, _out):
        if len(stack) > 1:
            stack.pop()

    hooks = []
    for module in model.modules():
        hooks.append(module.register_forward_pre_hook(push))
        hooks.append(module.register_forward_hook(pop, always_call=True))
    try:
        yield stack
    finally:
        for h in hooks:
            h.remove()


def exclusive(inclusive: dict[str, Counter[str]], paths: set[str] | None = None) -> dict[str, Counter[str]]:
    """Inclusive per-module counters (a module counts its children's ops) -> exclusive ones.

    Module paths are dotted, "" is the root: a module's children are the paths one level below.
    Names outside ``paths`` (a module called without being registered as a submodule) are dropped:
    their ops stay with the registered module that called them.
    """
    if paths is not None:
        inclusive = {p: c for p, c in inclusive.items() if p in paths}
    out = {path: Counter(c) for path, c in inclusive.items()}
    for path, counts in inclusive.items():
        if path == "":
            continue
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        if parent in out:
            out[parent].subtract(counts)
    return {path: Counter({k: v for k, v in c.items() if v}) for path, c in out.items()}


def first_tensor(value: Any) -> torch.Tensor | None:
    """The first tensor in a (possibly nested) value, or None."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (list, tuple)):
        for v in value:
            t = first_tensor(v)
            if t is not None:
                return t
    return None


def tensors_in(values: Any) -> Iterator[torch.Tensor]:
    """Every tensor in (possibly nested) lists and tuples, in order."""
    for v in values:
        if isinstance(v, torch.Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from tensors_in(v)


def shapes_of(values: Any) -> list[tuple[int, ...]]:
    """Shapes of every tensor among the (possibly nested) values."""
    return [tuple(t.shape) for t in tensors_in(values)]


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def conv_class(module: nn.Module | None) -> str:
    """Refine a convolution op into effprof's conv classes from the module's hyper-parameters."""
    if isinstance(module, nn.modules.conv._ConvNd) and not module.transposed:
        return conv_op_class(module.in_channels, module.out_channels, module.kernel_size, module.groups)
    return "conv_dense"


def op_table(
    model: nn.Module,
    macs_by_module_op: dict[str, dict[str, int]],
    activations_by_module_op: dict[str, dict[str, int]] | None = None,
) -> list[OpCount]:
    """The count table of a counter that reports per module and op (fvcore, FlopCounterMode).

    Each op's class comes from its name (``vocabulary.op_class_of``), a convolution's refined from its
    module. Calls stay 0: those counters report totals per op, not per call.
    """
    modules = dict(model.named_modules())
    table = CountTable()
    for column, by_module in (("macs", macs_by_module_op), ("activations", activations_by_module_op or {})):
        for path, per_op in by_module.items():
            for op, value in per_op.items():
                op_class = op_class_of(op)
                if op_class == "conv_dense":
                    op_class = conv_class(modules.get(path))
                table.add(path, op, op_class, **{column: int(value)})
    # first-seen order by module, as the model ran them (macs first, then activation-only ops)
    order = {path: i for i, path in enumerate(dict.fromkeys([*macs_by_module_op, *(activations_by_module_op or {})]))}
    return sorted(table.rows(), key=lambda c: order.get(c.layer, len(order)))


def model_result(counter: str, model: nn.Module, input_shape: tuple[int, ...], table: list[OpCount], **kwargs: Any) -> CountResult:
    """A CountResult of ``table`` with the model's params, weight bytes, module types and own params.

    Own params are given to modules in the order they first appear in the table, each shared
    parameter once; the model's totals count every parameter once.
    """
    modules = dict(model.named_modules())
    seen: set[int] = set()
    own: dict[str, int] = {}
    for path in dict.fromkeys(c.layer for c in table):
        module = modules.get(path)
        if module is None:
            continue
        own[path] = 0
        for p in module.parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                own[path] += p.numel()
    params = list(model.parameters())  # shared parameters appear once
    return CountResult(
        counter=counter,
        input_shape=tuple(input_shape),
        table=table,
        params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        weight_bytes=sum(p.numel() * p.element_size() for p in params),
        module_types={path: type(m).__name__ for path, m in modules.items()},
        module_params=own,
        **kwargs,
    )
