"""The lecture's latency claims, as data, and the pure rules that judge them against measurements.

Rule: every claim is reduced to one measured ratio (a speed-up, a time share, a time per MAC) and a
range that ratio must lie in for the claim to hold (``Bounds``: the claimed figure widened by a stated
tolerance, or a one-sided level such as "at most half the standard conv's time"). The ratio comes with
a 95% interval (paired timing, effprof/bench/noise.py). The verdict is

- **holds** when the whole interval lies inside the range;
- **does not hold** when the whole interval lies outside it;
- **inconclusive** when the interval straddles an edge of the range, or when the timing it rests on
  was contended by other processes or too noisy to trust: doubt is never turned into holds or fails.

A claim may also have a counted part (its FLOPs level, its size): that part is deterministic, and if
it fails the claim fails whatever the timing says (``combine``). Counts and closed-form formulas that
``effprof formulas`` already checks are referenced (``Claim.reference``), not judged again here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from effprof.results import Result, to_frame

if TYPE_CHECKING:
    import pandas as pd

HOLDS = "holds"
FAILS = "does not hold"
INCONCLUSIVE = "inconclusive"
#: doubt tags (effprof.reports.trust.row_doubt) that make a latency verdict inconclusive
DOUBTING_TAGS = ("contended", "noisy")
#: float rounding between two ways of computing the same ratio is not a difference (relative)
ROUNDING = 1e-9
#: how far a stated "Nx" may be from the measured ratio and still hold: x/÷ (1 + this)
RATIO_TOLERANCE = 0.30


@dataclass(frozen=True)
class Bounds:
    """The range ``[low, high]`` a measured ratio must lie in for a claim to hold; None is unbounded."""

    low: float | None = None
    high: float | None = None

    def contains(self, value: float) -> bool:
        return not self.below(value) and not self.above(value)

    def below(self, value: float) -> bool:
        """``value`` lies under the whole range (by more than float rounding)."""
        return self.low is not None and value < self.low * (1 - ROUNDING)

    def above(self, value: float) -> bool:
        """``value`` lies over the whole range (by more than float rounding)."""
        return self.high is not None and value > self.high * (1 + ROUNDING)

    def describe(self) -> str:
        """'4.6x to 7.8x', '>= 1.5x', '<= 0.5x'."""
        if self.low is not None and self.high is not None:
            return f"{_x(self.low)} to {_x(self.high)}"
        if self.low is not None:
            return f">= {_x(self.low)}"
        return f"<= {_x(self.high)}" if self.high is not None else "any"


def _x(value: float) -> str:
    return f"{value:.3g}x"


def around(claimed: float, tolerance: float = RATIO_TOLERANCE) -> Bounds:
    """A stated "``claimed``x" holds from claimed / (1 + tolerance) to claimed * (1 + tolerance)."""
    return Bounds(claimed / (1 + tolerance), claimed * (1 + tolerance))


def spanning(low: float, high: float, tolerance: float = RATIO_TOLERANCE) -> Bounds:
    """A stated "``low``-``high``x" holds from low / (1 + tolerance) to high * (1 + tolerance)."""
    return Bounds(low / (1 + tolerance), high * (1 + tolerance))


@dataclass(frozen=True)
class Evidence:
    """A measured ratio with its 95% interval and whatever doubts the timing carries.

    A counted ratio (params, MACs) has ``low == high == value`` and no doubt.
    """

    value: float
    low: float
    high: float
    #: doubt tags of the timings behind it ('contended 40%, noisy'); '' when none
    doubt: str = ""
    #: what was measured, for the table: '97.5 ms / 16.1 ms'
    detail: str = ""
    #: the figures ``Claim.why`` explains with (MACs ratio, time shares ...)
    context: dict[str, float] = field(default_factory=dict)

    @classmethod
    def counted(cls, value: float, detail: str = "", **context: float) -> Evidence:
        return cls(value, value, value, "", detail, dict(context))

    @property
    def doubtful(self) -> bool:
        """Whether the timing was contended or too noisy: no verdict but inconclusive is honest then."""
        return any(tag in self.doubt for tag in DOUBTING_TAGS)


def verdict(evidence: Evidence, bounds: Bounds) -> str:
    """holds / does not hold / inconclusive for ``evidence`` against ``bounds`` (see the module rule)."""
    values = (evidence.value, evidence.low, evidence.high)
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values) or evidence.doubtful:
        return INCONCLUSIVE
    if bounds.contains(evidence.low) and bounds.contains(evidence.high):
        return HOLDS
    if bounds.below(evidence.high) or bounds.above(evidence.low):
        return FAILS
    return INCONCLUSIVE


def combine(counted: str | None, timed: str) -> str:
    """A claim with a counted part and a timed part: a failed count fails it; otherwise the timing decides."""
    if counted == FAILS:
        return FAILS
    return timed


@dataclass(frozen=True)
class Claim:
    """One lecture claim: as stated, the ratio that tests it, the range it must lie in, and why it comes out so."""

    id: str
    group: str
    stated: str
    #: the ratio measured, in words: 'latency(resnet50) / latency(mobilenet_v2)'
    quantity: str
    bounds: Bounds
    #: the tolerance in words, shown in the table
    tolerance: str
    #: a one-line reading of the evidence: why the claim comes out as it does
    why: Callable[[Evidence], str]
    #: counted-only claims (params, MACs) are judged once, not per backend
    counted_only: bool = False
    #: the counted part of a timed claim, when there is one: (what, bounds), judged on ``context[what]``
    counted_part: tuple[str, Bounds] | None = None
    #: where the count or formula behind the claim is already checked (``effprof formulas ...``)
    reference: str = ""
    source: str = ""


@dataclass(frozen=True)
class ClaimRow:
    """One claim judged on one backend (backend None: a counted-only claim)."""

    claim: Claim
    backend: str | None
    evidence: Evidence | None = None
    error: str | None = None

    @property
    def counted_verdict(self) -> str | None:
        if self.claim.counted_part is None or self.evidence is None:
            return None
        what, bounds = self.claim.counted_part
        value = self.evidence.context.get(what)
        return None if value is None else verdict(Evidence.counted(value), bounds)

    @property
    def verdict(self) -> str:
        if self.error or self.evidence is None:
            return INCONCLUSIVE
        return combine(self.counted_verdict, verdict(self.evidence, self.claim.bounds))

    @property
    def why(self) -> str:
        if self.error:
            return f"not measured: {self.error}"
        assert self.evidence is not None
        return self.claim.why(self.evidence)

    def as_dict(self) -> dict[str, Any]:
        e, c = self.evidence, self.claim
        return {
            "claim_id": c.id, "group": c.group, "claim": c.stated, "quantity": c.quantity, "backend": self.backend,
            "measured": e.value if e else None, "measured_low": e.low if e else None,
            "measured_high": e.high if e else None, "detail": e.detail if e else None,
            "holds_if": c.bounds.describe(), "tolerance": c.tolerance, "verdict": self.verdict,
            "counted_part": self.counted_verdict, "doubt": (e.doubt if e else "") or None, "why": self.why,
            "reference": c.reference or None, "source": c.source or None, "error": self.error,
        }  # fmt: skip


CLAIM_COLUMNS = ("claim_id", "group", "claim", "quantity", "backend", "measured", "measured_low", "measured_high",
                 "detail", "holds_if", "tolerance", "verdict", "counted_part", "doubt", "why", "reference", "source",
                 "error")  # fmt: skip


@dataclass
class ClaimsResult(Result):
    """Every claim judged on every backend: ``to_pandas()`` has one row per (claim, backend)."""

    kind: ClassVar[str] = "claims"
    figures: ClassVar[tuple[str, ...]] = ("claims",)
    #: what an HTML report says above the figure, and the columns (renamed) of its digest table
    notes: ClassVar[tuple[str, ...]] = (
        "Each claim reduced to one measured ratio with a 95% interval (paired timing); holds when the interval "
        "lies in the stated range, does not hold when it lies outside, inconclusive when it straddles an edge "
        "or the timing was contended or noisy.",
    )  # fmt: skip
    digest_columns: ClassVar[dict[str, str]] = {
        "claim": "claim (as stated)", "quantity": "measured ratio", "backend": "backend", "measured": "measured",
        "measured_low": "95% low", "measured_high": "95% high", "holds_if": "holds if", "verdict": "verdict",
        "doubt": "doubt", "why": "why", "reference": "see also",
    }  # fmt: skip

    rows: list[ClaimRow]
    meta: dict[str, Any]
    backends: tuple[str, ...] = ()
    interrupted: bool = False
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return "effprof claims: the lecture's latency claims, measured here"

    @property
    def errors(self) -> list[ClaimRow]:
        return [r for r in self.rows if r.error]

    def to_pandas(self) -> pd.DataFrame:
        return to_frame([r.as_dict() for r in self.rows], CLAIM_COLUMNS)

    def counts(self) -> dict[str, int]:
        """How many (claim, backend) rows hold, fail and are inconclusive."""
        found = {HOLDS: 0, FAILS: 0, INCONCLUSIVE: 0}
        for r in self.rows:
            found[r.verdict] += 1
        return found
