"""The results of ``effprof pareto`` and ``effprof search``: rows, ``to_pandas()``, the choice, device vs phone.

Rule: the Pareto front, the rewards and the ranks are computed from the measured latency of the rows
that have both a measured latency and a published accuracy, never from a prediction; rows without
a published accuracy are shown (with why) and ranked nowhere. A run that timed nothing
(``--backend none``) has counts and published figures only: no front, no reward, no rank.

Both are effprof.results.Result types: ``meta``, ``to_pandas()``, their ``kind`` and the figure each
draws (effprof.reports.plots.choose); their rich tables are effprof.choose.render's. Nothing heavy is
imported at module level (pandas on use), so the command line can ask them for their ``-o`` suffixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from effprof.choose.ranking import SOFT_W, best_under, discordant_pairs, pareto_front, reward, spearman
from effprof.reports.trust import row_doubt
from effprof.results import Result, to_frame

if TYPE_CHECKING:
    import pandas as pd

    # accuracy imports the model registry: typing only, so it stays off the CLI's start-up path
    from effprof.choose.accuracy import Candidate
    from effprof.results import ModelProfile

COLUMNS = (
    "rank", "model", "spec", "resolution", "family", "top1_pct", "top5_pct", "accuracy_source", "params", "macs",
    "backend", "device", "threads", "latency_ms", "latency_iqr_ms", "contended", "doubt", "on_front",
    "under_target", "reward_soft", "reward_hard", "pixel1_ms", "published_macs", "note", "error",
)  # fmt: skip
SEARCH_COLUMNS = (*COLUMNS[:13], "predicted_ms", "shortlisted", *COLUMNS[13:])


@dataclass
class Choice:
    """One candidate and what happened to it: counted (and timed) ``profile``, or ``error``/``skipped``."""

    candidate: Candidate
    profile: ModelProfile | None = None
    error: str | None = None
    skipped: str | None = None
    #: search only: the screening predictor's latency (ms), and whether it was then measured
    predicted_ms: float | None = None
    shortlisted: bool = False
    #: search --quick: the configuration whose measured rate the MACs-only predictor uses (it predicts itself)
    anchor: bool = False

    @property
    def measurement(self):
        p = self.profile
        return p.measurements[0] if p is not None and p.measurements else None

    @property
    def latency_ms(self) -> float | None:
        m = self.measurement
        return m.median_ms if m is not None else None

    @property
    def top1_pct(self) -> float | None:
        acc = self.candidate.accuracy
        return acc.top1_pct if acc is not None else None

    @property
    def macs(self) -> int | None:
        p = self.profile
        return p.count.macs if p is not None and p.count is not None else None

    def base_row(self) -> dict[str, Any]:
        c, acc = self.candidate, self.candidate.accuracy
        row: dict[str, Any] = dict.fromkeys(SEARCH_COLUMNS)
        row.update(model=c.label, spec=c.spec, resolution=c.resolution_px, family=c.family,
                   pixel1_ms=c.published.pixel1_ms, published_macs=c.published.published_macs,
                   predicted_ms=self.predicted_ms, shortlisted=self.shortlisted)  # fmt: skip
        notes = [n for n in (c.published.note, self.skipped) if n]
        if self.anchor:
            notes.insert(0, "the MACs-only predictor's anchor: predicts itself exactly")
        if acc is not None:
            row.update(top1_pct=acc.top1_pct, top5_pct=acc.top5_pct, accuracy_source=acc.source)
        else:
            row["accuracy_source"] = c.published.reason
        p = self.profile
        if p is not None and p.count is not None:
            row.update(params=p.count.params, macs=p.count.macs)
        m = self.measurement
        if m is not None:
            mrow = m.to_row()
            if m.warnings:
                mrow["warnings"] = "; ".join(m.warnings)
            row.update(backend=m.backend, device=m.device, threads=m.threads, latency_ms=m.median_ms,
                       latency_iqr_ms=m.iqr_ms, contended=mrow["contended"], doubt=row_doubt(mrow) or None)  # fmt: skip
        errors = [e for e in (self.error, p.error if p is not None else None) if e]
        if p is not None:
            errors += [f"{b}: {e}" for b, e in p.latency_errors.items()]
        row["note"] = "; ".join(notes) or None
        row["error"] = "; ".join(errors) or None
        return row


def ranked_rows(choices: list[Choice], target_ms: float | None, w: float = SOFT_W, rank_by: str = "soft") -> list[dict[str, Any]]:
    """Every choice's row with the front, rewards and rank filled in, best first (see the module's rule)."""
    rows = [c.base_row() for c in choices]
    scored = [r for r in rows if r["latency_ms"] is not None and r["top1_pct"] is not None]
    front = pareto_front([r["latency_ms"] for r in scored], [r["top1_pct"] for r in scored])
    for r, on in zip(scored, front, strict=True):
        r["on_front"] = on
        if target_ms is not None:
            r["under_target"] = r["latency_ms"] <= target_ms
            r["reward_soft"] = reward(r["top1_pct"], r["latency_ms"], target_ms, w)
            r["reward_hard"] = reward(r["top1_pct"], r["latency_ms"], target_ms)
    key = "reward_hard" if rank_by == "hard" else "reward_soft"
    if target_ms is not None:
        order = sorted(scored, key=lambda r: (-r[key], r["latency_ms"]))
    else:  # no target, no reward: the front from fastest to most accurate, then the rest by latency
        order = sorted(scored, key=lambda r: (not r["on_front"], r["latency_ms"]))
    for i, r in enumerate(order, 1):
        r["rank"] = i
    rest = [r for r in rows if r not in scored]
    rest.sort(key=lambda r: (r["latency_ms"] is None, r["latency_ms"] or 0.0, r["macs"] is None, r["macs"] or 0,
                             r["model"]))  # fmt: skip
    return [*order, *rest]


@dataclass
class PhoneComparison:
    """This device's measured latency beside the published Pixel 1 latency, for the rows that have both."""

    rows: list[dict[str, Any]]
    spearman: float | None
    #: the device's choice (most accurate within T here), and the phone's at that model's Pixel 1 latency
    device_choice: str | None = None
    phone_choice: str | None = None
    phone_budget_ms: float | None = None

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd  # on use, for startup speed (see the module docstring)

        return pd.DataFrame(self.rows)

    def to_dict(self) -> dict[str, Any]:
        """What a JSON report keeps (``device_vs_pixel1``)."""
        return {"spearman": self.spearman, "rows": self.rows, "device_choice": self.device_choice,
                "phone_choice": self.phone_choice, "phone_budget_ms": self.phone_budget_ms}  # fmt: skip


