"""``effprof claims``: measure the evidence for every lecture claim (effprof.lecture.claims_catalog) here.

Rule: every timed claim is a ratio of two latencies, and the two are always timed *together*, in
alternating slices (``latency.measure_paired``, the loop ``effprof bench`` uses), so a slow spell of a
shared machine hits both sides alike (effprof.lecture.paired: the ratio, its 95% interval, its
doubts); a contended side or a noisy ratio makes the verdict (effprof.lecture.claims) inconclusive. Counts come
from the analytic counter on the same modules. Layers are timed alone (batch 1, fresh seeded
weights); models are registry models at their own resolution.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torchvision.ops import SqueezeExcitation

from effprof.counters.analytic import count_analytic
from effprof.errors import EffprofError
from effprof.latency.contention import ThreadChoice
from effprof.lecture import claims_catalog as cat
from effprof.lecture import demo_render  # noqa: F401  (registers the rich rendering of ClaimsResult)
from effprof.lecture.claims import ClaimRow, ClaimsResult, Evidence
from effprof.lecture.paired import Target, time_paired
from effprof.models.build import build_model

# --- the layers of the mobile table and of the depthwise-separable claim ---------------------------------


def standard_conv(channels: int) -> nn.Module:
    """A standard 3x3 conv, channels -> channels, padding 1, no bias."""
    return nn.Conv2d(channels, channels, 3, padding=1, bias=False)


def separable_conv(channels: int) -> nn.Module:
    """Depthwise 3x3 (groups = channels) then pointwise 1x1, channels -> channels, no bias."""
    return nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
                         nn.Conv2d(channels, channels, 1, bias=False))  # fmt: skip


class MapAttention(nn.Module):
    """Global self-attention over the pixels of a feature map: every pixel a token of width C."""

    def __init__(self, channels: int, heads: int = 4) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        out, _ = self.attn(tokens, tokens, tokens, need_weights=False)
        return out.transpose(1, 2).reshape(b, c, h, w)


def without_se(model: nn.Module) -> nn.Module:
    """``model`` with every torchvision SqueezeExcitation replaced by nn.Identity (in place; returned)."""
    found = [name for name, m in model.named_modules() if isinstance(m, SqueezeExcitation)]
    if not found:
        raise EffprofError(f"{type(model).__name__} has no squeeze-and-excitation modules")
    for name in found:
        parent, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, attr, nn.Identity())
    return model


def _seeded(build: Callable[[], nn.Module]) -> nn.Module:
    """A module with a fixed random init, so the ONNX export cache hits across runs."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build()


# --- paired timing -> evidence ----------------------------------------------------------------------------


def paired_ratio(first: Target, second: Target, backend: str, options: dict[str, Any]) -> Evidence:
    """latency(first) / latency(second), timed together (effprof.lecture.paired), as evidence."""
    p = time_paired(first, second, backend, options)
    return Evidence(p.ratio, p.low, p.high, p.doubt, p.detail)


def _inverse(e: Evidence) -> Evidence:
    return Evidence(1 / e.value, 1 / e.high, 1 / e.low, e.doubt, " / ".join(reversed(e.detail.split(" / "))),
                    dict(e.context))  # fmt: skip


def _with(e: Evidence, **context: float) -> Evidence:
    return Evidence(e.value, e.low, e.high, e.doubt, e.detail, {**e.context, **context})


def _model(spec: str) -> tuple[Target, int, int]:
    """A registry model as a timing target (seeded, CPU), with its params and MACs."""
    built = build_model(spec, device="meta")
    counted = count_analytic(built.module, built.input_shape, name=spec)
    return (built.rebuild("cpu"), built.input_shape, spec), counted.params, counted.macs


def _layer(key: str, build: Callable[[], nn.Module], shape: tuple[int, ...]) -> tuple[Target, int]:
    module = _seeded(build)
    return (module, shape, f"effprof-claims:{key}"), count_analytic(module, shape, name=key).macs


# --- the groups: each returns {claim id: Evidence} for one backend ------------------------------------------


def _speedups(backend: str, options: dict[str, Any]) -> dict[str, Evidence]:
    ref, _, ref_macs = _model("resnet50")
    found = {}
    for claim in (c for c in cat.CLAIMS.values() if c.id.startswith("speedup_")):
        spec = claim.id.removeprefix("speedup_")
        target, _, macs = _model(spec)
        found[claim.id] = _with(paired_ratio(ref, target, backend, options), macs_ratio=ref_macs / macs)
    return found


def _efficientnet(backend: str, options: dict[str, Any]) -> dict[str, Evidence]:
    (ref, _, ref_macs), (target, _, macs) = _model("tv:resnet152"), _model("efficientnet_b1")
    return {"efficientnet_faster": _with(paired_ratio(ref, target, backend, options), macs_ratio=ref_macs / macs)}


def efficientnet_size() -> Evidence:
    """params(resnet152) / params(efficientnet_b1): a count."""
    _, ref_params, _ = _model("tv:resnet152")
    _, params, _ = _model("efficientnet_b1")
    return Evidence.counted(ref_params / params, f"{ref_params / 1e6:.1f} M / {params / 1e6:.2f} M params")


