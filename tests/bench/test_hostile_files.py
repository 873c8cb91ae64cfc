"""Hostile suite and baseline files: each is one EffprofError line naming the file and the field, exit 2.

Every case writes a real file and reads it with ``load_suite`` / ``read_baseline`` (the CLI's own
loaders), then checks the exact field path and rule in the message: a NaN, an Infinity, a wrong
type or an absurd size must never reach the comparison, where NaN compares false with everything
and would pass any change. A few cases run through ``effprof bench`` (CliRunner, --backend none):
the bad file is refused before any model is built, so they take no time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from effprof.bench.baseline import read_baseline
from effprof.bench.suite import MAX_SUITE_BYTES, load_suite
from effprof.cli import app
from effprof.errors import EffprofError

GOOD_SUITE = 'name = "t"\nreference = "resnet18"\nmodels = ["resnet18", "mobilenet_v2"]\n'


def refused(load, path: Path) -> str:
    """The one-line usage error ``load(path)`` raises."""
    with pytest.raises(EffprofError) as info:
        load(path)
    message = info.value.message
    assert info.value.exit_code == 2 and "\n" not in message and len(message) < 400, message
    return message


def suite_file(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- suites: values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # defect 3: a NaN tolerance compares false with every change, so the gate passed anything
        ("[tolerance]\nlatency_pct = nan", "tolerance.latency_pct: must be a finite number >= 0, got nan"),
        ("[tolerance]\nmacs_pct = inf", "tolerance.macs_pct: must be a finite number >= 0, got inf"),
        ("[tolerance]\nparams_pct = -inf", "tolerance.params_pct: must be a finite number >= 0, got -inf"),
        (
            "[tolerance]\nactivations_pct = -0.5",
            "tolerance.activations_pct: must be a finite number >= 0, got -0.5",
        ),
        ('[tolerance]\nlatency_pct = "20"', "tolerance.latency_pct: must be a finite number >= 0, got '20'"),
        ("[tolerance]\nlatency_pct = true", "tolerance.latency_pct: must be a finite number >= 0, got True"),
        ("tolerance = 5", "tolerance: must be a table, got 5"),
        ("budget_s = nan", "budget_s: must be a finite number > 0 and <= 3600, got nan"),
        ("budget_s = inf", "budget_s: must be a finite number > 0 and <= 3600, got inf"),
        (
            "budget_s = 1979-05-27",
            "budget_s: must be a finite number > 0 and <= 3600, got datetime.date(1979, 5, 27)",
        ),
        # defect 9: sizes no machine can run are refused up front, naming the bound
        (
            "resolutions = [4611686018427387904]",
            "resolutions[0]: must be a whole number from 1 to 8192, got 4611686018427387904",
        ),
        (
            "batch_sizes = [1000000000]",
            "batch_sizes[0]: must be a whole number from 1 to 4096, got 1000000000",
        ),
        ("resolutions = [224, 1.5]", "resolutions[1]: must be a whole number from 1 to 8192, got 1.5"),
        ('resolutions = ["224"]', "resolutions[0]: must be a whole number from 1 to 8192, got '224'"),
        ('batch_sizes = "x"', "batch_sizes: must be a non-empty list of whole numbers, got 'x'"),
        ("threads = 100000", "threads: must be a whole number from 1 to 1024, got 100000"),
        ("threads = 2.5", "threads: must be a whole number from 1 to 1024, got 2.5"),
        ("rounds = 0", "rounds: must be a whole number from 1 to 100, got 0"),
        ("backends = 5", "backends: must be a list of names, got 5"),
        ("counters = [1]", "counters[0]: must be a non-empty string on one line, got 1"),
        ('device = ""', "device: must be a non-empty string on one line of at most 100 characters, got ''"),
        ("description = 5", "description: must be a string of at most 10000 characters, got 5"),
    ],
)
def test_bad_suite_values_name_the_field(tmp_path, extra, expected):
    message = refused(load_suite, suite_file(tmp_path, GOOD_SUITE + extra + "\n"))
    assert message == f"suite {tmp_path / 's.toml'}: {expected}"


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        # defect 9: entries are trimmed before the duplicate check
        (
            '["resnet18", " resnet18 "]',
            "models[1]: model 'resnet18' is listed twice (also models[0], compared after trimming spaces)",
        ),
        ('["resnet18", { spec = "resnet18\\t" }]', "models[1]: model 'resnet18' is listed twice"),
        ('"resnet18"', "models: must be a non-empty list of models, got 'resnet18'"),
        ('["resnet18", []]', 'models[1]: must be a spec string or a table with spec = "...", got []'),
        ('["resnet18", { resolutions = [96] }]', "models[1].spec: is required"),
        (
            '["resnet18", { spec = 5 }]',
            "models[1].spec: must be a model spec on one line of at most 1000 characters, got 5",
        ),
        (
            '["resnet18", "   "]',
            "models[1].spec: must be a model spec on one line of at most 1000 characters, got '   '",
        ),
        ('["resnet18", "mobilenet_v2\\u0000"]', "models[1].spec: must be a model spec on one line"),
        ('["resnet18", "mobilenet_v2\\n# injected"]', "models[1].spec: must be a model spec on one line"),
        (
            '["resnet18", { spec = "x", resolutions = [0] }]',
            "models[1].resolutions[0]: must be a whole number from 1 to 8192, got 0",
        ),
        (
            '["resnet18", { spec = "x", batch_sizes = [] }]',
            "models[1].batch_sizes: must be a non-empty list of whole numbers, got []",
        ),
    ],
)
def test_bad_model_entries_name_the_entry(tmp_path, models, expected):
    text = f'name = "t"\nreference = "resnet18"\nmodels = {models}\n'
    message = refused(load_suite, suite_file(tmp_path, text))
    assert message.startswith(f"suite {tmp_path / 's.toml'}: {expected}"), message


def test_a_100k_character_spec_is_refused_without_echoing_it(tmp_path):
    spec = "x" * 100_000
    message = refused(
        load_suite,
        suite_file(tmp_path, f'name = "t"\nreference = "resnet18"\nmodels = ["resnet18", "{spec}"]\n'),
    )
    assert "models[1].spec: must be a model spec on one line of at most 1000 characters, got 'xxxx" in message
    assert message.count("x") < 100  # the value is shown cut short


def test_a_multiline_suite_name_is_refused(tmp_path):
    # the name heads the Markdown summary: a line break there would inject Markdown into the CI page
    text = 'name = "ci\\n# all green"\nreference = "resnet18"\nmodels = ["resnet18"]\n'
    assert "name: must be a non-empty string on one line" in refused(load_suite, suite_file(tmp_path, text))


def test_trimmed_reference_and_whole_float_sizes_are_read_as_meant(tmp_path):
    text = 'name = " t "\nreference = " resnet18 "\nmodels = [" resnet18", "mobilenet_v2 "]\nresolutions = [160.0]\n'
    suite = load_suite(suite_file(tmp_path, text))
    assert suite.name == "t" and suite.reference == "resnet18"
    assert [m["spec"] for m in suite.models] == ["resnet18", "mobilenet_v2"]
    assert suite.resolutions == (160,) and type(suite.resolutions[0]) is int


# ---- suites: the file itself ----------------------------------------------------------------


def test_non_utf8_suite(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    assert refused(load_suite, path) == (
        f"suite {path}: is not UTF-8 text (byte 0xe9 at offset 11); a suite is a UTF-8 TOML file like benchmarks/ci.toml"
    )


def test_a_directory_is_not_a_suite(tmp_path):
    path = tmp_path / "ci.toml"
    path.mkdir()
    assert f"suite {path}: is a directory, not a file" in refused(load_suite, path)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_suite_says_what_a_suite_needs(tmp_path, text):
    message = refused(load_suite, suite_file(tmp_path, text))
    assert message == (
        f'suite {tmp_path / "s.toml"}: is empty; a suite needs name = "...", models = [...] and reference = "..."'
    )


def test_a_device_file_is_refused_without_reading_it():
    # /dev/zero would never end and a FIFO would block: neither is opened
    assert "/dev/zero: is not a regular file" in refused(load_suite, Path("/dev/zero"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "suite.toml"
    os.mkfifo(fifo)
    assert "is not a regular file" in refused(load_suite, fifo)


def test_an_oversized_suite_is_refused(tmp_path):
    path = suite_file(tmp_path, GOOD_SUITE + "# " + "x" * MAX_SUITE_BYTES + "\n")
    assert "is larger than 1 MiB" in refused(load_suite, path)


@pytest.mark.parametrize("levels", [40, 5000])
def test_deeply_nested_toml_is_refused(tmp_path, levels):
    # 40 levels parse but are no suite; 5000 exhaust tomllib's recursion
    path = suite_file(tmp_path, GOOD_SUITE + "x = " + "[" * levels + "]" * levels + "\n")
    message = refused(load_suite, path)
    assert "nests" in message and message.startswith(f"suite {path}: ")


def test_bad_toml_keeps_the_parser_position(tmp_path):
    message = refused(load_suite, suite_file(tmp_path, 'name = "t"\nmodels = [1,, 2]\n'))
    assert message == f"suite {tmp_path / 's.toml'}: not valid TOML: Invalid value (at line 2, column 13)"


# ---- baselines ------------------------------------------------------------------------------


def bench_doc(**row) -> dict:
    """A minimal valid bench report with one row; ``row`` adds or replaces that row's keys."""
    return {
        "meta": {"machine": "x86_64", "environment": {"device": "cpu"}, "versions": {"effprof": "0.1.0"},
                 "bench": {"format": 1, "suite": "ci", "reference": "resnet18", "settings": {"budget_s": 1.0}}},
        "rows": [{"spec": "resnet18", "params": 11689512, "macs": 925798400, "latency_ms": 20.0,
                  "latency_norm": 1.0, "resolution": 160, "batch": 1, **row}],
    }  # fmt: skip


