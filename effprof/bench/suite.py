"""Benchmark suites: a TOML file (stdlib ``tomllib``) naming models, shapes, backends, budget and tolerances.

Rule: every key is checked against the ones this module knows; an unknown or ill-typed key raises
EffprofError (exit code 2) naming the key, the file, and the valid keys, before any model is built.

A suite file looks like::

    name = "ci"
    reference = "resnet18"          # latency is compared as a ratio to this model, run first
    backends = ["eager"]            # [] counts only
    resolutions = [160]             # [] or absent: each model's own resolution
    batch_sizes = [1]
    threads = 1
    budget_s = 0.3
    rounds = 3                      # timed 3 times, interleaved; each case keeps its fastest round
    models = ["mobilenet_v1_025", { spec = "mobilenet_v2", resolutions = [128] }]

    [tolerance]
    macs_pct = 0.0
    latency_pct = 20.0
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from effprof.errors import EffprofError

SUITE_KEYS = (
    "name", "description", "models", "reference", "resolutions", "batch_sizes", "backends",
    "counters", "device", "threads", "budget_s", "rounds", "tolerance",
)  # fmt: skip
MODEL_KEYS = ("spec", "resolutions", "batch_sizes")
TOLERANCE_KEYS = ("params_pct", "macs_pct", "activations_pct", "latency_pct")


@dataclass(frozen=True)
class Tolerance:
    """Allowed relative change against a baseline, in percent.

    Counts are deterministic, so their default is 0 (any change fails). ``latency_pct`` applies to
    latency normalised by the suite's reference model, and only to slow-downs.
    """

    params_pct: float = 0.0
    macs_pct: float = 0.0
    activations_pct: float = 0.0
    latency_pct: float = 20.0

    def for_metric(self, metric: str) -> float:
        return {"params": self.params_pct, "macs": self.macs_pct, "activations": self.activations_pct,
                "latency_norm": self.latency_pct}[metric]  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One model at one input size: the unit a suite runs and a baseline is keyed by."""

    spec: str
    resolution: int | None  # None: the model's own default
    batch: int

    @property
    def label(self) -> str:
        """'mobilenet_v2 @160px', 'resnet50' (its own resolution), 'resnet50 @224px batch 8'."""
        res = f" @{self.resolution}px" if self.resolution else ""
        return f"{self.spec}{res}{f' batch {self.batch}' if self.batch != 1 else ''}"


@dataclass(frozen=True)
class Suite:
    name: str
    path: str
    models: tuple[dict[str, Any], ...]
    reference: str
    description: str = ""
    resolutions: tuple[int, ...] = ()
    batch_sizes: tuple[int, ...] = (1,)
    backends: tuple[str, ...] = ()
    counters: tuple[str, ...] = ("analytic",)
    device: str = "cpu"
    threads: int | None = None
    budget_s: float | None = None
    #: timed suites time every case this many times, interleaved, and keep each one's fastest round
    rounds: int = 3
    tolerance: Tolerance = field(default_factory=Tolerance)

    def cases(self) -> list[Case]:
        """Every (model, resolution, batch), the reference model's first so its latency is known early."""
        out: list[Case] = []
        for m in self.models:
            for res in m.get("resolutions", self.resolutions) or (None,):
                for batch in m.get("batch_sizes", self.batch_sizes):
                    out.append(Case(m["spec"], res, batch))
        return sorted(out, key=lambda c: c.spec != self.reference)  # stable: suite order otherwise

    def settings(self) -> dict[str, Any]:
        """What a baseline records about the suite, to tell a reader what differs between two runs."""
        doc = asdict(self)
        doc.pop("path")
        doc.pop("description")
        doc["models"] = [dict(m) for m in self.models]
        return doc