def phone_comparison(rows: list[dict[str, Any]], target_ms: float | None, latency_key: str = "latency_ms") -> PhoneComparison | None:
    """Rule: over rows with a Pixel 1 latency, a ``latency_key`` latency and an accuracy: both rankings
    (1 = fastest), Spearman's rho between them, both Pareto fronts, and whether the phone, given the
    Pixel 1 time of this device's choice, would choose the same model. None when fewer than 2 rows."""
    both = [r for r in rows if r.get("pixel1_ms") is not None and r.get(latency_key) is not None and r.get("top1_pct") is not None]
    if len(both) < 2:
        return None
    import pandas as pd  # on use, for startup speed (see the module docstring)

    here = pd.Series([r[latency_key] for r in both]).rank(method="min").astype(int).tolist()
    phone = pd.Series([r["pixel1_ms"] for r in both]).rank(method="min").astype(int).tolist()
    acc = [r["top1_pct"] for r in both]
    front_here = pareto_front([r[latency_key] for r in both], acc)
    front_phone = pareto_front([r["pixel1_ms"] for r in both], acc)
    out = [{"model": r["model"], "top1_pct": r["top1_pct"], latency_key: r[latency_key], "rank_here": h,
            "pixel1_ms": r["pixel1_ms"], "rank_pixel1": p, "front_here": fh, "front_pixel1": fp}
           for r, h, p, fh, fp in zip(both, here, phone, front_here, front_phone, strict=True)]  # fmt: skip
    out.sort(key=lambda r: r[latency_key])
    result = PhoneComparison(out, spearman([r[latency_key] for r in both], [r["pixel1_ms"] for r in both]))
    if target_ms is not None:
        i = best_under([r[latency_key] for r in both], acc, target_ms)
        if i is not None:
            budget = both[i]["pixel1_ms"]
            j = best_under([r["pixel1_ms"] for r in both], acc, budget)
            result.device_choice, result.phone_budget_ms = both[i]["model"], budget
            result.phone_choice = both[j]["model"] if j is not None else None
    return result


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    # effprof.results.to_frame: params, macs and threads stay exact whole numbers (nullable Int64)
    return to_frame([{k: r.get(k) for k in columns} for r in rows], columns)


