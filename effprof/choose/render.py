"""Rich rendering of ``effprof pareto`` and ``effprof search``: the ranked table, the choice, the doubts.

Rule: every latency is shown with its doubt (contention, spread) and every accuracy with its source
(numbered under the table); a row without a published accuracy says so; predicted and measured
latencies are never in the same column.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from effprof.reports.render import add_row
from effprof.reports.trust import threads_line, warning_lines

if TYPE_CHECKING:
    from effprof.choose.result import ParetoResult, PhoneComparison, SearchResult


def _num(value: float | None, fmt: str = ".3g") -> str:
    return "" if value is None else format(value, fmt)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def _flag(value: bool | None, yes: str = "●", no: str = "") -> str:
    return "" if value is None else yes if value else no


#: torchvision's metadata is one source; which weights is in each row's ``accuracy_source`` (the -o files)
TORCHVISION_TAG = "tv"


def _sources(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each accuracy source's tag: 'tv' for torchvision's weights metadata, else a number in order of appearance."""
    found: dict[str, str] = {}
    for r in rows:
        src = r["accuracy_source"]
        if r["top1_pct"] is None or src in found:
            continue
        typed = [v for v in found.values() if v != TORCHVISION_TAG]
        found[src] = TORCHVISION_TAG if src.startswith("torchvision ") else str(len(typed) + 1)
    return found


def _source_lines(sources: dict[str, str]) -> list[Text]:
    lines = []
    if TORCHVISION_TAG in sources.values():
        lines.append(Text(f"[{TORCHVISION_TAG}] torchvision weights metadata, Weights.meta['_metrics'] (ImageNet-1K): the "
                          "best weights at that crop; which weights is in each row's accuracy_source (-o files)", style="dim"))  # fmt: skip
    seen = set()
    for s, tag in sources.items():
        if tag != TORCHVISION_TAG and tag not in seen:
            seen.add(tag)
            lines.append(Text(f"[{tag}] {s}", style="dim"))
    return lines


def _accuracy_cells(r: dict[str, Any], sources: dict[str, str]) -> tuple[str | Text, str, str]:
    if r["top1_pct"] is None:
        return Text("none published", style="dim"), "", ""
    return f"{r['top1_pct']:.1f}", _num(r["top5_pct"], ".1f"), sources[r["accuracy_source"]]


def _measurement_warnings(result) -> list[Text]:
    found = []
    for c in result.choices:
        m = c.measurement
        if m is not None:
            found += [(f"{c.candidate.label} ({m.backend})", w) for w in m.warnings]
    return warning_lines(found)


def _row_line(what: str, r: dict[str, Any] | None, *, why: str = "") -> Text:
    if r is None:
        return Text.assemble((f"{what}: ", "bold"), (why or "none", "yellow"))
    doubt = f" ({r['doubt']})" if r.get("doubt") else ""
    return Text.assemble((f"{what}: ", "bold"), (r["model"], "bold green"),
                         f" — {r['top1_pct']:.1f}% top-1, {r['latency_ms']:.3g} ms measured{doubt}")  # fmt: skip


