"""``effprof.pareto``: measure every candidate on one backend, then the front and MnasNet's reward.

Rule: every candidate is counted first (on the meta device, seconds), then timed smallest MACs first
through the API's shared, contention-aware timing path (effprof.api.time_profile), so an interrupt
keeps the small models, which are the ones a latency target is about. A candidate is timed at the
resolution its accuracy was published at (its default size when none is published). A model that
fails is a row with ``error``; Ctrl-C stops the run and returns the rows already measured.
``backend="none"`` counts only: the rows carry published accuracy and MACs, and nothing is ranked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from effprof.api import Timing, profile_model, time_profile, timing_meta
from effprof.choose import render  # noqa: F401  (registers the rich renderings of ParetoResult and SearchResult)
from effprof.choose.accuracy import Candidate, candidate, catalogue, in_family
from effprof.choose.ranking import SOFT_W
from effprof.choose.result import Choice, ParetoResult
from effprof.errors import EffprofError
from effprof.models import check_specs, parse_resolution

RANK_BY = ("soft", "hard")


def check_choice_options(target_ms: float | None, w: float, rank_by: str, max_gmacs: float | None = None) -> None:
    """Raise EffprofError (exit 2) on a target, exponent, ranking or size limit no run could use."""
    if target_ms is not None and (isinstance(target_ms, bool) or not isinstance(target_ms, int | float)
                                  or not math.isfinite(target_ms) or target_ms <= 0):  # fmt: skip
        raise EffprofError(f"--target-ms {target_ms!r}: must be a latency in milliseconds > 0, e.g. --target-ms 10")
    if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w > 0:
        raise EffprofError(f"--w {w!r}: must be a number <= 0 (MnasNet's soft constraint is -0.07)")
    if rank_by not in RANK_BY:
        raise EffprofError(f"--rank-by {rank_by!r}: use soft (ACC x (LAT/T)^w) or hard (w = 0 under T, -1 over)")
    if rank_by == "hard" and target_ms is None:
        raise EffprofError("--rank-by hard needs --target-ms")
    if max_gmacs is not None and (not isinstance(max_gmacs, int | float) or not max_gmacs > 0):
        raise EffprofError(f"--max-gmacs {max_gmacs!r}: must be a number of GMACs > 0")


#: what ``--backend`` takes to time nothing (effprof.api.Timing: count only)
NO_BACKEND = "none"


def one_backend(backends: str | Sequence[str]) -> str:
    """The single backend a latency axis is measured on, or ``"none"`` (count only); several is a usage error."""
    from effprof.latency import parse_backends

    if isinstance(backends, str) and backends.strip().lower() == NO_BACKEND:
        return NO_BACKEND
    names = parse_backends(backends)
    if len(names) != 1:
        raise EffprofError(f"--backend: one backend per run (the latency axis), got {', '.join(names)}")
    return names[0]


def candidates(
    models: Sequence[str] | None = None, *, all_models: bool = False, family: str | None = None,
    resolution: int | str | None = None,
) -> list[Candidate]:  # fmt: skip
    """The candidates a pareto run measures: the specs given, else every published model (of ``family``)."""
    if models and (all_models or family):
        raise EffprofError("give model specs, or --all / --family, not both")
    if models:
        check_specs(list(models))
        res = parse_resolution(resolution)
        if res is not None and res[0] != res[1]:
            raise EffprofError("--resolution: candidates are square; give one side, e.g. -r 160")
        return [candidate(m, res[0] if res else None) for m in dict.fromkeys(models)]
    if resolution is not None:
        raise EffprofError("--resolution applies to the specs given; --all and --family time each model at "
                           "the resolution its accuracy was published at")  # fmt: skip
    if not all_models and not family:
        raise EffprofError("give model specs, --all (every model with a published accuracy) or --family F")
    found = catalogue()
    return in_family(found, family) if family else found


def count_candidates(
    cands: Sequence[Candidate], *, on_counted: Callable[[Choice], None] | None = None
) -> tuple[list[Choice], bool]:
    """Count each candidate on the meta device: (choices, interrupted). A failure is a Choice with ``error``."""
    choices: list[Choice] = []
    try:
        for c in cands:
            try:
                p = profile_model(c.spec, resolution=c.resolution_px, counters=("analytic",))
                choices.append(Choice(c, p, error=p.error))
            except EffprofError as exc:
                choices.append(Choice(c, error=exc.message))
            if on_counted is not None:
                on_counted(choices[-1])
    except KeyboardInterrupt:
        return choices, True
    return choices, False


def by_macs(choices: list[Choice]) -> list[Choice]:
    """Smallest MACs first; failed counts last, in their order."""
    return sorted(choices, key=lambda c: (c.macs is None, c.macs or 0))


def time_choice(choice: Choice, timing: Timing) -> None:
    """Measure one counted candidate through the API's timing path (a failing backend is on its profile)."""
    if choice.profile is None or choice.error:
        return
    time_profile(choice.profile, timing)


