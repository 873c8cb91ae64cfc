"""Hostile hardware cache files (limits, calibration): each is discarded and measured afresh, never trusted.

A cache file is effprof's own, but it lives in the user's home and outlives effprof versions: a
hand edit, a crash of another tool or a copy from another machine must cost a re-measurement,
not a traceback on every later ``effprof hw`` (``[1, 2]`` used to break every one) nor a roofline
built on a NaN or a zero time.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hardware_helpers import TINY, TINY_BLOCKS, TINY_NETWORKS
from typer.testing import CliRunner

from effprof.cli import app
from effprof.hardware import cache
from effprof.hardware.calibrate import device_calibration
from effprof.hardware.limits import device_limits, measure_limits


def cached_limits() -> tuple[Path, dict]:
    """Measure tiny limits once (cached) and return the cache file and its document."""
    first = device_limits("cpu", threads=1, **TINY)
    assert not first.from_cache and first.cache_path
    path = Path(first.cache_path)
    return path, json.loads(path.read_text())


def write(path: Path, doc) -> None:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, allow_nan=True))


def first_ceiling(doc):
    return doc["limits"]["ceilings"][0]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: [1, 2], id="a-list"),
        pytest.param(lambda d: "[" * 100_000 + "]" * 100_000, id="nested-100k-deep"),
        pytest.param(lambda d: "{" * 3, id="truncated"),
        pytest.param(lambda d: {**d, "limits": [1]}, id="limits-not-an-object"),
        pytest.param(lambda d: {**d, "limits": {**d["limits"], "ceilings": []}}, id="no-ceilings"),
        pytest.param(lambda d: first_ceiling(d).update(times_s=[math.nan] * 5) or d, id="nan-times"),
        pytest.param(lambda d: first_ceiling(d).update(times_s=[-1e-3] * 5) or d, id="negative-times"),
        pytest.param(lambda d: first_ceiling(d).update(times_s=[0.0] * 5) or d, id="zero-times"),
        pytest.param(lambda d: first_ceiling(d).update(times_s=[]) or d, id="no-times"),
        pytest.param(lambda d: first_ceiling(d).update(work=math.inf) or d, id="infinite-work"),
        pytest.param(lambda d: first_ceiling(d).update(kind="quantum") or d, id="unknown-kind"),
        pytest.param(lambda d: first_ceiling(d).update(threads="1") or d, id="threads-a-string"),
        pytest.param(lambda d: first_ceiling(d).update(warnings="none") or d, id="warnings-a-string"),
        pytest.param(lambda d: d["limits"].update(threads=True) or d, id="threads-true"),
    ],
)
def test_a_bad_limits_file_is_discarded_and_measured_afresh(edit):
    path, doc = cached_limits()
    bad = edit(doc)
    write(path, bad)
    assert cache.load(path, cache.LimitsCache) is None and not path.exists()  # discarded on sight
    write(path, bad)
    again = device_limits("cpu", threads=1, **TINY)
    assert not again.from_cache and math.isfinite(again.peak_gmacs_per_s()) and again.peak_gmacs_per_s() > 0
    # the fresh measurement replaced the bad file, and the next run reads it back
    assert cache.load(path, cache.LimitsCache) is not None
    assert device_limits("cpu", threads=1, **TINY).from_cache


def test_limits_without_a_gemm_peak_are_measured_afresh():
    # well-typed, but the roofline needs a GEMM peak: reading it would fail every later run
    path, doc = cached_limits()
    doc["limits"]["ceilings"] = [c for c in doc["limits"]["ceilings"] if c["name"] != "gemm"]
    write(path, doc)
    again = device_limits("cpu", threads=1, **TINY)
    assert not again.from_cache and again.ceiling("gemm") is not None


def test_a_good_limits_file_reads_back_the_same_figures():
    path, doc = cached_limits()
    checked = cache.load(path, cache.LimitsCache)
    assert checked["key"] == doc["key"]
    assert [c["times_s"] for c in checked["limits"]["ceilings"]] == [
        c["times_s"] for c in doc["limits"]["ceilings"]
    ]


def test_a_directory_in_place_of_the_cache_file_means_no_cache():
    path, _ = cached_limits()
    path.unlink()
    path.mkdir()
    limits = device_limits("cpu", threads=1, **TINY)
    assert not limits.from_cache and limits.cache_path is None and limits.peak_gmacs_per_s() > 0
    assert path.is_dir()  # left alone: effprof removes files, never folders


def test_load_without_a_schema_still_refuses_non_objects(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(b"\xff\xfe not text")
    assert cache.load(path) is None and not path.exists()
    path.write_text("[1, 2]")
    assert cache.load(path) is None and not path.exists()
    assert cache.load(tmp_path / "absent.json") is None
    path.write_text('{"key": {}}')
    assert cache.load(path) == {"key": {}}


CAL = {"blocks": TINY_BLOCKS, "networks": TINY_NETWORKS, "budget_s": 0.01}


def first_timing(doc):
    return doc["calibration"]["timings"][0]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: [1, 2], id="a-list"),
        pytest.param(lambda d: first_timing(d).update(measured_ms=0.0) or d, id="zero-time"),
        pytest.param(lambda d: first_timing(d).update(measured_ms=math.nan) or d, id="nan-time"),
        pytest.param(lambda d: first_timing(d).update(calls=0) or d, id="zero-calls"),
        pytest.param(lambda d: first_timing(d).update(macs=-5) or d, id="negative-macs"),
        pytest.param(
            lambda d: d["calibration"]["networks"][0].update(layers=[[1, 2]]) or d, id="short-layer"
        ),
        pytest.param(lambda d: d["calibration"]["timings"].reverse() or d, id="other-layers"),
        pytest.param(lambda d: d["calibration"].update(timings=[]) or d, id="no-timings"),
    ],
)
def test_a_bad_calibration_file_is_discarded_and_timed_afresh(edit):
    limits = measure_limits("cpu", threads=1, **TINY)
    first = device_calibration(limits, **CAL)
    path = Path(first.cache_path)
    write(path, edit(json.loads(path.read_text())))
    again = device_calibration(limits, **CAL)
    assert not again.from_cache
    assert all(t.measured_ms > 0 and t.calls >= 1 for t in again.timings)
    assert [t.name for t in again.timings] == [b.name for b in TINY_BLOCKS]
    assert device_calibration(limits, **CAL).from_cache  # rewritten good


def test_hw_cli_recovers_from_a_list_in_its_cache(tiny_defaults):
    """Before: every `effprof hw` after this file appeared died with AttributeError: 'list' object has no attribute 'get'."""
    runner = CliRunner()
    assert runner.invoke(app, ["hw", "--threads", "1"]).exit_code == 0
    (path,) = cache.hw_cache_dir().glob("limits-*.json")
    path.write_text("[1, 2]")
    result = runner.invoke(app, ["hw", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "GMAC/s" in result.output
    assert isinstance(json.loads(path.read_text()), dict)  # measured and cached again
