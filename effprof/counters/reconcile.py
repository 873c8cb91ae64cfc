"""Reconcile counters: where do analytic, fvcore and FlopCounterMode disagree, and why.

Counting rule of the comparison: per module, *exclusive* MACs (the ops a module runs in its own
forward), each counter against a reference (effprof's analytic counter). A module disagrees when
a counter's figure differs from the reference by more than ``threshold`` (relative). Every
disagreement gets a reason in words, built from what the counters themselves reported:

- a non-MAC op a counter counts as MACs (fvcore's ``batch_norm``, ``layer_norm``,
  ``adaptive_avg_pool2d``, ``upsample_*``): named, with the effprof column it belongs in;
- a MAC-bearing op a counter could not count (``unsupported`` / no formula): named, 0 counted;
- an op the reference itself could not count;
- anything else is *unexplained* (``named=False``): a bug in a formula or in module attribution.

The op vocabulary (which op names carry MACs, which op class an op belongs to) is
``effprof.counters.vocabulary``; the per-op breakdown the reasons are built from is every
CountResult's ``macs_by_module_op``. Pure functions over CountResults: no torch, no fvcore imports.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from effprof.counters.result import CountResult, OpCountResult  # noqa: F401  (OpCountResult: its import path before)
from effprof.counters.vocabulary import CLASS_WORDS, is_mac_op, op_base_name, op_class_of
from effprof.errors import EffprofError

__all__ = ["Disagreement", "OpCountResult", "Reconciliation", "is_mac_op", "op_base_name", "op_class_of", "reconcile"]


def _mac_part(result: CountResult) -> dict[str, int]:
    return result.mac_ops_by_module()


def _non_mac_ops(result: CountResult, path: str) -> dict[str, int]:
    return {op: v for op, v in result.macs_by_module_op.get(path, {}).items() if v and not is_mac_op(op)}


# --- comparison -------------------------------------------------------------------------------------


@dataclass
class Disagreement:
    """One counter's figure on one module (or op class) that differs from the reference."""

    layer: str  # module path, or "op_class:<name>" for the per-class comparison
    counter: str
    macs: int  # the reference's MACs
    macs_counter: int
    diff_pct: float  # (counter - reference) / reference x 100; inf when the reference is 0
    reason: str
    named: bool  # False when no reported cause explains the difference


