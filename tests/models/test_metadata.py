"""Registry metadata without torch: `effprof list` must not pay for importing torch or building models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import effprof  # noqa: F401  (installs the torchvision shim before anything imports it)
from effprof.models import list_models
from effprof.models.metadata import compute_params, model_rows
from effprof.models.registry_params import PARAMS

ROOT = Path(__file__).resolve().parents[2]

# effprof/__init__ imports the API (torch) and is another module's business: load the models package
# under a bare `effprof` package object, so this checks what effprof.models itself imports.
_BARE = f"""
import sys, types
pkg = types.ModuleType("effprof"); pkg.__path__ = [{str(ROOT / "effprof")!r}]
sys.modules["effprof"] = pkg
from effprof.models import get_model_cfg, list_models
from effprof.models.metadata import model_rows
rows = model_rows()
assert len(rows) == len(list_models()) >= 38 and rows[0]["params"] > 0
assert get_model_cfg("efficientnet_b7").resolution == 600
heavy = sorted(m for m in ("torch", "torchvision", "timm", "numpy", "pandas") if m in sys.modules)
print(",".join(heavy) or "none")
"""


def test_registry_metadata_imports_no_torch():
    done = subprocess.run([sys.executable, "-c", _BARE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "none"


def test_shipped_params_table_covers_the_registry():
    assert list(PARAMS) == [cfg.name for cfg in list_models()]


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "mobilenet_v1", "efficientnet", "vit_ti_16"])
def test_shipped_params_equal_a_meta_build(name):
    assert PARAMS[name] == compute_params(name)


def test_params_against_torchvision_published_metadata():
    # torchvision's weights metadata (num_params), an independent reference
    by_name = {r["model"]: r for r in model_rows("resnet50")} | {r["model"]: r for r in model_rows("mobilenet_v2")}
    assert by_name["resnet50"]["params"] == 25_557_032 and by_name["mobilenet_v2"]["params"] == 3_504_872
    assert by_name["resnet50"]["paper_macs"] == 3.8e9 and by_name["resnet50"]["resolution"] == 224
