"""The ONNX graph counter agrees with the analytic counter on the same model, exported."""

import warnings

import onnx
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from effprof.counters.analytic import count_analytic
from effprof.counters.onnx_graph import count_onnx
from effprof.errors import EffprofError
from effprof.models import build_model


def _export(model: nn.Module, shape, path, dynamic=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(), torch.randn(shape), str(path), dynamo=False, opset_version=17,
            input_names=["x"], dynamic_axes={"x": {0: "batch", 2: "h", 3: "w"}} if dynamic else None,
        )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def mnv3(tmp_path_factory):
    b = build_model("mobilenet_v3_small", device="cpu")
    return b, _export(b.module, b.input_shape, tmp_path_factory.mktemp("onnx") / "mnv3.onnx")


def test_exported_cnn_has_the_same_macs_per_op_class(mnv3):
    built, path = mnv3
    graph = count_onnx(path)
    module = count_analytic(built.module, built.input_shape)
    assert graph.macs == module.macs
    conv_classes = ("conv_dense", "conv_depthwise", "conv_pointwise", "linear")
    g, m = graph.by_op_class(), module.by_op_class()
    assert {c: g[c]["macs"] for c in conv_classes} == {c: m[c]["macs"] for c in conv_classes}
    assert not graph.unsupported
    # the exporter folds BatchNorm into the convs: fewer stored params, never more
    assert graph.params < module.params


def test_layers_are_named_by_torch_module_path(mnv3):
    built, path = mnv3
    graph_layers = {r.layer for r in count_onnx(path).layers if r.op_class.startswith("conv")}
    module_layers = {r.layer for r in count_analytic(built.module, built.input_shape).layers if r.op_class.startswith("conv")}
    assert len(graph_layers & module_layers) >= 0.9 * len(module_layers)


def test_attention_through_matmuls(tmp_path):
    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(32, 96)

        def forward(self, x):
            q, k, v = self.qkv(x).reshape(1, 16, 3, 2, 16).permute(2, 0, 3, 1, 4)
            return F.scaled_dot_product_attention(q, k, v)

    path = _export(Attn(), (1, 16, 32), tmp_path / "attn.onnx")
    classes = {k: v["macs"] for k, v in count_onnx(path).by_op_class().items() if v["macs"]}
    assert classes == {"linear": 16 * 32 * 96, "attention": 2 * 2 * 16 * 16 * 16}


def test_dynamic_input_needs_a_shape_and_overrides_apply(tmp_path):
    conv = nn.Conv2d(3, 8, 3, padding=1)
    path = _export(conv, (1, 3, 32, 32), tmp_path / "conv.onnx", dynamic=True)
    with pytest.raises(EffprofError, match="dynamic input shape"):
        count_onnx(path)
    r = count_onnx(path, batch=2, resolution=64)
    assert r.input_shape == (2, 3, 64, 64)
    assert r.macs == 2 * 8 * 64 * 64 * 27


def test_bad_files_are_one_line_errors(tmp_path):
    with pytest.raises(EffprofError, match="no ONNX file"):
        count_onnx(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf at all")
    with pytest.raises(EffprofError, match="cannot read"):
        count_onnx(junk)


def test_model_with_two_inputs_is_rejected(tmp_path):
    x = onnx.helper.make_tensor_value_info("a", onnx.TensorProto.FLOAT, [1, 4])
    y = onnx.helper.make_tensor_value_info("b", onnx.TensorProto.FLOAT, [1, 4])
    z = onnx.helper.make_tensor_value_info("c", onnx.TensorProto.FLOAT, [1, 4])
    graph = onnx.helper.make_graph([onnx.helper.make_node("Add", ["a", "b"], ["c"])], "g", [x, y], [z])
    path = tmp_path / "two.onnx"
    onnx.save(onnx.helper.make_model(graph), str(path))
    with pytest.raises(EffprofError, match="2 inputs"):
        count_onnx(path)
