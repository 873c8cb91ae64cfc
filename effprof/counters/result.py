"""CountResult: what every counter (analytic, fvcore, FlopCounterMode) returns, in effprof's units.

``macs`` are multiply-accumulates; ``other_ops`` the non-MAC work of norms, activations, pooling and
elementwise ops (analytic counter only). Per-module figures are *exclusive*: the ops a module runs
in its own forward, not its children's, so they sum to the model total.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

OP_CLASSES = (
    "conv_dense",
    "conv_depthwise",
    "conv_pointwise",
    "conv_grouped",
    "linear",
    "attention",
    "norm",
    "activation",
    "pool",
    "elementwise",
    "other",
)

#: Op classes whose outputs count as activations (fvcore's and RegNet's convention).
ACTIVATION_OP_CLASSES = frozenset(
    {"conv_dense", "conv_depthwise", "conv_pointwise", "conv_grouped", "linear", "attention"}
)


@dataclass
class LayerCount:
    """One (module, op class) pair: the ops of that class a module runs in its own forward."""

    layer: str  # dotted module path, "" for the root module
    type: str  # module class name
    op_class: str
    macs: int = 0
    other_ops: int = 0
    params: int = 0  # the module's own parameters, on its first row only
    activations: int = 0
    bytes: int = 0  # inputs + outputs (weights included) read/written once
    output_shape: tuple[int, ...] = ()
    calls: int = 0

    @property
    def intensity(self) -> float:
        """Arithmetic intensity in MACs per byte moved."""
        return self.macs / self.bytes if self.bytes else 0.0


@dataclass
class CountResult:
    """Totals and per-layer counts of one counter on one model and input shape."""

    counter: str
    input_shape: tuple[int, ...]
    macs: int
    params: int = 0
    trainable_params: int = 0
    other_ops: int = 0
    activations: int = 0
    weight_bytes: int = 0
    layers: list[LayerCount] = field(default_factory=list)
    #: exclusive MACs per module path
    macs_by_module: dict[str, int] = field(default_factory=dict)
    #: op name -> how many calls the counter could not count (reported, never a silent zero)
    unsupported: Counter[str] = field(default_factory=Counter)
    #: module path -> op name -> calls not counted there
    unsupported_by_module: dict[str, Counter[str]] = field(default_factory=dict)
    #: op name -> (calls, reason) for ops skipped on purpose
    ignored: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def flops(self) -> int:
        """FLOPs = 2 x MACs, always."""
        return 2 * self.macs

    def by_op_class(self) -> dict[str, dict[str, int]]:
        """MACs, params and other_ops summed per op class, in OP_CLASSES order."""
        table = {c: {"macs": 0, "params": 0, "other_ops": 0, "layers": 0} for c in OP_CLASSES}
        for row in self.layers:
            entry = table[row.op_class]
            entry["macs"] += row.macs
            entry["params"] += row.params
            entry["other_ops"] += row.other_ops
            entry["layers"] += 1
        return {c: v for c, v in table.items() if v["layers"]}
