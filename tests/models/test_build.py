"""Building from every spec form, without weights, and the errors a user can hit."""

import sys
import textwrap

import pytest
import torch

from effprof.errors import EffprofError
from effprof.models import build_model


def test_registry_model_builds_on_meta_with_default_resolution():
    b = build_model("efficientnet_b3")
    assert b.input_shape == (1, 3, 300, 300)
    assert all(p.is_meta for p in b.module.parameters())


def test_keyword_arguments_reach_the_factory():
    half = build_model("mobilenet_v2(width_mult=0.5)").module
    full = build_model("mobilenet_v2").module
    assert sum(p.numel() for p in half.parameters()) < sum(p.numel() for p in full.parameters())


def test_vit_learns_the_resolution():
    b = build_model("vit_b_16", resolution=384)
    assert b.module.image_size == 384 and b.input_shape == (1, 3, 384, 384)


def test_torchvision_and_timm_prefixes():
    assert build_model("tv:regnet_x_400mf").source == "torchvision"  # constructor computes: built on CPU, moved
    assert build_model("timm:resnet18d").source == "timm"


def test_cpu_build_has_real_weights():
    module = build_model("mobilenet_v1_025", device="cpu").module
    assert all(p.device.type == "cpu" for p in module.parameters())
    assert torch.isfinite(module(torch.randn(1, 3, 64, 64))).all()


