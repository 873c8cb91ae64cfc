"""Output files (issue 11, defect 8): one atomic writer and one up-front writability check for every
format, Markdown that stays a table, and integer columns that stay integers when a row failed."""

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from effprof.cli import app
from effprof.errors import EffprofError
from effprof.reports import frame
from effprof.reports.html import to_html
from effprof.reports.writers import check_outputs, to_markdown_text, write_output, write_plot
from effprof.results import CompareResult

runner = CliRunner()
FAST = ("--counters", "analytic", "--backend", "none", "-r", "64")
#: torchvision's published parameter count of ResNet-18 (its weights' ``num_params`` metadata)
RESNET18_PARAMS = 11_689_512
#: the 0.25 MobileNet (Howard et al. 2017, Table 6: 0.47 M), classifier on 1000 classes
MNV1_025_PARAMS = 470_072


def run(*args):
    return runner.invoke(app, list(args))


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# --- up-front writability --------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("suffix", [".csv", ".png", ".json", ".md", ".html", ".svg"])
def test_proc_is_refused_before_any_work(suffix):
    result = run("compare", "mobilenet_v1_025", *FAST, "-o", f"/proc/x{suffix}")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1
    assert f"cannot write '/proc/x{suffix}': '/proc' is not a writable directory" in result.output
    assert "effprof compare" not in result.output  # refused before the table was computed


def test_a_name_too_long_for_the_file_system_is_refused_up_front(tmp_path):
    path = tmp_path / ("a" * 300 + ".csv")
    with pytest.raises(EffprofError) as info:
        check_outputs([path])
    assert info.value.exit_code == 2 and info.value.message.endswith(": File name too long; choose another -o path")
    assert leftovers(tmp_path) == []


def test_a_long_but_valid_name_is_written(tmp_path):
    path = tmp_path / ("b" * 250 + ".csv")  # 254 characters: the file system takes it
    result = run("compare", "resnet18", *FAST, "-o", str(path))
    assert result.exit_code == 0, result.output
    assert pd.read_csv(path).params.item() == RESNET18_PARAMS
    assert leftovers(tmp_path) == []


def test_the_probe_leaves_nothing_behind_and_missing_parents_are_fine(tmp_path):
    check_outputs([tmp_path / "a.csv", tmp_path / "new" / "deeper" / "b.png"])
    assert list(tmp_path.iterdir()) == []


def test_an_existing_non_file_target_is_refused(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(EffprofError, match="it is a directory"):
        check_outputs([tmp_path / "d.csv"])
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    with pytest.raises(EffprofError, match="not a regular file"):
        check_outputs([fifo])


# --- one atomic writer ----------------------------------------------------------------------------


def test_a_plot_that_fails_midway_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old plot")

    def draw(tmp: Path) -> None:
        assert tmp.parent == tmp_path and tmp.suffix == ".png"  # beside the target, format by suffix
        tmp.write_bytes(b"\x89PNG half")
        raise RuntimeError("matplotlib died")

    with pytest.raises(RuntimeError):
        write_plot(target, draw)
    assert target.read_bytes() == b"old plot"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plots_go_through_the_atomic_writer(tmp_path, suffix):
    df = pd.DataFrame({"model": ["a", "b"], "params": [10, 20], "macs": [100, 400], "latency_ms": [None, None],
                       "backend": [None, None], "device": [None, None]})  # fmt: skip
    target = tmp_path / f"cmp{suffix}"
    write_output(target, _FrameCompare(df))
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data[:2000]
    assert leftovers(tmp_path) == []
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # not mkstemp's private 0600


class _FrameCompare(CompareResult):
    def __init__(self, df):
        super().__init__([], {})
        self.df = df

    def to_pandas(self):
        return self.df


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_plot_of_only_failed_rows_is_one_line_exit_1_and_the_table_is_still_written(tmp_path):
    png, csv = tmp_path / "x.png", tmp_path / "x.csv"
    png.write_bytes(b"previous")
    result = run("compare", "resnet18(x=1)", *FAST, "-o", str(png), "-o", str(csv))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"error: cannot write '{png}': nothing to draw: no model was counted (every row failed)" in result.output
    assert png.read_bytes() == b"previous"
    assert "does not take keyword 'x'" in pd.read_csv(csv).error.item()


# --- Markdown -------------------------------------------------------------------------------------


def _md_rows(text: str) -> list[list[str]]:
    """Split a GitHub table on unescaped pipes, as GitHub does."""
    import re

    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in text.splitlines()]