def timed_on(meta: dict[str, Any]) -> str:
    """'eager, cpu, 2 threads' (or 'nothing timed') for a title."""
    backends = meta.get("backends") or []
    if not backends:
        return "nothing timed"
    return f"{backends[0]}, {meta.get('device')}, {meta.get('threads')} threads"


class _Ranked(Result):
    """What pareto and search share: candidates ranked by MnasNet's reward, timed unless ``--backend none``."""

    @property
    def timed(self) -> bool:
        """Whether the run timed anything (``--backend none`` counts or predicts only)."""
        return bool(self.meta.get("backends"))

    def rows(self) -> list[dict[str, Any]]:
        return ranked_rows(self.choices, self.target_ms, self.w, self.rank_by)


@dataclass
class ParetoResult(_Ranked):
    """``effprof pareto``: every candidate measured; ``to_pandas()`` gives the ranked rows (COLUMNS)."""

    kind: ClassVar[str] = "pareto"
    figures: ClassVar[tuple[str, ...]] = ("pareto",)

    choices: list[Choice]
    meta: dict[str, Any]
    target_ms: float | None = None
    w: float = SOFT_W
    rank_by: str = "soft"
    interrupted: bool = False
    #: candidates given that were never reached (interrupted)
    pending: int = 0

    @property
    def title(self) -> str:
        return f"effprof pareto ({timed_on(self.meta)})"

    def to_pandas(self) -> pd.DataFrame:
        return _frame(self.rows(), COLUMNS)

    def json_extra(self) -> dict[str, Any]:
        phone = self.phone()
        extra: dict[str, Any] = {"chosen": self.chosen_model(), "summary": self.summary()}
        if phone is not None:
            extra["device_vs_pixel1"] = phone.to_dict()
        return extra

    def summary(self) -> dict[str, Any]:
        """The run in one dict (a JSON report's ``summary``, an HTML report's summary table)."""
        rows = self.rows()
        chosen, best, phone = self.chosen(), self.best_under_target(), self.phone()
        return {"target_ms": self.target_ms, "rank_by": self.rank_by if self.target_ms is not None else None,
                "candidates": len(rows), "measured": sum(r["rank"] is not None for r in rows),
                "on_front": sum(bool(r["on_front"]) for r in rows), "chosen": chosen["model"] if chosen else None,
                "chosen_latency_ms": chosen["latency_ms"] if chosen else None,
                "most_accurate_within_target": best["model"] if best else None,
                "spearman_here_vs_pixel1": phone.spearman if phone else None}  # fmt: skip

    def chosen_model(self) -> str | None:
        """The chosen row's model (what the figure marks), None when nothing was ranked."""
        chosen = self.chosen()
        return chosen["model"] if chosen else None

    def chosen(self) -> dict[str, Any] | None:
        """The best row by the ranking reward (the most accurate on the front without a target)."""
        rows = [r for r in self.rows() if r["rank"] is not None]
        if not rows:
            return None
        if self.target_ms is None:
            return max((r for r in rows if r["on_front"]), key=lambda r: r["top1_pct"])
        return rows[0]

    def best_under_target(self) -> dict[str, Any] | None:
        """The most accurate measured row within the target (the hard answer), None without one."""
        rows = [r for r in self.rows() if r["rank"] is not None]
        if self.target_ms is None:
            return None
        i = best_under([r["latency_ms"] for r in rows], [r["top1_pct"] for r in rows], self.target_ms)
        return rows[i] if i is not None else None

    def phone(self) -> PhoneComparison | None:
        return phone_comparison(self.rows(), self.target_ms)

    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows() if r["error"]]


