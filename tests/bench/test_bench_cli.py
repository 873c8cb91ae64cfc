"""`effprof bench` through Typer's CliRunner on a tiny suite (two small models at 32 px, short budgets).

Latency tolerance is wide here on purpose: the latency rules are tested exactly on synthetic rows
(test_bench_compare.py); these tests check the wiring, files and exit codes.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from effprof.cli import app

runner = CliRunner()

TINY = """
name = "tiny"
reference = "resnet18"
backends = ["eager"]
threads = 1
budget_s = 0.02
rounds = 1
resolutions = [32]
models = ["resnet18", "mobilenet_v1_025"]

[tolerance]
latency_pct = 1000.0
"""


def run(*args, env=None):
    return runner.invoke(app, ["bench", *map(str, args)], env=env)


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A suite file and the JSON of one run of it (the baseline most tests compare with)."""
    root = tmp_path_factory.mktemp("bench")
    suite = root / "tiny.toml"
    suite.write_text(TINY)
    base = root / "base.json"
    result = run(suite, "-o", base)
    assert result.exit_code == 0, result.output
    return suite, base


def edited(made, tmp_path, edit) -> Path:
    doc = json.loads(made[1].read_text())
    edit(doc)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    return path


def test_run_writes_a_json_that_is_its_own_baseline(made, tmp_path):
    suite, base = made
    doc = json.loads(base.read_text())
    assert doc["meta"]["bench"]["suite"] == "tiny" and doc["meta"]["bench"]["format"] == 1
    rows = {r["spec"]: r for r in doc["rows"]}
    assert list(rows) == ["resnet18", "mobilenet_v1_025"]  # the reference runs first
    assert rows["resnet18"]["latency_norm"] == 1.0 and isinstance(rows["resnet18"]["params"], int)
    assert rows["mobilenet_v1_025"]["input_shape"] == "1x3x32x32"
    md, html = tmp_path / "s.md", tmp_path / "s.html"
    result = run(suite, "--baseline", base, "-o", md, "-o", html)
    assert result.exit_code == 0, result.output
    assert "within tolerance" in result.output and "No count changed" in result.output
    assert md.read_text().startswith("## effprof bench tiny: ✅ within tolerance")
    assert "data:image/png;base64," in html.read_text()


def test_an_edited_params_value_fails_with_a_readable_diff(made, tmp_path):
    def edit(doc):
        doc["rows"][1]["params"] -= 1000

    result = run(made[0], "--baseline", edited(made, tmp_path, edit), "--backend", "none")
    assert result.exit_code == 1, result.output
    assert "mobilenet_v1_025 @32px" in result.output
    assert "469,072" in result.output and "470,072" in result.output and "+1,000" in result.output
    assert "regression: 1 against" in result.output and "mobilenet_v1_025 params" in result.output