def test_markdown_escapes_pipes_and_formats_numbers():
    df = frame.to_frame(
        [{"model": "a|b", "params": 41_030_300, "macs": 7, "latency_ms": float("nan"), "error": "x\ny|z"},
         {"model": "c", "params": None, "macs": None, "latency_ms": 0.123456, "error": None}],
        frame.MODEL_COLUMNS,
    )  # fmt: skip
    rows = _md_rows(to_markdown_text(df))
    assert {len(r) for r in rows} == {len(frame.MODEL_COLUMNS)}  # no row broken by a '|' or a newline
    header, _, first, second = rows
    cell = dict(zip(header, first, strict=True))
    assert cell["model"] == "a\\|b" and cell["params"] == "41,030,300" and cell["macs"] == "7"
    assert cell["latency_ms"] == "" and cell["error"] == "x y\\|z"
    other = dict(zip(header, second, strict=True))
    assert other["params"] == "" and other["latency_ms"] == "0.1235"
    assert "nan" not in to_markdown_text(df).lower() and "e+07" not in to_markdown_text(df)


def test_markdown_of_a_real_compare_with_a_pipe_in_a_spec(tmp_path):
    md = tmp_path / "cmp.md"
    result = run("compare", "resnet18", "resnet18(num_classes='a|b')", *FAST, "-o", str(md))
    assert result.exit_code == 1, result.output
    rows = _md_rows(md.read_text())
    assert {len(r) for r in rows} == {len(rows[0])}
    cells = [dict(zip(rows[0], r, strict=True)) for r in rows[2:]]
    assert cells[0]["params"] == f"{RESNET18_PARAMS:,}"
    assert cells[1]["model"] == "resnet18(num_classes='a\\|b')" and cells[1]["params"] == ""


# --- integer columns stay integers ----------------------------------------------------------------


def test_integer_columns_are_nullable_ints():
    df = frame.to_frame([{"model": "ok", "params": 3, "macs": 2**53 + 1, "runs": 5, "threads": 2},
                         {"model": "failed", "error": "boom"}], frame.MODEL_COLUMNS)  # fmt: skip
    for column in ("params", "macs", "flops", "other_ops", "activations", "runs", "threads"):
        assert str(df[column].dtype) == "Int64", column
    assert df.macs.iloc[0] == 2**53 + 1  # exact, where a float64 would round to 2**53
    assert df.latency_ms.isna().all()


def test_csv_and_json_keep_integers_when_a_row_failed(tmp_path):
    csv, js, html = tmp_path / "c.csv", tmp_path / "c.json", tmp_path / "c.html"
    result = run("compare", "mobilenet_v1_025", "resnet18(x=1)", "resnet18", *FAST,
                 "-o", str(csv), "-o", str(js), "-o", str(html))  # fmt: skip
    assert result.exit_code == 1, result.output
    lines = csv.read_text().splitlines()
    assert lines[1].split(",")[3] == str(MNV1_025_PARAMS)  # "470072", not "470072.0"
    assert lines[3].split(",")[3] == str(RESNET18_PARAMS)
    assert ".0," not in lines[1] and ".0," not in lines[3]
    rows = json.loads(js.read_text())["rows"]
    assert [r["params"] for r in rows] == [MNV1_025_PARAMS, None, RESNET18_PARAMS]
    assert rows[1]["macs"] is None and isinstance(rows[2]["macs"], int)
    page = html.read_text()
    assert "&lt;NA&gt;" not in page and "<NA>" not in page and f"{RESNET18_PARAMS:,}" in page


def test_html_cells_of_missing_values_are_empty():
    df = pd.DataFrame({"params": pd.array([1234, None], dtype="Int64"), "model": ["a", "b"]})
    page = to_html(df, {})
    assert "<td>1,234</td>" in page and "<td></td>" in page and "NA" not in page