@dataclass
class SearchResult(_Ranked):
    """``effprof search``: every grid point predicted, the shortlist measured; ``to_pandas()`` (SEARCH_COLUMNS)."""

    kind: ClassVar[str] = "search"
    figures: ClassVar[tuple[str, ...]] = ("search",)

    family: str
    choices: list[Choice]
    meta: dict[str, Any]
    target_ms: float
    predictor: str
    w: float = SOFT_W
    rank_by: str = "soft"
    #: measured / predicted, the median over the measured shortlist (the predictor's bias on this backend)
    scale: float | None = None
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"effprof search {self.family} ({timed_on(self.meta)})"

    def to_pandas(self) -> pd.DataFrame:
        return _frame(self.rows(), SEARCH_COLUMNS)

    def json_extra(self) -> dict[str, Any]:
        return {"summary": self.summary()}

    def chosen_model(self) -> str | None:
        """The measured answer's model (what the figure marks), None when nothing measured is within the target."""
        answer = self.answer()
        return answer["model"] if answer else None

    def measured(self) -> list[dict[str, Any]]:
        return [r for r in self.rows() if r["latency_ms"] is not None and r["predicted_ms"] is not None]

    def answer(self) -> dict[str, Any] | None:
        """The measured answer: the most accurate measured configuration within the target."""
        rows = [r for r in self.measured() if r["top1_pct"] is not None]
        i = best_under([r["latency_ms"] for r in rows], [r["top1_pct"] for r in rows], self.target_ms)
        return rows[i] if i is not None else None

    def predicted_answer(self) -> dict[str, Any] | None:
        """What the predictor alone would have chosen: the most accurate configuration predicted within the target."""
        rows = [r for r in self.rows() if r["top1_pct"] is not None and r["predicted_ms"] is not None]
        i = best_under([r["predicted_ms"] for r in rows], [r["top1_pct"] for r in rows], self.target_ms)
        return rows[i] if i is not None else None

    def misranked(self) -> list[tuple[str, str]]:
        """(a, b): the predictor put a faster than b, the measurement b faster than a by more than either's
        IQR (a swap within the spread of the timings is noise, not a misranking: ``swapped_within_noise``)."""
        return self._discordant(significant=True)

    def swapped_within_noise(self) -> list[tuple[str, str]]:
        """Discordant pairs whose measured difference is within the larger of the two IQRs."""
        return self._discordant(significant=False)

    def _discordant(self, *, significant: bool) -> list[tuple[str, str]]:
        rows = self.measured()
        pairs = discordant_pairs([r["predicted_ms"] for r in rows], [r["latency_ms"] for r in rows])
        out = []
        for i, j in pairs:
            a, b = rows[i], rows[j]
            gap, spread = a["latency_ms"] - b["latency_ms"], max(a["latency_iqr_ms"] or 0.0, b["latency_iqr_ms"] or 0.0)
            if (gap > spread) == significant:
                out.append((a["model"], b["model"]))
        return out

    def wrong_side(self) -> list[tuple[str, str]]:
        """(model, how): measured rows the predictor put on the other side of the target."""
        out = []
        for r in self.measured():
            pred_in, meas_in = r["predicted_ms"] <= self.target_ms, r["latency_ms"] <= self.target_ms
            if pred_in != meas_in:
                out.append((r["model"], "predicted within the target, measured over" if pred_in
                            else "predicted over the target, measured within"))  # fmt: skip
        return out

    def rank_correlation(self) -> float | None:
        rows = self.measured()
        return spearman([r["predicted_ms"] for r in rows], [r["latency_ms"] for r in rows])

    def phone(self) -> PhoneComparison | None:
        return phone_comparison(self.rows(), self.target_ms)

    def phone_predicted(self) -> PhoneComparison | None:
        """Every grid point's predicted latency here beside its Pixel 1 latency (no measurement needed)."""
        return phone_comparison(self.rows(), self.target_ms, latency_key="predicted_ms")

    def summary(self) -> dict[str, Any]:
        answer, predicted = self.answer(), self.predicted_answer()
        return {"family": self.family, "target_ms": self.target_ms, "predictor": self.predictor,
                "candidates": len(self.choices), "measured": len(self.measured()),
                "answer": answer["model"] if answer else None, "answer_latency_ms": answer["latency_ms"] if answer else None,
                "predicted_answer": predicted["model"] if predicted else None, "scale_measured_over_predicted": self.scale,
                "spearman_predicted_vs_measured": self.rank_correlation(), "misranked_pairs": self.misranked(),
                "swapped_within_noise": self.swapped_within_noise(),
                "wrong_side_of_target": self.wrong_side()}  # fmt: skip

    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows() if r["error"]]
