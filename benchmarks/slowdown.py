"""A model factory with an injectable slow-down that no gated count sees (for benchmarks/gate_stability.py).

``slowdown:mobilenet_v2`` (with ``benchmarks`` on PYTHONPATH) is torchvision's MobileNetV2 with
``$EFFPROF_SLOWDOWN_REPEATS`` extra ReLU6 ops after its stem: each costs time, but adds no
parameter, no MAC and no activation (the counts the CI gate compares), so only the latency gate
can catch it. The spec string stays the same whatever the repeat count, so a baseline taken at 0
is compared with a run at N case for case.
"""

from __future__ import annotations

import os

from torch import nn

import effprof  # noqa: F401  (before torchvision: makes it importable beside a CPU-only torch)


def mobilenet_v2(repeats: int | None = None) -> nn.Module:
    """MobileNetV2 (weights=None) with ``repeats`` (default: $EFFPROF_SLOWDOWN_REPEATS, else 0) ReLU6 after the stem."""
    import torchvision  # after effprof (imported above)

    repeats = int(os.environ.get("EFFPROF_SLOWDOWN_REPEATS", "0")) if repeats is None else repeats
    model = torchvision.models.mobilenet_v2(weights=None)
    if repeats:
        model.features[0] = nn.Sequential(model.features[0], *(nn.ReLU6() for _ in range(repeats)))
    return model
