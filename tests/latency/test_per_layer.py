"""Per-module exclusive times (eager profiler ranges, ONNX Runtime node profiling) and name mapping."""

from __future__ import annotations

import onnx
import pytest
import torch
from latency_helpers import TINY_SHAPE

from effprof.errors import EffprofError
from effprof.latency import measure, per_layer_onnx_file, per_layer_times
from effprof.latency.onnx_scope import NodeMapper, module_path_from_scopes, module_path_of_node
from effprof.latency.per_layer import module_ranges, parse_ort_profile

# Big enough that the ops, not Python and the hooks, dominate the forward (~90% of it, ~30 ms on one core):
# on mobilenet_v3_small at 96 px, even unhooked, ops explain only ~2/3 of the forward.
R18_SHAPE = (1, 3, 160, 160)


@pytest.fixture(scope="module")
def resnet18():
    import torchvision  # after effprof (imported above), whose shim makes it importable here

    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None)


def _module_paths(model):
    return {name for name, _ in model.named_modules()}


def test_eager_exclusive_times_cover_the_forward(resnet18):
    lt = per_layer_times(resnet18, R18_SHAPE, threads=1, iterations=3, warmup=1)
    assert lt.backend == "eager" and lt.iterations == 3
    assert set(lt.exclusive_ms) == _module_paths(resnet18)
    assert all(ms >= 0 for ms in lt.exclusive_ms.values())
    assert lt.forward_ms > 0
    # Exclusive times add up to the whole forward, less Python/hook overhead...
    assert lt.attributed_ms == pytest.approx(lt.forward_ms, rel=0.25)
    assert lt.attributed_ms <= lt.forward_ms * 1.0001
    # ...and that overhead is accounted for per module, to the microsecond.
    total = lt.attributed_ms + sum(lt.overhead_ms.values())
    assert total == pytest.approx(lt.forward_ms, rel=0.01)
    # Leaves that do the work get time; a pure container gets none of its own; a block gets its add.
    assert lt.exclusive_ms["conv1"] > 0 and lt.exclusive_ms["layer4.1.conv2"] > 0
    assert lt.exclusive_ms["layer1"] == 0.0
    assert lt.exclusive_ms["layer1.0"] > 0  # `out += identity`
    assert lt.exclusive_ms[""] > 0  # torch.flatten in ResNet.forward
    assert lt.inclusive_ms[""] == pytest.approx(lt.forward_ms)
    assert (
        lt.inclusive_ms["layer1.0"] >= lt.exclusive_ms["layer1.0.conv1"] + lt.exclusive_ms["layer1.0.conv2"]
    )
    assert sum(lt.shares().values()) == pytest.approx(1.0)


def test_eager_root_gets_its_own_ops(tiny):
    class WithTail(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = tiny

        def forward(self, x):
            return torch.softmax(self.body(x), dim=1) * 2  # two ops owned by the root

    lt = per_layer_times(WithTail(), TINY_SHAPE, threads=1, iterations=2, warmup=1)
    assert lt.exclusive_ms[""] > 0
    assert lt.exclusive_ms["body.0"] > 0


def test_hooks_are_removed_and_mode_restored(tiny):
    tiny.train()
    per_layer_times(tiny, TINY_SHAPE, threads=1, iterations=1, warmup=0)
    assert tiny.training
    for module in tiny.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
    with pytest.raises(RuntimeError), module_ranges(tiny):
        raise RuntimeError("forward failed")
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in tiny.modules())


def test_onnxruntime_layer_times_map_to_module_paths(resnet18):
    lt = per_layer_times(resnet18, R18_SHAPE, "onnxruntime", threads=1, iterations=3, warmup=1)
    assert lt.backend == "onnxruntime" and lt.iterations == 3
    assert set(lt.exclusive_ms) == _module_paths(resnet18)
    assert all(ms >= 0 for ms in lt.exclusive_ms.values())
    assert lt.node_ms and lt.op_type_ms
    # The same time, three ways.
    assert sum(lt.node_ms.values()) == pytest.approx(lt.attributed_ms)
    assert sum(lt.op_type_ms.values()) == pytest.approx(lt.attributed_ms)
    assert lt.attributed_ms <= lt.forward_ms * 1.0001
    assert lt.attributed_ms == pytest.approx(lt.forward_ms, rel=0.25)
    # ORT fuses Conv+ReLU (and Conv+Add+ReLU) and names the result after the ReLU's output:
    # the time must still land on the convs, never on the ReLUs.
    for conv in ("conv1", "layer1.0.conv1", "layer1.0.conv2", "layer2.0.downsample.0", "fc"):
        assert lt.exclusive_ms[conv] > 0, conv
    assert lt.exclusive_ms["relu"] == 0.0 and lt.exclusive_ms["layer1.0.relu"] == 0.0
    assert lt.op_type_ms.get("Conv", 0) > 0


