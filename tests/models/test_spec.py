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
