"""Hostile model specs and sizes (issue 11, defects 1, 6, 9 and non-square 10), as a user types them.

Every refusal is one line, exit 2, no traceback; a user's model that misbehaves (sys.exit(), a
BaseException, a module that fails to import) is that model's error row (exit 1) and the other
models still report. Counts are checked against the conv formula written out as arithmetic.
"""

import json
import os
import sys
import textwrap

import pytest
from typer.testing import CliRunner

import effprof
from effprof.cli import app
from effprof.errors import EffprofError

runner = CliRunner()
#: torch's own nn.Module class, named by import path: a library class effprof does allow
CONV = "torch.nn:Conv2d(in_channels=3, out_channels=8, kernel_size=3)"


def conv_macs(h: int, w: int, *, cin: int = 3, cout: int = 8, k: int = 3, batch: int = 1) -> int:
    """MACs of a k x k conv, stride 1, no padding: one k*k*cin dot product per output element."""
    return batch * cout * (h - k + 1) * (w - k + 1) * k * k * cin


def run(*args):
    return runner.invoke(app, [*map(str, args)])


def one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output, result.output
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


USER_MODULES = {
    "hostile_models": """
        import os
        import signal
        import sys
        from subprocess import getoutput
        from numpy import save
        from torch import nn

        class Exits(nn.Module):
            def forward(self, x):
                sys.exit(3)

        class Odd(BaseException):
            pass

        class RaisesOdd(nn.Module):
            def forward(self, x):
                raise Odd("from forward\\nsecond line")

        def exits():
            sys.exit()

        def fake_ctrl_c():
            raise KeyboardInterrupt

        def real_ctrl_c():
            os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread at the next bytecode
            for _ in range(1000):
                pass
            return nn.Identity()

        def tiny(channels=8):
            return nn.Conv2d(3, channels, 3)

        instance = nn.Conv2d(3, 8, 3)
        """,
    "hostile_syntax": "def f(:\n",
    "hostile_runtime": "raise RuntimeError('boom at import\\nsecond line')\n",
    "hostile_dep": "import no_such_dependency_xyz\n",
    "hostile_exit_on_import": "import sys\nsys.exit('bye')\n",
}


@pytest.fixture
def user_modules(tmp_path, monkeypatch):
    """The modules above importable as a user's own code; forgotten again afterwards."""
    for name, source in USER_MODULES.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in USER_MODULES:
        sys.modules.pop(name, None)


# --- defect 1: specs never run the standard library or a library's non-model callables ----------------
@pytest.mark.parametrize(
    "spec",
    [
        "os:system(command='touch {marker}')",
        "subprocess:getoutput(cmd='touch {marker}')",
        "builtins:eval(source=\"open('{marker}', 'w')\")",
        "os.path:join(a='{marker}')",
        "shutil:rmtree(path='{marker}')",
        "antigravity:fly",  # importing it opens a browser: refused before import
    ],
)
def test_standard_library_specs_are_refused_before_anything_runs(tmp_path, spec):
    marker = tmp_path / "pwned"
    result = run("compare", spec.format(marker=marker), "resnet18")
    assert result.exit_code == 2
    assert "standard library" in one_line(result)
    assert not marker.exists()
    assert "antigravity" not in sys.modules


def test_a_bench_suite_cannot_run_the_standard_library(tmp_path):
    marker = tmp_path / "pwned"
    suite = tmp_path / "suite.toml"
    suite.write_text(f'name = "x"\nreference = "resnet18"\nresolutions = [32]\n'
                     f'models = ["resnet18", "os:system(command=\'touch {marker}\')"]\n')  # fmt: skip
    result = run("bench", suite, "--backend", "none")
    assert result.exit_code == 2
    assert "standard library" in one_line(result)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hostile_models:getoutput(cmd='id')", "standard library (subprocess)"),  # re-exported stdlib
        ("hostile_models:save(file='x.npy', arr=1)", "not a class or function"),  # numpy's dispatcher object
        ("hostile_models:instance", "is a Conv2d, not a class or function"),
        ("hostile_models:__loader__", "Python internal"),
        ("torch.hub:load(repo_or_dir='x', model='y')", "installed package 'torch'"),  # would fetch
        ("torchvision.models:resnet18(weights='DEFAULT')", "drop 'weights'"),
        ("timm.models:resnet18(pretrained=True)", "drop 'pretrained'"),
        ("tv:resnet18(weights='DEFAULT')", "drop 'weights'"),
        ("timm:resnet18(checkpoint_path='model.pth')", "drop 'checkpoint_path'"),
    ],
)
def test_what_is_not_a_users_model_is_refused_with_exit_2(user_modules, spec, message):
    result = run("profile", spec, "--backend", "none")
    assert result.exit_code == 2, result.output
    assert message in one_line(result)


def test_library_model_classes_and_annotated_factories_are_allowed():
    conv = effprof.profile(CONV, input_shape=(1, 3, 20, 30), counters="analytic").summary()
    assert conv["macs"] == conv_macs(20, 30)
    by_path = effprof.profile("torchvision.models:resnet18", counters="analytic").summary()
    assert by_path["macs"] == effprof.profile("tv:resnet18", counters="analytic").summary()["macs"]


