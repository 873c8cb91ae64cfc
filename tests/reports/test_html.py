"""Self-contained HTML reports: tables and embedded plots, nothing fetched from the network.

Parsed with the standard library's html.parser everywhere; rendered in headless Chromium too
when a ``chromium`` binary is on PATH (skipped otherwise: CI machines may not have one).
"""

import base64
import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import pandas as pd
import pytest

from effprof.bench.compare import compare, normalise_latency
from effprof.bench.run import BenchResult
from effprof.bench.suite import Tolerance, load_suite
from effprof.reports.html import report_html, to_html
from effprof.reports.writers import write_output
from effprof.results import MODEL_COLUMNS, CompareResult, TableResult

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Every tag with its attributes, and the text, of one HTML page."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str) -> list[dict]:
        return [attrs for t, attrs in self.tags if t == tag]

    def images(self) -> list[bytes]:
        prefix = "data:image/png;base64,"
        srcs = [a["src"] for a in self.all("img")]
        assert all(s.startswith(prefix) for s in srcs), srcs
        return [base64.b64decode(s[len(prefix) :]) for s in srcs]


def assert_self_contained(page: Page, text: str) -> None:
    """No scripts, no stylesheets or frames from elsewhere, no URL but data: ones."""
    assert not page.all("script") and not page.all("link") and not page.all("iframe")
    for _, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith(("data:", "#")), f"external {name}={value[:60]}"
    assert "url(" not in text and "http://" not in text.lower() and "https://" not in text.lower()


class FrameCompare(CompareResult):
    """A compare result whose rows are given as a frame (the report path, without profiling models)."""

    def __init__(self, df: pd.DataFrame, meta: dict):
        super().__init__([], meta)
        self.df = df

    def to_pandas(self) -> pd.DataFrame:
        return self.df


def model_frame(timed: bool = True) -> pd.DataFrame:
    rows = []
    for model, params, macs, ms in (
        ("mobilenet_v2", 3504872, 300774272, 13.5),
        ("resnet50", 25557032, 4089184256, 52.8),
    ):
        row = dict.fromkeys(MODEL_COLUMNS)
        row.update(model=model, source="torchvision", input_shape="1x3x224x224", params=params, macs=macs,
                   flops=2 * macs, backend="eager" if timed else None, device="cpu", threads=1,
                   latency_ms=ms if timed else None)  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows, columns=list(MODEL_COLUMNS))


def bench_parts():
    rows = [{"spec": s, "model": s, "resolution": 160, "batch": 1, "backend": "eager", "device": "cpu",
             "params": p, "macs": m, "activations": 1000, "latency_ms": ms, "error": None}
            for s, p, m, ms in (("resnet18", 11689512, 925798400, 22.0), ("mobilenet_v2", 3504872, 154083200, 8.6))]  # fmt: skip
    base = normalise_latency(rows, "resnet18")
    current = normalise_latency([{**rows[0]}, {**rows[1], "params": 3504873, "latency_ms": 12.0}], "resnet18")
    comparison = compare(base, current, Tolerance(), "resnet18")
    meta = {"bench": {"suite": "ci", "suite_file": "benchmarks/ci.toml", "reference": "resnet18"}}
    return BenchResult(load_suite("benchmarks/ci.toml"), meta, current, comparison=comparison,
                       baseline_path="base.json")  # fmt: skip


def test_compare_report_has_its_table_and_plot():
    text = report_html(FrameCompare(model_frame(), {"device": "cpu"}))
    page = Page(text)
    assert_self_contained(page, text)
    assert len(page.all("table")) == 1
    (png,) = page.images()
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    assert "3,504,872" in text and "resnet50" in text


def test_compare_without_latency_still_plots_macs_and_params():
    text = report_html(FrameCompare(model_frame(timed=False), {}))
    assert len(Page(text).images()) == 1
    assert "MACs and params" in text


def test_profile_report_has_summary_layers_and_op_class_plot():
    import effprof

    result = effprof.profile("mobilenet_v1_025", resolution=32, backends="none", counters="analytic")
    text = report_html(result)
    page = Page(text)
    assert_self_contained(page, text)
    assert len(page.all("table")) == 4  # summary, model rows per backend, op classes, layers
    assert "By op class" in text and "Model, per backend" in text
    assert len(page.images()) == 1
    assert "effprof profile: mobilenet_v1_025" in text and "conv_depthwise" in text


def test_bench_report_has_verdict_diffs_and_two_plots():
    text = report_html(bench_parts())
    page = Page(text)
    assert_self_contained(page, text)
    assert len(page.images()) == 2  # change against the baseline, MACs vs latency
    assert len(page.all("table")) == 4  # results, what changed, latency, all columns
    body = " ".join(page.text)
    assert "2 regressions" in body and "FAIL" in body  # the verdict, as bench_verdict words it
    assert "3,504,872" in body and "3,504,873" in body
    assert ">None<" not in text  # missing values render empty


def test_plain_tables_stay_plain():
    text = to_html(pd.DataFrame([{"model": "resnet18", "params": 11689512}]), {})
    page = Page(text)
    assert not page.all("img") and len(page.all("table")) == 1 and "11,689,512" in text
    table = TableResult([{"model": "m", "params": 1, "macs": 2, "resolution": 96}])
    assert not Page(report_html(table)).all("img")  # a result type with no figure: no plot


def test_a_plot_that_cannot_be_drawn_is_a_note_not_a_lost_report(monkeypatch):
    from effprof.reports import plots

    def broken(df, path, title="x"):
        raise ValueError("no data to draw\nsecond line")

    monkeypatch.setattr(plots, "plot_compare", broken)
    text = report_html(FrameCompare(model_frame(), {}))
    assert "not drawn (ValueError: no data to draw)" in text and "<table" in text


def test_write_output_html_through_the_cli_signature(tmp_path):
    path = write_output(tmp_path / "sub" / "cmp.html", FrameCompare(model_frame(), {"k": "v"}))
    assert Page(path.read_text()).images()
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # readable like any new file, not private


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="chromium is not on PATH (apt-get install chromium)"
)
def test_chromium_renders_tables_and_images(tmp_path):
    path = write_output(tmp_path / "bench.html", bench_parts())
    flags = ["--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tempfile.mkdtemp()}"]  # fmt: skip
    if os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run its sandbox as root
    dom = subprocess.run(["chromium", *flags, "--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    page = Page(dom)
    assert len(page.all("table")) == 4 and len(page.images()) == 2
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", *flags, "--window-size=1200,1600", f"--screenshot={shot}", path.as_uri()],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    assert shot.read_bytes().startswith(PNG_MAGIC) and shot.stat().st_size > 20_000