@dataclass
class Reconciliation:
    """Per-module and per-op-class comparison of several counters against a reference."""

    reference: str
    counters: list[str]
    threshold: float
    #: module path -> counter -> exclusive MACs (the reference included)
    by_module: dict[str, dict[str, int]]
    #: module path -> module class name
    types: dict[str, str]
    #: op class -> counter -> MACs
    by_op_class: dict[str, dict[str, int]]
    disagreements: list[Disagreement]
    #: counter -> share of the reference's MACs the counter also counted, module by module
    coverage: dict[str, float]
    totals: dict[str, int]
    #: counter -> one line per MAC-bearing op it could not count, or effprof completed
    notes: dict[str, list[str]] = field(default_factory=dict)
    #: counter -> every op it could not count (MAC-bearing or not) -> calls; the reference included
    unsupported_ops: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def unexplained(self) -> list[Disagreement]:
        """Disagreements no reported cause accounts for (should be empty)."""
        return [d for d in self.disagreements if not d.named]

    def reasons(self, counter: str | None = None) -> list[str]:
        """The distinct reasons, in order of first appearance (optionally for one counter)."""
        seen: dict[str, None] = {}
        for d in self.disagreements:
            if counter is None or d.counter == counter:
                for part in d.reason.split("; "):
                    seen.setdefault(part, None)
        return list(seen)

    def coverage_lines(self) -> list[str]:
        """One line per counter: the share of the reference's MACs it saw, and everything it missed.

        Counting rule of the caveats: every op any counter could not count is on the line (MAC ops
        by name with their calls, then the other ops' calls), the reference's own included (its
        misses are in no total, so a share of its total is a share of what it counted), and so is
        every difference with no named reason. A share is printed as 100.0% only when it is exact
        and nothing is missing or unexplained.
        """
        ref = self.totals.get(self.reference, 0)
        ref_gaps = self.unsupported_ops.get(self.reference, Counter())
        lines = []
        for name in self.counters:
            if name == self.reference:
                continue
            share = self.coverage.get(name, 0.0)
            unexplained = sum(1 for d in self.unexplained if d.counter == name)
            if share >= 1.0 and (ref_gaps or unexplained):
                # "100%" next to a gap reads as "all accounted for"; say what the share is of.
                line = f"{name}: counted every MAC of the {ref / 1e9:.4g} GMACs {self.reference} counted"
            else:
                line = f"{name}: counted {_share_text(share)} of {self.reference}'s {ref / 1e9:.4g} GMACs"
            caveats = list(self.notes.get(name, []))
            other = {
                op: n for op, n in self.unsupported_ops.get(name, Counter()).items() if not is_mac_op(op)
            }
            if other:
                caveats.append(f"{name} could not count {_op_list(other)} (no MACs in them)")
            if ref_gaps:
                caveats.append(f"{self.reference} itself has no formula for {_op_list(ref_gaps)}")
            if unexplained:
                caveats.append(f"{unexplained} differences have no named reason")
            if caveats:
                line += " (" + "; ".join(caveats) + ")"
            lines.append(line)
        return lines

    def to_rows(self, *, only_disagreements: bool = False) -> list[dict]:
        """One dict per module any counter charged MACs to.

        Keys: layer, type, macs (the reference's), macs_<counter> and diff_pct_<counter> per other
        counter, diff_pct (the largest of those, signed) and reason ("; "-joined, "" when all agree).
        """
        by_layer: dict[str, list[Disagreement]] = {}
        for d in self.disagreements:
            by_layer.setdefault(d.layer, []).append(d)
        rows = []
        for path, figures in self.by_module.items():
            if (only_disagreements and path not in by_layer) or not any(figures.values()):
                continue
            ref = figures.get(self.reference, 0)
            row: dict = {"layer": path, "type": self.types.get(path, "?"), "macs": ref}
            diffs = []
            for name in self.counters:
                if name != self.reference:
                    row[f"macs_{name}"] = figures.get(name, 0)
                    row[f"diff_pct_{name}"] = _diff_pct(figures.get(name, 0), ref)
                    diffs.append(row[f"diff_pct_{name}"])
            # the largest disagreement of any counter, signed: one column for a compact table
            row["diff_pct"] = max(diffs, key=abs, default=0.0)
            row["reason"] = "; ".join(f"{d.reason}" for d in by_layer.get(path, []))
            rows.append(row)
        return rows

    def op_class_rows(self) -> list[dict]:
        """One dict per op class: op_class, macs (reference), macs_<counter>, diff_pct_<counter>, reason."""
        reasons = {
            d.layer.removeprefix("op_class:"): d
            for d in self.disagreements
            if d.layer.startswith("op_class:")
        }
        rows = []
        for op_class, figures in self.by_op_class.items():
            ref = figures.get(self.reference, 0)
            row: dict = {"op_class": op_class, "macs": ref}
            for name in self.counters:
                if name != self.reference:
                    row[f"macs_{name}"] = figures.get(name, 0)
                    row[f"diff_pct_{name}"] = _diff_pct(figures.get(name, 0), ref)
            row["reason"] = "; ".join(d.reason for k, d in reasons.items() if k == op_class)
            rows.append(row)
        return rows


def _share_text(share: float) -> str:
    # 99.96% must not read "100.0%": the rounding would hide a gap.
    text = f"{share:.1%}"
    return ">99.9%" if text == "100.0%" and share < 1.0 else text


def _op_list(ops: Counter[str] | dict[str, int], limit: int = 4) -> str:
    """``lstm x36, type_as x2 and 3 more ops``: most calls first, every call counted."""
    ranked = sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{op_base_name(op)} x{n}" for op, n in ranked[:limit])
    if len(ranked) > limit:
        rest = sum(n for _, n in ranked[limit:])
        text += f" and {len(ranked) - limit} more ops ({_calls(rest)})"
    return text


