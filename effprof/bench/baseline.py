"""Baselines: a bench JSON report (``-o x.json``) read back, and the checks that it fits this run.

Rule: the bench report format is defined once, as the pydantic model ``BenchReport`` below, and a
baseline is validated against it on load: counts are whole numbers >= 0, times and ratios finite
numbers >= 0 (a NaN would compare false with everything and hide any change), each or null;
unknown keys are kept (newer effprof versions add columns) and a known key of the wrong type is
an error naming the row and field. A baseline is compared only with a run of the same suite, in
the same baseline format; its latency only with a run on the same kind of device (cpu or the same
GPU model, same machine architecture). Anything else is an EffprofError with exit code 2 and one
line saying why, never a silent comparison. Softer differences (effprof or torch version, CPU
model, threads, suite settings) become notes printed beside the comparison: counts across effprof
versions are still compared, so a change in effprof's own counting shows up as a diff a reviewer
can accept with --update-baseline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from effprof.bench.run import BASELINE_FORMAT
from effprof.errors import EffprofError
from effprof.schema import FileProblem, describe_error, items, number, parse_json, read_text, text, whole

#: a zoo baseline with every raw sample is a few MB; far beyond this is not a bench report
MAX_BASELINE_BYTES = 256 << 20

Count = whole(0, null=True)  # params, MACs...: exact, never negative
Amount = number(ge=0, null=True)  # times, ratios, rates: finite, never negative
Positive = whole(1, null=True)  # runs, threads, resolution, batch
Label = text(null=True)
Amounts = items(number(ge=0), null=True, rule="a list of finite numbers >= 0")


class _Open(BaseModel):
    # Keys this effprof does not know are kept as they are: a newer effprof may add columns.
    model_config = ConfigDict(extra="allow")


class BenchRow(_Open):
    """One row of a bench report: a case's counts and latency on one backend."""

    spec: text(min_length=1, rule="a model spec")
    model: Label = None
    source: Label = None
    input_shape: Label = None
    backend: Label = None
    device: Label = None
    suite: Label = None
    error: Label = None
    warnings: Label = None
    params: Count = None
    macs: Count = None
    flops: Count = None
    other_ops: Count = None
    activations: Count = None
    macs_fvcore: Count = None
    macs_torch: Count = None
    latency_ms: Amount = None
    latency_iqr_ms: Amount = None
    latency_p90_ms: Amount = None
    latency_norm: Amount = None
    reference_latency_ms: Amount = None
    gmacs_per_s: Amount = None
    # the latency-trust columns a timed bench row carries (effprof/bench/run.py, compare.py)
    latency_norm_low: Amount = None
    latency_norm_high: Amount = None
    latency_norm_log_hw: Amount = None
    others_cores: Amount = None
    contended: Amount = None
    reference_contended: Amount = None
    latency_pair_norms: Amounts = None
    runs: Positive = None
    threads: Positive = None
    resolution: Positive = None
    batch: Positive = None


class BenchInfo(_Open):
    """``meta.bench``: what a baseline must match (format, suite, reference) and the suite's settings."""

    format: int
    suite: text(min_length=1, rule="a suite name")
    suite_file: Label = None
    reference: Label = None
    settings: dict[str, Any] | None = None


class Environment(_Open):
    device: Label = None
    cpu: Label = None
    gpu: Label = None
    torch_threads: Positive = None


class BenchMeta(_Open):
    bench: BenchInfo
    environment: Environment | None = None
    versions: dict[str, Label] | None = None
    machine: Label = None
    device: Label = None
    threads: Positive = None
    backends: items(text(), null=True, rule="a list of backend names") = None


class BenchReport(_Open):
    """A bench JSON report: ``{"meta": {..., "bench": {...}}, "rows": [...]}`` (and, after a comparison, more keys)."""

    meta: BenchMeta
    rows: list[BenchRow]


class _Envelope(_Open):
    # Only what says "this is a bench report at all", checked before its format and its fields.
    class _Meta(_Open):
        class _Bench(_Open):
            format: Any = None

        bench: _Bench

    meta: _Meta
    rows: list[Any]


@dataclass
class Baseline:
    path: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]

    @property
    def timed(self) -> bool:
        return any(isinstance(r.get("latency_norm"), int | float) for r in self.rows)