def test_help_says_an_import_spec_runs_that_modules_code():
    for command in ("profile", "compare"):
        result = runner.invoke(app, [command, "--help"])
        text = " ".join(result.output.replace("│", " ").split())  # rich wraps the help in a box
        assert "imports that module and runs its code, like python -m" in text


# --- defect 6: a user's model can fail, never end the run ---------------------------------------------
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hostile_models:Exits", "hostile_models:Exits: the model raised SystemExit: 3 while profiling"),
        ("hostile_models:exits", "hostile_models:exits: the model raised SystemExit while building"),
        ("hostile_models:RaisesOdd", "the model raised Odd: from forward while profiling"),
        ("hostile_models:fake_ctrl_c", "the model raised KeyboardInterrupt while building"),
        ("hostile_syntax:f", "importing 'hostile_syntax' for spec 'hostile_syntax:f' failed: SyntaxError"),
        ("hostile_runtime:f", "failed: RuntimeError: boom at import"),
        ("hostile_dep:f", "failed: ModuleNotFoundError: No module named 'no_such_dependency_xyz'"),
        ("hostile_exit_on_import:f", "failed: SystemExit: bye"),
    ],
)
def test_a_misbehaving_model_is_its_own_error_row(user_modules, tmp_path, spec, message):
    out = tmp_path / "rows.json"
    result = run("compare", "resnet18", spec, "mobilenet_v1_025", "--counters", "analytic", "-o", out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    rows = {r["model"]: r for r in json.loads(out.read_text())["rows"]}
    assert message in rows[spec]["error"] and "\n" not in rows[spec]["error"]
    # the others still report: resnet18's MACs as torchvision's metadata states them (GMACs, 3 decimals)
    from torchvision.models import ResNet18_Weights

    assert round(rows["resnet18"]["macs"] / 1e9, 3) == ResNet18_Weights.DEFAULT.meta["_ops"]
    assert rows["mobilenet_v1_025"]["error"] is None


def test_a_misbehaving_model_through_the_api_is_effprof_error_exit_1(user_modules):
    with pytest.raises(EffprofError, match="raised SystemExit: 3") as info:
        effprof.profile("hostile_models:Exits", counters="analytic")
    assert info.value.exit_code == 1
    result = effprof.compare(["hostile_models:exits", "mobilenet_v1_025"], counters="analytic")
    assert [p.exit_code for p in result.profiles] == [1, 0] and not result.interrupted


def test_a_real_ctrl_c_still_stops_the_run(user_modules):
    result = effprof.compare(["mobilenet_v1_025", "hostile_models:real_ctrl_c", "resnet18"], counters="analytic")
    assert result.interrupted
    assert [p.model for p in result.profiles] == ["mobilenet_v1_025"]


def test_a_missing_module_is_a_user_mistake(user_modules):
    result = run("profile", "no_such_pkg_xyz.models:net")
    assert result.exit_code == 2
    assert "cannot import 'no_such_pkg_xyz.models'" in one_line(result)


# --- defect 9: sizes and spec text ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-b", "1e20"), "--batch must be a whole number like 8, got '1e20'"),
        (("-r", "1e20"), "--resolution must be N or HxW in whole pixels"),
        (("-r", "99999999999"), "--resolution 99999999999 is beyond effprof's limit of 8192 pixels per side"),
        (("-b", "99999999999"), "--batch 99999999999 is beyond effprof's limit of 4096"),
        (("-r", "8193"), "limit of 8192 pixels per side"),
        (("-b", "4097"), "limit of 4096"),
        (("-r", "224x0"), "--resolution must be a positive integer, got 0"),
        (("-r", "224x320x3"), "--resolution must be N or HxW"),
        (("-r", "9" * 5000), "is far beyond effprof's limits"),
        (("-b", "2.5"), "--batch must be a whole number"),
        (("-r", "nan"), "--resolution must be N or HxW"),
    ],
)
@pytest.mark.parametrize("command", ["profile", "compare"])
def test_bad_sizes_are_one_line_exit_2(command, args, message):
    result = run(command, "resnet18", *args, "--backend", "none")
    assert result.exit_code == 2, result.output
    assert message in one_line(result)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("resnet18(x={[1]: 2})", "the value of 'x' is not a valid literal (unhashable type: 'list')"),
        ("resnet18(x={[1]})", "unhashable type: 'list'"),
        ("resnet18(" + "x=1," * 25_000 + ")", "it is 100010 characters long, the limit is 1000"),
        ("resnet18(num_classes=5, num_classes=7)", "keyword 'num_classes' is given twice"),
        ("resnet18(x=1)(y=2)", "no chained calls"),
        ("resnet18(x=1) + f(y=2)", "no chained calls"),
        ("resnet18(x=1), (2", "one pair of parentheses at the end"),
        ("resnet18(x=" + "[" * 300 + "]" * 300 + ")", "not valid Python syntax"),
        ("resnet18(x=" + "-" * 900 + "1)", "must be a literal"),
        ("resnet18(x=" + "9" * 5000 + ")", "limit is 1000"),
        ("resnet18(x=__import__('os').system('id'))", "must be a literal"),
        ("resnet18\x00", "is not a model name"),
        ("model\x00.onnx", "cannot contain a NUL character"),
        ("x" * 300 + ".onnx", "no ONNX file at"),  # a name the OS refuses (ENAMETOOLONG)
    ],
)
def test_hostile_spec_text_is_one_line_exit_2(spec, message):
    result = run("compare", spec, "resnet18")
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert message in line
    assert len(line) < 600  # a 100k-character spec is not repeated back


