"""Baselines: a bench JSON report (``-o x.json``) read back, and the checks that it fits this run.

Rule: a baseline is compared only with a run of the same suite, in the same baseline format; its
latency only with a run on the same kind of device (cpu or the same GPU model, same machine
architecture). Anything else is an EffprofError with exit code 2 and one line saying why, never a
silent comparison. Softer differences (effprof or torch version, CPU model, threads, suite settings)
become notes printed beside the comparison: counts across effprof versions are still compared, so
a change in effprof's own counting shows up as a diff a reviewer can accept with --update-baseline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from effprof.bench.run import BASELINE_FORMAT
from effprof.errors import EffprofError


@dataclass
class Baseline:
    path: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]

    @property
    def timed(self) -> bool:
        return any(isinstance(r.get("latency_norm"), int | float) for r in self.rows)


def read_baseline(path: str | Path) -> Baseline:
    """Parse a bench JSON; missing, unreadable, corrupt or not-a-bench files raise (exit 2)."""
    path = Path(path)
    hint = f"write one with `effprof bench SUITE --baseline {path} --update-baseline`"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EffprofError(f"no baseline at {str(path)!r}: {hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EffprofError(
            f"cannot read baseline {str(path)!r}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EffprofError(
            f"baseline {str(path)!r} is not valid JSON ({exc.msg} at line {exc.lineno}): {hint}"
        ) from None
    bench = (
        doc.get("meta", {}).get("bench")
        if isinstance(doc, dict) and isinstance(doc.get("meta"), dict)
        else None
    )
    if not isinstance(bench, dict) or not isinstance(doc.get("rows"), list):
        raise EffprofError(
            f"baseline {str(path)!r} is not an `effprof bench` report (no meta.bench and rows): {hint}"
        )
    if bench.get("format") != BASELINE_FORMAT:
        raise EffprofError(
            f"baseline {str(path)!r} has bench format {bench.get('format')!r}, this effprof reads format "
            f"{BASELINE_FORMAT}: {hint}"
        )
    rows = doc["rows"]
    if not all(isinstance(r, dict) and isinstance(r.get("spec"), str) for r in rows):
        raise EffprofError(f"baseline {str(path)!r} has rows without a spec: {hint}")
    return Baseline(str(path), doc["meta"], rows)


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
