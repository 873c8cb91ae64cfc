"""The comparison rules on synthetic rows: pure functions, no timing, so they are exact and fast."""

import math

import pytest

from effprof.bench.compare import compare, normalise_latency, relative_change
from effprof.bench.run import reference_case
from effprof.bench.suite import Case, Tolerance

TOL = Tolerance(latency_pct=20.0)
REF = "resnet18"
COUNTS = {"resnet18": (11_689_512, 925_798_400, 1_268_200), "mobilenet_v2": (3_504_872, 154_083_200, 3_408_200),
          "shufflenet": (1_366_792, 21_152_800, 523_400)}  # fmt: skip
MS = {"resnet18": 22.0, "mobilenet_v2": 8.6, "shufflenet": 5.3}


def rows(ms=None, counts=None, backend="eager", resolution=160):
    ms = {**MS, **(ms or {})}
    counts = {**COUNTS, **(counts or {})}
    out = []
    for spec, (params, macs, acts) in counts.items():
        out.append({"spec": spec, "resolution": resolution, "batch": 1, "backend": backend, "params": params,
                    "macs": macs, "activations": acts, "latency_ms": ms[spec], "error": None})  # fmt: skip
    return normalise_latency(out, REF)


def test_normalised_latency_is_a_ratio_to_the_reference_of_the_same_run():
    r = {x["spec"]: x for x in rows()}
    assert r["resnet18"]["latency_norm"] == 1.0
    assert r["mobilenet_v2"]["latency_norm"] == pytest.approx(8.6 / 22.0)
    assert r["mobilenet_v2"]["reference_latency_ms"] == 22.0


def test_reference_matches_backend_and_batch_and_prefers_the_same_resolution():
    raw = [
        {"spec": REF, "resolution": 160, "batch": 1, "backend": "eager", "latency_ms": 20.0},
        {"spec": REF, "resolution": 224, "batch": 1, "backend": "eager", "latency_ms": 40.0},
        {"spec": REF, "resolution": 160, "batch": 1, "backend": "onnxruntime", "latency_ms": 10.0},
        {"spec": "m", "resolution": 224, "batch": 1, "backend": "eager", "latency_ms": 8.0},
        {"spec": "m", "resolution": 96, "batch": 1, "backend": "onnxruntime", "latency_ms": 5.0},
        {"spec": "m", "resolution": 160, "batch": 4, "backend": "eager", "latency_ms": 5.0},
    ]
    norm = [r["latency_norm"] for r in normalise_latency(raw, REF)]
    assert norm[3:] == [8.0 / 40.0, 5.0 / 10.0, None]  # no batch-4 reference: not normalised


def test_identical_rows_pass():
    result = compare(rows(), rows(), TOL, REF)
    assert not result.failed and result.changes == []
    assert {c.status for c in result.latency} == {"ok"} and len(result.latency) == 3


def test_any_params_change_fails_with_the_numbers():
    changed = rows(counts={"mobilenet_v2": (3_504_873, 154_083_200, 3_408_200)})
    result = compare(rows(), changed, TOL, REF)
    assert result.failed
    (c,) = result.failures
    assert (c.case.spec, c.metric, c.baseline, c.current, c.status) == (
        "mobilenet_v2",
        "params",
        3_504_872,
        3_504_873,
        "fail",
    )
    assert c.change_pct == pytest.approx(100 / 3_504_872)


def test_twenty_percent_more_macs_fails_and_a_drop_fails_too():
    more = rows(counts={"shufflenet": (1_366_792, int(21_152_800 * 1.2), 523_400)})
    less = rows(counts={"shufflenet": (1_366_792, int(21_152_800 * 0.8), 523_400)})
    for current in (more, less):
        (c,) = compare(rows(), current, TOL, REF).failures
        assert c.metric == "macs" and abs(c.change_pct) == pytest.approx(20, abs=1e-4)


