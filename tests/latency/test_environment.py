"""environment(): what a number was measured on, and nothing identifying the machine."""

from __future__ import annotations

import json
import platform
import socket

import torch

from effprof.latency import environment


def test_environment_describes_software_and_cpu():
    env = environment()
    for key in (
        "cpu",
        "logical_cores",
        "torch",
        "torchvision",
        "timm",
        "onnx",
        "onnxruntime",
        "python",
        "torch_threads",
        "device",
        "os",
    ):
        assert key in env
    assert env["torch"] == torch.__version__.split("+")[0] or env["torch"] == torch.__version__
    assert env["logical_cores"] >= 1 and env["device"] == "cpu"
    assert "gpu" not in env
    json.dumps(env)  # ready for a report's meta


def test_environment_is_hostname_free():
    text = json.dumps(environment())
    for name in {socket.gethostname(), platform.node()} - {""}:
        assert name not in text
