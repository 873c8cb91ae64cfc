"""The result of ``effprof roadmap``: the ConvNeXt roadmap's steps, counted and timed, and the rule that finds
where time grew faster than MACs.

Rule: one row per step (per backend when timed), with the paper's Figure 2 beside the count
(``macs_error`` = counted / paper - 1) and every ratio to step 0 (ResNet-50); values stay exact here,
rounding is the renderer's (effprof.lecture.demo_render). ``latency_gaps`` is pure: rows in, the
step-to-step changes where latency rose ``GAP_THRESHOLD`` more than MACs did out. The runner that fills
the rows is effprof.lecture.roadmap_run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from effprof.reports.trust import row_doubt
from effprof.results import Result, to_frame

if TYPE_CHECKING:
    import pandas as pd

ROADMAP_COLUMNS = (
    "step", "label", "change", "model", "input_shape", "params", "macs", "paper_macs", "macs_error", "paper_top1",
    "macs_vs_step0", "backend", "device", "threads", "latency_ms", "latency_iqr_ms", "runs", "latency_vs_step0",
    "latency_vs_step0_low", "latency_vs_step0_high", "time_per_mac_vs_step0", "contended", "doubt", "warnings",
    "source", "note", "error",
)  # fmt: skip
#: a step whose latency (relative to step 0) rose this much more than its MACs did is "slower than its MACs"
GAP_THRESHOLD = 0.10


@dataclass
class RoadmapResult(Result):
    """Counted (and timed) roadmap steps: ``to_pandas()`` has one row per step and backend."""

    kind: ClassVar[str] = "roadmap"
    figures: ClassVar[tuple[str, ...]] = ("roadmap",)
    #: what an HTML report says above the figure, and the columns (renamed) of its digest table
    notes: ClassVar[tuple[str, ...]] = (
        "MACs stay near 4.1-4.5 G from step to step while measured latency moves: the depthwise, large-kernel "
        "and LayerNorm steps cost time that their MACs do not show.",
    )  # fmt: skip
    digest_columns: ClassVar[dict[str, str]] = {
        "step": "step", "change": "change", "params": "params", "macs": "MACs", "paper_macs": "paper MACs",
        "macs_error": "MACs error", "paper_top1": "top-1 %", "backend": "backend", "latency_ms": "latency ms",
        "latency_vs_step0": "latency × step 0", "macs_vs_step0": "MACs × step 0", "doubt": "doubt",
    }  # fmt: skip

    rows: list[dict[str, Any]]
    meta: dict[str, Any]
    backends: tuple[str, ...] = ()
    interrupted: bool = False
    #: (label, warning) of every latency warning, for the lines under the table
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return "effprof roadmap: the ConvNeXt roadmap, ResNet-50 -> ConvNeXt-T"

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r.get("error")]

    def to_pandas(self) -> pd.DataFrame:
        return to_frame(self.rows, ROADMAP_COLUMNS)

    def worst_macs_error(self) -> dict[str, Any] | None:
        """The counted row furthest (relative) from the paper's GFLOPs."""
        counted = [r for r in self.rows if r.get("macs_error") is not None]
        return max(counted, key=lambda r: abs(r["macs_error"]), default=None)

    def gaps(self) -> list[dict[str, Any]]:
        """Steps whose latency rose more than their MACs did since the previous step (``GAP_THRESHOLD``), per backend.

        Each: step, change, backend, the MACs change and the latency change (fractions), doubt tags.
        """
        return latency_gaps(self.rows)


def latency_gaps(rows: Sequence[dict[str, Any]], threshold: float = GAP_THRESHOLD) -> list[dict[str, Any]]:
    """Step-to-step changes where time grew by ``threshold`` more than MACs did (pure: rows in, gaps out)."""
    found = []
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("latency_ms") is not None and not r.get("error"):
            by_backend.setdefault(r["backend"], []).append(r)
    for backend, timed in by_backend.items():
        timed = sorted(timed, key=lambda r: r["step"])
        for prev, cur in zip(timed, timed[1:], strict=False):
            if cur["step"] != prev["step"] + 1:
                continue
            d_macs = cur["macs"] / prev["macs"] - 1
            key = "latency_vs_step0" if cur.get("latency_vs_step0") and prev.get("latency_vs_step0") else "latency_ms"
            d_time = cur[key] / prev[key] - 1
            if d_time - d_macs > threshold:
                doubt = ", ".join(dict.fromkeys(t for t in (_doubt(prev), _doubt(cur)) if t))
                found.append({"step": cur["step"], "change": cur["change"], "backend": backend,
                              "macs_change": d_macs, "latency_change": d_time, "doubt": doubt})  # fmt: skip
    return found


def _doubt(row: dict[str, Any]) -> str:
    """A timed row's doubt: its ``doubt`` column when it has one (paired rows), else read from its columns."""
    return (row.get("doubt") or "") if "doubt" in row else row_doubt(row)
