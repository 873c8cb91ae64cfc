"""effprof claims, explain -o and the bench handout's demos, through Typer's CliRunner (no real timing)."""

import json

import pandas as pd
import pytest
from demo_helpers import macs_timed
from typer.testing import CliRunner

from effprof.bench.suite import load_suite
from effprof.cli import app
from effprof.cli.demos import register
from effprof.errors import EffprofError
from effprof.lecture import paired

register(app)
runner = CliRunner()


def test_register_twice_adds_each_command_once():
    register(app)
    names = [c.name for c in app.registered_commands]
    assert names.count("roadmap") == 1 and names.count("claims") == 1


@pytest.mark.parametrize("command", ["roadmap", "claims", "explain"])
def test_help_offers_tables_and_plots(command):
    words = " ".join(runner.invoke(app, [command, "--help"]).output.replace("│", " ").split())
    assert ".csv .json .md .html .png .svg" in words


def test_claims_prints_every_claim_and_writes_rows(monkeypatch, tmp_path):
    monkeypatch.setattr(paired.latency, "measure_paired", macs_timed)
    paths = [tmp_path / "c.csv", tmp_path / "c.json", tmp_path / "c.html", tmp_path / "c.png"]
    result = runner.invoke(app, ["claims", "--backend", "eager", "--group", "mobile table", "--group",
                                 "depthwise separable", *[a for p in paths for a in ("-o", str(p))]])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "depthwise 3x3 conv" in result.output and "holds" in result.output
    df = pd.read_csv(paths[0])
    assert len(df) == 8 and set(df.verdict) <= {"holds", "does not hold", "inconclusive"}
    assert json.loads(paths[1].read_text())["meta"]["command"] == "claims"
    assert "data:image/png;base64" in paths[2].read_text() and paths[3].read_bytes()[:4] == b"\x89PNG"


def test_claims_a_group_failing_on_a_backend_is_exit_1_with_its_rows_kept(monkeypatch):
    def broken(*args, **kwargs):
        raise EffprofError("onnxruntime: export failed", exit_code=1)

    monkeypatch.setattr(paired.latency, "measure_paired", broken)
    result = runner.invoke(app, ["claims", "--backend", "eager", "--group", "depthwise separable"])
    assert result.exit_code == 1 and "export failed" in result.output and "inconclusive" in result.output


@pytest.mark.parametrize("args", [["--group", "nope"], ["--backend", "nope"], ["-o", "x.txt"]])
def test_claims_bad_input_is_one_line_exit_2(args):
    result = runner.invoke(app, ["claims", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_explain_draws_its_figure_and_writes_its_checks(tmp_path):
    path, csv, page = tmp_path / "dw.png", tmp_path / "dw.csv", tmp_path / "dw.html"
    result = runner.invoke(app, ["explain", "dwconv", "--cin", "256", "--cout", "128", "-o", str(path), "-o", str(csv),
                                 "-o", str(page)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:4] == b"\x89PNG" and "data:image/png;base64" in page.read_text()
    rows = pd.read_csv(csv).set_index("quantity")
    assert rows.loc["params, standard", "counted"] == 3 * 3 * 256 * 128  # K²·Cin·Cout
    assert rows.loc["params, separable", "counted"] == 3 * 3 * 256 + 256 * 128  # K²·Cin + Cin·Cout
    refused = runner.invoke(app, ["explain", "se", "-o", str(tmp_path / "se.png")])
    assert refused.exit_code == 2 and "explain se has no figure to draw" in refused.output
    assert not (tmp_path / "se.png").exists()
    assert runner.invoke(app, ["explain", "se", "-o", str(tmp_path / "se.csv")]).exit_code == 0
    assert runner.invoke(app, ["explain", "dwconv", "-o", str(tmp_path / "dw.txt")]).exit_code == 2


def _suite(tmp_path, demos):
    path = tmp_path / "s.toml"
    path.write_text(f'name = "t"\nreference = "mobilenet_v1_025"\nmodels = ["mobilenet_v1_025"]\ndemos = {demos}\n')
    return path


def test_the_lecture_handout_holds_the_roadmap_and_the_claims(tmp_path):
    html = tmp_path / "h.html"
    result = runner.invoke(app, ["bench", str(_suite(tmp_path, '["roadmap", "claims"]')), "--backend", "none",
                                 "-o", str(html), "-o", str(tmp_path / "h.json")])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = html.read_text()
    assert "the ConvNeXt roadmap, ResNet-50 -&gt; ConvNeXt-T" in page and "the lecture&#x27;s latency claims" in page
    assert page.count("data:image/png;base64") >= 2 and "separate downsampling layers" in page
    assert "demos" not in json.loads((tmp_path / "h.json").read_text())  # tables keep the bench rows only


def test_suite_demos_are_validated_and_kept_out_of_settings_when_absent(tmp_path):
    with pytest.raises(EffprofError, match="demos: unknown demonstration 'nope'; valid: roadmap, claims"):
        load_suite(_suite(tmp_path, '["nope"]'))
    assert load_suite(_suite(tmp_path, '["claims"]')).demos == ("claims",)
    assert "demos" not in load_suite("benchmarks/ci.toml").settings()
    assert load_suite("benchmarks/lecture.toml").demos == ("roadmap", "claims")
