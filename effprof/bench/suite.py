"""Benchmark suites: a TOML file (stdlib ``tomllib``) naming models, shapes, backends, budget and tolerances.

Rule: the file format is defined once, as the pydantic model ``SuiteFile`` below (every key, its
type and its range); a suite is validated against it on load, before any model is built. A bad
file is one EffprofError line (exit code 2) naming the file and the field: an unknown key with
the valid ones, a wrong type, a number out of range (NaN and Infinity never pass), a model listed
twice (compared after trimming spaces), or a file that is not UTF-8 TOML text.

A suite file looks like::

    name = "ci"
    reference = "resnet18"          # latency is compared as a ratio to this model, run first
    backends = ["eager"]            # [] counts only
    resolutions = [160]             # [] or absent: each model's own resolution
    batch_sizes = [1]
    threads = 1
    budget_s = 0.3
    rounds = 10                     # each model timed in 10 slices alternating with the reference
    models = ["mobilenet_v1_025", { spec = "mobilenet_v2", resolutions = [128] }]

    [tolerance]
    macs_pct = 0.0
    latency_pct = 20.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from effprof.errors import EffprofError
from effprof.schema import (
    FileProblem,
    check_depth,
    describe_error,
    described,
    items,
    number,
    read_text,
    text,
    whole,
)

# Bounds past which a suite asks for something no machine can run: a 1x3x8192x8192 fp32 input is
# already 805 MB, and the refusal names the bound instead of failing hours later (or at 2**62 px).
MAX_RESOLUTION = 8192
MAX_BATCH = 4096
MAX_THREADS = 1024
MAX_ROUNDS = 100
MAX_BUDGET_S = 3600.0
#: a suite is a few lines of TOML; anything larger is not one (and /dev/zero would never end)
MAX_SUITE_BYTES = 1 << 20

Spec = text(min_length=1, max_length=1000, one_line=True, strip=True, rule="a model spec")
Resolutions = items(whole(1, MAX_RESOLUTION), rule="a list of whole numbers of pixels")
BatchSizes = items(whole(1, MAX_BATCH), min_length=1, rule="a non-empty list of whole numbers")
Percent = number(ge=0)


def _names(value: Any) -> Any:
    # "eager,onnxruntime" reads as it does on the command line
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


Names = Annotated[
    items(text(min_length=1, one_line=True, strip=True), rule="a list of names"), BeforeValidator(_names)
]


class Tolerance(BaseModel):
    """Allowed relative change against a baseline, in percent (the suite's ``[tolerance]`` table).

    Counts are deterministic, so their default is 0 (any change fails). ``latency_pct`` applies to
    latency normalised by the suite's reference model, and only to slow-downs. Every value is a
    finite number >= 0: NaN would compare false with everything and pass any change.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    params_pct: Percent = 0.0
    macs_pct: Percent = 0.0
    activations_pct: Percent = 0.0
    latency_pct: Percent = 20.0

    def for_metric(self, metric: str) -> float:
        return {"params": self.params_pct, "macs": self.macs_pct, "activations": self.activations_pct,
                "latency_norm": self.latency_pct}[metric]  # fmt: skip


class ModelEntry(BaseModel):
    """One entry of ``models``: a spec string, or a table overriding the suite's sizes for that model."""

    model_config = ConfigDict(extra="forbid")

    spec: Spec
    resolutions: Resolutions | None = None
    batch_sizes: BatchSizes | None = None


def _entry(value: Any) -> Any:
    return {"spec": value} if isinstance(value, str) else value


Entry = Annotated[
    ModelEntry, described('a spec string or a table with spec = "..."'), BeforeValidator(_entry)
]


class SuiteFile(BaseModel):
    """The suite file format: every key a suite may set (None: not set, the Suite default applies)."""

    model_config = ConfigDict(extra="forbid")

    name: text(min_length=1, max_length=100, one_line=True, strip=True)
    description: text(max_length=10_000) | None = None
    models: items(Entry, min_length=1, rule="a non-empty list of models")
    reference: Spec
    resolutions: Resolutions | None = None
    batch_sizes: BatchSizes | None = None
    backends: Names | None = None
    counters: Names | None = None
    device: text(min_length=1, max_length=100, one_line=True, strip=True) | None = None
    threads: whole(1, MAX_THREADS) | None = None
    budget_s: number(ge=None, gt=0, le=MAX_BUDGET_S) | None = None
    rounds: whole(1, MAX_ROUNDS) | None = None
    tolerance: Tolerance | None = None
    #: lecture demonstrations added to the suite's HTML report (effprof roadmap, effprof claims)
    demos: Names | None = None


#: the demonstrations a suite's ``demos`` may name
DEMOS = ("roadmap", "claims")
SUITE_KEYS = tuple(SuiteFile.model_fields)
MODEL_KEYS = tuple(ModelEntry.model_fields)
TOLERANCE_KEYS = tuple(Tolerance.model_fields)


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
    #: timed suites time each model in this many slices, alternating with the reference's (budget_s in all)
    rounds: int = 10
    tolerance: Tolerance = field(default_factory=Tolerance)
    demos: tuple[str, ...] = ()

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
        doc["tolerance"] = self.tolerance.model_dump()
        if not self.demos:
            doc.pop("demos")  # a suite without demos records what it did before they existed
        return doc


def _checked(where: str, parse, value):
    # The shared parsers know the valid names; prefix their message with the file it came from.
    try:
        return parse(value)
    except EffprofError as exc:
        raise EffprofError(f"{where}: {exc.message}") from None


def _suite_kwargs(where: str, given: dict[str, Any]) -> dict[str, Any]:
    """Suite keyword arguments from the keys the file set (validated), parsing backend and counter names."""
    from effprof.api import parse_counters
    from effprof.latency import parse_backends

    kwargs: dict[str, Any] = {}
    for key in ("resolutions", "batch_sizes"):
        if given.get(key) is not None:
            kwargs[key] = tuple(given[key])
    if given.get("backends") is not None:
        names = tuple(given["backends"])
        kwargs["backends"] = (
            () if names in ((), ("none",)) else tuple(_checked(where, parse_backends, list(names)))
        )
    if given.get("counters") is not None:
        kwargs["counters"] = _checked(where, parse_counters, list(given["counters"])) or ("analytic",)
    if given.get("demos") is not None:
        unknown = [d for d in given["demos"] if d not in DEMOS]
        if unknown:
            raise EffprofError(f"{where}: demos: unknown demonstration {unknown[0]!r}; valid: {', '.join(DEMOS)}")
        kwargs["demos"] = tuple(dict.fromkeys(given["demos"]))
    for key in ("description", "device", "threads", "budget_s", "rounds", "tolerance"):
        if given.get(key) is not None:
            kwargs[key] = given[key]
    return kwargs


def parse_suite(doc: Any, where: str = "suite") -> Suite:
    """A validated Suite from a parsed TOML document; ``where`` (the file) prefixes every error."""
    prefix = f"suite {where}"
    if not isinstance(doc, dict) or not doc:
        raise EffprofError(
            f'{prefix}: is empty; a suite needs name = "...", models = [...] and reference = "..."'
        )
    try:
        parsed = SuiteFile.model_validate(doc)
    except ValidationError as exc:
        raise EffprofError(f"{prefix}: {describe_error(exc, SuiteFile)}") from None
    models = tuple(m.model_dump(exclude_none=True) for m in parsed.models)
    specs = [m["spec"] for m in models]  # already trimmed: " resnet18 " is resnet18
    dup = next((s for s in specs if specs.count(s) > 1), None)
    if dup is not None:
        first, second = [i for i, s in enumerate(specs) if s == dup][:2]
        raise EffprofError(
            f"{prefix}: models[{second}]: model {dup!r} is listed twice (also models[{first}], compared after "
            "trimming spaces); give one entry several resolutions instead"
        )
    if parsed.reference not in specs:
        raise EffprofError(
            f"{prefix}: reference must be one of the suite's models ({', '.join(specs)}), got {parsed.reference!r}; "
            "latency is compared as a ratio to it"
        )
    given = {k: getattr(parsed, k) for k in parsed.model_fields_set}
    return Suite(name=parsed.name, path=where, models=models, reference=parsed.reference,
                 **_suite_kwargs(prefix, given))  # fmt: skip


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
    """Read and validate a suite file; a missing, unreadable, non-TOML or invalid file is an EffprofError (exit 2)."""
    path = Path(path)
    tomllib = _toml()
    try:
        content = read_text(path, max_bytes=MAX_SUITE_BYTES)
    except FileNotFoundError:
        raise EffprofError(
            f"no suite file at {str(path)!r} (suites ship in benchmarks/: ci.toml, zoo.toml, lecture.toml)"
        ) from None
    except FileProblem as exc:
        raise EffprofError(
            f"suite {path}: {exc}; a suite is a UTF-8 TOML file like benchmarks/ci.toml"
        ) from None
    try:
        doc = check_depth(tomllib.loads(content))
    except tomllib.TOMLDecodeError as exc:
        raise EffprofError(f"suite {path}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays recursively
        raise EffprofError(f"suite {path}: nests too deeply to be a suite") from None
    except FileProblem as exc:
        raise EffprofError(f"suite {path}: {exc}") from None
    return parse_suite(doc, str(path))