def render_pareto(result: ParetoResult) -> Group:
    rows = result.rows()
    meta = result.meta
    backend = (meta.get("backends") or ["?"])[0]
    T = result.target_ms
    title = f"effprof pareto: ImageNet top-1 vs measured latency ({backend}, {meta.get('device')}, {meta.get('threads')} threads)"
    table = Table(title=title, title_justify="left")
    cols = ["#", "model", "top-1 %", "top-5 %", "src", "latency ms", "IQR ms", "GMACs", "params M", "front"]
    if T is not None:
        cols += [f"≤{T:g} ms", "reward soft", "reward hard"]
    cols += ["doubt"]
    for col in cols:
        table.add_column(col, justify="left" if col in ("model", "doubt") else "right", no_wrap=col != "doubt")
    sources = _sources(rows)
    untimed = [r for r in rows if r["latency_ms"] is None and not r["error"]]
    for r in rows:
        if r in untimed:
            continue
        top1, top5, src = _accuracy_cells(r, sources)
        if r["error"]:
            add_row(table, "", r["model"], top1, top5, src, Text(f"error: {r['error']}", style="red"),
                    *[""] * (len(cols) - 6))  # fmt: skip
            continue
        cells = [str(r["rank"] or ""), r["model"], top1, top5, src, _ms(r["latency_ms"]), _ms(r["latency_iqr_ms"]),
                 _num(r["macs"] / 1e9 if r["macs"] else None), _num(r["params"] / 1e6 if r["params"] else None),
                 _flag(r["on_front"])]  # fmt: skip
        if T is not None:
            cells += [_flag(r["under_target"], "✓", "✗"), _num(r["reward_soft"], ".2f"), _num(r["reward_hard"], ".2f")]
        cells += [Text(r["doubt"] or "", style="yellow")]
        add_row(table, *cells)
    parts: list[Any] = [table, *_source_lines(sources)]
    parts.append(Text(
        "front ● = no other model is both faster and more accurate. "
        + (f"reward = top-1 x (latency / {T:g} ms)^w: soft w = {result.w:g}, hard w = 0 within the target and -1 over "
           f"(MnasNet, Tan et al. 2019); ranked by the {result.rank_by} reward." if T is not None else
           "Give --target-ms T to rank by MnasNet's reward."), style="dim"))  # fmt: skip
    measured = [r for r in rows if r["rank"] is not None]
    parts.append(Text(f"{len(measured)} of {len(rows)} candidates measured with a published accuracy; "
                      f"{sum(bool(r['on_front']) for r in measured)} on the front", style="dim"))  # fmt: skip
    by_reason: dict[str, list[str]] = {}
    for r in untimed:
        reason = (r["note"] or "not timed").split("; ")[-1]
        reason = re.sub(r"^not timed: [\d.]+ GMACs is over", "over", reason)
        by_reason.setdefault(reason, []).append(r["model"])
    for reason, models in by_reason.items():
        parts.append(Text(f"not timed, {reason}: {len(models)} ({', '.join(models)})", style="dim"))
    if T is not None:
        parts.append(_row_line(f"chosen ({result.rank_by} reward, T = {T:g} ms)", result.chosen()))
        parts.append(_row_line(f"most accurate within {T:g} ms", result.best_under_target(),
                               why=f"no measured model is within {T:g} ms"))  # fmt: skip
    phone = result.phone()
    if phone is not None:
        parts += render_phone(phone, "latency_ms", "measured here")
    parts += _tail(result, meta)
    return Group(*parts)


def _tail(result, meta) -> list[Any]:
    tail: list[Any] = []
    head = threads_line(meta)
    if head is not None:
        tail.append(head)
    tail += _measurement_warnings(result)
    if result.interrupted:
        tail.append(Text("interrupted: only the rows measured above are in the ranking", style="yellow"))
    return tail


def render_phone(phone: PhoneComparison, key: str, what: str) -> list[Any]:
    """This device beside the Pixel 1 (TF-slim tables): both ranks, both fronts, Spearman's rho."""
    table = Table(title=f"device vs phone: {what} vs published Pixel 1 latency (TF-Lite, float)", title_justify="left")
    for col in ("model", "top-1 %", f"{what} ms", "rank here", "Pixel 1 ms", "rank Pixel 1", "front here", "front Pixel 1"):
        table.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    for r in phone.rows:
        add_row(table, r["model"], f"{r['top1_pct']:.1f}", _ms(r[key]), str(r["rank_here"]), _ms(r["pixel1_ms"]),
                str(r["rank_pixel1"]), _flag(r["front_here"]), _flag(r["front_pixel1"]))  # fmt: skip
    rho = "n/a (under 3 rows)" if phone.spearman is None else f"{phone.spearman:+.2f}"
    lines: list[Any] = [table, Text(f"Spearman rank correlation, {what} vs Pixel 1: {rho}", style="bold")]
    if phone.device_choice is not None:
        same = phone.phone_choice == phone.device_choice
        lines.append(Text(
            f"the choice here ({phone.device_choice}) is {'also' if same else 'not'} the phone's: given its Pixel 1 time "
            f"({phone.phone_budget_ms:g} ms) the phone's most accurate model is {phone.phone_choice}",
            style="green" if same else "yellow"))  # fmt: skip
    return lines