def test_user_factory_by_import_path(tmp_path, monkeypatch):
    (tmp_path / "mymodels.py").write_text(
        textwrap.dedent(
            """
            from torch import nn
            def tiny(channels=8):
                return nn.Sequential(nn.Conv2d(3, channels, 3), nn.ReLU())
            def not_a_model():
                return 42
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    b = build_model("mymodels:tiny(channels=4)")
    assert b.source == "import" and b.module[0].out_channels == 4
    with pytest.raises(EffprofError, match="did not return an nn.Module"):
        build_model("mymodels:not_a_model")
    with pytest.raises(EffprofError, match="has no attribute 'nope'"):
        build_model("mymodels:nope")
    sys.modules.pop("mymodels", None)


def test_user_package_from_the_working_directory(tmp_path, monkeypatch):
    """``effprof profile mypkg.models:build`` from the folder that holds mypkg, as the installed
    ``effprof`` script runs it: the working directory is not on sys.path until effprof puts it there."""
    pkg = tmp_path / "effprof_cwd_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(
        "from torch import nn\n\ndef build(width=6):\n    return nn.Sequential(nn.Conv2d(3, width, 3), nn.ReLU())\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    try:
        b = build_model("effprof_cwd_pkg.models:build(width=5)")
        assert b.module[0].out_channels == 5 and b.input_shape == (1, 3, 224, 224)
        assert sys.path[0] == str(tmp_path)
    finally:
        for name in ("effprof_cwd_pkg.models", "effprof_cwd_pkg"):
            sys.modules.pop(name, None)


def test_a_missing_user_package_is_still_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EffprofError, match="cannot import 'no_such_pkg_here.models'"):
        build_model("no_such_pkg_here.models:build")


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ("resnet5", {}, "did you mean resnet50"),
        ("tv:resnet5", {}, "unknown torchvision model 'resnet5'"),
        ("timm:not_a_timm_model_xyz", {}, "unknown timm model"),
        ("mobilenet_v2(alpha=2)", {}, "does not take keyword 'alpha'; it takes: width_mult"),
        ("mobilenet_v1(width=-1)", {}, "width must be > 0"),
        ("vit_b_16", {"resolution": 225}, "divisible by 16 .* try 224"),
        ("resnet18", {"resolution": 0}, "--resolution must be a positive integer"),
        ("resnet18", {"batch": -2}, "--batch must be a positive integer"),
        ("no_such_pkg.mod:factory", {}, "cannot import 'no_such_pkg.mod'"),
    ],
)
def test_bad_input_is_one_line_effprof_error(spec, kwargs, message):
    with pytest.raises(EffprofError, match=message) as info:
        build_model(spec, **kwargs)
    assert "\n" not in str(info.value)


def test_rebuild_is_deterministic_so_export_caches_hit():
    b = build_model("mobilenet_v1_025")
    first, second = b.rebuild("cpu"), b.rebuild("cpu")
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), second.parameters(), strict=True))
    assert not all(p.is_meta for p in first.parameters())


def test_compound_scaled_model_defaults_to_its_own_resolution():
    assert build_model("efficientnet(phi=3)").input_shape == (1, 3, 341, 341)
    assert build_model("efficientnet").input_shape == (1, 3, 224, 224)
    assert build_model("efficientnet(phi=3)", resolution=300).input_shape[-1] == 300
    with pytest.raises(EffprofError, match="phi must be >= 0"):
        build_model("efficientnet(phi=-1)")


# --- sizes: -r/--resolution, -b/--batch and input_shape ----------------------------------------------
from effprof.models import check_input_shape, contained, parse_batch, parse_resolution  # noqa: E402


@pytest.mark.parametrize(
    ("value", "expected"),
    [(224, (224, 224)), ("224", (224, 224)), ("224x320", (224, 320)), (" 224 X 320 ", (224, 320)),
     ((224, 320), (224, 320)), ([64, 32], (64, 32)), (8192, (8192, 8192)), (None, None)],  # fmt: skip
)
def test_resolution_forms(value, expected):
    assert parse_resolution(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e20", "--resolution must be N or HxW in whole pixels"),
        ("224x", "--resolution must be N or HxW"),
        ("x224", "--resolution must be N or HxW"),
        (8193, "--resolution 8193 is beyond effprof's limit of 8192 pixels per side"),
        ("224x99999999999", "--resolution 99999999999 is beyond"),
        ((224, 0), "--resolution must be a positive integer, got 0"),
        ((1, 2, 3), "one side or (height, width), got 3 values"),
        (224.0, "--resolution must be a whole number"),
        (False, "--resolution must be a whole number"),
    ],
)
def test_bad_resolutions(value, message):
    with pytest.raises(EffprofError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_resolution(value)
    assert info.value.exit_code == 2


def test_batch_bounds():
    assert parse_batch("16") == parse_batch(16) == 16
    assert parse_batch(4096) == 4096
    for bad, message in ((4097, "limit of 4096"), ("1e20", "whole number like 8"), (0, "positive integer"), (2.0, "whole number")):
        with pytest.raises(EffprofError, match=message):
            parse_batch(bad)


def test_input_shape_checks():
    assert check_input_shape([2, 3, 20, 30]) == (2, 3, 20, 30)
    assert check_input_shape((5, 7)) == (5, 7)  # an MLP's (batch, features): no spatial bound
    with pytest.raises(EffprofError, match="limit of 2\\*\\*40 elements"):
        check_input_shape((4096, 4096, 8192, 8192))
    with pytest.raises(EffprofError, match="limit of 4096"):
        check_input_shape((5000, 3, 8, 8))


# --- non-square inputs ----------------------------------------------------------------------------------
def test_non_square_builds_keep_height_and_width():
    assert build_model("resnet18", resolution="224x320", batch="2").input_shape == (2, 3, 224, 320)
    assert build_model("tv:resnet18", resolution=(320, 224)).input_shape == (1, 3, 320, 224)
    assert build_model(torch.nn.Identity(), resolution=(20, 30)).input_shape == (1, 3, 20, 30)
    vit = build_model("timm:vit_tiny_patch16_224", resolution=(224, 320))
    assert tuple(vit.module.patch_embed.img_size) == (224, 320)
    assert tuple(vit.rebuild("meta").patch_embed.img_size) == (224, 320)


def test_square_only_and_patch_rules_name_both_sides():
    with pytest.raises(EffprofError, match="takes square inputs only .* got 224x320; try -r 320"):
        build_model("tv:vit_b_16", resolution=(224, 320))
    with pytest.raises(EffprofError, match="divisible by 16 .* got 224x330; try 224x320"):
        build_model("vit_ti_16", resolution="224x330")


# --- user code that misbehaves --------------------------------------------------------------------------
class _Odd(BaseException):
    pass


@pytest.mark.parametrize("raised", [SystemExit(4), SystemExit(), KeyboardInterrupt(), _Odd("one\ntwo"), GeneratorExit()])
def test_contained_turns_what_user_code_raises_into_one_error(raised):
    with pytest.raises(EffprofError) as info, contained("mymodel", "building"):
        raise raised
    assert info.value.exit_code == 1
    assert str(info.value).startswith(f"mymodel: the model raised {type(raised).__name__}")
    assert str(info.value).endswith("while building") and "\n" not in str(info.value)


def test_contained_lets_effprof_errors_and_real_signals_through():
    import os
    import signal

    with pytest.raises(EffprofError, match="^as it was$") as info, contained("m", "building"):
        raise EffprofError("as it was")
    assert info.value.exit_code == 2
    with pytest.raises(KeyboardInterrupt), contained("m", "building"):
        os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: delivered at the next bytecode
        for _ in range(1000):
            pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_import_failures_and_refusals(tmp_path, monkeypatch):
    (tmp_path / "userbad.py").write_text("raise ImportError('cannot find libfoo.so')\n")
    (tmp_path / "userok.py").write_text(
        "from os import getcwd\nfrom shutil import rmtree\nfrom torch import nn\nmake = lambda: nn.ReLU()\nclass Plain:\n    pass\nobj = Plain()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(EffprofError, match="importing 'userbad' .* failed: ImportError: cannot find libfoo.so") as info:
            build_model("userbad:f")
        assert info.value.exit_code == 1
        assert isinstance(build_model("userok:make").module, torch.nn.ReLU)  # a user's lambda is theirs
        with pytest.raises(EffprofError, match="comes from Python's standard library \\(shutil\\)"):
            build_model("userok:rmtree(path='.')")  # re-exported: refused by where it is defined
        with pytest.raises(EffprofError, match="is a builtin_function_or_method, not a class or function"):
            build_model("userok:getcwd")
        with pytest.raises(EffprofError, match="userok:obj is a Plain, not a class or function"):
            build_model("userok:obj")
        with pytest.raises(EffprofError, match="did not return an nn.Module"):
            build_model("userok:Plain")
        with pytest.raises(EffprofError, match="installed package 'torch'"):
            build_model("torch.nn.functional:relu")
        assert isinstance(build_model("torch.nn:Identity").module, torch.nn.Identity)
    finally:
        sys.modules.pop("userbad", None)
        sys.modules.pop("userok", None)
