"""``effprof.search``: screen a family's published grid with a latency predictor, measure a shortlist.

Rule: every grid point is counted and its latency predicted; then the shortlist is measured through the
API's timing path, so the answer (the most accurate configuration measured within the target) is a
measurement, never a prediction.

- predictor: the calibrated roofline of ``effprof predict`` (effprof.hardware.predict.calibrated_ms, on
  this device's cached calibration; timing it the first time takes about a minute on 2 cores), or with
  ``quick`` MACs-only, anchored on one measured configuration of the family (seconds, cruder);
- shortlist: the ``shortlist`` most accurate points predicted within T x (1 + ``margin``); none there,
  the ``shortlist`` predicted fastest;
- threads: the calibration is per thread count; when the thread policy picks fewer threads than a cached
  calibration was timed with (others busy), the cached one predicts, and the further looks rescale it;
- further looks (at most MAX_LOOKS): the predictions are rescaled by the median measured/predicted ratio
  so far (the calibrated predictor models eager PyTorch; another backend, or a busy machine, shifts it),
  and the ``shortlist`` most accurate points now predicted within T x (1 + margin) that are more accurate
  than the current answer are measured too; the looks stop when no such point is left;
- ``backend="none"`` screens only: every point predicted by the calibrated predictor, nothing measured,
  so there is no answer, only the predictor's choice (``--quick`` needs a measured anchor: refused).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from effprof.api import Timing, timing_meta
from effprof.choose.accuracy import Candidate, candidate, family_key
from effprof.choose.published import MOBILENET_V1, MOBILENET_V2, MOBILENET_V3
from effprof.choose.ranking import SOFT_W, best_under
from effprof.choose.result import Choice, SearchResult
from effprof.choose.run import check_choice_options, count_candidates, one_backend, time_choice
from effprof.errors import EffprofError
from effprof.hardware import cache
from effprof.hardware.blocks import CALIBRATION_BLOCKS
from effprof.hardware.calibrate import device_calibration
from effprof.hardware.limits import device_limits
from effprof.hardware.networks import CALIBRATION_NETWORKS
from effprof.hardware.predict import calibrated_ms
from effprof.latency.devices import thread_choice


@dataclass(frozen=True)
class Grid:
    """A family's knobs as published configurations, and the configuration ``--quick`` anchors on."""

    name: str
    specs: tuple[tuple[str, int | None], ...]  # (spec, resolution; None = where its accuracy is published)
    anchor: tuple[str, int]


def _rows(rows) -> tuple[tuple[str, int], ...]:
    return tuple((r.spec, r.resolution_px) for r in rows)


GRIDS = {
    "mobilenetv1": Grid("MobileNetV1 width x resolution (TF-slim)", _rows(MOBILENET_V1), ("mobilenet_v1", 224)),
    "mobilenetv2": Grid("MobileNetV2 width x resolution (TF-slim)", _rows(MOBILENET_V2), ("mobilenet_v2", 224)),
    "mobilenetv3": Grid("MobileNetV3 Large/Small", _rows(MOBILENET_V3), ("mobilenet_v3_large", 224)),
    # B0-B7 as released (torchvision's weights at their crops), and the literal compound rule for phi = 1..7,
    # which has no published accuracy: predicted and shown, never ranked
    "efficientnet": Grid("EfficientNet B0-B7 and efficientnet(phi=1..7)",
                         (*((f"efficientnet_b{b}", None) for b in range(8)),
                          *((f"efficientnet(phi={phi})", None) for phi in range(1, 8))), ("efficientnet_b0", 224)),
}  # fmt: skip


def grid(family: str) -> tuple[Grid, list[Candidate]]:
    """The family's grid and its candidates; an unknown family raises with the known ones."""
    key = family_key(family)
    if key not in GRIDS:
        raise EffprofError(f"no search grid for {family!r}; use one of mobilenet_v1, mobilenet_v2, mobilenet_v3, efficientnet")
    g = GRIDS[key]
    return g, [candidate(spec, res) for spec, res in g.specs]


#: further looks after the first shortlist, each measuring at most ``shortlist`` more
MAX_LOOKS = 3


