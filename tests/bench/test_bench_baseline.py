"""Reading a baseline and refusing one that does not fit: corrupt, another suite, another device."""

import json

import pytest

from effprof.bench.baseline import Baseline, check_baseline, device_identity, read_baseline
from effprof.errors import EffprofError


def meta(
    suite="ci", device="cpu", gpu=None, effprof="0.1.0", cpu="Xeon", reference="resnet18", machine="x86_64"
):
    env = {"device": device, "cpu": cpu, "torch_threads": 1, **({"gpu": gpu} if gpu else {})}
    return {"machine": machine, "device": device, "threads": 1, "environment": env,
            "versions": {"effprof": effprof, "torch": "2.13.0"},
            "bench": {"format": 1, "suite": suite, "reference": reference, "settings": {"budget_s": 1.0}}}  # fmt: skip


TIMED_ROWS = [{"spec": "resnet18", "latency_norm": 1.0, "latency_ms": 20.0}]


def baseline(rows=TIMED_ROWS, **kwargs) -> Baseline:
    return Baseline("base.json", meta(**kwargs), list(rows))


def refused(base: Baseline, run_meta: dict, timed: bool = True) -> str:
    with pytest.raises(EffprofError) as info:
        check_baseline(base, run_meta, timed=timed)
    assert info.value.exit_code == 2 and "\n" not in info.value.message
    return info.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ('{"meta": {}, "rows": []}', "is not an `effprof bench` report"),
        ("[1, 2]", "is not an `effprof bench` report"),
        ('{"meta": {"bench": {"format": 99}}, "rows": []}', "has bench format 99"),
        ('{"meta": {"bench": {"format": 1, "suite": "ci"}}, "rows": [{"model": "x"}]}', ": rows[0].spec: is required"),
        ('{"meta": {"bench": {"format": 1}}, "rows": []}', ": meta.bench.suite: is required"),
    ],
)
def test_corrupt_baselines_are_usage_errors(tmp_path, text, expected):
    path = tmp_path / "base.json"
    path.write_text(text)
    with pytest.raises(EffprofError) as info:
        read_baseline(path)
    assert expected in info.value.message and info.value.exit_code == 2
    assert "--update-baseline" in info.value.message or "format" in info.value.message


def test_missing_baseline_says_how_to_make_one(tmp_path):
    with pytest.raises(EffprofError, match="no baseline at .*--update-baseline"):
        read_baseline(tmp_path / "none.json")


def test_read_back(tmp_path):
    path = tmp_path / "base.json"
    path.write_text(json.dumps({"meta": meta(), "rows": TIMED_ROWS}))
    b = read_baseline(path)
    assert b.timed and b.rows == TIMED_ROWS


def test_same_suite_and_device_compares_without_notes():
    assert check_baseline(baseline(), meta(), timed=True) == []


def test_another_suite_is_refused():
    assert "is from suite 'zoo', this run is suite 'ci'" in refused(baseline(suite="zoo"), meta())


def test_another_kind_of_device_is_refused_for_latency_only():
    gpu_base = baseline(device="cuda", gpu="NVIDIA H100")
    message = refused(gpu_base, meta())
    assert (
        "timed on cuda NVIDIA H100 (x86_64), this run on cpu (x86_64)" in message
        and "--backend none" in message
    )
    assert "cpu (aarch64)" in refused(baseline(), meta(machine="aarch64"))
    assert check_baseline(gpu_base, meta(), timed=False) == []  # counts only: any device will do
    counts_only = baseline(rows=[{"spec": "resnet18", "latency_norm": None}], device="cuda", gpu="A100")
    assert check_baseline(counts_only, meta(), timed=True) == []


def test_another_reference_is_refused_when_latency_is_compared():
    assert "normalised latency by 'resnet50'" in refused(baseline(reference="resnet50"), meta())


def test_soft_differences_are_notes():
    notes = check_baseline(baseline(effprof="0.0.9", cpu="EPYC"), meta(), timed=True)
    assert any("effprof 0.0.9, this run uses 0.1.0" in n for n in notes)
    assert any("baseline CPU 'EPYC'" in n for n in notes)
    changed = meta()
    changed["bench"]["settings"] = {"budget_s": 0.5}
    assert check_baseline(baseline(), changed, timed=False) == [
        "suite setting budget_s: baseline 1.0, now 0.5"
    ]


def test_device_identity():
    assert device_identity(meta()) == "cpu (x86_64)"
    assert device_identity(meta(device="cuda:1", gpu="NVIDIA H200")) == "cuda NVIDIA H200 (x86_64)"