def read_baseline(path: str | Path) -> Baseline:
    """Read and validate a bench JSON; missing, unreadable, corrupt, not-a-bench or invalid files raise (exit 2)."""
    path = Path(path)
    where = f"baseline {str(path)!r}"
    command = f"`effprof bench SUITE --baseline {path} --update-baseline`"
    hint = f"replace it with {command}"
    try:
        doc = parse_json(read_text(path, max_bytes=MAX_BASELINE_BYTES))
    except FileNotFoundError:
        raise EffprofError(f"no baseline at {str(path)!r}: write one with {command}") from None
    except FileProblem as exc:
        raise EffprofError(f"{where} {exc}: {hint}") from None
    try:
        _Envelope.model_validate(doc)
    except ValidationError:
        raise EffprofError(
            f"{where} is not an `effprof bench` report (no meta.bench and rows): {hint}"
        ) from None
    fmt = doc["meta"]["bench"].get("format")
    if isinstance(fmt, bool) or fmt != BASELINE_FORMAT or not isinstance(fmt, int):  # true == 1 in Python
        raise EffprofError(
            f"{where} has bench format {fmt!r}, this effprof reads format {BASELINE_FORMAT}: {hint}"
        )
    try:
        report = BenchReport.model_validate(doc)
    except ValidationError as exc:
        raise EffprofError(
            f"{where}: {describe_error(exc, BenchReport, table='JSON object')}: {hint}"
        ) from None
    meta = report.meta.model_dump(exclude_unset=True)
    return Baseline(str(path), meta, [r.model_dump(exclude_unset=True) for r in report.rows])


def device_identity(meta: dict[str, Any]) -> str:
    """'cpu (x86_64)' or 'cuda NVIDIA H100 80GB HBM3 (x86_64)': what latency ratios are comparable across."""
    env = meta.get("environment") or {}
    device = str(env.get("device") or meta.get("device") or "cpu")
    kind = device.split(":")[0]
    gpu = f" {env['gpu']}" if kind == "cuda" and env.get("gpu") else ""
    return f"{kind}{gpu} ({meta.get('machine') or 'unknown arch'})"


def _version(meta: dict[str, Any], package: str) -> str | None:
    return (meta.get("versions") or {}).get(package)


def check_baseline(baseline: Baseline, meta: dict[str, Any], *, timed: bool) -> list[str]:
    """Raise (exit 2) when ``baseline`` cannot be compared with a run described by ``meta``.

    ``timed``: this run measures latency, so the device must match too (a counts-only run can use
    any baseline of its suite). Returns notes on softer differences.
    """
    old, new = baseline.meta.get("bench", {}), meta["bench"]
    where = f"baseline {baseline.path!r}"
    if old.get("suite") != new["suite"]:
        raise EffprofError(
            f"{where} is from suite {old.get('suite')!r}, this run is suite {new['suite']!r}: "
            "compare a suite with its own baseline"
        )
    if timed and baseline.timed:
        a, b = device_identity(baseline.meta), device_identity(meta)
        if a != b:
            raise EffprofError(
                f"{where} was timed on {a}, this run on {b}: latency is not comparable across kinds of device; "
                "use a baseline from this kind of device, or --backend none to compare counts only"
            )
        if old.get("reference") != new["reference"]:
            raise EffprofError(
                f"{where} normalised latency by {old.get('reference')!r}, the suite now by {new['reference']!r}: "
                "the ratios mean different things; refresh it with --update-baseline"
            )
    return soft_differences(baseline.meta, meta, timed=timed and baseline.timed)


def soft_differences(old: dict[str, Any], new: dict[str, Any], *, timed: bool) -> list[str]:
    """One note per difference that does not stop the comparison but may explain a diff."""
    notes = []
    for package, why in (("effprof", "a change in counts may come from effprof itself"),
                         ("torch", "latency may shift with the torch version")):  # fmt: skip
        a, b = _version(old, package), _version(new, package)
        if a != b and (package == "effprof" or timed):
            notes.append(f"baseline from {package} {a}, this run uses {b}: {why}")
    if timed:
        old_env, new_env = old.get("environment") or {}, new.get("environment") or {}
        if old_env.get("cpu") != new_env.get("cpu"):
            notes.append(f"baseline CPU {old_env.get('cpu')!r}, this run {new_env.get('cpu')!r}: "
                         "latency is compared as a ratio to the reference model, absolute times differ")  # fmt: skip
        if old_env.get("torch_threads") != new_env.get("torch_threads") or old.get("threads") != new.get(
            "threads"
        ):
            notes.append(f"baseline timed with {old.get('threads') or old_env.get('torch_threads')} threads, "
                         f"this run with {new.get('threads') or new_env.get('torch_threads')}")  # fmt: skip
    old_set = (old.get("bench") or {}).get("settings") or {}
    new_set = (new.get("bench") or {}).get("settings") or {}
    for key in sorted(set(old_set) | set(new_set)):
        if key != "models" and _plain(old_set.get(key)) != _plain(new_set.get(key)):
            notes.append(
                f"suite setting {key}: baseline {_plain(old_set.get(key))!r}, now {_plain(new_set.get(key))!r}"
            )
    return notes


def _plain(value: Any) -> Any:
    # Settings come back from JSON as lists where the suite holds tuples: compare like with like.
    return json.loads(json.dumps(value, default=str))
