"""parse_spec owns the spec syntax: every form of DESIGN.md, and errors that list the valid forms."""

import pytest

from effprof.errors import EffprofError
from effprof.models import parse_spec


@pytest.mark.parametrize(
    ("text", "kind", "name", "kwargs"),
    [
        ("mobilenet_v2", "registry", "mobilenet_v2", {}),
        ("mobilenet_v1(width=0.5)", "registry", "mobilenet_v1", {"width": 0.5}),
        ("  resnet50  ", "registry", "resnet50", {}),
        ("tv:regnet_y_400mf", "torchvision", "regnet_y_400mf", {}),
        ("timm:vit_tiny_patch16_224(drop_rate=0.1)", "timm", "vit_tiny_patch16_224", {"drop_rate": 0.1}),
        ("mypkg.models:tiny(channels=[8, 16], name='x')", "import", "mypkg.models:tiny", {"channels": [8, 16], "name": "x"}),
        ("path/to/model.onnx", "onnx", "path/to/model.onnx", {}),
        ("efficientnet(phi=3)", "registry", "efficientnet", {"phi": 3}),
    ],
)
def test_valid_forms(text, kind, name, kwargs):
    spec = parse_spec(text)
    assert (spec.kind, spec.name, spec.kwargs) == (kind, name, kwargs)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("mobilenet_v1(0.5)", "must be keywords"),
        ("mobilenet_v1(width=0.5", "parentheses"),
        ("mobilenet_v1(width=3x)", "not valid Python syntax"),
        ("mobilenet_v1(width=open('x'))", "must be a literal"),
        ("mobilenet_v1(width=__import__('os').getcwd())", "must be a literal"),
        ("mobilenet_v1(**{'width': 1})", "not allowed"),
        ("foo:bar:baz", "neither"),
        ("tv:", "not a model name"),
        ("my model", "not a model name"),
    ],
)
def test_malformed_specs_name_the_problem_and_the_valid_forms(text, why):
    with pytest.raises(EffprofError) as info:
        parse_spec(text)
    message = str(info.value)
    assert why in message
    assert "tv:NAME, timm:NAME, pkg.module:factory" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("resnet18(num_classes=5, num_classes=7)", "keyword 'num_classes' is given twice"),
        ("resnet18(x=1)(y=2)", "no chained calls"),
        ("resnet18(x=1) + g(y=2)", "no chained calls"),
        ("resnet18(x=1) if True else g(y=2)", "no chained calls"),
        ("resnet18(x={[1]: 2})", "is not a valid literal (unhashable type: 'list')"),
        ("resnet18(x=" + "(" * 250 + ")" * 250 + ")", "not valid Python syntax"),
        ("resnet18(x=" + "-" * 900 + "1)", "must be a literal"),
        ("resnet18(x=" + "1," * 600 + ")", "the limit is 1000"),
        ("a\x00.onnx", "NUL character"),
    ],
)
def test_hostile_spec_text_is_malformed(text, why):
    with pytest.raises(EffprofError) as info:
        parse_spec(text)
    message = str(info.value)
    assert why in message and "\n" not in message
    assert len(message) < 500  # the spec is quoted in part, not whole


def test_keyword_values_are_literals_not_code():
    spec = parse_spec("mymodels:net(sizes={1, 2}, cfg={'a': (1, 2.5)}, flag=None, z=1+2j)")
    assert spec.kwargs == {"sizes": {1, 2}, "cfg": {"a": (1, 2.5)}, "flag": None, "z": 1 + 2j}


@pytest.mark.parametrize(
    "text",
    ["os:system(command='id')", "subprocess:getoutput", "builtins:eval", "os.path:join", "antigravity:fly",
     "importlib:import_module(name='x')", "pickle:loads"],  # fmt: skip
)
def test_standard_library_import_specs_are_refused_without_importing(text):
    import sys

    sys.modules.pop("antigravity", None)
    with pytest.raises(EffprofError, match="is Python's standard library, not model code") as info:
        parse_spec(text)
    assert info.value.exit_code == 2
    assert "antigravity" not in sys.modules  # importing it would open a web browser


def test_dunder_attributes_are_refused():
    with pytest.raises(EffprofError, match="'__class__' is a Python internal"):
        parse_spec("mymodels:__class__")


def test_only_text_is_a_spec():
    with pytest.raises(EffprofError, match="a model spec is a string like 'resnet50', got bytes"):
        parse_spec(b"resnet18")