def test_a_default_resolution_past_the_bound_is_refused():
    # efficientnet(phi=100) would be 224 * 1.15**100 pixels a side
    result = run("profile", "efficientnet(phi=100)", "--backend", "none")
    assert result.exit_code == 2
    assert "efficientnet with these keywords defaults to 263046213 pixels a side, beyond effprof's limit of 8192" in one_line(result)


def test_a_huge_wildcard_is_refused_before_matching():
    result = run("compare", "*" * 100_000)
    assert result.exit_code == 2
    assert "the limit is 1000" in one_line(result)


@pytest.mark.parametrize(
    ("model", "kwargs", "message"),
    [
        ("resnet18", {"input_shape": (1, 3, 224.5, 224)}, "input_shape must be a whole number"),
        ("resnet18", {"input_shape": "1x3x224x224"}, "input_shape must be a tuple of sizes"),
        ("resnet18", {"input_shape": (1, 3, True, 224)}, "got True"),
        ("resnet18", {"input_shape": (1,) * 7}, "1 to 6 dimensions"),
        ("resnet18", {"input_shape": (1, 10**9, 224, 224)}, "more than effprof's limit of 2**40 elements"),
        ("resnet18", {"resolution": 224.0}, "--resolution must be a whole number"),
        ("resnet18", {"batch": True}, "--batch must be a whole number"),
        (42, {}, "got int"),
        (object(), {}, "got object"),
    ],
)
def test_bad_api_arguments_are_effprof_errors(model, kwargs, message):
    with pytest.raises(EffprofError) as info:
        effprof.profile(model, counters="analytic", **kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert info.value.exit_code == 2


# --- defect 10: non-square inputs, end to end -----------------------------------------------------------
def test_api_counts_the_input_shape_it_is_given():
    wide = effprof.profile("tv:resnet50", input_shape=(1, 3, 224, 320), counters="analytic").summary()
    tall = effprof.profile("tv:resnet50", input_shape=(1, 3, 320, 224), counters="analytic").summary()
    square = effprof.profile("tv:resnet50", input_shape=(1, 3, 320, 320), counters="analytic").summary()
    assert wide["input_shape"] == "1x3x224x320"
    # Every resnet50 layer is conv/linear over H x W: swapping them changes nothing, squaring does.
    assert wide["macs"] == tall["macs"] < square["macs"]
    small = effprof.profile(CONV, input_shape=(2, 3, 20, 30), counters="analytic").summary()
    assert small["macs"] == conv_macs(20, 30, batch=2)


@pytest.mark.parametrize("command", ["profile", "compare"])
def test_cli_resolution_h_by_w(tmp_path, command):
    out = tmp_path / "rows.json"
    result = run(command, CONV, "-r", "20x30", "-b", "2", "--backend", "none", "-o", out)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    row = doc["summary"] if command == "profile" else doc["rows"][0]
    assert row["input_shape"] == "2x3x20x30"
    assert row["macs"] == conv_macs(20, 30, batch=2)
    square = tmp_path / "square.json"
    assert run(command, CONV, "-r", "20", "--backend", "none", "-o", square).exit_code == 0
    doc = json.loads(square.read_text())
    assert (doc["summary"] if command == "profile" else doc["rows"][0])["macs"] == conv_macs(20, 20)


def test_non_square_vit_is_timed_at_its_counted_shape():
    """A fixed-size timm ViT asserts its input size: the timing rebuild must be for (H, W), not W x W."""
    import torch

    built = effprof.models.build_model("vit_ti_16", resolution="224x320")
    assert built.input_shape == (1, 3, 224, 320)
    module = built.rebuild("cpu")
    with torch.no_grad():
        assert module(torch.randn(1, 3, 224, 320)).shape == (1, 1000)


def test_square_only_models_say_so():
    result = run("profile", "vit_b_16", "-r", "224x320", "--backend", "none")
    assert result.exit_code == 2
    assert "vit_b_16 takes square inputs only" in one_line(result)
    assert run("profile", "vit_ti_16", "-r", "224x330", "--backend", "none").exit_code == 2


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_signal_handlers_are_restored_after_building():
    import signal

    before = signal.getsignal(signal.SIGINT)
    effprof.models.build_model("resnet18")
    assert signal.getsignal(signal.SIGINT) is before
