"""The torchvision op-schema shim: installed only when torchvision's own ops cannot load."""

import subprocess
import sys

import pytest
import torch

from effprof import _compat


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_detection_agrees_with_a_bare_import():
    # Ground truth from a clean interpreter: does `import torchvision` work without effprof?
    bare = _python("import torchvision")
    missing = _python("import effprof._compat as c; print(c.torchvision_ops_missing())")
    assert missing.returncode == 0, missing.stderr
    if bare.returncode == 0:
        assert missing.stdout.strip() == "False"
    else:
        assert "torchvision::nms does not exist" in bare.stderr
        assert missing.stdout.strip() == "True"


def test_torchvision_and_timm_import_after_effprof():
    done = _python("import effprof, torchvision, timm; print(torchvision.models.resnet18().fc.out_features)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1000"


@pytest.mark.skipif(not _compat.torchvision_ops_missing(), reason="torchvision's compiled ops load here")
def test_shim_defines_schemas_only_and_detection_ops_still_fail():
    import torchvision

    assert hasattr(torch.ops.torchvision, "nms")
    boxes, scores = torch.rand(4, 4), torch.rand(4)
    with pytest.raises((NotImplementedError, RuntimeError)):
        torchvision.ops.nms(boxes, scores, 0.5)


def test_shim_is_idempotent():
    first = _compat.ensure_torchvision_importable()
    assert _compat.ensure_torchvision_importable() == first or not first