def _close(key: str, valid: tuple[str, ...]) -> str:
    match = difflib.get_close_matches(key, valid, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _check_keys(where: str, table: dict[str, Any], valid: tuple[str, ...]) -> None:
    for key in table:
        if key not in valid:
            raise EffprofError(
                f"{where}: unknown key {key!r}{_close(key, valid)}; valid keys: {', '.join(valid)}"
            )


def _ints(where: str, key: str, value: Any) -> tuple[int, ...]:
    # resolutions = [] means "each model's own"; an empty batch_sizes would run nothing.
    empty_ok = key.endswith("resolutions")
    if (
        not isinstance(value, list)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
        or (not value and not empty_ok)
    ):
        raise EffprofError(f"{where}: {key} must be a list of positive whole numbers, got {value!r}")
    return tuple(value)


def _strs(where: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # "eager,onnxruntime" reads as it does on the command line
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EffprofError(f"{where}: {key} must be a list of strings, got {value!r}")
    return tuple(value)


def _model(where: str, index: int, entry: Any) -> dict[str, Any]:
    if isinstance(entry, str):
        return {"spec": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("spec"), str):
        raise EffprofError(
            f'{where}: models[{index}] must be a spec string or a table with spec = "...", got {entry!r}'
        )
    _check_keys(f"{where}: models[{index}] ({entry['spec']})", entry, MODEL_KEYS)
    model: dict[str, Any] = {"spec": entry["spec"]}
    for key in ("resolutions", "batch_sizes"):
        if key in entry:
            model[key] = _ints(where, f"models[{index}].{key}", entry[key])
    return model


def _tolerance(where: str, table: Any) -> Tolerance:
    if not isinstance(table, dict):
        raise EffprofError(f"{where}: [tolerance] must be a table, got {table!r}")
    _check_keys(f"{where}: [tolerance]", table, TOLERANCE_KEYS)
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise EffprofError(f"{where}: tolerance.{key} must be a number of percent >= 0, got {value!r}")
    return Tolerance(**{k: float(v) for k, v in table.items()})


def parse_suite(doc: dict[str, Any], where: str = "suite") -> Suite:
    """A validated Suite from a parsed TOML document; ``where`` names the file in every error."""
    from effprof.api import parse_counters
    from effprof.latency import parse_backends

    _check_keys(where, doc, SUITE_KEYS)
    if not isinstance(doc.get("name"), str) or not doc["name"]:
        raise EffprofError(f'{where}: needs name = "..." (baselines record it, to refuse another suite\'s)')
    if not isinstance(doc.get("models"), list) or not doc["models"]:
        raise EffprofError(f'{where}: needs models = ["spec", ...] with at least one model')
    models = tuple(_model(where, i, m) for i, m in enumerate(doc["models"]))
    specs = [m["spec"] for m in models]
    if len(set(specs)) != len(specs):
        dup = next(s for s in specs if specs.count(s) > 1)
        raise EffprofError(
            f"{where}: model {dup!r} is listed twice; give one entry several resolutions instead"
        )
    reference = doc.get("reference")
    if not isinstance(reference, str) or reference not in specs:
        raise EffprofError(
            f"{where}: reference must be one of the suite's models ({', '.join(specs)}), got {reference!r}; "
            "latency is compared as a ratio to it"
        )
    kwargs: dict[str, Any] = {}
    for key in ("resolutions", "batch_sizes"):
        if key in doc:
            kwargs[key] = _ints(where, key, doc[key])
    if "backends" in doc:
        names = _strs(where, "backends", doc["backends"])
        kwargs["backends"] = () if names in ((), ("none",)) else tuple(_checked(where, parse_backends, names))
    if "counters" in doc:
        kwargs["counters"] = _checked(
            where, parse_counters, list(_strs(where, "counters", doc["counters"]))
        ) or ("analytic",)
    for key, kind in (("description", str), ("device", str)):
        if key in doc:
            if not isinstance(doc[key], kind):
                raise EffprofError(f"{where}: {key} must be a string, got {doc[key]!r}")
            kwargs[key] = doc[key]
    for key in ("threads", "rounds"):
        if key in doc:
            if isinstance(doc[key], bool) or not isinstance(doc[key], int) or doc[key] < 1:
                raise EffprofError(f"{where}: {key} must be a whole number >= 1, got {doc[key]!r}")
            kwargs[key] = doc[key]
    if "budget_s" in doc:
        value = doc["budget_s"]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise EffprofError(f"{where}: budget_s must be a number of seconds > 0, got {value!r}")
        kwargs["budget_s"] = float(value)
    if "tolerance" in doc:
        kwargs["tolerance"] = _tolerance(where, doc["tolerance"])
    return Suite(name=doc["name"], path=where, models=models, reference=reference, **kwargs)


def _checked(where: str, parse, value):
    # The shared parsers know the valid names; prefix their message with the file it came from.
    try:
        return parse(value)
    except EffprofError as exc:
        raise EffprofError(f"{where}: {exc.message}") from None


def _toml():
    # tomllib is in the standard library from Python 3.11; 3.10 reads TOML with tomli, its backport.
    try:
        import tomllib
    except ModuleNotFoundError:
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise EffprofError("reading a suite on Python 3.10 needs tomli: pip install tomli") from None
    return tomllib


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; a missing file or bad TOML is an EffprofError (exit 2)."""
    path = Path(path)
    tomllib = _toml()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EffprofError(
            f"no suite file at {str(path)!r} (suites ship in benchmarks/: ci.toml, zoo.toml, lecture.toml)"
        ) from None
    except OSError as exc:
        raise EffprofError(f"cannot read suite {str(path)!r}: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EffprofError(f"{path}: not valid TOML: {exc}") from None
    return parse_suite(doc, str(path))