def baseline_file(tmp_path: Path, doc) -> Path:
    path = tmp_path / "base.json"
    # allow_nan: Python writes NaN/Infinity like a hand-edited or foreign-written file would hold them
    path.write_text(json.dumps(doc, allow_nan=True) if not isinstance(doc, str) else doc)
    return path


def baseline_error(tmp_path: Path, doc) -> str:
    path = baseline_file(tmp_path, doc)
    message = refused(read_baseline, path)
    assert message.startswith(f"baseline {str(path)!r}") and message.endswith(
        f"replace it with `effprof bench SUITE --baseline {path} --update-baseline`"
    )
    return message


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        # defect 3: a NaN count read "No count changed"; negative or infinite latency passed
        ({"macs": float("nan")}, "rows[0].macs: must be a whole number >= 0 or null, got nan"),
        ({"params": float("inf")}, "rows[0].params: must be a whole number >= 0 or null, got inf"),
        ({"params": -1}, "rows[0].params: must be a whole number >= 0 or null, got -1"),
        ({"params": 1.5}, "rows[0].params: must be a whole number >= 0 or null, got 1.5"),
        ({"params": True}, "rows[0].params: must be a whole number >= 0 or null, got True"),
        ({"latency_ms": -3.0}, "rows[0].latency_ms: must be a finite number >= 0 or null, got -3.0"),
        ({"latency_ms": float("inf")}, "rows[0].latency_ms: must be a finite number >= 0 or null, got inf"),
        (
            {"latency_norm": float("nan")},
            "rows[0].latency_norm: must be a finite number >= 0 or null, got nan",
        ),
        ({"latency_norm": "1.0"}, "rows[0].latency_norm: must be a finite number >= 0 or null, got '1.0'"),
        # defect 4: these crashed with ValueError / TypeError
        ({"batch": "x"}, "rows[0].batch: must be a whole number >= 1 or null, got 'x'"),
        ({"resolution": 0}, "rows[0].resolution: must be a whole number >= 1 or null, got 0"),
        ({"spec": ""}, "rows[0].spec: must be a model spec, got ''"),
        ({"spec": ["resnet18"]}, "rows[0].spec: must be a model spec, got ['resnet18']"),
        # the latency-trust columns another change adds: checked when present
        (
            {"latency_pair_norms": [20.0, -1.0]},
            "rows[0].latency_pair_norms[1]: must be a finite number >= 0, got -1.0",
        ),
        (
            {"latency_pair_norms": "fast"},
            "rows[0].latency_pair_norms: must be a list of finite numbers >= 0 or null, got 'fast'",
        ),
        (
            {"latency_norm_low": float("-inf")},
            "rows[0].latency_norm_low: must be a finite number >= 0 or null, got -inf",
        ),
        (
            {"contended": -0.5},
            "rows[0].contended: must be a finite number >= 0 or null, got -0.5",
        ),
        ({"warnings": ["noisy"]}, "rows[0].warnings: must be a string or null, got ['noisy']"),
    ],
)
def test_bad_baseline_rows_name_the_row_and_field(tmp_path, row, expected):
    assert f": {expected}: replace it with" in baseline_error(tmp_path, bench_doc(**row))


