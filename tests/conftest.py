import os

# effprof first: it makes torchvision importable beside a CPU-only torch (effprof/_compat.py).
import effprof  # noqa: F401

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