def test_count_change_within_tolerance_is_reported_not_failed():
    changed = rows(counts={"mobilenet_v2": (3_504_872, 155_000_000, 3_408_200)})
    result = compare(rows(), changed, Tolerance(macs_pct=1.0), REF)
    assert not result.failed
    assert [(c.metric, c.status) for c in result.changes] == [("macs", "ok")]


def test_a_model_slower_relative_to_the_reference_fails():
    result = compare(rows(), rows(ms={"mobilenet_v2": 8.6 * 1.3}), TOL, REF)
    (c,) = result.failures
    assert c.metric == "latency_norm" and c.case.spec == "mobilenet_v2"
    assert c.change_pct == pytest.approx(30.0)
    assert (c.baseline_ms, c.current_ms) == (8.6, pytest.approx(11.18))


def test_a_uniformly_slower_machine_passes():
    slower = rows(ms={k: v * 1.7 for k, v in MS.items()})
    result = compare(rows(), slower, TOL, REF)
    assert not result.failed
    assert all(c.change_pct == pytest.approx(0.0, abs=1e-9) for c in result.latency)
    assert result.speed == {"eager": pytest.approx(1.7)}


def test_faster_is_reported_and_small_noise_is_ok():
    result = compare(rows(), rows(ms={"mobilenet_v2": 8.6 * 0.5, "shufflenet": 5.3 * 1.1}), TOL, REF)
    status = {c.case.spec: c.status for c in result.latency}
    assert status == {"resnet18": "ok", "mobilenet_v2": "faster", "shufflenet": "ok"}
    assert not result.failed


def test_an_error_row_fails_and_new_or_missing_cases_are_info():
    current = rows()
    current[1] = {**current[1], "error": "boom", "params": None, "macs": None, "latency_ms": None}
    current.append(
        {"spec": "new_model", "resolution": 160, "batch": 1, "backend": "eager", "params": 1, "macs": 1}
    )
    baseline = [
        *rows(),
        {"spec": "gone", "resolution": 160, "batch": 1, "backend": "eager", "params": 1, "macs": 1},
    ]
    result = compare(baseline, normalise_latency(current, REF), TOL, REF)
    assert [(c.case.spec, c.metric, c.status) for c in result.changes] == [
        ("mobilenet_v2", "error", "fail"), ("new_model", "new", "info"), ("gone", "missing", "info"),
    ]  # fmt: skip
    assert result.failures[0].note == "boom"


def test_counts_only_baseline_compares_counts_and_says_latency_was_not():
    counts_only = [{**r, "backend": None, "latency_ms": None, "latency_norm": None} for r in rows()]
    result = compare(counts_only, rows(counts={"resnet18": (1, 925_798_400, 1_268_200)}), TOL, REF)
    assert [c.metric for c in result.failures] == ["params"]
    assert result.latency == [] and "latency was not compared" in result.notes[0]


def test_relative_change_edges():
    assert relative_change(10, 12) == pytest.approx(0.2)
    assert relative_change(0, 0) == 0.0 and relative_change(0, 5) == math.inf


def test_json_roundtrip_turns_whole_floats_back_into_the_same_cases():
    baseline = [{**r, "resolution": float(r["resolution"]), "batch": 1.0} for r in rows()]
    assert not compare(baseline, rows(), TOL, REF).failed
    assert compare(baseline, rows(), TOL, REF).changes == []


def test_each_case_is_timed_beside_the_reference_at_its_batch_and_resolution():
    class S:
        reference = REF

    cases = [Case(REF, 160, 1), Case(REF, 224, 1), Case(REF, 160, 8), Case("m", 224, 1), Case("m", 96, 1),
             Case("m", 160, 8), Case("m", 160, 4)]  # fmt: skip
    assert reference_case(S, cases[3], cases) == Case(REF, 224, 1)
    assert reference_case(S, cases[4], cases) == Case(REF, 160, 1)  # no 96 px reference: its first
    assert reference_case(S, cases[5], cases) == Case(REF, 160, 8)
    assert reference_case(S, cases[6], cases) is None  # no batch-4 reference: timed alone