def _diff_pct(value: int, ref: int) -> float:
    if ref == 0:
        return 0.0 if value == 0 else math.inf
    return 100.0 * (value - ref) / ref


def _differs(value: int, ref: int, threshold: float) -> bool:
    if ref == 0:
        return value != 0
    return abs(value - ref) > threshold * abs(ref)


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def _missing_phrase(counter: str, op: str, calls: int) -> str:
    # FlopCounterMode has no "unsupported" notion: an op it sees without a formula is silently 0.
    if counter.startswith("torch"):
        return f"{counter}: {op} has no formula ({_calls(calls)}), 0 counted"
    return f"{counter}: {op} unsupported ({_calls(calls)}), 0 counted"


def _short_phrase(counter: str, op: str, macs: int) -> str:
    return f"{counter}: its {op} handle counts {abs(macs)} MACs {'less' if macs > 0 else 'more'} than the formula on these shapes"


def _extra_phrase(counter: str, ops: dict[str, int]) -> list[str]:
    by_class: dict[str, list[str]] = {}
    for op in sorted(ops):
        by_class.setdefault(op_class_of(op), []).append(op_base_name(op))
    return [
        f"{counter} counts {', '.join(names)} as flops ({CLASS_WORDS.get(cls, cls)} are other_ops in effprof)"
        for cls, names in by_class.items()
    ]


def _module_reasons(
    name: str,
    result: CountResult,
    reference: CountResult,
    ref_name: str,
    path: str,
    ref_macs: int,
    threshold: float,
) -> tuple[list[str], bool]:
    """Why ``result`` differs from the reference on one module; (reasons, all named)."""
    reasons = _extra_phrase(name, _non_mac_ops(result, path))
    mac_part = _mac_part(result).get(path, 0)
    missing = {op: n for op, n in result.unsupported_by_module.get(path, Counter()).items() if is_mac_op(op)}
    ref_missing = {
        op: n for op, n in reference.unsupported_by_module.get(path, Counter()).items() if is_mac_op(op)
    }
    reasons += [_missing_phrase(name, op, n) for op, n in sorted(missing.items())]
    short = result.miscounted_by_module.get(path, {})
    reasons += [_short_phrase(name, op, v) for op, v in sorted(short.items()) if v]
    missing.update({op: v for op, v in short.items() if v > 0})
    reasons += [
        f"{ref_name}: {op} unsupported ({_calls(n)}), 0 counted" for op, n in sorted(ref_missing.items())
    ]
    named = True
    if _differs(mac_part, ref_macs, threshold):
        explained = (mac_part < ref_macs and missing) or (mac_part > ref_macs and ref_missing)
        if not explained:
            named = False
            reasons.append(
                f"{name}: conv/linear/matmul/attention MACs {mac_part} vs {ref_name} {ref_macs}, not explained"
            )
    return reasons, named