def test_corrupt_baseline_is_exit_2_in_one_line(made, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"meta": ')
    result = run(made[0], "--baseline", bad)
    assert result.exit_code == 2
    assert "is not valid JSON" in one_line_error(result)
    result = run(made[0], "--baseline", tmp_path / "missing.json")
    assert result.exit_code == 2 and "no baseline at" in one_line_error(result)


def test_baseline_of_another_suite_or_device_is_exit_2(made, tmp_path):
    def other_suite(doc):
        doc["meta"]["bench"]["suite"] = "zoo"

    result = run(made[0], "--baseline", edited(made, tmp_path, other_suite))
    assert result.exit_code == 2 and "is from suite 'zoo'" in one_line_error(result)

    def gpu(doc):
        doc["meta"]["environment"].update(device="cuda", gpu="NVIDIA H100")

    result = run(made[0], "--baseline", edited(made, tmp_path, gpu))
    assert result.exit_code == 2 and "timed on cuda NVIDIA H100" in one_line_error(result)


def test_other_effprof_version_warns_and_still_compares(made, tmp_path):
    def old_version(doc):
        doc["meta"]["versions"]["effprof"] = "0.0.1"

    result = run(made[0], "--baseline", edited(made, tmp_path, old_version), "--backend", "none")
    assert result.exit_code == 0, result.output
    assert "baseline from effprof 0.0.1" in result.output


def test_unknown_suite_key_is_exit_2(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text(TINY.replace("rounds = 1", "round = 1"))
    result = run(suite)
    assert result.exit_code == 2
    line = one_line_error(result)
    assert "unknown key 'round'" in line and "did you mean 'rounds'" in line and "tolerance" in line


def test_update_baseline_writes_and_then_passes(made, tmp_path, monkeypatch):
    target = tmp_path / "new-baseline.json"
    assert run(made[0], "--update-baseline").exit_code == 2  # needs --baseline FILE
    result = run(made[0], "--baseline", target, "--update-baseline", "--backend", "none")
    assert result.exit_code == 0, result.output and "wrote baseline" in result.output
    assert json.loads(target.read_text())["meta"]["backends"] == []
    summary = tmp_path / "step-summary.md"
    result = run(made[0], "--baseline", target, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0, result.output
    text = summary.read_text()
    assert "✅ within tolerance" in text and "latency was not compared" in text and "<details>" in text


def test_update_baseline_replaces_a_corrupt_one_with_a_warning(made, tmp_path):
    target = tmp_path / "base.json"
    target.write_text("garbage")
    result = run(made[0], "--baseline", target, "--update-baseline", "--backend", "none")
    assert result.exit_code == 0 and "replacing it, not comparing" in result.output
    assert json.loads(target.read_text())["meta"]["bench"]["suite"] == "tiny"


def test_interrupt_keeps_finished_rows(made, tmp_path, monkeypatch):
    from effprof import api

    real = api.profile_model
    calls = []

    def interrupted(spec, **kwargs):
        calls.append(spec)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(spec, **kwargs)

    monkeypatch.setattr(api, "profile_model", interrupted)
    out = tmp_path / "partial.json"
    result = run(made[0], "-o", out, "--backend", "none")
    assert result.exit_code == 130
    assert [r["spec"] for r in json.loads(out.read_text())["rows"]] == ["resnet18"]


def test_a_model_that_fails_is_a_row_and_exit_nonzero(tmp_path):
    suite = tmp_path / "s.toml"
    vit = '"mobilenet_v1_025", { spec = "vit_ti_16", resolutions = [40] }]'
    suite.write_text(TINY.replace('"mobilenet_v1_025"]', vit))
    out = tmp_path / "r.csv"
    result = run(suite, "--backend", "none", "-o", out)
    # 1, as in compare: a row failed (40 px, patches of 16), the others were measured and written
    assert result.exit_code == 1, result.output
    assert "1 row failed: vit_ti_16" in result.output
    assert "divisible by 16" in out.read_text() and "mobilenet_v1_025" in out.read_text()


def test_committed_ci_baseline_matches_the_counts_of_this_tree():
    """benchmarks/ci-baseline.json holds counts only (machine-independent): refresh it when a model changes."""
    root = Path(__file__).resolve().parents[2]
    result = run(root / "benchmarks/ci.toml", "--backend", "none", "--baseline", root / "benchmarks/ci-baseline.json")
    assert result.exit_code == 0, result.output


def test_contended_latency_is_inconclusive_exit_3_and_says_why(made, busy_machine, tmp_path):
    busy_machine(2.0)
    md, page = tmp_path / "s.md", tmp_path / "s.html"
    result = run(made[0], "--baseline", made[1], "-o", md, "-o", page)
    assert result.exit_code == 3, result.output
    assert "inconclusive: 1 latency row too contended or noisy to judge" in result.output
    text = md.read_text()
    assert text.startswith("## effprof bench tiny: ⚠️ inconclusive")
    assert "### Warnings" in text and "other processes used 2.0 of 2 cores while this was timed" in text
    assert "this run timed while other processes used 100% of the cores" in text
    html = page.read_text()
    assert "class='verdict inconclusive'" in html and "INCONCLUSIVE" in html


def test_update_baseline_refuses_contended_rows_unless_forced(made, busy_machine, tmp_path):
    busy_machine(2.0)
    target = tmp_path / "new.json"
    target.write_text(made[1].read_text())
    before = target.read_text()
    result = run(made[0], "--baseline", target, "--update-baseline")
    assert result.exit_code == 3, result.output
    assert "not writing the baseline: 2 latency rows contended or too noisy" in result.output
    assert target.read_text() == before
    result = run(made[0], "--baseline", target, "--update-baseline", "--force")
    assert result.exit_code == 0, result.output
    rows = json.loads(target.read_text())["rows"]
    assert all(r["contended"] == pytest.approx(1.0) for r in rows)


def test_step_summary_that_is_a_directory_is_a_warning_not_a_crash(made, tmp_path):
    result = run(made[0], "--backend", "none", env={"GITHUB_STEP_SUMMARY": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "could not append to $GITHUB_STEP_SUMMARY" in result.output
