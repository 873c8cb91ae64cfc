"""effprof roadmap: rows, ratios to step 0, the latency-vs-MACs gaps, errors, figures and the CLI."""

import json

import pandas as pd
import pytest
from demo_helpers import slices
from matplotlib.figure import Figure
from typer.testing import CliRunner

from effprof import latency
from effprof.cli import app
from effprof.cli.demos import register
from effprof.errors import EffprofError
from effprof.latency import Measurement
from effprof.lecture.roadmap import latency_gaps
from effprof.lecture.roadmap_run import run_roadmap
from effprof.reports.plots import explain as explain_plot
from effprof.reports.plots import roadmap as roadmap_plot

register(app)
runner = CliRunner()


@pytest.fixture(scope="module")
def counted():
    return run_roadmap(())


def test_counts_every_step_with_its_paper_error(counted):
    df = counted.to_pandas()
    assert list(df.step) == list(range(13)) and df.error.isna().all()
    assert (df.macs_error.abs() <= 0.03).all()
    assert df.macs_error.tolist() == pytest.approx((df.macs / df.paper_macs - 1).tolist())
    worst = counted.worst_macs_error()
    assert worst["step"] == 3 and worst["macs_error"] == pytest.approx(2_350_000_000 / 2.4e9 - 1, abs=2e-3)
    assert df.macs_vs_step0.iloc[0] == 1.0 and df.latency_ms.isna().all()


def _step(key):
    return int(key.split("=")[1].rstrip(")"))


def fake_timing(monkeypatch, ms_by_step, fail_step=None):
    """Step 0 timed alone at ms_by_step[0]; every other step beside it, each side at its own ms (steady slices)."""

    def measure(module, shape, backend, *, cache_key=None, **kwargs):
        return Measurement(backend, "cpu", 2, [ms_by_step[_step(cache_key)] / 1e3] * 5)

    def measure_paired(first, second, backend, **kwargs):
        if _step(second[2]) == fail_step:
            raise EffprofError(f"{backend}: export failed", exit_code=1)
        return tuple(slices([ms_by_step[_step(t[2])]] * 10) for t in (first, second))

    monkeypatch.setattr(latency, "measure", measure)
    monkeypatch.setattr(latency, "measure_paired", measure_paired)


def test_latency_is_set_beside_macs_relative_to_step_0(monkeypatch):
    fake_timing(monkeypatch, {0: 100.0, 6: 90.0, 7: 120.0}, fail_step=12)
    result = run_roadmap(("eager",), steps=[0, 6, 7, 12])
    rows = {r["step"]: r for r in result.rows}
    assert rows[0]["latency_ms"] == pytest.approx(100.0) and rows[0]["latency_vs_step0"] == 1.0
    assert rows[7]["latency_vs_step0"] == pytest.approx(1.2) and rows[7]["latency_ms"] == pytest.approx(120.0)
    assert rows[7]["latency_vs_step0_low"] == pytest.approx(1.2) and not rows[7]["doubt"]  # steady slices
    assert rows[7]["time_per_mac_vs_step0"] == pytest.approx(1.2 / (rows[7]["macs"] / rows[0]["macs"]))
    assert rows[12]["error"] == "eager: export failed" and rows[12]["macs"] > 4e9  # counted, not timed
    (gap,) = result.gaps()  # 6 -> 7: MACs +2%, time +33%
    assert gap["step"] == 7 and gap["latency_change"] == pytest.approx(120 / 90 - 1)
    fig = roadmap_plot.roadmap_figure(result.to_pandas().to_dict("records"))  # as -o x.png draws it: NaN cells
    latency_axis = fig.axes[1]
    assert len(fig.axes) == 2 and not [t for t in latency_axis.texts if t.get_text() == "?"]
    macs_line, latency_line = latency_axis.lines[0], latency_axis.lines[1]
    assert list(latency_line.get_ydata()) == pytest.approx([1.0, 0.9, 1.2])
    assert list(macs_line.get_ydata()) == pytest.approx([r["macs"] / rows[0]["macs"] for r in (rows[0], rows[6], rows[7], rows[12])])


def test_latency_gaps_is_a_pure_rule():
    rows = [{"step": 0, "backend": "eager", "macs": 100, "latency_ms": 10.0, "change": "a"},
            {"step": 1, "backend": "eager", "macs": 102, "latency_ms": 10.5, "change": "b"},
            {"step": 2, "backend": "eager", "macs": 102, "latency_ms": 12.0, "change": "c", "contended": 0.5},
            {"step": 3, "backend": "eager", "macs": 50, "latency_ms": 11.0, "change": "d"}]  # fmt: skip
    gaps = latency_gaps(rows)
    assert [g["step"] for g in gaps] == [2, 3]  # +14% time at equal MACs; -8% time for -51% MACs
    assert gaps[0]["doubt"] == "contended 50%"
    assert latency_gaps(rows, threshold=0.5) == [g for g in gaps if g["latency_change"] - g["macs_change"] > 0.5]


def test_roadmap_figure_is_a_figure(counted):
    fig = roadmap_plot.roadmap_figure(counted.rows)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    with pytest.raises(EffprofError, match="nothing to draw"):
        roadmap_plot.roadmap_figure([])


def test_lecture_figures_follow_the_formulas():
    fig = explain_plot.separable_figure(3, 256)
    (curve, _marker) = [line for line in fig.axes[0].lines if len(line.get_xdata()) > 1][:1] + [None]
    assert curve.get_ydata()[-1] < 9 and curve.get_ydata()[-1] > 8.9  # Cout = 1024 -> 8.92, tending to K²
    growth = explain_plot.growth_figure((224, 448))
    vit, swin = growth.axes[0].lines[:2]
    assert vit.get_ydata()[1] / vit.get_ydata()[0] == pytest.approx(16, rel=0.02)  # pixels x4 -> N² x16
    assert swin.get_ydata()[1] / swin.get_ydata()[0] == pytest.approx(4, rel=0.02)  # linear in pixels
    assert isinstance(explain_plot.explain_figure("swin", {"window": 7, "dim": 96, "size": 56}), Figure)
    with pytest.raises(EffprofError, match="has no figure"):
        explain_plot.explain_figure("ghost", {})


def test_cli_counts_only_and_writes_every_format(tmp_path):
    paths = [tmp_path / f"r.{s}" for s in ("csv", "json", "md", "html", "png")]
    result = runner.invoke(app, ["roadmap", "--backend", "none", *[a for p in paths for a in ("-o", str(p))]])
    assert result.exit_code == 0, result.output
    assert "worst MACs error against the paper: step 3" in result.output and "4.456" in result.output
    assert len(pd.read_csv(paths[0])) == 13
    assert json.loads(paths[1].read_text())["meta"]["command"] == "roadmap"
    assert "data:image/png;base64" in paths[3].read_text() and paths[4].read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args", [["--steps", "0,99"], ["--steps", "x"], ["--backend", "nope"]])
def test_cli_bad_input_is_one_line_exit_2(args):
    result = runner.invoke(app, ["roadmap", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output