def cached_threads(device: str, counts: list[int]) -> int | None:
    """The first thread count in ``counts`` this machine has cached device limits and a calibration for."""
    for n in dict.fromkeys(counts):
        key = cache.machine_description(device, n)
        calibration_key = {**key, "blocks": [b.name for b in CALIBRATION_BLOCKS],
                           "networks": [b.name for b in CALIBRATION_NETWORKS]}  # fmt: skip
        if cache.cache_path("limits", key).is_file() and cache.cache_path("calibration", calibration_key).is_file():
            return n
    return None


def _shortlist(choices: list[Choice], predicted: dict[int, float], limit_ms: float, k: int,
               better_than: float | None = None) -> list[Choice]:  # fmt: skip
    """The ``k`` most accurate unmeasured choices predicted within ``limit_ms`` (more accurate than ``better_than``)."""
    ok = [c for c in choices if c.top1_pct is not None and not c.error and id(c) in predicted and not c.shortlisted]
    band = [c for c in ok if predicted[id(c)] <= limit_ms and (better_than is None or c.top1_pct > better_than)]
    return sorted(band, key=lambda c: (-c.top1_pct, predicted[id(c)]))[:k]


def search(
    family: str,
    *,
    target_ms: float,
    backend: str = "eager",
    device: str = "cpu",
    threads: int | None = None,
    budget_s: float | None = None,
    shortlist: int = 5,
    margin: float = 0.5,
    quick: bool = False,
    refresh: bool = False,
    w: float = SOFT_W,
    rank_by: str = "soft",
    limits=None,
    calibration=None,
    on_stage: Callable[[str, int], None] | None = None,
    on_step: Callable[[str], None] | None = None,
    on_result: Callable[[SearchResult], None] | None = None,
) -> SearchResult:
    """Screen ``family``'s grid with the predictor, measure the shortlist, report predicted vs measured.

    ``limits``/``calibration`` replace the device's cached ones (tests). ``on_stage(name, steps)`` starts a
    stage (counting, calibrating, measuring), ``on_step(label)`` ends one of its steps;
    ``on_result(result_so_far)`` follows each measurement. Ctrl-C while measuring keeps what was measured.

    >>> effprof.search("mobilenet_v2", target_ms=5).answer()  # doctest: +SKIP
    """
    if target_ms is None:
        raise EffprofError("search needs --target-ms, e.g. effprof search mobilenet_v2 --target-ms 5")
    check_choice_options(target_ms, w, rank_by)
    if isinstance(shortlist, bool) or not isinstance(shortlist, int) or shortlist < 1:
        raise EffprofError(f"--shortlist {shortlist!r}: must be a whole number >= 1")
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0 <= margin <= 10:
        raise EffprofError(f"--margin {margin!r}: must be a fraction from 0 to 10 (0.5 = 50% over the target)")
    timing = Timing.parse(one_backend(backend), device=device, threads=threads, budget_s=budget_s)
    if quick and not timing.backends:
        raise EffprofError("--quick anchors its MACs-only predictor on one measured configuration and --backend none "
                           "measures nothing; leave out --quick to screen with the calibrated predictor alone")  # fmt: skip
    g, cands = grid(family)
    timing = timing.resolved()
    step = on_step or (lambda label: None)
    stage = on_stage or (lambda name, n: None)
    meta = {**timing_meta(timing), "command": "search", "family": g.name, "target_ms": target_ms, "w": w,
            "rank_by": rank_by, "shortlist": shortlist, "margin": margin, "quick": quick}  # fmt: skip
    stage("counting", len(cands))
    choices, interrupted = count_candidates(cands, on_counted=lambda c: step(c.candidate.label))
    if interrupted:
        raise KeyboardInterrupt
    result = SearchResult(g.name, choices, meta, target_ms, "", w, rank_by)
    predicted: dict[int, float] = {}
    if quick:
        anchor = next((c for c in choices if (c.candidate.spec, c.candidate.resolution_px) == g.anchor), None)
        if anchor is None or anchor.error:
            raise EffprofError(f"--quick anchors on {g.anchor[0]} @{g.anchor[1]}, which could not be counted", exit_code=1)
        stage("timing the anchor", 1)
        time_choice(anchor, timing)
        step(anchor.candidate.label)
        if anchor.latency_ms is None:
            raise EffprofError(f"--quick: the anchor {anchor.candidate.label} could not be timed: {anchor.base_row()['error']}", exit_code=1)
        anchor.shortlisted = anchor.anchor = True
        rate = anchor.latency_ms / anchor.macs
        predicted = {id(c): c.macs * rate for c in choices if c.macs}
        result.predictor = f"MACs only, at the rate measured for {anchor.candidate.label} on {timing.backends[0]}"
    else:
        if limits is None:
            # the calibration is per thread count: the run's, or (screening only) the policy's for this machine now
            chosen = timing.threads if timing.backends else thread_choice(threads)
            want = chosen.threads
            n = want if threads is not None or refresh else cached_threads(device, [want, chosen.usable_cores])
            if n is not None and n != want:
                result.notes.append(
                    f"the calibration is cached for {n} threads and this run times with {want} (others busy): the "
                    "further looks rescale the predictions by the measured/predicted ratio" if timing.backends else
                    f"predicted with the calibration cached for {n} threads (the thread policy picks {want} now)")  # fmt: skip
            stage("measuring device limits", 1)
            limits = device_limits(device, threads=n or want, refresh=refresh)
            step(device)
        if calibration is None:
            stage("calibrating (cached per device; the first time takes about a minute)",
                  len(CALIBRATION_BLOCKS) + len(CALIBRATION_NETWORKS))  # fmt: skip
            calibration = device_calibration(limits, refresh=refresh, on_block=lambda block: step(str(block)))
        peak, bandwidth = limits.peak_gmacs_per_s(), limits.bandwidth_gb_per_s
        for c in choices:
            if c.profile is not None and c.profile.count is not None and not c.error:
                predicted[id(c)] = calibrated_ms(c.profile.count, peak, bandwidth, calibration.references,
                                                 calibration.composition)  # fmt: skip
        result.predictor = "calibrated roofline (effprof predict), eager PyTorch on this device"
        result.meta["predictor_threads"] = limits.threads
        if timing.backends and timing.backends[0] != "eager":
            result.notes.append(f"the calibrated predictor models eager PyTorch; measured on {timing.backends[0]} "
                                "(the measured/predicted ratio rescales the further looks)")  # fmt: skip
        if calibration.warnings:
            result.notes += calibration.warnings
    for c in choices:
        c.predicted_ms = predicted.get(id(c))
    if not timing.backends:
        result.notes.append("nothing measured (--backend none): every configuration was predicted, none timed")
        return result
    limit = target_ms * (1 + margin)
    first = _shortlist(choices, predicted, limit, shortlist)
    if not first:
        ok = [c for c in choices if c.top1_pct is not None and id(c) in predicted and not c.shortlisted]
        first = sorted(ok, key=lambda c: predicted[id(c)])[:shortlist]
        result.notes.append(f"no configuration is predicted within {limit:.3g} ms: measured the {len(first)} predicted fastest")
    try:
        _measure(result, first, timing, stage, step, on_result)
        for look in range(1, MAX_LOOKS + 1):
            measured = [c for c in choices if c.latency_ms is not None and c.predicted_ms]
            if not measured:
                break
            result.scale = statistics.median(c.latency_ms / c.predicted_ms for c in measured)
            rescaled = {k: v * result.scale for k, v in predicted.items()}
            answer = best_under([c.latency_ms for c in measured], [c.top1_pct for c in measured], target_ms)
            floor = measured[answer].top1_pct if answer is not None else None
            more = _shortlist(choices, rescaled, limit, shortlist, better_than=floor)
            if not more:
                break
            result.notes.append(f"look {look + 1} (predictions x {result.scale:.2f}, the median measured/predicted so far): "
                                f"measured {len(more)} more, predicted within {limit:.3g} ms and more accurate than "
                                + (f"the answer so far ({floor:.1f}%)" if floor is not None else "nothing measured within the target"))  # fmt: skip
            _measure(result, more, timing, stage, step, on_result)
    except KeyboardInterrupt:
        result.interrupted = True
    unmeasured = [c for c in choices if c.top1_pct is not None and c.latency_ms is None]
    if unmeasured:
        result.notes.append(f"{len(unmeasured)} configurations with a published accuracy were screened out by the "
                            "prediction and not measured")  # fmt: skip
    return result


def _measure(result: SearchResult, todo: list[Choice], timing: Timing, stage, step, on_result) -> None:
    stage("measuring the shortlist", len(todo))
    for c in todo:
        c.shortlisted = True
        time_choice(c, timing)
        step(c.candidate.label)
        if on_result is not None:
            on_result(result)
