"""The training step and its per-layer times on CUDA (skipped without a GPU; run by benchmarks/cuda_check.sh)."""

from collections import OrderedDict

import pytest
import torch
from torch import nn

import effprof
from effprof.counters.training import count_training
from effprof.latency.training import measure_inference_peak, measure_training_step
from effprof.latency.training_layers import training_layer_times

SHAPE = (4, 3, 32, 32)


def Small() -> nn.Module:  # noqa: N802 - used like a class
    features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
    return nn.Sequential(OrderedDict(features=features, pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(),
                                     fc=nn.Linear(32, 10)))  # fmt: skip

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_cuda_step_peak_is_max_memory_allocated_and_covers_params_grads_state(optimizer):
    count = count_training(Small(), SHAPE)
    step = measure_training_step(Small(), SHAPE, optimizer=optimizer, device="cuda", budget_s=0.05)
    parts = count.memory_bytes(optimizer)
    assert step.peak_method == "torch.cuda.max_memory_allocated" and step.measurement.device.startswith("cuda")
    assert parts["params_bytes"] + parts["grads_bytes"] + parts["optimizer_state_bytes"] <= step.peak_bytes


def test_cuda_layer_times_charge_kernel_time_to_each_trained_layer():
    t = training_layer_times(Small(), SHAPE, freeze="features.0", device="cuda", iterations=2)
    assert "features.0" not in t.backward_ms  # frozen and first: autograd never reaches it
    assert t.backward_ms["features.2"] > 0 and t.backward_ms["fc"] > 0 and t.forward_ms["features.0"] > 0


def test_cuda_inference_peak_holds_the_params():
    peak, method = measure_inference_peak(Small(), SHAPE, device="cuda")
    assert method == "torch.cuda.max_memory_allocated"
    assert peak >= 4 * sum(p.numel() for p in Small().parameters())


def test_cuda_compiled_training_step_runs():
    r = effprof.profile_training(Small(), backends="compile", device="cuda", optimizers="sgd", budget_s=0.05,
                                 layers=0, check=False)  # fmt: skip
    assert not r.failures(), r.failures()
    assert r.summary()["step_ms"] > 0 and r.summary()["backend"] == "compile"
