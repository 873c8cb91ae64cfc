"""Adapter for PyTorch's own counter, ``torch.utils.flop_counter.FlopCounterMode``.

Counting rule: FlopCounterMode is a TorchDispatchMode; it sees the aten ops that actually run
(``F.linear`` arrives as ``addmm``/``mm``, a conv as ``convolution``) and counts those in its
``flop_registry`` -- matmuls, convolutions and the fused attention kernels -- at 2 FLOPs per
multiply-accumulate. Here its figures are divided by 2 (DESIGN.md: convert at the adapter).
Everything else (norms, activations, pooling, elementwise) it does not count, which matches
effprof's MAC convention: those ops land in ``ignored``.

Device: by default the count runs on a meta-device copy of the model (no data, no arithmetic: as
fast as effprof's analytic counter). There ``F.scaled_dot_product_attention`` has no fused kernel
and FlopCounterMode decomposes it into its math path (two ``bmm``), so attention is counted. On
CPU the same call runs ``aten._scaled_dot_product_flash_attention_for_cpu``, for which torch has no
formula: stock FlopCounterMode silently counts 0 there. ``device="cpu"`` reproduces that, and this
adapter reports such ops in ``unsupported`` -- FlopCounterMode has no such notion, so a second
dispatch mode lists the ops that ran: a MAC-bearing op with no formula is unsupported, any other
uncounted op is ignored on purpose. ``completed=True`` adds effprof's attention formulas to
``custom_mapping`` for the kernels torch misses.

The MHA fast path (``_native_multi_head_attention``, taken under no_grad/inference_mode) is
switched off while counting, so nn.MultiheadAttention runs its decomposed path on every counter.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from effprof.counters.result import CountResult
from effprof.counters.tracing import (  # noqa: F401  (counting_mode ... conv_class: their import path before)
    conv_class,
    counting_mode,
    exclusive,
    model_device,
    model_result,
    on_device,
    one_line,
    op_table,
    single_thread,
)
from effprof.counters.vocabulary import is_mac_op
from effprof.errors import EffprofError
from effprof.formulas import ops as f

aten = torch.ops.aten
FLOPS_PER_MAC = 2  # FlopCounterMode's unit


# --- effprof formulas for the kernels FlopCounterMode misses ------------------------------------------


def _sdpa_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    """(B, H, L, E) query/key/value of a fused attention kernel -> FLOPs (2 per MAC)."""
    return FLOPS_PER_MAC * f.sdpa_macs(query, key, value)


def _native_mha_flops(query, key, value, embed_dim, num_heads, *args, out_shape=None, **kwargs) -> int:
    """``_native_multi_head_attention`` (batch-first (B, L, E) inputs) -> FLOPs (2 per MAC)."""
    if len(query) == 2:  # unbatched (L, E)
        query, key = (1, *query), (1, *key)
    batch, tokens_q, embed = query
    return FLOPS_PER_MAC * f.mha_macs(tokens_q, key[1], batch, int(embed_dim), int(embed), int(embed))


def _matmul_flops(a, b, *args, out_shape=None, **kwargs) -> int:
    """``mv``/``dot`` (no formula in torch's registry) -> FLOPs (2 per MAC)."""
    return FLOPS_PER_MAC * f.matmul_macs(a, b)


def _mkldnn_rnn_layer_flops(input, weight_ih, weight_hh, *args, out_shape=None, **kwargs) -> int:
    """``mkldnn_rnn_layer`` (oneDNN's LSTM on CPU: one layer, one direction) -> FLOPs (2 per MAC).

    Shapes: input (..., features), W_ih (gates*hidden, features), W_hh (gates*hidden, h); every row
    of the input is one step. The hidden size is argument 10 of the op (after weights, states,
    reverse, batch_sizes and mode).
    """
    hidden = int(args[7])
    state = weight_hh[1]
    steps = f.numel(input[:-1])
    gates = weight_ih[0] // hidden
    return FLOPS_PER_MAC * f.rnn_cell_macs(gates, input[-1], hidden, steps, state if state != hidden else 0)


def completion_mapping() -> dict[Any, Any]:
    """custom_mapping for FlopCounterMode: effprof formulas for the MAC kernels torch misses.

    The CPU attention kernels and the MHA fast path (attention), matrix-vector products, and
    oneDNN's LSTM layer (CPU; on meta an LSTM decomposes into matmuls torch counts itself).
    """
    mapping: dict[Any, Any] = {
        aten._native_multi_head_attention: _native_mha_flops,
        aten.mv: _matmul_flops,
        aten.dot: _matmul_flops,
    }
    if hasattr(aten, "mkldnn_rnn_layer"):
        mapping[aten.mkldnn_rnn_layer] = _mkldnn_rnn_layer_flops
    for name in (
        "_scaled_dot_product_flash_attention_for_cpu",
        "_scaled_dot_product_fused_attention_overrideable",
    ):
        if hasattr(aten, name):
            mapping[getattr(aten, name)] = _sdpa_flops
    return mapping


# --- the count ---------------------------------------------------------------------------------


class _SeenOps(TorchDispatchMode):
    """Lists the aten ops FlopCounterMode ran, per innermost module, to report what it did not count.

    Entered *before* FlopCounterMode, so it sits below it on the mode stack and sees exactly the ops
    FlopCounterMode executes after its own decompositions.
    """

    def __init__(self, counter: FlopCounterMode, root_name: str) -> None:
        super().__init__()
        self.counter = counter
        self.root_name = root_name
        self.uncounted: dict[str, Counter[str]] = defaultdict(Counter)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        packet = func._overloadpacket
        if packet not in self.counter.flop_registry:
            # The running modules form a chain; the longest name is the innermost.
            innermost = max(self.counter.mod_tracker.parents, key=len)
            self.uncounted[_effprof_path(innermost, self.root_name)][f"aten::{packet.__name__}"] += 1
        return out


def _effprof_path(fqn: str, root_name: str) -> str:
    """FlopCounterMode's ``Global``/``ResNet``/``ResNet.layer1.0`` -> effprof's ""/""/``layer1.0``."""
    if fqn in ("Global", root_name):
        return ""
    return fqn[len(root_name) + 1 :] if fqn.startswith(root_name + ".") else fqn


def count_torch(
    model: nn.Module, input_shape: tuple[int, ...], *, completed: bool = False, device: str = "meta"
) -> CountResult:
    """Count MACs of ``model`` on one input shape with FlopCounterMode (its FLOPs / 2).

    ``device="meta"`` (default) counts on a meta copy: exact, and no arithmetic runs, so it costs a
    fraction of a cold CPU forward. ``"cpu"`` runs on real tensors as a user of FlopCounterMode on
    CPU would (missing the CPU attention kernel unless ``completed``). ``"auto"`` is meta, and the
    CPU where the model cannot run on meta (an op with no meta kernel, a data-dependent branch),
    with a note in ``notes`` saying so. The caller's module is not modified. Raises EffprofError
    when the model rejects the input shape.
    """
    with torch.inference_mode(False):  # copies made here must be normal tensors (see counting_mode)
        if device != "auto":
            return _count_torch(model, tuple(input_shape), completed, device)
        try:
            return _count_torch(model, tuple(input_shape), completed, "meta")
        except EffprofError as on_meta:
            result = _count_torch(model, tuple(input_shape), completed, "cpu")
            result.notes.append(f"counted on CPU tensors: the model cannot run on the meta device ({on_meta.message})")
            return result


def _count_torch(
    model: nn.Module, input_shape: tuple[int, ...], completed: bool, device: str
) -> CountResult:
    run_model = on_device(model, device)
    root_name = type(run_model).__name__
    counter = FlopCounterMode(display=False, custom_mapping=completion_mapping() if completed else None)
    seen = _SeenOps(counter, root_name)
    x = torch.zeros(input_shape, device=device)
    # Meta costs nothing, so autograd stays on there (DESIGN.md); on real tensors it would keep every
    # activation alive for a backward that never comes, so it is off (the MHA fast path is off anyway).
    try:
        with counting_mode(run_model, grad=device == "meta"), single_thread(), seen, counter:
            run_model(x)
    except Exception as exc:  # the model's own complaint, kept in one line
        raise EffprofError(
            f"FlopCounterMode cannot run {root_name} on {tuple(input_shape)}: {one_line(exc)}"
        ) from exc

    inclusive: dict[str, Counter[str]] = {}
    for fqn, per_op in counter.get_flop_counts().items():
        if fqn == "Global":
            continue  # the root module's name carries the same totals
        path = _effprof_path(fqn, root_name)
        ops = Counter({f"aten::{op.__name__}": int(v) // FLOPS_PER_MAC for op, v in per_op.items()})
        inclusive[path] = inclusive.get(path, Counter()) + ops
    by_module_op = exclusive(inclusive, {p for p, _ in run_model.named_modules(remove_duplicate=False)})
    macs_by_op: Counter[str] = Counter()
    for ops in by_module_op.values():
        macs_by_op.update(ops)

    ignored_calls: Counter[str] = Counter()
    for ops in seen.uncounted.values():
        ignored_calls.update({op: n for op, n in ops.items() if not is_mac_op(op)})
    reason = "not a multiply-accumulate: FlopCounterMode counts only matmul, conv and attention kernels"
    completed_names = {f"aten::{op.__name__}" for op in completion_mapping()} if completed else set()
    return model_result(
        "torch+effprof" if completed else "torch", run_model, tuple(input_shape),
        op_table(run_model, {path: dict(ops) for path, ops in by_module_op.items() if ops}),
        uncounted={(path, op): n for path, ops in seen.uncounted.items() for op, n in ops.items() if is_mac_op(op)},
        ignored={op: (n, reason) for op, n in ignored_calls.items()},
        completed_ops={op: v for op, v in macs_by_op.items() if op in completed_names},
    )  # fmt: skip
