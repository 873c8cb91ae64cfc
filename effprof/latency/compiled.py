"""The compile backend: ``torch.compile(model)`` (Inductor), timed after compilation.

Opt-in because compiling costs seconds to minutes on a CPU; that cost is reported as the
Measurement's ``setup_s`` and kept out of the latency.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from effprof.latency.base import Prepared
from effprof.latency.devices import sync_for
from effprof.latency.eager import _restore_mode


class CompileBackend:
    """Rule: eval mode, ``torch.compile`` with default options, first call (= compilation) in setup."""

    name = "compile"

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
        # Start from a clean Dynamo cache: instances of one class share a code object, and past
        # the recompile limit Dynamo silently falls back to eager, which we would then mis-time.
        torch._dynamo.reset()
        compiled = torch.compile(model)

        def run():
            with torch.inference_mode():
                return compiled(x)

        sync = sync_for(device)
        try:
            run()  # compilation happens here; Inductor bakes in the current torch thread count
            sync()
        except BaseException:
            model.train(was_training)
            raise
        return Prepared(
            run=run,
            sync=sync,
            close=_restore_mode(model, was_training),
            setup_s=time.perf_counter() - start,
        )
