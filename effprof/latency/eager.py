"""The eager backend: the model as PyTorch runs it, in eval mode under ``torch.inference_mode``."""

from __future__ import annotations

import time

import torch
from torch import nn

from effprof.latency.base import Prepared
from effprof.latency.devices import sync_for


def _restore_mode(model: nn.Module, was_training: bool):
    def close() -> None:
        model.train(was_training)

    return close


class EagerBackend:
    """Rule: eval mode, inference mode, model and input on ``device``.

    The caller's model is moved to ``device`` (not copied: a copy of a large model could not fit)
    and put back in its previous train/eval mode by ``close()``.
    """

    name = "eager"

    def prepare(
        self,
        model: nn.Module,
        example: torch.Tensor,
        *,
        device: str,
        threads: int,
        cache_key: str | None = None,
    ) -> Prepared:
        start = time.perf_counter()
        was_training = model.training
        model.eval().to(device)
        x = example.to(device)

        def run():
            with torch.inference_mode():
                return model(x)

        return Prepared(
            run=run,
            sync=sync_for(device),
            close=_restore_mode(model, was_training),
            setup_s=time.perf_counter() - start,
        )
