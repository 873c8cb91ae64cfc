"""Backward counting rules, freezing and heads, and effprof's training MACs against FlopCounterMode's backward."""

import functools

import pytest
import torch
from torch import nn

import effprof  # noqa: F401
from effprof.counters.analytic import count_analytic
from effprof.counters.training import count_training
from effprof.counters.training_torch import count_training_torch, reconcile_training
from effprof.errors import EffprofError
from effprof.formulas.ops import conv_macs, linear_macs
from effprof.models import build_model
from effprof.models.freeze import find_head, replace_head, setup_training


class Tiny(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        return self.fc(self.pool(torch.relu(self.conv2(x))).flatten(1))


SHAPE = (2, 3, 16, 16)
CONV1 = conv_macs((2, 8, 16, 16), 3, (3, 3))
CONV2 = conv_macs((2, 16, 8, 8), 8, (3, 3))
FC = linear_macs((2, 16), 5)


@functools.cache
def _built(name):
    """One meta build per registry model for this module: the counters never change the caller's module."""
    return build_model(name)


def _rows(count):
    out = {}
    for r in count.layers:
        if r.forward_macs:
            out[r.layer] = (r.forward_macs, r.grad_input_macs, r.grad_weight_macs)
    return out


def test_full_training_skips_only_the_first_convs_grad_input():
    c = count_training(Tiny(), SHAPE)
    assert _rows(c) == {"conv1": (CONV1, 0, CONV1), "conv2": (CONV2, CONV2, CONV2), "fc": (FC, FC, FC)}
    assert c.forward_macs == count_analytic(Tiny(), SHAPE).macs
    assert c.backward_macs == 2 * c.forward_macs - CONV1


def test_frozen_layers_have_no_grad_weight_and_autograd_stops_at_the_first_trainable_layer():
    c = count_training(Tiny(), SHAPE, freeze="conv1,bn1")
    assert _rows(c) == {"conv1": (CONV1, 0, 0), "conv2": (CONV2, 0, CONV2), "fc": (FC, FC, FC)}
    c = count_training(Tiny(), SHAPE, freeze="conv2")  # frozen in the middle: gradient still flows through it
    assert _rows(c) == {"conv1": (CONV1, 0, CONV1), "conv2": (CONV2, CONV2, 0), "fc": (FC, FC, FC)}
    head_only = count_training(Tiny(), SHAPE, freeze="backbone")
    assert head_only.backward_macs == FC and head_only.grad_input_macs == 0
    assert head_only.trainable_params == 16 * 5 + 5


def test_the_callers_module_is_not_frozen_or_changed():
    model = Tiny()
    count_training(model, SHAPE, freeze="backbone", num_classes=3)
    assert all(p.requires_grad for p in model.parameters()) and model.fc.out_features == 5


def test_heads_found_and_replaced_per_family():
    expected = {"resnet18": "fc: Linear(512->1000) -> Linear(512->3)",
                "mobilenet_v2": "classifier.1: Linear(1280->1000) -> Linear(1280->3)",
                "vit_b_16": "heads.head: Linear(768->1000) -> Linear(768->3)",
                "swin_t": "head: Linear(768->1000) -> Linear(768->3)",
                # a convolutional classifier: its last 1x1 conv maps the features to the classes
                "tv:squeezenet1_0": "classifier.1: Conv2d 1x1(512->1000) -> Conv2d 1x1(512->3)"}  # fmt: skip
    for name, text in expected.items():
        model = build_model(name).module
        assert replace_head(model, 3) == text
        assert model(torch.empty(1, 3, 224, 224, device="meta")).shape == (1, 3)


def test_no_head_and_bad_patterns_are_one_line_errors():
    with pytest.raises(EffprofError, match="no classifier head found"):
        find_head(nn.Sequential(nn.Linear(2, 2)))
    no_classifier = nn.Sequential()
    no_classifier.add_module("classifier", nn.Sequential(nn.Conv2d(4, 4, 3), nn.ReLU()))
    with pytest.raises(EffprofError, match="holds no nn.Linear .nor 1x1 nn.Conv2d. to replace"):
        replace_head(no_classifier, 3)
    with pytest.raises(EffprofError, match="matches no module"):
        setup_training(Tiny(), "nosuch*")
    with pytest.raises(EffprofError, match="num-classes"):
        setup_training(Tiny(), "none", 0)


def test_vit_backbone_freeze_keeps_the_head_trainable():
    setup = setup_training(build_model("vit_b_16").module, "backbone", 3)
    assert setup.trainable_params == 768 * 3 + 3 and setup.first_trainable == "heads.head"


@pytest.mark.parametrize("name", ["resnet18", "vit_ti_16", "swin_t", "mobilenet_v2"])
@pytest.mark.parametrize("freeze", ["none", "backbone", "later"])
def test_training_macs_match_flopcountermodes_measured_backward(name, freeze):
    built = _built(name)
    ours = count_training(built.module, built.input_shape, freeze=freeze, num_classes=3)
    theirs = count_training_torch(built.module, built.input_shape, freeze=freeze, num_classes=3)
    assert ours.forward_macs == theirs.forward_macs
    check = reconcile_training(built.module, ours, theirs)
    assert abs(check.relative_unexplained) < 0.01
    if name != "mobilenet_v2":  # no grouped convs: nothing to name, the raw counts agree
        assert abs(ours.backward_macs - theirs.backward_macs) <= 0.01 * theirs.backward_macs
        assert not check.differences


def test_ghostnet_step_matches_flopcountermodes_global_count():
    """GhostNet is where FlopCounterMode's per-module figures break in the backward: its whole-model count holds."""
    built = _built("ghostnet_100")
    ours = count_training(built.module, built.input_shape)
    theirs = count_training_torch(built.module, built.input_shape)
    check = reconcile_training(built.module, ours, theirs)
    assert ours.forward_macs == theirs.forward_macs
    assert check.unexplained_macs == 0 and check.differences  # its depthwise convs: the one named reason


def test_resnet18_backward_is_twice_forward_less_the_first_convs_grad_input():
    built = _built("resnet18")
    c = count_training(built.module, built.input_shape)
    conv1 = conv_macs((1, 64, 112, 112), 3, (7, 7))
    assert c.backward_macs == 2 * c.forward_macs - conv1
    assert c.backward_macs == count_training_torch(built.module, built.input_shape).backward_macs


def test_depthwise_grad_weight_flopcountermode_counts_groups_times_too_many():
    """The arithmetic (tests/training/test_backward_formulas.py) sides with effprof; torch counts x groups."""
    model = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Flatten(), nn.Linear(8 * 6 * 6, 2))
    ours = count_training(model, (1, 8, 6, 6))
    theirs = count_training_torch(model, (1, 8, 6, 6))
    depthwise = conv_macs((1, 8, 6, 6), 8, (3, 3), 8)
    assert theirs.backward_macs - ours.backward_macs == (8 - 1) * depthwise
    check = reconcile_training(model, ours, theirs)
    assert check.differences[0].layers == ["0"] and check.unexplained_macs == 0