def render_search(result: SearchResult) -> Group:
    rows = sorted(result.rows(), key=lambda r: (r["predicted_ms"] is None, r["predicted_ms"] or 0.0))
    meta = result.meta
    backend = (meta.get("backends") or ["?"])[0]
    T = result.target_ms
    table = Table(title=f"effprof search: {result.family}, target {T:g} ms ({backend}, {meta.get('device')}, "
                        f"{meta.get('threads')} threads)", title_justify="left")  # fmt: skip
    cols = ("model", "top-1 %", "src", "GMACs", "vs table MACs", "predicted ms", "measured ms", "pred err",
            f"≤{T:g} ms", "front", "reward soft", "doubt")  # fmt: skip
    for col in cols:
        table.add_column(col, justify="left" if col in ("model", "doubt") else "right", no_wrap=col != "doubt")
    sources = _sources(rows)
    for r in rows:
        top1, _, src = _accuracy_cells(r, sources)
        vs_table = (f"{(r['macs'] - r['published_macs']) / r['published_macs']:+.1%}"
                    if r["macs"] and r["published_macs"] else "")  # fmt: skip
        err = (f"{(r['predicted_ms'] - r['latency_ms']) / r['latency_ms']:+.0%}"
               if r["predicted_ms"] and r["latency_ms"] else "")  # fmt: skip
        measured: str | Text = _ms(r["latency_ms"])
        if r["error"]:
            measured = Text(f"error: {r['error']}", style="red")
        add_row(table, r["model"], top1, src, _num(r["macs"] / 1e9 if r["macs"] else None, ".3f"), vs_table,
                _ms(r["predicted_ms"]), measured, err, _flag(r["under_target"], "✓", "✗"), _flag(r["on_front"]),
                _num(r["reward_soft"], ".2f"), Text(r["doubt"] or "", style="yellow"))  # fmt: skip
    parts: list[Any] = [table, *_source_lines(sources)]
    parts.append(Text(f"predictor: {result.predictor}. pred err = (predicted - measured) / measured. "
                      "vs table MACs = effprof's count against the published table's.", style="dim"))  # fmt: skip
    parts.append(_row_line(f"answer (measured, most accurate within {T:g} ms)", result.answer(),
                           why=f"no measured configuration is within {T:g} ms"))  # fmt: skip
    predicted = result.predicted_answer()
    answer = result.answer()
    if predicted is not None:
        same = answer is not None and predicted["model"] == answer["model"]
        measured = (f", measured {predicted['latency_ms']:.3g} ms" if predicted["latency_ms"] is not None
                    else ", not measured")  # fmt: skip
        verdict = ": the same answer" if same else ": a different answer" if answer is not None else ""
        parts.append(Text(f"the predictor alone would have chosen {predicted['model']} (predicted "
                          f"{predicted['predicted_ms']:.3g} ms{measured}){verdict}", style="green" if same else "yellow"))  # fmt: skip
    rho = result.rank_correlation()
    if rho is not None:
        parts.append(Text(f"Spearman rank correlation, predicted vs measured (shortlist): {rho:+.2f}"))
    if result.scale is not None:
        parts.append(Text(f"measured / predicted, median over the shortlist: {result.scale:.2f}"))
    misranked, noise = result.misranked(), result.swapped_within_noise()
    if misranked:
        parts.append(Text("predictor misranked (measured gap over the timings' IQR): " + "; ".join(
            f"{a} predicted faster than {b}, measured slower" for a, b in misranked), style="yellow"))  # fmt: skip
    if noise:
        parts.append(Text(f"{len(noise)} more pair(s) swapped within the timings' spread (IQR), not counted as misranked: "
                          + "; ".join(f"{a} / {b}" for a, b in noise), style="dim"))  # fmt: skip
    if not misranked and not noise and len(result.measured()) >= 2:
        parts.append(Text("the predictor ordered every measured pair as measured", style="green"))
    contended = [r for r in result.measured() if r["contended"]]
    if contended:
        parts.append(Text(f"{len(contended)} of {len(result.measured())} measurements were taken while other processes used "
                          "the CPU: their order may reflect the load, not the models; re-run on a quiet machine",
                          style="yellow"))  # fmt: skip
    for model, how in result.wrong_side():
        parts.append(Text(f"{model}: {how}", style="yellow"))
    for note in result.notes:
        parts.append(Text(f"note: {note}", style="dim"))
    phone = result.phone()
    if phone is not None:
        parts += render_phone(phone, "latency_ms", "measured here")
    all_phone = result.phone_predicted()
    if all_phone is not None and all_phone.spearman is not None:
        parts.append(Text(f"Spearman rank correlation over the whole grid, predicted here vs Pixel 1: "
                          f"{all_phone.spearman:+.2f} ({len(all_phone.rows)} configurations)"))  # fmt: skip
    parts += _tail(result, meta)
    return Group(*parts)
