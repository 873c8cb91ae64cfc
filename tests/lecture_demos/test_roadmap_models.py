"""convnext_roadmap(step=K): each step against the paper's Figure 2, and both ends against torchvision exactly."""

import dataclasses

import pytest
import torch
from torch import nn
from torchvision.models import ConvNeXt_Tiny_Weights, ResNet50_Weights
from torchvision.models.convnext import LayerNorm2d

from effprof.counters.analytic import count_analytic
from effprof.errors import EffprofError
from effprof.models import build_model
from effprof.models.roadmap import LAST_STEP, ROADMAP, Knobs, get_step

#: Figure 2's GFLOPs carry one decimal; a step is within 3% of it
PAPER_TOLERANCE = 0.03


def count(step: int):
    built = build_model(f"convnext_roadmap(step={step})")
    return built, count_analytic(built.module, built.input_shape)


@pytest.mark.parametrize("step", range(len(ROADMAP)))
def test_each_step_is_within_3_percent_of_figure_2(step):
    _, counted = count(step)
    paper = ROADMAP[step].paper_gmacs * 1e9
    assert abs(counted.macs / paper - 1) <= PAPER_TOLERANCE, (step, counted.macs, paper)


def test_step_0_is_torchvision_resnet50_exactly():
    _, counted = count(0)
    meta = ResNet50_Weights.IMAGENET1K_V1.meta
    assert counted.params == meta["num_params"] == 25_557_032
    assert round(counted.macs / 1e9, 3) == meta["_ops"]


def test_last_step_is_torchvision_convnext_tiny_exactly():
    built, counted = count(LAST_STEP)
    meta = ConvNeXt_Tiny_Weights.IMAGENET1K_V1.meta
    assert counted.params == meta["num_params"] == 28_589_128
    assert round(counted.macs / 1e9, 3) == meta["_ops"]
    reference = build_model("convnext_tiny")
    assert counted.macs == count_analytic(reference.module, reference.input_shape).macs
    mine = {k: v.shape for k, v in built.module.state_dict().items()}
    theirs = {k: v.shape for k, v in reference.module.state_dict().items()}
    assert mine == theirs  # the same module tree, not just the same totals


def test_every_step_changes_exactly_one_knob():
    previous = Knobs()
    assert ROADMAP[0].knobs == previous
    for step in ROADMAP[1:]:
        changed = [f.name for f in dataclasses.fields(Knobs)
                   if getattr(step.knobs, f.name) != getattr(previous, f.name)]  # fmt: skip
        assert len(changed) == 1, (step.step, changed)
        previous = step.knobs


def _types(step: int) -> list[type]:
    return [type(m) for m in build_model(f"convnext_roadmap(step={step})").module.modules()]


def test_the_micro_design_steps_do_what_they_say():
    depthwise = [m for m in build_model("convnext_roadmap(step=3)").module.modules()
                 if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]  # fmt: skip
    assert depthwise and all(m.groups == m.in_channels == m.out_channels for m in depthwise)
    assert nn.GELU not in _types(7) and nn.GELU in _types(8) and nn.ReLU not in _types(8)
    blocks = 3 + 3 + 9 + 3
    assert _types(9).count(nn.GELU) == blocks  # one activation per block, none in the stem
    assert nn.BatchNorm2d in _types(10) and nn.BatchNorm2d not in _types(11) and LayerNorm2d in _types(11)
    kernels = {m.kernel_size for m in build_model("convnext_roadmap(step=7)").module.modules()
               if isinstance(m, nn.Conv2d) and m.groups > 1}  # fmt: skip
    assert kernels == {(7, 7)}


def test_a_step_runs_on_real_tensors():
    module = build_model("convnext_roadmap(step=9)", resolution=64, device="cpu").module.eval()
    with torch.no_grad():
        assert module(torch.randn(1, 3, 64, 64)).shape == (1, 1000)


@pytest.mark.parametrize("step", [-1, LAST_STEP + 1, 1.5, True, "3"])
def test_a_step_out_of_range_is_one_clear_error(step):
    with pytest.raises(EffprofError, match=f"step must be a whole number 0 to {LAST_STEP}"):
        get_step(step)
    with pytest.raises(EffprofError, match="step must be"):
        build_model(f"convnext_roadmap(step={step!r})")


def test_paper_figures_have_a_source_each():
    for step in ROADMAP:
        assert step.source.startswith("Figure 2") and step.change
    assert [s.paper_gmacs for s in ROADMAP[:8]] == [4.1, 4.5, 4.4, 2.4, 5.3, 4.6, 4.1, 4.2]
    assert ROADMAP[0].paper_top1 == 78.8 and ROADMAP[-1].paper_top1 == 82.0


def test_effprof_list_shows_the_roadmap_with_step_0s_params():
    from effprof.models.metadata import model_rows
    from effprof.models.registry_params import PARAMS

    (row,) = model_rows("convnext_roadmap")
    # the shipped table (no build): step 0 is torchvision's resnet50, whose weights metadata says 25,557,032
    assert PARAMS["convnext_roadmap"] == row["params"] == ResNet50_Weights.IMAGENET1K_V1.meta["num_params"]
    assert row["paper_macs"] == pytest.approx(4.1e9) and row["family"] == "ConvNeXt"