def pareto(
    models: Sequence[str] | None = None,
    *,
    all_models: bool = False,
    family: str | None = None,
    resolution: int | str | None = None,
    backend: str = "eager",
    device: str = "cpu",
    threads: int | None = None,
    budget_s: float | None = None,
    target_ms: float | None = None,
    w: float = SOFT_W,
    rank_by: str = "soft",
    max_gmacs: float | None = None,
    on_stage: Callable[[str, int], None] | None = None,
    on_step: Callable[[str], None] | None = None,
    on_result: Callable[[ParetoResult], None] | None = None,
) -> ParetoResult:
    """Measure every candidate and rank them: the Pareto front of accuracy vs latency and MnasNet's reward.

    ``models`` are specs (each timed where its accuracy is published, or at ``resolution``); else
    ``all_models`` or ``family`` take every model with a published accuracy (effprof.choose.accuracy).
    ``target_ms`` enables the reward: soft ACC x (LAT/T)^w (``w``, MnasNet: -0.07) and hard (w = 0
    under T, -1 over); ``rank_by`` picks which ranks. ``max_gmacs`` skips (and lists) bigger models.
    ``backend="none"`` counts only (published accuracy, MACs, params; no front, reward or rank).
    ``on_stage(name, steps)`` starts a stage (counting, timing), ``on_step(label)`` ends one of its steps;
    ``on_result(result_so_far)`` follows each measurement.

    >>> effprof.pareto(["mobilenet_v2", "mobilenet_v3_large"], backend="onnxruntime", target_ms=10).to_pandas()  # doctest: +SKIP
    """
    check_choice_options(target_ms, w, rank_by, max_gmacs)
    timing = Timing.parse(one_backend(backend), device=device, threads=threads, budget_s=budget_s)
    if not timing.backends and target_ms is not None:
        raise EffprofError("--target-ms ranks by measured latency and --backend none times nothing; "
                           "give a backend (eager, onnxruntime, compile) or leave out --target-ms")  # fmt: skip
    cands = candidates(models, all_models=all_models, family=family, resolution=resolution)
    timing = timing.resolved()
    meta = {**timing_meta(timing), "command": "pareto", "target_ms": target_ms, "w": w, "rank_by": rank_by,
            "max_gmacs": max_gmacs}  # fmt: skip
    stage = on_stage or (lambda name, n: None)
    step = on_step or (lambda label: None)
    stage("counting", len(cands))
    choices, interrupted = count_candidates(cands, on_counted=lambda c: step(c.candidate.label))
    result = ParetoResult(by_macs(choices), meta, target_ms, w, rank_by, interrupted, len(cands) - len(choices))
    if interrupted or not timing.backends:
        return result
    for choice in result.choices:
        if max_gmacs is not None and choice.macs is not None and choice.macs > max_gmacs * 1e9:
            choice.skipped = f"not timed: {choice.macs / 1e9:.1f} GMACs is over --max-gmacs {max_gmacs:g}"
    todo = [c for c in result.choices if c.profile is not None and not c.error and not c.skipped]
    done = 0
    stage("timing", len(todo))
    try:
        for choice in todo:
            time_choice(choice, timing)
            done += 1
            step(choice.candidate.label)
            if on_result is not None:
                on_result(result)
    except KeyboardInterrupt:
        result.interrupted = True
        result.pending = len(todo) - done
        for c in todo[done:]:
            c.skipped = c.skipped or "not timed (interrupted)"
    return result