def test_a_bad_row_after_good_ones_is_named_by_its_index(tmp_path):
    doc = bench_doc()
    doc["rows"] += [{**doc["rows"][0], "spec": "mobilenet_v2"}, {**doc["rows"][0], "spec": "x", "macs": -5}]
    assert ": rows[2].macs: must be a whole number >= 0 or null, got -5:" in baseline_error(tmp_path, doc)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda m: m.update(environment="cpu"), "meta.environment: must be a JSON object, got 'cpu'"),
        (lambda m: m["bench"].update(settings=7), "meta.bench.settings: must be a JSON object, got 7"),
        (lambda m: m["bench"].update(suite=5), "meta.bench.suite: must be a suite name, got 5"),
        (lambda m: m["bench"].pop("suite"), "meta.bench.suite: is required"),
        (
            lambda m: m.update(versions={"torch": 2.13}),
            "meta.versions.torch: must be a string or null, got 2.13",
        ),
        (lambda m: m.update(threads=0), "meta.threads: must be a whole number >= 1 or null, got 0"),
        (
            lambda m: m["environment"].update(torch_threads="2"),
            "meta.environment.torch_threads: must be a whole number >= 1 or null, got '2'",
        ),
    ],
)
def test_bad_baseline_meta_names_the_field(tmp_path, edit, expected):
    doc = bench_doc()
    edit(doc["meta"])
    assert f": {expected}: replace it with" in baseline_error(tmp_path, doc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", "is not an `effprof bench` report"),
        ('{"meta": {"bench": {"format": 1}}, "rows": {}}', "is not an `effprof bench` report"),
        ('{"meta": {"bench": 7}, "rows": []}', "is not an `effprof bench` report"),
        ("", "is not valid JSON (Expecting value at line 1)"),
        ("[" * 100_000 + "]" * 100_000, "nests deeper than 32 levels"),
        ("[" * 40 + "]" * 40, "nests deeper than 32 levels"),
    ],
)
def test_baselines_that_are_no_bench_report(tmp_path, text, expected):
    assert expected in baseline_error(tmp_path, text)


