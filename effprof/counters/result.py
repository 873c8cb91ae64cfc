"""CountResult: what every counter (analytic, fvcore, FlopCounterMode, ONNX) returns, in effprof's units.

One stored table, every view derived (fvcore ``JitModelAnalysis``): the counter fills ``table``,
one ``OpCount`` per (module, op, op class) with the MACs, other ops, activations, bytes and calls of
that op in that module's *own* forward (exclusive: children's ops are theirs, so the rows sum to the
model total); ops it could not count go to ``uncounted`` per (module, op), ops skipped on purpose to
``ignored``. Totals (``macs``, ``other_ops``, ``activations``), per-layer rows (``layers``), per-module
(``macs_by_module``, ``unsupported_by_module``), per-op (``macs_by_op``, ``macs_by_module_op``) and
per-op-class (``by_op_class``) figures are all computed from that table, never assembled by hand.

``macs`` are multiply-accumulates in the counter's own convention converted to MACs (fvcore's stock
figure includes the norms and pooling it counts as flops; ``macs_by_op`` says which). ``other_ops``
is the non-MAC work of norms, activations, pooling and elementwise ops (analytic and ONNX only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from effprof.counters.vocabulary import ACTIVATION_OP_CLASSES, OP_CLASSES, is_mac_op

__all__ = ["ACTIVATION_OP_CLASSES", "OP_CLASSES", "CountResult", "LayerCount", "OpCount", "OpCountResult"]


@dataclass
class OpCount:
    """One cell of the count table: one op (in the counter's spelling) of one op class in one module."""

    layer: str  # dotted module path, "" for the root module
    op: str
    op_class: str
    macs: int = 0
    other_ops: int = 0
    activations: int = 0
    bytes: int = 0  # inputs + outputs (weights included) read/written once
    calls: int = 0  # 0 where the counter reports totals, not calls (fvcore, FlopCounterMode)
    output_shape: tuple[int, ...] = ()
    #: order of the last call that landed here (the layer row shows the latest output shape)
    last: int = 0


@dataclass
class LayerCount:
    """One (module, op class) row: the ops of that class a module runs in its own forward."""

    layer: str  # dotted module path, "" for the root module
    type: str  # module class name (the op's name where there is no module: ONNX nodes)
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


class CountTable:
    """A table being filled: ``add`` sums into the (layer, op, op class) cell, in first-seen order."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str, str], OpCount] = {}
        self._order = 0

    def add(
        self, layer: str, op: str, op_class: str, *, macs: int = 0, other_ops: int = 0, activations: int = 0,
        bytes: int = 0, calls: int = 0, output_shape: tuple[int, ...] | None = None,
    ) -> OpCount:  # fmt: skip
        key = (layer, op, op_class)
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = OpCount(layer, op, op_class)
        cell.macs += int(macs)
        cell.other_ops += int(other_ops)
        cell.activations += int(activations)
        cell.bytes += int(bytes)
        cell.calls += calls
        if output_shape is not None:
            self._order += 1
            cell.output_shape, cell.last = tuple(output_shape), self._order
        return cell

    def rows(self) -> list[OpCount]:
        return list(self.cells.values())


@dataclass
class CountResult:
    """The count table of one counter on one model and input shape, and every view of it."""

    counter: str
    input_shape: tuple[int, ...]
    #: the one stored table: (module, op, op class) cells, exclusive, in first-seen order
    table: list[OpCount] = field(default_factory=list)
    params: int = 0
    trainable_params: int = 0
    weight_bytes: int = 0
    #: module path -> class name (where the counter sees modules)
    module_types: dict[str, str] = field(default_factory=dict)
    #: module path -> its own parameters (each shared parameter counted once)
    module_params: dict[str, int] = field(default_factory=dict)
    #: (module path, op name) -> calls the counter could not count (reported, never a silent zero)
    uncounted: dict[tuple[str, str], int] = field(default_factory=dict)
    #: op name -> (calls, reason) for ops skipped on purpose
    ignored: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: op name -> MACs that effprof's formulas added in completed mode (fvcore/torch + effprof)
    completed_ops: dict[str, int] = field(default_factory=dict)
    #: module path -> op name -> MACs the counter's own handle came short of effprof's formula
    #: (a known handle gap, e.g. fvcore's matmul on a broadcast batch), checked call by call
    miscounted_by_module: dict[str, dict[str, int]] = field(default_factory=dict)
    #: one line each about how this count was made where it matters (e.g. run on CPU, not meta)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_layers(cls, counter: str, input_shape: tuple[int, ...], layers: Iterable[LayerCount], **kwargs) -> CountResult:
        """A result whose table has one cell per given layer row (op named by the row's type): for tests
        and for figures that come per layer already."""
        rows = list(layers)
        table = CountTable()
        module_params: dict[str, int] = {}
        for r in rows:
            table.add(r.layer, r.type, r.op_class, macs=r.macs, other_ops=r.other_ops, activations=r.activations,
                      bytes=r.bytes, calls=r.calls, output_shape=r.output_shape)  # fmt: skip
            module_params[r.layer] = module_params.get(r.layer, 0) + r.params
        kwargs.setdefault("module_types", {r.layer: r.type for r in rows})
        kwargs.setdefault("params", sum(module_params.values()))
        return cls(counter, tuple(input_shape), table.rows(), module_params=module_params, **kwargs)

    # --- totals ------------------------------------------------------------------------------

    @cached_property
    def macs(self) -> int:
        """Multiply-accumulates of the whole forward (the counter's own convention, in MACs)."""
        return sum(c.macs for c in self.table)

    @cached_property
    def other_ops(self) -> int:
        """Non-MAC work: norms, activations, pooling, elementwise (analytic and ONNX counters)."""
        return sum(c.other_ops for c in self.table)

    @cached_property
    def activations(self) -> int:
        """Elements output by conv, linear, matmul and attention ops (fvcore's / RegNet's convention)."""
        return sum(c.activations for c in self.table if c.op_class in ACTIVATION_OP_CLASSES)

    @property
    def flops(self) -> int:
        """FLOPs = 2 x MACs, always."""
        return 2 * self.macs

    # --- per layer -----------------------------------------------------------------------------

    @cached_property
    def layers(self) -> list[LayerCount]:
        """One row per (module, op class), in first-seen order; a module's own params on its first row."""
        rows: dict[tuple[str, str], LayerCount] = {}
        last: dict[tuple[str, str], int] = {}
        has_row: set[str] = set()
        for c in self.table:
            key = (c.layer, c.op_class)
            row = rows.get(key)
            if row is None:
                params = self.module_params.get(c.layer, 0) if c.layer not in has_row else 0
                has_row.add(c.layer)
                kind = self.module_types.get(c.layer) or (c.op if not self.module_types else "?")
                row = rows[key] = LayerCount(c.layer, kind, c.op_class, params=params)
            row.macs += c.macs
            row.other_ops += c.other_ops
            row.activations += c.activations if c.op_class in ACTIVATION_OP_CLASSES else 0
            row.bytes += c.bytes
            row.calls += c.calls
            if c.last >= last.get(key, 0) and c.output_shape:
                row.output_shape, last[key] = c.output_shape, c.last
        return list(rows.values())

    @cached_property
    def macs_by_module(self) -> dict[str, int]:
        """Exclusive MACs per module path (modules with none left out)."""
        out: Counter[str] = Counter()
        for c in self.table:
            out[c.layer] += c.macs
        return {k: v for k, v in out.items() if v}

    @cached_property
    def unsupported_by_module(self) -> dict[str, Counter[str]]:
        """Module path -> op name -> calls not counted there."""
        out: dict[str, Counter[str]] = {}
        for (layer, op), n in self.uncounted.items():
            if n:
                out.setdefault(layer, Counter())[op] += n
        return out

    @cached_property
    def unsupported(self) -> Counter[str]:
        """Op name -> calls the counter could not count, whole model."""
        out: Counter[str] = Counter()
        for (_layer, op), n in self.uncounted.items():
            out[op] += n
        return +out

    # --- per op ----------------------------------------------------------------------------------

    @cached_property
    def macs_by_op(self) -> dict[str, int]:
        """Op name -> MACs counted under that op (whole model)."""
        out: Counter[str] = Counter()
        for c in self.table:
            out[c.op] += c.macs
        return {k: v for k, v in out.items() if v}

    @cached_property
    def macs_by_module_op(self) -> dict[str, dict[str, int]]:
        """Module path -> op name -> MACs the module's own forward ran under that op."""
        out: dict[str, dict[str, int]] = {}
        for c in self.table:
            if c.macs:
                ops = out.setdefault(c.layer, {})
                ops[c.op] = ops.get(c.op, 0) + c.macs
        return out

    def mac_ops_by_module(self) -> dict[str, int]:
        """Per module, only the MAC-bearing ops (conv, linear, matmul, attention); modules with none left out."""
        sums: Counter[str] = Counter()
        for c in self.table:
            if is_mac_op(c.op) or c.op_class in ACTIVATION_OP_CLASSES:
                sums[c.layer] += c.macs
        return {path: v for path, v in sums.items() if v}

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


#: the name the fvcore and torch adapters' results had when they were a subclass; one class now
OpCountResult = CountResult
