"""Suite files: validation of every key (exit 2 naming the key and the valid ones) and the shipped suites."""

from pathlib import Path

import pytest

from effprof.bench.suite import SUITE_KEYS, Case, Tolerance, load_suite, parse_suite
from effprof.errors import EffprofError

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
MINIMAL = {"name": "t", "models": ["resnet18", "mobilenet_v2"], "reference": "resnet18"}


def suite(**changes):
    return parse_suite({**MINIMAL, **changes}, "t.toml")


def error(**changes) -> EffprofError:
    with pytest.raises(EffprofError) as info:
        suite(**changes)
    assert info.value.exit_code == 2
    assert "\n" not in info.value.message
    return info.value


def test_minimal_suite_gets_defaults_and_runs_the_reference_first():
    s = suite(models=["mobilenet_v2", "resnet18"])
    assert s.tolerance == Tolerance() and s.backends == () and s.batch_sizes == (1,) and s.rounds == 10
    assert s.cases() == [Case("resnet18", None, 1), Case("mobilenet_v2", None, 1)]


def test_cases_cross_resolutions_and_batches_with_per_model_overrides():
    s = suite(resolutions=[128, 160], batch_sizes=[1, 2],
              models=["resnet18", {"spec": "mobilenet_v2", "resolutions": [96]}])  # fmt: skip
    assert [(c.spec, c.resolution, c.batch) for c in s.cases()] == [
        ("resnet18", 128, 1), ("resnet18", 128, 2), ("resnet18", 160, 1), ("resnet18", 160, 2),
        ("mobilenet_v2", 96, 1), ("mobilenet_v2", 96, 2),
    ]  # fmt: skip
    assert s.cases()[-1].label == "mobilenet_v2 @96px batch 2"
    assert Case("resnet50", None, 1).label == "resnet50"


def test_unknown_top_level_key_names_it_and_the_valid_keys():
    exc = error(resolution=[160])
    assert "unknown key 'resolution'" in exc.message and "did you mean 'resolutions'" in exc.message
    assert all(k in exc.message for k in SUITE_KEYS)
    assert exc.message.startswith("suite t.toml: unknown key")


def test_unknown_tolerance_and_model_keys():
    assert error(tolerance={"latency": 5}).message == (
        "suite t.toml: tolerance: unknown key 'latency' (did you mean 'latency_pct'?); "
        "valid keys: params_pct, macs_pct, activations_pct, latency_pct"
    )
    exc = error(models=["resnet18", {"spec": "mobilenet_v2", "res": [96]}])
    assert exc.message.startswith("suite t.toml: models[1]: unknown key 'res'; ")
    assert exc.message.endswith("valid keys: spec, resolutions, batch_sizes")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"reference": "resnet50"}, "reference must be one of the suite's models (resnet18, mobilenet_v2), got 'resnet50'"),
        ({"name": ""}, "name: must be a non-empty string on one line of at most 100 characters, got ''"),
        ({"models": []}, "models: must be a non-empty list of models, got []"),
        ({"models": ["resnet18", "resnet18"]}, "models[1]: model 'resnet18' is listed twice (also models[0]"),
        ({"resolutions": [224, 0]}, "resolutions[1]: must be a whole number from 1 to 8192, got 0"),
        ({"batch_sizes": []}, "batch_sizes: must be a non-empty list of whole numbers, got []"),
        ({"threads": 0}, "threads: must be a whole number from 1 to 1024, got 0"),
        ({"rounds": True}, "rounds: must be a whole number from 1 to 100, got True"),
        ({"budget_s": -1}, "budget_s: must be a finite number > 0 and <= 3600, got -1"),
        ({"backends": ["eagre"]}, "eagre"),
        ({"counters": ["flops"]}, "unknown counter flops"),
        ({"tolerance": {"macs_pct": -1}}, "tolerance.macs_pct: must be a finite number >= 0, got -1"),
        ({"models": [3]}, 'models[0]: must be a spec string or a table with spec = "...", got 3'),
    ],
)
def test_bad_values_are_one_line_usage_errors(changes, expected):
    message = error(**changes).message
    assert message.startswith("suite t.toml: ") and expected in message


def test_backends_none_means_counts_only():
    assert suite(backends=[]).backends == () and suite(backends="none").backends == ()
    assert suite(backends="eager,onnxruntime").backends == ("eager", "onnxruntime")


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(EffprofError, match="no suite file"):
        load_suite(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(EffprofError, match="not valid TOML"):
        load_suite(bad)


@pytest.mark.parametrize("name", ["ci", "zoo", "lecture"])
def test_shipped_suites_load(name):
    s = load_suite(BENCHMARKS / f"{name}.toml")
    assert s.name == name and s.reference in [m["spec"] for m in s.models]


def test_zoo_lists_every_registered_model():
    from effprof.models import list_models

    zoo = load_suite(BENCHMARKS / "zoo.toml")
    assert [m["spec"] for m in zoo.models] == [c.name for c in list_models()]


def test_ci_suite_is_small_and_timed():
    ci = load_suite(BENCHMARKS / "ci.toml")
    assert ci.backends == ("eager",) and ci.threads == 1 and len(ci.cases()) <= 6
    assert ci.tolerance.latency_pct < 30  # a model 30% slower than before must fail