def test_onnx_file_layer_times(tiny):
    path = measure(tiny, TINY_SHAPE, "onnxruntime", threads=1, budget_s=0.01, min_runs=1).artifact
    lt = per_layer_onnx_file(path, TINY_SHAPE, threads=1, iterations=2, warmup=1)
    assert lt.node_ms and set(lt.exclusive_ms) <= _module_paths(tiny)
    assert lt.exclusive_ms.get("0", 0) > 0  # the first conv, named "/0/Conv" in the file


def test_per_layer_rejects_compile(tiny):
    with pytest.raises(EffprofError, match="use eager or onnxruntime") as err:
        per_layer_times(tiny, TINY_SHAPE, "compile")
    assert err.value.exit_code == 2


def test_module_path_from_scopes():
    assert module_path_from_scopes([]) == ""
    assert (
        module_path_from_scopes(["features", "features.1", "conv", "conv.0", "conv.0.2"])
        == "features.1.conv.0.2"
    )
    assert (
        module_path_from_scopes(["blocks", "blocks.0", "blocks.0.0", "se", "conv_reduce"])
        == "blocks.0.0.se.conv_reduce"
    )
    assert module_path_from_scopes(["3", "3.0"]) == "3.0"  # nn.Sequential at the root
    assert module_path_from_scopes(["conv", "conv"]) == "conv.conv"  # attribute named like its owner
    assert module_path_of_node("/features/features.0/features.0.0/Conv") == "features.0.0"
    assert module_path_of_node("/Flatten") == ""
    assert module_path_of_node("Identity_70") == ""


def test_node_mapper_follows_ort_renames():
    # Conv -> Clip as the exporter writes them; ORT fuses them and names the result after Clip's output.
    def node(name, op, inputs, outputs):
        return onnx.helper.make_node(op, inputs, outputs, name=name)

    graph = onnx.helper.make_graph(
        [
            node("/b/b.0/b.0.0/Conv", "Conv", ["x", "w"], ["/b/b.0/b.0.0/Conv_output_0"]),
            node("/b/b.0/b.0.2/Clip", "Clip", ["/b/b.0/b.0.0/Conv_output_0"], ["/b/b.0/b.0.2/Clip_output_0"]),
            node("/head/Gemm", "Gemm", ["/b/b.0/b.0.2/Clip_output_0", "w2"], ["y"]),
        ],
        "g",
        [],
        [],
    )
    mapper = NodeMapper(graph, known_modules={"", "b", "b.0", "b.0.0", "b.0.2", "head"})
    assert mapper.module_path("/b/b.0/b.0.2/Clip_output_0_nchwc", "Conv") == "b.0.0"
    assert mapper.module_path("/b/b.0/b.0.2/Clip", "Clip") == "b.0.2"
    assert mapper.module_path("/head/Gemm", "FusedGemm") == "head"
    assert mapper.module_path("ReorderOutput", "ReorderOutput") == ""
    assert mapper.module_path("reorder_token_3", "ReorderInput") == ""


def test_parse_ort_profile_skips_warmup_runs():
    def run(ts, dur):
        return {"cat": "Session", "name": "model_run", "ts": ts, "dur": dur}

    def kernel(name, op, ts, dur):
        return {"cat": "Node", "name": f"{name}_kernel_time", "ts": ts, "dur": dur, "args": {"op_name": op}}

    trace = [
        run(0, 100),
        kernel("/a/Conv", "Conv", 10, 90),  # warm-up: ignored
        run(200, 50),
        kernel("/a/Conv", "Conv", 210, 30),
        kernel("/Flatten", "Flatten", 245, 5),
        run(300, 50),
        kernel("/a/Conv", "Conv", 310, 40),
        {"cat": "Node", "name": "/a/Conv_fence_before", "ts": 309, "dur": 1},
    ]
    nodes, run_us, runs = parse_ort_profile(trace, skip_runs=1)
    assert runs == 2 and run_us == 100
    assert nodes == {"/a/Conv": ("Conv", 70.0), "/Flatten": ("Flatten", 5.0)}
