"""Adapter for fvcore's ``FlopCountAnalysis`` (and ``ActivationCountAnalysis`` for activations).

Counting rule: fvcore traces one forward with ``torch.jit`` and applies a handle per op of the
traced graph. Its "flop" is one multiply-accumulate, so its figures are effprof MACs as they are.
Stock fvcore also counts some non-MAC ops as flops -- ``batch_norm`` (1-2 per element),
``group_norm``/``layer_norm``/``instance_norm``, ``adaptive_avg_pool2d``, ``upsample_*``,
``grid_sampler`` -- and that stays in ``macs`` in stock mode (it is fvcore's answer); which ops
contributed is kept per op name in ``macs_by_op``/``macs_by_module_op`` so ``reconcile`` can name them.
Ops with no handle are reported by fvcore as unsupported (elementwise ops and, importantly,
``aten::scaled_dot_product_attention``): they go to ``unsupported``/``unsupported_by_module``.
``completed=True`` registers effprof's formulas for the MAC-bearing ops fvcore misses.

Real tensors: tracing executes the model, so it runs on the model's own device. A meta model is
materialised on the CPU with ``to_empty`` and zero-filled (shapes are all a count needs), and the
trace runs on one thread (``single_thread``: same answer, a fraction of the cost on a busy machine).
``torch.jit`` cannot trace on the meta device (meta kernels read traced sizes), so a real forward it is. The
trace runs under ``no_grad`` with the MHA fast path switched off: autograd would keep every
activation alive (EfficientNet-B7 at 600 px: 31 s and 4.5 GB instead of 10 s and 0.9 GB), and the
fast path is the only thing autograd was guarding against (DESIGN.md). One trace serves both the
flop and the activation analysis. fvcore's warnings and log lines are silenced: what they say is
in the result.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from contextlib import contextmanager
from typing import Any
from unittest import mock

import torch
from torch import nn

from effprof.counters.result import CountResult
from effprof.counters.tracing import (
    counting_mode,
    exclusive,
    is_meta_model,
    model_device,
    model_result,
    on_device,
    one_line,
    op_table,
    single_thread,
)
from effprof.errors import EffprofError
from effprof.formulas import ops as f


def _shape(value: Any) -> tuple[int, ...]:
    from fvcore.nn.jit_handles import get_shape

    shape = get_shape(value)
    if shape is None:
        raise EffprofError(
            "fvcore handle: an attention input has no complete shape in the trace", exit_code=1
        )
    return tuple(shape)


# --- effprof handles for the ops fvcore misses (jit values in, MACs out) ---------------------------


def _sdpa_handle(inputs: list, outputs: list) -> int:
    """aten::scaled_dot_product_attention(query, key, value, ...): effprof's sdpa formula."""
    return f.sdpa_macs(_shape(inputs[0]), _shape(inputs[1]), _shape(inputs[2]))


def _baddbmm_handle(inputs: list, outputs: list) -> int:
    """aten::baddbmm(bias, a, b, ...): a batched matmul; the bias add is not a MAC."""
    return f.matmul_macs(_shape(inputs[1]), _shape(inputs[2]))


def _native_mha_handle(inputs: list, outputs: list) -> int:
    """aten::_native_multi_head_attention(query, key, value, embed_dim, ...), batch-first."""
    query, key = _shape(inputs[0]), _shape(inputs[1])
    if len(query) == 2:
        query, key = (1, *query), (1, *key)
    batch, tokens_q, embed = query
    return f.mha_macs(tokens_q, key[1], batch, embed)


def _recurrent_handle(mode: str):
    """aten::lstm/gru/rnn_tanh/rnn_relu as traced from nn.LSTM/GRU/RNN: effprof's recurrent formula.

    Inputs: (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first),
    or for a PackedSequence (data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
    bidirectional); ``params`` is a list built in the graph, whose first two values are layer 0's
    W_ih (gates*hidden, features) and W_hh (gates*hidden, h). Every input row but the features is a step.
    """
    gates = f.RNN_GATES[mode]

    def handle(inputs: list, outputs: list) -> int:
        packed = inputs[3].type().kind() != "BoolType"
        at = 3 if packed else 2  # the params list; num_layers 2 and bidirectional 5 places later
        params, layers, both = inputs[at], inputs[at + 2], inputs[at + 5]
        w_ih, w_hh = (_shape(v) for v in list(params.node().inputs())[:2])
        x = _shape(inputs[0])
        hidden, state = w_ih[0] // gates, w_hh[1]
        return f.rnn_macs(
            mode,
            x[-1],
            hidden,
            f.numel(x[:-1]),
            num_layers=int(layers.toIValue()),
            bidirectional=bool(both.toIValue()),
            proj_size=state if state != hidden else 0,
        )

    return handle


def _scope(outputs: list) -> str:
    # fvcore charges an op to the last module scope of its node (canonical module path).
    return outputs[0].node().scopeName().split("/")[-1]


class _MatmulCheck:
    """fvcore's matmul handle, checked call by call against effprof's broadcast-aware formula.

    fvcore counts ``prod(a.shape) * b.shape[-1]``: right when ``a`` carries every batch dim, short
    when ``b`` brings batch dims of its own ((n, k) @ (B, k, m) counts n*k*m, not B*n*k*m), and an
    assertion error on a 1-d operand. Stock mode keeps fvcore's figure and records the shortfall per
    module; completed mode counts with effprof's formula.
    """

    def __init__(self, completed: bool) -> None:
        self.completed = completed
        self.short: dict[str, Counter[str]] = {}
        self.added = 0

    def __call__(self, inputs: list, outputs: list) -> int:
        from fvcore.nn.jit_handles import matmul_flop_jit

        ours = f.matmul_macs(_shape(inputs[0]), _shape(inputs[1]))
        try:
            theirs = int(matmul_flop_jit(inputs, outputs))
        except (AssertionError, IndexError):  # fvcore rejects 1-d operands
            theirs = 0
        if ours != theirs:
            self.short.setdefault(_scope(outputs), Counter())["matmul"] += ours - theirs
            self.added += ours - theirs
        return ours if self.completed else theirs


