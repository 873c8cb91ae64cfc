"""``effprof.profile``: one entry for a model's inference profile and, with ``train=True``, its training step.

It sits above both (effprof.api for inference, effprof.training.profile for training), so neither
imports the other's callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from effprof import api
from effprof.errors import EffprofError
from effprof.results import ProfileResult
from effprof.training.profile import TrainingResult, profile_training

#: options only an inference profile has (a training step has its own counters and input rule)
INFERENCE_ONLY = ("input_shape", "counters", "reconcile")


def profile(
    model: Any,
    *,
    train: bool = False,
    freeze: str | None = None,
    num_classes: int | None = None,
    optimizers: str | Sequence[str] = "sgd,adamw",
    **options: Any,
) -> ProfileResult | TrainingResult:
    """Profile one model: inference (``effprof.api.profile``: counts, latency, per-layer times), or
    with ``train=True`` one training step under ``freeze`` with a ``num_classes`` head
    (``effprof.profile_training``: backward MACs per layer, step time, memory).

    >>> effprof.profile("resnet18", train=True, freeze="backbone", num_classes=3).summary()  # doctest: +SKIP
    """
    if not train:
        if freeze is not None or num_classes is not None:
            raise EffprofError("freeze and num_classes describe a training step: pass train=True with them")
        return api.profile(model, **options)
    given = [k for k in INFERENCE_ONLY if options.get(k) not in (None, False)]
    if given:
        raise EffprofError(f"{', '.join(given)}: not an option of a training profile (train=True); leave it out")
    options = {"backends": None} | {k: v for k, v in options.items() if k not in INFERENCE_ONLY}  # as inference: count only unless asked
    return profile_training(model, freeze=freeze or "none", num_classes=num_classes, optimizers=optimizers, **options)