@pytest.mark.parametrize("fmt", [True, "1", 1.5, None])
def test_a_format_that_only_looks_like_1_is_refused(tmp_path, fmt):
    # True == 1 in Python: the old check let {"format": true} through
    doc = bench_doc()
    doc["meta"]["bench"]["format"] = fmt
    assert f"has bench format {fmt!r}, this effprof reads format 1" in baseline_error(tmp_path, doc)


def test_non_utf8_and_directory_baselines(tmp_path):
    path = tmp_path / "base.json"
    path.write_bytes(b'{"meta": "\xff"}')
    assert "is not UTF-8 text (byte 0xff at offset 10)" in refused(read_baseline, path)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert "is a directory, not a file" in refused(read_baseline, folder)


def test_unknown_columns_are_kept_and_whole_floats_read_as_ints(tmp_path):
    # a newer effprof's extra columns survive; a writer that spells 3504872 as 3504872.0 is read as meant
    path = baseline_file(
        tmp_path, bench_doc(params=3504872.0, my_column={"nested": [1, 2]}, latency_rounds_ms=None)
    )
    row = read_baseline(path).rows[0]
    assert row["params"] == 3504872 and type(row["params"]) is int
    assert row["my_column"] == {"nested": [1, 2]} and row["latency_rounds_ms"] is None


