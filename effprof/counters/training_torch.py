"""FlopCounterMode's *measured* forward + backward of one training step, and where effprof's count differs.

Counting rule: the same head-replaced, frozen model (effprof.models.freeze) on the meta device runs
forward, a cross-entropy loss and ``loss.backward()`` under ``torch.utils.flop_counter.FlopCounterMode``,
which counts the aten ops autograd really runs (``convolution_backward`` with its output mask, the
``mm``s of a linear's backward, the ``bmm``s of attention's math path) at 2 FLOPs per MAC: divided by
2 here. Forward and backward are read apart (the counts after the forward, then after the backward).

``reconcile_training`` lines the step's total up with effprof's analytic count
(effprof.counters.training) and names the known difference -- FlopCounterMode's grad-weight of
grouped convs -- with the layers it comes from; what no named reason explains is left in
``unexplained_macs``.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from effprof.counters.torch_mode import FLOPS_PER_MAC
from effprof.counters.tracing import counting_mode, one_line, to_meta
from effprof.counters.training import TrainingCount
from effprof.errors import EffprofError
from effprof.models.freeze import setup_training


@dataclass
class TorchTrainingCount:
    """FlopCounterMode's forward and backward MACs of one training step (its FLOPs / 2), whole model."""

    forward_macs: int
    backward_macs: int
    #: aten op -> MACs FlopCounterMode counted for it in the backward alone (``convolution_backward``, ``mm``)
    backward_by_op: dict[str, int] = field(default_factory=dict)

    @property
    def training_macs(self) -> int:
        return self.forward_macs + self.backward_macs


def _global_macs_by_op(counter: FlopCounterMode) -> Counter[str]:
    return Counter({f"aten::{op.__name__}": int(v) // FLOPS_PER_MAC
                    for op, v in counter.get_flop_counts().get("Global", {}).items()})  # fmt: skip


def count_training_torch(
    model: nn.Module, input_shape: tuple[int, ...], *, freeze: str = "none", num_classes: int | None = None
) -> TorchTrainingCount:
    """FlopCounterMode's forward and backward MACs of ``model`` set up as ``freeze``/``num_classes`` say (on meta).

    Whole-model figures only: FlopCounterMode's per-module attribution does not hold in the backward
    (its module tracker charges some backward ops to several modules at once: on ghostnet_100 the
    per-module exclusive sums come to 2.9x its global total), so its global counts are read.
    """
    with torch.inference_mode(False):
        meta = to_meta(model)
        run = copy.deepcopy(meta) if meta is model else meta
        setup_training(run, freeze, num_classes)
        counter = FlopCounterMode(display=False)
        shape = tuple(input_shape)
        x = torch.zeros(shape, device="meta")
        try:
            with counting_mode(run, grad=True), counter:
                out = run(x)
                forward, forward_by_op = counter.get_total_flops() // FLOPS_PER_MAC, _global_macs_by_op(counter)
                if out.requires_grad:
                    target = torch.zeros(out.shape[0], dtype=torch.long, device="meta")
                    F.cross_entropy(out, target).backward()
        except Exception as exc:  # the model's own complaint, kept in one line
            raise EffprofError(f"FlopCounterMode cannot run a training step of {type(run).__name__} on {shape}: "
                               f"{one_line(exc)}") from exc  # fmt: skip
        backward_by_op = _global_macs_by_op(counter)
        backward_by_op.subtract(forward_by_op)
        return TorchTrainingCount(
            forward_macs=forward,
            backward_macs=counter.get_total_flops() // FLOPS_PER_MAC - forward,
            backward_by_op={op: v for op, v in backward_by_op.items() if v},
        )


#: why FlopCounterMode's backward exceeds effprof's on grouped and depthwise convs
GROUPED_CONV_REASON = (
    "FlopCounterMode's convolution_backward formula ignores groups for the weight gradient "
    "(torch/utils/flop_counter.py conv_backward_flop counts it as a dense conv of the transposed input): "
    "it counts groups x the real grad-weight MACs of every grouped or depthwise conv"
)


@dataclass
class TrainingDifference:
    """One named reason why effprof's forward + backward differs from FlopCounterMode's, and by how much."""

    reason: str
    torch_minus_analytic_macs: int
    layers: list[str] = field(default_factory=list)


@dataclass
class TrainingReconciliation:
    """effprof's analytic training MACs against FlopCounterMode's measured ones, differences named."""

    analytic_macs: int
    torch_macs: int
    differences: list[TrainingDifference] = field(default_factory=list)

    @property
    def explained_macs(self) -> int:
        return sum(d.torch_minus_analytic_macs for d in self.differences)

    @property
    def unexplained_macs(self) -> int:
        """What no named reason accounts for: torch - analytic - explained (0 when everything is named)."""
        return self.torch_macs - self.analytic_macs - self.explained_macs

    @property
    def relative_difference(self) -> float:
        """(analytic - torch) / torch, before any reason is taken off."""
        return (self.analytic_macs - self.torch_macs) / self.torch_macs if self.torch_macs else 0.0

    @property
    def relative_unexplained(self) -> float:
        return self.unexplained_macs / self.torch_macs if self.torch_macs else 0.0


def grouped_conv_excess(model: nn.Module, analytic: TrainingCount) -> TrainingDifference:
    """FlopCounterMode's extra grad-weight MACs on grouped convs: (groups - 1) x the real grad-weight, per conv."""
    modules = dict(model.named_modules())
    excess, layers = 0, []
    for row in analytic.layers:
        module = modules.get(row.layer)
        if row.grad_weight_macs and isinstance(module, nn.modules.conv._ConvNd) and module.groups > 1:
            excess += (module.groups - 1) * row.grad_weight_macs
            layers.append(row.layer)
    return TrainingDifference(GROUPED_CONV_REASON, excess, layers)


def reconcile_training(
    model: nn.Module, analytic: TrainingCount, torch_count: TorchTrainingCount
) -> TrainingReconciliation:
    """Line up effprof's forward + backward with FlopCounterMode's and name why they differ.

    ``model`` is the model as counted, on any device: only its convs' hyper-parameters are read (a
    replaced head is a Linear at the same path, so the paths are the counted model's).
    """
    differences = [d for d in (grouped_conv_excess(model, analytic),) if d.torch_minus_analytic_macs]
    return TrainingReconciliation(analytic.training_macs, torch_count.training_macs, differences)
