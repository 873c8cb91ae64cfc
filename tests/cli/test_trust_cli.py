"""Latency trust on the terminal: thread policy, contention and spread warnings under profile and compare tables."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from effprof.cli import app
from effprof.latency import contention
from effprof.latency.contention import CpuProbe

runner = CliRunner()
FAST = ["-r", "32", "--budget-s", "0.05", "--counters", "analytic"]


def invoke(*args):
    result = runner.invoke(app, list(map(str, args)))
    return result, result.output


def test_oversubscribed_threads_are_clamped_with_a_warning_under_the_table(monkeypatch, tmp_path):
    monkeypatch.setattr(contention, "PROBE", CpuProbe(read_stat=lambda: None, usable_cores=lambda: 2))
    out_json = tmp_path / "c.json"
    result, text = invoke("compare", "mobilenet_v1_025", "--backend", "eager", "--threads", "999", *FAST,
                          "-o", out_json)  # fmt: skip
    assert result.exit_code == 0, text
    assert "threads: 2 (--threads 999 clamped to the 2 usable cores)" in text
    assert "warning: mobilenet_v1_025 (eager): --threads 999 asks for more than the 2 cores" in text
    assert "threads clamped" in text  # the doubt column
    doc = json.loads(out_json.read_text())
    assert doc["meta"]["threads"] == 2 and "clamped" in doc["meta"]["threads_reason"]
    assert doc["rows"][0]["threads"] == 2


def test_busy_machine_chooses_fewer_threads_and_flags_contended_rows(busy_machine):
    busy_machine(2.0)
    result, text = invoke("compare", "mobilenet_v1_025", "resnet18", "--backend", "eager", *FAST)
    assert result.exit_code == 0, text
    assert "threads: 1 (2 usable cores - 2 busy with other processes)" in text
    assert "contended 100%" in text
    # one line for a warning every row carries, not one per row
    assert text.count("timed on 1 of 2 cores") == 1 and "warning: every row: timed on 1 of 2 cores" in text
    assert "other processes used 2.0 of 2 cores while this was timed (also after 1 re-timing)" in text


def test_one_busy_core_beside_a_one_thread_timing_is_not_contention(busy_machine, tmp_path):
    busy_machine(1.0)
    out_json = tmp_path / "c.json"
    result, text = invoke("compare", "mobilenet_v1_025", "--backend", "eager", *FAST, "-o", out_json)
    assert result.exit_code == 0, text
    row = json.loads(out_json.read_text())["rows"][0]
    assert row["threads"] == 1 and row["others_cores"] == pytest.approx(1.0, abs=0.05)
    assert row["contended"] is None  # the other core was free for it
    assert "timed on 1 of 2 cores: other processes were busy on 1.0 cores" in text  # still flagged: fewer threads


def test_profile_prints_every_warning_of_its_measurements(busy_machine):
    busy_machine(2.0)
    result, text = invoke("profile", "mobilenet_v1_025", "--layers", "1", *FAST)
    assert result.exit_code == 0, text
    assert "warning: mobilenet_v1_025 (eager): other processes used 2.0 of 2 cores" in text
    assert "warning: mobilenet_v1_025 (eager, per layer): other processes used 2.0 of 2 cores" in text


def test_infinite_budget_is_a_one_line_error_before_any_work():
    result, text = invoke("compare", "mobilenet_v1_025", "--backend", "eager", "--budget-s", "inf")
    assert result.exit_code == 2, text
    assert "--budget-s inf: must be a number of seconds > 0 and <= 3600" in text
