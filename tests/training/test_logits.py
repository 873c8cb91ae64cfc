"""The loss of a timed training step is taken on the main logits, whatever the model returns in train mode."""

import pytest
import torch
from torch import nn
from torchvision.models.inception import InceptionOutputs

from effprof.errors import EffprofError
from effprof.latency.training import logits_of, measure_training_step

LOGITS = torch.ones(2, 5)


@pytest.mark.parametrize(
    "out",
    [LOGITS, InceptionOutputs(LOGITS, torch.zeros(2, 5)), {"logits": LOGITS, "hidden": torch.zeros(1)},
     (LOGITS, torch.zeros(2, 5))],
)  # fmt: skip
def test_the_main_logits_are_found(out):
    assert logits_of(out) is LOGITS


def test_an_output_without_logits_is_a_clear_error():
    with pytest.raises(EffprofError, match="returned str, not logits"):
        logits_of("no tensor")


class WithAux(nn.Module):
    """Like torchvision's Inception v3 in train mode: main and auxiliary logits."""

    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 4)
        self.aux = nn.Linear(8, 4)

    def forward(self, x):
        h = self.body(x).mean((2, 3))
        return InceptionOutputs(self.fc(h), self.aux(h)) if self.training else self.fc(h)


def test_a_model_with_auxiliary_logits_trains_on_its_main_head():
    model = WithAux()
    step = measure_training_step(model, (2, 3, 16, 16), optimizer="sgd", threads=1, budget_s=0.02)
    assert step.measurement.runs >= 1
    assert model.aux.weight.grad is None  # no loss on the auxiliary head: no gradient reaches it