def _table(backend: str, options: dict[str, Any]) -> dict[str, Evidence]:
    c, side = cat.TABLE_CHANNELS, cat.TABLE_SIDE
    shape = (1, c, side, side)
    conv, conv_macs = _layer(f"conv3x3-{c}-{side}", lambda: standard_conv(c), shape)
    others = {
        "table_depthwise": (f"dw3x3-{c}-{side}", lambda: nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)),
        "table_attention": (f"attention-{c}-{side}", lambda: MapAttention(c)),
        "table_se": (f"se-{c}-{side}", lambda: SqueezeExcitation(c, c // 4)),
    }
    found: dict[str, Evidence] = {}
    rates: list[Evidence] = []
    for claim_id, (key, build) in others.items():
        target, macs = _layer(key, build, shape)
        share = macs / conv_macs
        e = _inverse(paired_ratio(conv, target, backend, options))  # latency(op) / latency(conv)
        found[claim_id] = _with(e, macs_share=share, per_mac=e.value / share)
        # GMAC/s of the op relative to the conv's = MACs share / time share
        rates.append(Evidence(share / e.value, share / e.high, share / e.low, e.doubt, key))
    se = found["table_se"]
    found["table_se_per_mac"] = _with(Evidence(se.value / se.context["macs_share"], se.low / se.context["macs_share"],
                                               se.high / se.context["macs_share"], se.doubt, se.detail), **se.context)  # fmt: skip
    best = max(rates, key=lambda r: r.value)
    found["table_conv"] = Evidence(best.value, max(r.low for r in rates), max(r.high for r in rates),
                                   ", ".join(dict.fromkeys(r.doubt for r in rates if r.doubt)),
                                   f"next-best: {best.detail}")  # fmt: skip
    return found


def _separable(backend: str, options: dict[str, Any]) -> dict[str, Evidence]:
    found = {}
    for c, side in cat.SEPARABLE_SHAPES:
        shape = (1, c, side, side)
        std, std_macs = _layer(f"conv3x3-{c}-{side}", lambda c=c: standard_conv(c), shape)
        sep, sep_macs = _layer(f"separable-{c}-{side}", lambda c=c: separable_conv(c), shape)
        found[f"separable_{c}_{side}"] = _with(paired_ratio(std, sep, backend, options), macs_ratio=std_macs / sep_macs)
    return found


def _se(backend: str, options: dict[str, Any]) -> dict[str, Evidence]:
    found = {}
    for spec in cat.SE_MODELS:
        (with_se, shape, _), _, macs = _model(spec)
        plain = without_se(build_model(spec, device="meta").rebuild("cpu"))
        plain_macs = count_analytic(plain, shape, name=spec).macs
        e = _inverse(paired_ratio((plain, shape, f"{spec}-without-se"), (with_se, shape, spec), backend, options))
        found[f"se_overhead_{spec}"] = _with(e, macs_share=(macs - plain_macs) / macs)
    return found


COUNTED_RUNS: dict[str, Callable[[], Evidence]] = {"efficientnet_smaller": efficientnet_size}
GROUP_RUNS: dict[str, Callable[[str, dict[str, Any]], dict[str, Evidence]]] = {
    "speed-ups over ResNet-50": _speedups,
    "EfficientNet vs ResNet": _efficientnet,
    "mobile table": _table,
    "depthwise separable": _separable,
    "squeeze-and-excitation": _se,
}


def check_groups(groups: Sequence[str] | None) -> list[str]:
    """The claim groups to run (all when None or empty); an unknown one lists the valid ones."""
    if not groups:
        return list(cat.GROUPS)
    unknown = [g for g in groups if g not in cat.GROUPS]
    if unknown:
        raise EffprofError(f"unknown claim group {unknown[0]!r}; valid groups: {', '.join(cat.GROUPS)}")
    return list(dict.fromkeys(groups))


def run_claims(
    backends: Sequence[str],
    *,
    groups: Sequence[str] | None = None,
    device: str = "cpu",
    threads: int | ThreadChoice | None = None,
    budget_s: float | None = None,
    meta: dict[str, Any] | None = None,
    on_start: Callable[[str, str], None] | None = None,
    on_done: Callable[[str, str], None] | None = None,
) -> ClaimsResult:
    """Judge every claim of ``groups`` on every backend; a group that fails on a backend makes its rows errors.

    ``backends`` empty: only the counted claims. ``on_start(group, backend)`` and ``on_done(group, backend)``
    bracket each timed group (progress). Ctrl-C keeps the rows already judged (``interrupted``).
    """
    chosen = check_groups(groups)
    options: dict[str, Any] = {"device": device, "threads": threads}
    if budget_s is not None:
        options["budget_s"] = budget_s
    result = ClaimsResult([], dict(meta or {}), tuple(backends))
    claims = [c for c in cat.CLAIMS.values() if c.group in chosen]
    try:
        for claim in (c for c in claims if c.counted_only):
            result.rows.append(ClaimRow(claim, None, COUNTED_RUNS[claim.id]()))
        for group in chosen:
            timed = [c for c in claims if c.group == group and not c.counted_only]
            for backend in backends if timed else ():
                if on_start is not None:
                    on_start(group, backend)
                try:
                    evidence = GROUP_RUNS[group](backend, options)
                    result.rows += [ClaimRow(c, backend, evidence[c.id]) for c in timed]
                except EffprofError as exc:
                    result.rows += [ClaimRow(c, backend, error=exc.message) for c in timed]
                if on_done is not None:
                    on_done(group, backend)
    except KeyboardInterrupt:
        result.interrupted = True
    order = {c.id: i for i, c in enumerate(cat.CLAIMS.values())}
    result.rows.sort(key=lambda r: (order[r.claim.id], r.backend or ""))
    return result
