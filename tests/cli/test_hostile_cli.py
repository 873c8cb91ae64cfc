"""Hostile input at the CLI (issue 11, defects 5, 7, 9): markup in user text, exit codes, signals, full disks.

Every case runs the real command (Typer's CliRunner, or a subprocess where a signal or a file descriptor
is the point) and checks what the user sees: the literal text they typed, one line, the documented exit code.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from effprof.cli import app
from effprof.errors import EffprofError

runner = CliRunner()
FAST = ("--counters", "analytic", "--backend", "none")
#: torchvision's published parameter count of ResNet-18 (its weights' ``num_params`` metadata)
RESNET18_PARAMS = 11_689_512


def run(*args):
    return runner.invoke(app, list(args))


def no_traceback(result) -> None:
    assert "Traceback" not in result.output and "MarkupError" not in result.output, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception


# --- defect 5: user text is never markup ------------------------------------------------------------


def test_bracketed_spec_is_shown_literally_exit_2():
    result = run("compare", "foo[/x]", *FAST)
    no_traceback(result)
    assert result.exit_code == 2
    assert result.output.strip() == "error: no registered model matches 'foo[/x]'; run `effprof list` to see them all"


def test_markup_in_a_keyword_value_survives_table_and_error_line():
    result = run("compare", "mobilenet_v1_025", "resnet18(x='[/red]')", "-r", "64", *FAST)
    no_traceback(result)
    assert result.exit_code == 1
    # in the table (the model cell and the error cell) and in the closing one-line summary
    assert result.output.count("resnet18(x='[/red]')") >= 3, result.output
    assert "error: 1 of 2 models failed: resnet18(x='[/red]')" in result.output


def test_markup_in_a_profile_error_is_one_literal_line():
    result = run("profile", "resnet18(x='[bold]y[/bold]')", *FAST)
    no_traceback(result)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "'[bold]y[/bold]'" in result.output


@pytest.mark.parametrize(
    ("option", "value"), [("--backend", "[/x]"), ("--device", "[red]cpu"), ("--counters", "[/]")]
)
def test_markup_in_option_values_is_echoed_literally(option, value):
    args = ["profile", "resnet18", *FAST]
    i = args.index(option) if option in args else None
    if i is not None:
        args[i + 1] = value
    else:
        args += [option, value]
    if option == "--device":
        args[args.index("--backend") + 1] = "eager"  # the device is checked only when something is timed
    result = run(*args)
    no_traceback(result)
    assert result.exit_code == 2, result.output
    assert value in result.output and result.output.count("\n") == 1


def test_output_path_with_brackets_is_written_and_named_literally(tmp_path):
    target = tmp_path / "toml" / "[" / "x][bold].csv"  # `-o toml/[/x][bold].csv`
    result = run("compare", "mobilenet_v1_025", "-r", "64", *FAST, "-o", str(target))
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.output
    assert pd.read_csv(target).params.tolist() == [470_072]  # 0.25 MobileNet-224: 0.47 M (Howard et al., Table 6)


def test_layer_names_with_markup_show_in_the_profile_tables(tmp_path, monkeypatch):
    (tmp_path / "hostile_layers.py").write_text(
        "from torch import nn\n"
        "def build():\n"
        "    return nn.Sequential(nn.ModuleDict({'[/red]': nn.Conv2d(3, 8, 3)})['[/red]'])\n"
        "class Named(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.blocks = nn.ModuleDict({'[bold]a[/bold]': nn.Conv2d(3, 4, 1), '[/x]': nn.Linear(4, 2)})\n"
        "    def forward(self, x):\n"
        "        return self.blocks['[/x]'](self.blocks['[bold]a[/bold]'](x).mean((2, 3)))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run("profile", "hostile_layers:Named", "-r", "8", *FAST)
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert "blocks.[bold]a[/bold]" in result.output and "blocks.[/x]" in result.output
    # 1x1 conv 3->4 on 8x8 (3*4*64 = 768) + linear 4->2 (8)
    assert "776" in result.output


# --- defect 7: exit codes ---------------------------------------------------------------------------


def test_every_row_measured_exits_0(tmp_path):
    out = tmp_path / "ok.csv"
    result = run("compare", "mobilenet_v1_025", "resnet18", "-r", "64", *FAST, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out).params.tolist() == [470_072, RESNET18_PARAMS]


def _failing_backend(monkeypatch, message="CUDA out of memory (pretend)"):
    from effprof import latency

    def measure(*args, **kwargs):
        raise EffprofError(message, exit_code=1)

    monkeypatch.setattr(latency, "measure", measure)


def test_compare_backend_failure_exits_1_and_keeps_the_rows(tmp_path, monkeypatch):
    _failing_backend(monkeypatch)
    out = tmp_path / "cmp.csv"
    result = runner.invoke(
        app, ["compare", "mobilenet_v1_025", "resnet18", "-r", "64", "--counters", "analytic",
              "--backend", "eager", "-o", str(out)],
    )  # fmt: skip
    no_traceback(result)
    assert result.exit_code == 1, result.output
    assert "2 requested measurements failed" in result.output and "CUDA out of memory (pretend)" in result.output
    df = pd.read_csv(out)
    assert df.params.tolist() == [470_072, RESNET18_PARAMS]  # the counts were still written
    assert df.error.str.contains("out of memory").all()


def test_profile_backend_failure_exits_1_and_writes_the_layers(tmp_path, monkeypatch):
    _failing_backend(monkeypatch)
    out = tmp_path / "layers.csv"
    result = run("profile", "resnet18", "-r", "64", "--counters", "analytic", "--backend", "eager", "-o", str(out))
    no_traceback(result)
    assert result.exit_code == 1, result.output
    assert "1 requested measurement of resnet18 failed: eager: CUDA out of memory (pretend)" in result.output
    df = pd.read_csv(out)
    assert df[df.level == "layer"].params.sum() == RESNET18_PARAMS
    failed = df[df.level == "model"]  # the backend that failed keeps its model-level row, with its error
    assert failed.backend.tolist() == ["eager"] and "out of memory" in failed.error.item()


def test_profile_per_layer_failure_exits_1(tmp_path, monkeypatch):
    from effprof import latency

    def per_layer(*args, **kwargs):
        raise EffprofError("profiler unavailable (pretend)", exit_code=1)

    monkeypatch.setattr(latency, "per_layer_times", per_layer)
    result = run("profile", "mobilenet_v1_025", "-r", "64", "--counters", "analytic", "--backend", "eager",
                 "--budget-s", "0.05", "--threads", "1")  # fmt: skip
    no_traceback(result)
    assert result.exit_code == 1, result.output
    assert "eager per layer: profiler unavailable (pretend)" in result.output


def test_ctrl_c_keeps_finished_rows_and_exits_130(tmp_path, monkeypatch):
    from effprof import api

    real = api.profile_model
    calls = []

    def interrupt_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "profile_model", interrupt_second)
    out = tmp_path / "cmp.json"
    result = run("compare", "mobilenet_v1_025", "resnet18", "-r", "64", *FAST, "-o", str(out))
    assert result.exit_code == 130, result.output
    assert "interrupted: kept 1 of 2 models" in result.output
    assert [r["params"] for r in json.loads(out.read_text())["rows"]] == [470_072]


@pytest.mark.parametrize("command", ["list", "profile", "compare", "sweep", "formulas", "hw", "predict"])
def test_help_documents_the_exit_codes(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "143 SIGTERM" in " ".join(result.output.split())


def _effprof(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "effprof", *args], env=env, text=True, **kwargs)


def test_sigterm_keeps_finished_rows_and_exits_143(tmp_path):
    out = tmp_path / "x.csv"
    proc = _effprof("compare", "*", "--counters", "analytic", "-o", str(out), cwd=tmp_path,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and len(out.read_text().splitlines()) >= 3:  # header + 2 finished models
            break
        time.sleep(0.2)
    assert proc.poll() is None, "compare '*' finished before it could be terminated"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("terminated: kept ")
    df = pd.read_csv(out)
    assert len(df) >= 2 and df.error.isna().all()
    assert df.model.iloc[0] in stdout  # the table of the finished rows was printed too


# --- defect 9 (part): stdout on a full disk ----------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_stdout_on_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        proc = _effprof("list", "resnet18", stdout=full, stderr=subprocess.PIPE)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert stderr.strip() == "error: cannot write the output: No space left on device", stderr


def test_closed_pipe_is_quiet():
    proc = _effprof("list", "mobilenet*", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader went away (`effprof list | head -0`)
    _, stderr = proc.communicate(timeout=300)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert proc.returncode in (0, 1)