def test_memory_terms_follow_the_optimizer():
    c = count_training(Tiny(), SHAPE)
    sgd, adamw = c.memory_bytes("sgd"), c.memory_bytes("adamw")
    assert sgd["optimizer_state_bytes"] == c.trainable_param_bytes
    assert adamw["optimizer_state_bytes"] == 2 * c.trainable_param_bytes
    assert c.saved_activation_bytes > 0
    frozen = count_training(Tiny(), SHAPE, freeze="backbone")
    assert frozen.saved_activation_bytes < c.saved_activation_bytes


class HandWritten(nn.Module):
    """A linear layer written by hand against a transposed view of its weight, then an LSTM."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(4, 6))
        self.rnn = nn.LSTM(4, 3)

    def forward(self, x):
        return self.rnn((x @ self.w.t()).unsqueeze(1))[0]


def test_a_view_of_a_weight_gets_grad_weight_and_a_backward_with_no_formula_is_reported():
    c = count_training(HandWritten(), (5, 6))
    root = next(r for r in c.layers if r.layer == "" and r.forward_macs)
    assert (root.forward_macs, root.grad_input_macs, root.grad_weight_macs) == (5 * 6 * 4, 0, 5 * 6 * 4)
    assert c.unsupported == {"lstm": 1}  # its forward is counted, its backward is not: said, not zeroed
    assert c.backward.uncounted == {("rnn", "lstm"): 1}
    assert c.forward_macs == count_analytic(HandWritten(), (5, 6)).macs