def _output_elements(inputs: list, outputs: list) -> int:
    """fvcore's activation convention: the elements of the op's (first) output."""
    return f.numel(_shape(outputs[0]))


COMPLETION_HANDLES = {
    "aten::scaled_dot_product_attention": _sdpa_handle,
    "aten::baddbmm": _baddbmm_handle,
    "aten::_native_multi_head_attention": _native_mha_handle,
    **{f"aten::{name}": _recurrent_handle(mode) for name, mode in f.RNN_OPS.items()},
}


# --- the count ---------------------------------------------------------------------------------

#: fvcore traces a real forward on the CPU, so its cost grows with the model's MACs (FlopCounterMode
#: counts on the meta device at any size); run automatically only up to this size
FVCORE_AUTO_MAX_GMACS = 5.0


def fvcore_skip_reason(macs: int) -> str | None:
    """Why fvcore is not run automatically on a model of ``macs`` MACs (None: it is), in one line
    a table footer can show; ``--counters analytic,fvcore,torch`` runs it anyway."""
    if macs <= FVCORE_AUTO_MAX_GMACS * 1e9:
        return None
    return (
        f"fvcore not run: {macs / 1e9:.3g} GMACs is over the automatic limit of {FVCORE_AUTO_MAX_GMACS:g} "
        "(it traces a real CPU forward); --counters analytic,fvcore,torch runs it"
    )



@contextmanager
def _quiet() -> Any:
    """fvcore logs unsupported ops and uncalled modules; torch.jit warns while tracing. Silence both."""
    logger = logging.getLogger("fvcore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _configure(analysis: Any) -> Any:
    return analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")


def _analyses(model: nn.Module, x: torch.Tensor, completed: bool, matmul: _MatmulCheck) -> tuple[Any, Any]:
    from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis, jit_analysis

    flops = _configure(FlopCountAnalysis(model, (x,)))
    flops.set_op_handle("aten::matmul", matmul)
    acts = _configure(ActivationCountAnalysis(model, (x,)))
    if completed:
        flops.set_op_handle(**COMPLETION_HANDLES)
        acts.set_op_handle(**dict.fromkeys(COMPLETION_HANDLES, _output_elements))
    graphs: list[Any] = []
    trace = jit_analysis._get_scoped_trace_graph

    def trace_once(*args: Any) -> Any:
        # Both analyses trace the same model on the same input: trace once, hand the graph to both.
        if not graphs:
            graphs.append(trace(*args))
        return graphs[0]

    with mock.patch.object(jit_analysis, "_get_scoped_trace_graph", trace_once):
        flops.total()
        acts.total()
    return flops, acts


def count_fvcore(model: nn.Module, input_shape: tuple[int, ...], *, completed: bool = False) -> CountResult:
    """Count params, MACs (fvcore flops) and activations of ``model`` with fvcore on one input shape.

    The model runs where its parameters live (a meta model is materialised on the CPU); the
    caller's module is not modified. Raises EffprofError when fvcore is not installed or the model
    cannot be traced on this input shape.
    """
    try:
        with _quiet():  # importing fvcore scripts a loss function: a torch.jit deprecation warning
            import fvcore.nn  # noqa: F401
    except ImportError as exc:
        raise EffprofError(
            f"fvcore is not installed ({exc}); `pip install fvcore` to compare with it"
        ) from None
    label = type(model).__name__
    matmul = _MatmulCheck(completed)
    try:
        # outside inference mode, copies included (see counting_mode)
        with torch.inference_mode(False), _quiet():
            run_model = on_device(model, "cpu") if is_meta_model(model) else model
            x = torch.zeros(input_shape, device=model_device(run_model))
            with counting_mode(run_model, grad=False), single_thread():
                flops, acts = _analyses(run_model, x, completed, matmul)
    except EffprofError:
        raise
    except Exception as exc:  # the model's or the tracer's own complaint, kept in one line
        raise EffprofError(
            f"fvcore cannot trace {label} on {tuple(input_shape)}: {one_line(exc)}", exit_code=1
        ) from exc

    paths = set(flops.by_module())
    macs_by_module_op = _rounded(exclusive(flops.by_module_and_operator(), paths))
    acts_by_module_op = _rounded(exclusive(acts.by_module_and_operator(), paths))
    unsupported = exclusive({path: flops.unsupported_ops(path) for path in paths}, paths)
    completed_names = {name.split("::")[-1] for name in COMPLETION_HANDLES} if completed else set()
    completed_ops = {op: int(round(v)) for op, v in flops.by_operator().items() if op in completed_names}
    if completed and matmul.added:
        completed_ops["matmul"] = matmul.added
    return model_result(
        "fvcore+effprof" if completed else "fvcore", run_model, tuple(input_shape),
        op_table(run_model, macs_by_module_op, acts_by_module_op),
        uncounted={(path, op): n for path, ops in unsupported.items() for op, n in ops.items()},
        completed_ops=completed_ops,
        miscounted_by_module={} if completed else {p: dict(c) for p, c in matmul.short.items()},
    )  # fmt: skip


def _rounded(table: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
    # fvcore's einsum handle returns floats; MACs are integers.
    return {p: {op: int(round(v)) for op, v in ops.items()} for p, ops in table.items() if ops}


__all__ = ["COMPLETION_HANDLES", "FVCORE_AUTO_MAX_GMACS", "count_fvcore", "fvcore_skip_reason"]
