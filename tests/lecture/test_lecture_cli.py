"""The lecture commands through Typer's CliRunner, registered on effprof's own app."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from effprof.cli import app
from effprof.cli.lecture import register
from effprof.lecture import checks
from effprof.lecture.checks import Check, CheckRow

register(app)  # idempotent: a no-op once effprof.cli registers the commands itself
runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_register_twice_adds_each_command_once():
    register(app)
    names = [c.name for c in app.registered_commands]
    for name in ("formulas", "sweep", "scale", "explain"):
        assert names.count(name) == 1


def test_formulas_prints_and_writes_every_row(tmp_path):
    paths = [tmp_path / "f.csv", tmp_path / "f.json", tmp_path / "f.md"]
    result = run("formulas", "dwconv", "swin", *[a for p in paths for a in ("-o", str(p))])
    assert result.exit_code == 0, result.output
    assert "8.694" in result.output and "1,849,688,064" in result.output and "0 fail" in result.output
    df = pd.read_csv(paths[0])
    assert set(df.check) == {"dwconv", "swin"} and df.passed.all()
    doc = json.loads(paths[1].read_text())
    assert doc["meta"]["command"] == "formulas" and len(doc["rows"]) == len(df)
    assert "| dwconv" in paths[2].read_text()


def test_formulas_exit_1_when_a_check_fails(monkeypatch):
    def broken(**_):
        return [CheckRow("broken", "MACs", "2·x", "x=1", predicted=2, counted=3, tolerance=0.01)]

    monkeypatch.setitem(checks.CATALOG, "broken", Check("broken", "a wrong formula", broken))
    result = run("formulas", "broken")
    assert result.exit_code == 1
    assert "FAIL" in result.output and "1 of 1 checks failed: broken: MACs" in result.output


def test_formulas_unknown_check_is_one_line_exit_2():
    result = run("formulas", "nope")
    assert result.exit_code == 2
    assert result.output.strip() == "error: unknown check 'nope'; valid checks: " + ", ".join(checks.CATALOG)


def test_sweep_reports_exponents_and_writes_table_and_plot(tmp_path):
    png, csv, js = tmp_path / "s.png", tmp_path / "s.csv", tmp_path / "s.json"
    result = run(
        "sweep", "vit_b_16", "--resolution", "224,320,448", "-o", str(png), "-o", str(csv), "-o", str(js)
    )
    assert result.exit_code == 0, result.output
    assert "attention MACs" in result.output and "1.994" in result.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert list(pd.read_csv(csv).resolution) == [224, 320, 448]
    fits = {f["quantity"]: f for f in json.loads(js.read_text())["fits"]}
    assert fits["macs_attention"]["exponent"] == pytest.approx(2, abs=0.02)


def test_sweep_width_and_its_errors():
    result = run("sweep", "mobilenet_v1", "--width", "0.25,0.5,1.0", "-r", "160")
    assert result.exit_code == 0, result.output
    assert "1x3x160x160" in result.output
    for args, message in (
        (("sweep", "resnet50", "--width", "0.5,1"), "width keyword"),
        (("sweep", "mobilenet_v2"), "needs --resolution"),
        (("sweep", "mobilenet_v2", "--width", "0.5,1", "-r", "128,160"), "takes one resolution"),
        (("sweep", "mobilenet_v2", "-r", "128,x"), "not a number"),
        (("sweep", "mobilenet_v2", "-r", "128,160", "-o", "out.pdf"), "unknown suffix"),
    ):
        result = run(*args)
        assert (
            result.exit_code == 2
            and message in result.output
            and len(result.output.strip().splitlines()) == 1
        )


def test_sweep_with_a_rejected_point_keeps_the_others_and_exits_1():
    result = run("sweep", "vit_ti_16", "-r", "200,224,448")
    assert result.exit_code == 1 and "1 of 3 points failed (resolution 200)" in result.output
    assert "divisible by 16" in result.output


def test_scale_prints_b0_to_b7(tmp_path):
    out = tmp_path / "scale.csv"
    result = run("scale", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "efficientnet_b7" in result.output and "128" in result.output and "97.83" in result.output
    assert len(pd.read_csv(out)) == 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("explain", "attention"), "unknown topic 'attention'; valid topics:"),
        (("explain", "dwconv", "--cin", "-3"), "--cin must be a positive whole number"),
        (("explain", "dwconv", "-k", "0"), "-k/--kernel must be a positive whole number"),
        (("explain", "se", "--window", "7"), "explain se does not use --window"),
    ],
)
def test_explain_errors_are_one_line_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_explain_prints_derivation_and_counts():
    result = run("explain", "dwconv", "--cin", "256", "--cout", "256", "-k", "3", "--size", "56")
    assert result.exit_code == 0, result.output
    assert "8.69×" in result.output and "1,849,688,064" in result.output and "pass" in result.output
    result = run("explain", "inverted-residual", "--expansion", "6")
    assert result.exit_code == 0 and "168" in result.output