def _class_table(results: dict[str, CountResult]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for name, result in results.items():
        for op_class, entry in result.by_op_class().items():
            table.setdefault(op_class, {})[name] = entry["macs"]
    return table


def _class_reason(name: str, result: CountResult, op_class: str) -> tuple[str, bool]:
    missing: Counter[str] = Counter()
    extra = {op: v for op, v in result.macs_by_op.items() if v and not is_mac_op(op) and op_class_of(op) == op_class}
    for op, n in result.unsupported.items():
        if is_mac_op(op) and op_class_of(op) == op_class:
            missing[op] += n
    short: Counter[str] = Counter()
    for ops in result.miscounted_by_module.values():
        short.update({op: v for op, v in ops.items() if op_class_of(op) == op_class})
    parts = _extra_phrase(name, extra) + [_missing_phrase(name, op, n) for op, n in sorted(missing.items())]
    parts += [_short_phrase(name, op, v) for op, v in sorted(short.items()) if v]
    if parts:
        return "; ".join(parts), True
    return f"{name}: {op_class} MACs differ, not explained", False


def reconcile(
    results: dict[str, CountResult], *, threshold: float = 0.01, reference: str = "analytic"
) -> Reconciliation:
    """Compare counters module by module and op class by op class against ``reference``.

    ``results`` maps a short label ("analytic", "fvcore", "torch", "fvcore+effprof", ...) to that
    counter's CountResult on the same model and input shape. Raises EffprofError when the reference
    is missing or the input shapes differ.
    """
    if reference not in results:
        raise EffprofError(f"reconcile needs the reference counter {reference!r}; got {', '.join(results)}")
    shapes = {tuple(r.input_shape) for r in results.values()}
    if len(shapes) > 1:
        raise EffprofError(f"reconcile needs counts on one input shape; got {sorted(shapes)}")
    ref = results[reference]
    names = [reference, *[n for n in results if n != reference]]

    paths: dict[str, None] = {}
    for name in names:
        paths.update(dict.fromkeys(results[name].macs_by_module))
        paths.update(dict.fromkeys(results[name].unsupported_by_module))
    types: dict[str, str] = {}
    for name in names:
        for row in results[name].layers:
            types.setdefault(row.layer, row.type)

    by_module = {p: {n: int(results[n].macs_by_module.get(p, 0)) for n in names} for p in paths}
    disagreements: list[Disagreement] = []
    for path, figures in by_module.items():
        ref_macs = figures[reference]
        for name in names[1:]:
            value = figures[name]
            if not _differs(value, ref_macs, threshold):
                continue
            reasons, named = _module_reasons(name, results[name], ref, reference, path, ref_macs, threshold)
            if not reasons:
                reasons, named = [f"{name}: {value} vs {reference} {ref_macs}, not explained"], False
            disagreements.append(
                Disagreement(
                    path, name, ref_macs, value, _diff_pct(value, ref_macs), "; ".join(reasons), named
                )
            )

    by_class = _class_table({n: results[n] for n in names})
    for op_class, figures in by_class.items():
        ref_macs = figures.get(reference, 0)
        for name in names[1:]:
            value = figures.get(name, 0)
            if _differs(value, ref_macs, threshold):
                reason, named = _class_reason(name, results[name], op_class)
                disagreements.append(
                    Disagreement(
                        f"op_class:{op_class}",
                        name,
                        ref_macs,
                        value,
                        _diff_pct(value, ref_macs),
                        reason,
                        named,
                    )
                )

    coverage = {reference: 1.0}
    for name in names[1:]:
        seen = _mac_part(results[name])
        overlap = sum(min(max(seen.get(p, 0), 0), max(m, 0)) for p, m in ref.macs_by_module.items())
        coverage[name] = overlap / ref.macs if ref.macs else 1.0

    notes: dict[str, list[str]] = {}
    for name in names[1:]:
        result = results[name]
        lines = [
            _missing_phrase(name, op, n) for op, n in sorted(result.unsupported.items()) if is_mac_op(op)
        ]
        short: Counter[str] = Counter()
        for ops in result.miscounted_by_module.values():
            short.update(ops)
        lines += [_short_phrase(name, op, v) for op, v in sorted(short.items()) if v]
        lines += [f"{op} counted by effprof's formula: {v} MACs" for op, v in result.completed_ops.items()]
        extra = {op: v for op, v in result.macs_by_op.items() if v and not is_mac_op(op)}
        for op, v in sorted(extra.items()):
            lines += [f"{line}: +{v} MACs" for line in _extra_phrase(name, {op: v})]
        notes[name] = lines

    return Reconciliation(
        reference=reference,
        counters=names,
        threshold=threshold,
        by_module=by_module,
        types=types,
        by_op_class=by_class,
        disagreements=disagreements,
        coverage=coverage,
        totals={n: results[n].macs for n in names},
        notes=notes,
        unsupported_ops={n: Counter(results[n].unsupported) for n in names if results[n].unsupported},
    )