# ---- through `effprof bench` ----------------------------------------------------------------

runner = CliRunner()
TINY = (
    'name = "tiny"\nreference = "resnet18"\nresolutions = [32]\nmodels = ["resnet18", "mobilenet_v1_025"]\n'
)


def cli_error(*args) -> tuple[int, str]:
    result = runner.invoke(app, ["bench", *map(str, args), "--backend", "none"])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return result.exit_code, lines[0]


def test_cli_nan_tolerance_is_refused_before_any_work(tmp_path, monkeypatch):
    from effprof import api

    monkeypatch.setattr(api, "profile_model", lambda *a, **k: pytest.fail("no model may be built"))
    suite = suite_file(tmp_path, TINY + "[tolerance]\nmacs_pct = nan\n")
    code, line = cli_error(suite)
    assert (
        code == 2
        and line == f"error: suite {suite}: tolerance.macs_pct: must be a finite number >= 0, got nan"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            TINY.replace("[32]", "[4611686018427387904]").encode(),
            "resolutions[0]: must be a whole number from 1 to 8192",
        ),
        (TINY.replace('"tiny"', '"t\xfc"').encode("latin-1"), "is not UTF-8 text (byte 0xfc at offset 9)"),
        (
            TINY.replace('"mobilenet_v1_025"', '" resnet18 "').encode(),
            "models[1]: model 'resnet18' is listed twice",
        ),
        (b"", 'is empty; a suite needs name = "..."'),
    ],
)
def test_cli_bad_suite_files_are_one_line_exit_2(tmp_path, content, expected):
    suite = tmp_path / "s.toml"
    suite.write_bytes(content)
    code, line = cli_error(suite)
    assert code == 2 and line.startswith(f"error: suite {suite}: {expected}"), line


def test_cli_nan_baseline_is_refused_and_update_baseline_replaces_it(tmp_path):
    suite = suite_file(tmp_path, TINY)
    base = tmp_path / "base.json"
    doc = bench_doc(macs=float("nan"))
    doc["meta"]["bench"]["suite"] = "tiny"
    base.write_text(json.dumps(doc))
    code, line = cli_error(suite, "--baseline", base)
    assert (
        code == 2
        and f"baseline {str(base)!r}: rows[0].macs: must be a whole number >= 0 or null, got nan" in line
    )
    result = runner.invoke(
        app, ["bench", str(suite), "--baseline", str(base), "--update-baseline", "--backend", "none"]
    )
    assert result.exit_code == 0, result.output
    assert "replacing it, not comparing" in result.output and "rows[0].macs" in result.output
    rows = read_baseline(base).rows  # the replacement reads back clean
    assert [r["spec"] for r in rows] == ["resnet18", "mobilenet_v1_025"] and all(r["macs"] > 0 for r in rows)
