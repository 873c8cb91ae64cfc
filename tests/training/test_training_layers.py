"""Per-layer forward and backward time of a training step: backward nodes charged to the layer
whose forward made them (autograd sequence numbers), frozen layers get none."""

import time

import pytest
import torch
from rich.console import Console
from torch import nn

import effprof
from effprof.counters.training import count_training
from effprof.latency.training_layers import row_ms, training_layer_times
from effprof.reports.training import render_training

SHAPE = (2, 3, 16, 16)
SLEEP_S = 0.03


class _SlowBackward(torch.autograd.Function):
    """Identity forward; a backward that sleeps SLEEP_S: a known, large backward time on one layer."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        time.sleep(SLEEP_S)
        return grad


class Slow(nn.Module):
    def forward(self, x):
        return _SlowBackward.apply(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))
        self.slow = Slow()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.pool(self.slow(self.features(x))).flatten(1))


def test_backward_time_lands_on_the_layer_whose_forward_made_the_node():
    t = training_layer_times(Net(), SHAPE, threads=1, iterations=2)
    slow_ms = t.backward_ms["slow"]
    assert slow_ms >= 0.8 * SLEEP_S * 1e3  # the sleep, charged to the module that ran the Function
    others = {k: v for k, v in t.backward_ms.items() if k != "slow"}
    assert set(others) >= {"features.0", "features.2", "fc", "pool"}
    assert max(others.values()) < slow_ms / 3
    assert t.backward_total_ms >= slow_ms  # every node's time, AccumulateGrad and the loss included
    assert t.attributed_backward_ms + t.accumulate_grad_ms + t.loss_ms == pytest.approx(t.backward_total_ms, rel=0.2)
    assert t.forward_ms["features.0"] > 0 and t.optimizer_ms > 0


def test_frozen_layers_before_the_first_trainable_one_get_no_backward_time():
    # features.0 and .2 frozen: autograd stops at the slow layer's input, so no conv backward node runs
    t = training_layer_times(Net(), SHAPE, freeze="features.*", threads=1, iterations=1)
    assert "features.0" not in t.backward_ms and "features.2" not in t.backward_ms
    assert t.backward_ms["fc"] > 0 and t.forward_ms["features.0"] > 0


def test_module_time_is_split_over_its_rows_by_macs():
    model = Net()
    count = count_training(model, SHAPE)
    t = training_layer_times(Net(), SHAPE, threads=1, iterations=1)
    times = row_ms(t, count.layers)
    conv = next(r for r in count.layers if r.layer == "features.0")
    fwd, bwd = times[(conv.layer, conv.op_class)]
    assert fwd == pytest.approx(t.forward_ms["features.0"]) and bwd == pytest.approx(t.backward_ms["features.0"])


def test_profile_train_true_is_the_training_profile_with_per_layer_backward_ms():
    r = effprof.profile(Net(), train=True, freeze="features.0", backends="eager", threads=1, budget_s=0.05,
                        input_shape=None, optimizers="sgd")  # fmt: skip
    layers = r.layers_frame().set_index("layer")
    assert pd_isna(layers.loc["features.0", "backward_ms"])  # frozen and first: never reached
    assert layers.loc["fc", "backward_ms"] > 0 and layers.loc["features.2", "backward_ms"] > 0
    # a module with no count row (no MACs) keeps its time on the profile's layer_times
    assert r.profiles[0].layer_times.backward_ms["slow"] >= 0.8 * SLEEP_S * 1e3
    # timed, the top layers are ranked by where the time went (as the inference profile does)
    console = Console(width=200, record=True)
    console.print(render_training(r, width=200))
    text = console.export_text()
    assert "layers by measured forward + backward time" in text and "bwd ms" in text
    assert r.summary()["trainable_params"] == sum(p.numel() for n, p in Net().named_parameters()
                                                  if not n.startswith("features.0"))  # fmt: skip


def pd_isna(value) -> bool:
    return value is None or value != value


def test_profile_rejects_training_options_without_train_and_inference_options_with_it():
    with pytest.raises(effprof.EffprofError, match="train=True"):
        effprof.profile(Net(), freeze="backbone")
    with pytest.raises(effprof.EffprofError, match="reconcile: not an option of a training profile"):
        effprof.profile(Net(), train=True, reconcile=True)
