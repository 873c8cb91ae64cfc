"""One row of ``effprof formulas``: a lecture formula's value beside a count on a real module.

``CheckRow`` holds the formula's value next to the counted one, their relative error and the
tolerance it must meet (0: exact; looser: the row's note says what the formula leaves out; None:
shown, not judged). The counting helpers build the real module (on the meta device where they can)
and count it with effprof's analytic counter and, on single small modules, with fvcore.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

from effprof.counters.analytic import count_analytic
from effprof.counters.fvcore import count_fvcore
from effprof.counters.result import CountResult
from effprof.counters.vocabulary import is_mac_op
from effprof.errors import EffprofError
from effprof.formulas import ops
from effprof.lecture.fit import fit_power_law
from effprof.models import build_model

_EXACT = 0.0


@dataclass(frozen=True)
class CheckRow:
    """One quantity of one check: the formula's value and the counted one, side by side."""

    check: str  # catalog name, e.g. "dwconv"
    quantity: str  # what is compared, e.g. "MACs, separable"
    formula: str  # the rule in plain text
    config: str  # the configuration it is evaluated on
    predicted: float  # the formula's value (or the paper's figure, where the formula says so)
    counted: float  # effprof's analytic counter on the built module/model (or as ``counted_by`` says)
    counted_by: str = "analytic"
    fvcore: float | None = None  # fvcore on the same real module, where it counts the op
    tolerance: float | None = _EXACT  # relative; None: shown, not judged
    note: str = ""

    @property
    def unit(self) -> str:
        """What ``predicted`` and ``counted`` are measured in, read off the quantity's name."""
        q = self.quantity
        rules = (
            ("∝", "exponent"), ("growth", "factor per step"), (" / ", "ratio"), ("speed-up", "ratio"),
            ("channels/pixel", "channels per pixel"), ("MACs + rescale", "macs + other_ops"),
            ("rescale", "other_ops"), ("params", "params"), ("MACs", "macs"),
        )  # fmt: skip
        return next((unit for key, unit in rules if key in q), "")

    @property
    def rel_error(self) -> float:
        """|formula - counted| / |counted| (0 when both are 0)."""
        return _rel(self.predicted, self.counted)

    @property
    def fvcore_error(self) -> float | None:
        return None if self.fvcore is None else _rel(self.predicted, self.fvcore)

    @property
    def passed(self) -> bool | None:
        """Within tolerance for every counter that counted it; None for a row not judged."""
        if self.tolerance is None:
            return None
        slack = self.tolerance + 1e-9  # float formulas (ratios) against integer counts
        return self.rel_error <= slack and (self.fvcore_error is None or self.fvcore_error <= slack)

    def as_dict(self) -> dict:
        """The row with its derived columns, for DataFrames and files."""
        return {
            **asdict(self),
            "unit": self.unit,
            "rel_error": self.rel_error,
            "fvcore_rel_error": self.fvcore_error,
            "passed": self.passed,
        }


def _rel(predicted: float, counted: float) -> float:
    if predicted == counted:
        return 0.0
    return abs(predicted - counted) / abs(counted) if counted else math.inf


# --- counting helpers ------------------------------------------------------------------------------


#: fvcore needs real tensors: above these sizes its column is left empty (the analytic count runs on meta)
FVCORE_MAX_INPUT_ELEMENTS = 4_000_000
FVCORE_MAX_PARAMS = 20_000_000


def _counts(
    make: Callable[[], nn.Module], input_shape: tuple[int, ...], fvcore: bool
) -> tuple[CountResult, int | None]:
    """Analytic count of ``make()`` built on the meta device (any size is free), and fvcore's MACs
    when ``fvcore`` is on and the module is small enough to run on the CPU."""
    with torch.device("meta"):
        module = make()
    counted = count_analytic(module, input_shape)
    small = ops.numel(input_shape) <= FVCORE_MAX_INPUT_ELEMENTS and counted.params <= FVCORE_MAX_PARAMS
    return counted, fvcore_macs(module, input_shape) if fvcore and small else None


@functools.lru_cache(maxsize=64)
def count_spec(spec: str, resolution: int | None = None) -> CountResult:
    """Analytic count of a registry model spec at a resolution (cached: several checks share models)."""

    built = build_model(spec, resolution=resolution)
    return count_analytic(built.module, built.input_shape, name=spec)


def fvcore_macs(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """MACs stock fvcore counts on ``module`` (effprof's adapter runs it on CPU tensors): its
    conv/linear/matmul operators only.

    fvcore also puts batch norm and pooling in its "flops"; those are not MACs in effprof's units,
    so they are left out here to compare like with like.
    """

    by_op = count_fvcore(module, input_shape).macs_by_op
    return int(sum(v for op, v in by_op.items() if is_mac_op(op)))


def _conv_params(result: CountResult) -> int:
    # Conv weights only: BatchNorm's params are left out of both sides of a conv-weight formula.
    return sum(r.params for r in result.layers if r.type.startswith("Conv"))


def _opclass_macs(result: CountResult, op_class: str) -> int:
    return result.by_op_class().get(op_class, {}).get("macs", 0)


def _positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise EffprofError(f"{name} must be positive, got {value}")


def _fmt_size(size: int) -> str:
    return f"{size}x{size}"




def exponent_row(check: str, what: str, formula: str, cfg: str, pixels: list[int], values: list[int],
                 expected: float, tolerance: float | None, note: str = "") -> CheckRow:  # fmt: skip
    """A row comparing the fitted growth exponent of ``values`` against pixels with ``expected``."""

    fit = fit_power_law(pixels, values)
    return CheckRow(check, what, formula, cfg, predicted=expected, counted=fit.exponent, counted_by="fit",
                    tolerance=tolerance, note=(note + "; " if note else "") + f"R²={fit.r2:.4f}")  # fmt: skip


