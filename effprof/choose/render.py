"""Rich rendering of ``effprof pareto`` and ``effprof search``: the ranked table, the choice, the doubts.

Rule: every latency is shown with its doubt (contention, spread) and every accuracy with its source
(tagged, the tags listed under the table); a row without a published accuracy says so; predicted and
measured latencies are never in the same column. Each table fits the width it is given
(effprof.reports.table): the columns that decide the choice stay, every number whole, the ones left
out named under it (``wide`` shows them all); a failed row says ``error`` in its latency cell and its
message goes under the table. Registered with ``effprof.results.renders``, so ``cli.common.show`` and a
notebook print these.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Group
from rich.text import Text

from effprof.choose.result import ParetoResult, PhoneComparison, SearchResult, timed_on
from effprof.reports.fmt import missing
from effprof.reports.fmt import ms as _ms
from effprof.reports.table import ERROR_MARK, Column, error_lines, fit_table, hidden_note
from effprof.reports.trust import threads_line, warning_lines
from effprof.results import renders


def _num(value: float | None, fmt: str = ".3g") -> str:
    return "" if missing(value) else format(value, fmt)


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


def _top1(r: dict[str, Any]) -> str | Text:
    return Text("none", style="dim") if r["top1_pct"] is None else f"{r['top1_pct']:.1f}"


def _unpublished_line(rows: list[dict[str, Any]]) -> list[Text]:
    """What a top-1 of 'none' means, under a table that has one."""
    if all(r["top1_pct"] is not None for r in rows):
        return []
    return [Text("top-1 none: no published ImageNet-1K accuracy for that configuration at that resolution "
                 "(why: accuracy_source in the -o files); shown, never ranked", style="dim")]  # fmt: skip


def _latency(r: dict[str, Any], key: str = "latency_ms") -> str | Text:
    """The measured latency, or ``error`` when the row failed (its message is under the table)."""
    return ERROR_MARK if r["error"] else _ms(r[key])


def _doubt(r: dict[str, Any]) -> Text:
    return Text(r["doubt"] or "", style="yellow")


def _errors(rows: list[dict[str, Any]]) -> list[Text]:
    return error_lines([(r["model"], r["error"]) for r in rows if r["error"]])


def _measurement_warnings(result: ParetoResult | SearchResult) -> list[Text]:
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
                         f" — {r['top1_pct']:.1f}% top-1, {_ms(r['latency_ms'])} ms measured{doubt}")  # fmt: skip


def _pareto_columns(result: ParetoResult, sources: dict[str, str]) -> list[Column]:
    """Rank, model, top-1 and the latency always; the reward it ranks by next; the rest as the width allows."""
    T = result.target_ms
    columns = [
        *([Column("#", lambda r: str(r["rank"] or ""))] if result.timed else []),  # count only: nothing is ranked
        Column("model", lambda r: r["model"], "left", text=True),
        Column("top-1 %", _top1),
        Column("top-5 %", lambda r: _num(r["top5_pct"], ".1f"), drop=6),
        Column("src", lambda r: sources.get(r["accuracy_source"], "") if r["top1_pct"] is not None else "", drop=3),
    ]
    if result.timed:
        columns += [Column("latency ms", _latency), Column("IQR ms", lambda r: _ms(r["latency_iqr_ms"]), drop=5)]
    columns += [
        Column("GMACs", lambda r: _num(r["macs"] / 1e9 if r["macs"] else None), drop=4 if result.timed else 0),
        Column("params M", lambda r: _num(r["params"] / 1e6 if r["params"] else None), drop=5),
    ]
    if not result.timed:  # count only: the phone's published time is the only latency there is
        columns.append(Column("Pixel 1 ms", lambda r: _ms(r["pixel1_ms"]), drop=2))
        return columns
    columns.append(Column("front", lambda r: _flag(r["on_front"]), drop=1))
    if T is not None:  # the reward it ranks by always stays
        soft, hard = (0, 3) if result.rank_by == "soft" else (3, 0)
        columns += [Column(f"≤{T:g} ms", lambda r: _flag(r["under_target"], "✓", "✗"), drop=2),
                    Column("reward soft", lambda r: _num(r["reward_soft"], ".2f"), drop=soft),
                    Column("reward hard", lambda r: _num(r["reward_hard"], ".2f"), drop=hard)]  # fmt: skip
    columns.append(Column("doubt", _doubt, "left", drop=3, text=True))
    return columns


@renders(ParetoResult)
def render_pareto(result: ParetoResult, *, width: int | None = None, wide: bool = False) -> Group:
    """The ranked table (the untimed rows of a timed run in one line each reason), sources, the choice, the phone."""
    rows = result.rows()
    T = result.target_ms
    title = f"effprof pareto: ImageNet top-1 vs measured latency ({timed_on(result.meta)})"
    if not result.timed:
        title = "effprof pareto: ImageNet top-1 and MACs (nothing timed: --backend none)"
    sources = _sources(rows)
    untimed = [r for r in rows if r["latency_ms"] is None and not r["error"]] if result.timed else []
    shown = [r for r in rows if r not in untimed]
    fitted = fit_table(title, _pareto_columns(result, sources), shown, width=width, wide=wide)
    parts: list[Any] = [fitted.table, *_errors(shown), *_source_lines(sources), *_unpublished_line(shown)]
    if not result.timed:
        parts.append(Text("nothing was timed (--backend none): no measured latency, so no Pareto front, reward or "
                          "rank; run with --backend eager (or onnxruntime, compile) to choose.", style="dim"))  # fmt: skip
    else:
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
    parts += [n for n in [hidden_note(fitted.hidden, width)] if n]
    if T is not None and result.timed:
        parts.append(_row_line(f"chosen ({result.rank_by} reward, T = {T:g} ms)", result.chosen()))
        parts.append(_row_line(f"most accurate within {T:g} ms", result.best_under_target(),
                               why=f"no measured model is within {T:g} ms"))  # fmt: skip
    phone = result.phone()
    if phone is not None:
        parts += render_phone(phone, "latency_ms", "measured here", width=width, wide=wide)
    parts += _tail(result)
    return Group(*parts)


def _tail(result: ParetoResult | SearchResult) -> list[Any]:
    tail: list[Any] = []
    head = threads_line(result.meta)
    if head is not None:
        tail.append(head)
    tail += _measurement_warnings(result)
    if result.interrupted:
        tail.append(Text("interrupted: only the rows measured above are in the ranking", style="yellow"))
    return tail


def render_phone(phone: PhoneComparison, key: str, what: str, *, width: int | None = None,
                 wide: bool = False) -> list[Any]:  # fmt: skip
    """This device beside the Pixel 1 (TF-slim tables): both ranks, both fronts, Spearman's rho."""
    columns = [
        Column("model", lambda r: r["model"], "left", text=True),
        Column("top-1 %", lambda r: f"{r['top1_pct']:.1f}", drop=2),  # also in the table above
        Column("here ms", lambda r: _ms(r[key])),
        Column("rank here", lambda r: str(r["rank_here"])),
        Column("Pixel 1 ms", lambda r: _ms(r["pixel1_ms"])),
        Column("rank Pixel 1", lambda r: str(r["rank_pixel1"])),
        Column("front here", lambda r: _flag(r["front_here"]), drop=1),
        Column("front Pixel 1", lambda r: _flag(r["front_pixel1"]), drop=1),
    ]
    title = f"device vs phone: {what} vs published Pixel 1 latency (TF-Lite, float)"
    fitted = fit_table(title, columns, phone.rows, width=width, wide=wide)
    rho = "n/a (under 3 rows)" if phone.spearman is None else f"{phone.spearman:+.2f}"
    lines: list[Any] = [fitted.table, Text(f"Spearman rank correlation, {what} vs Pixel 1: {rho}", style="bold")]
    if phone.device_choice is not None:
        same = phone.phone_choice == phone.device_choice
        lines.append(Text(
            f"the choice here ({phone.device_choice}) is {'also' if same else 'not'} the phone's: given its Pixel 1 time "
            f"({phone.phone_budget_ms:g} ms) the phone's most accurate model is {phone.phone_choice}",
            style="green" if same else "yellow"))  # fmt: skip
    return [*lines, *[n for n in [hidden_note(fitted.hidden, width)] if n]]


def _search_columns(result: SearchResult, sources: dict[str, str]) -> list[Column]:
    """Model, top-1, predicted and measured latency always; the target check and the rest as the width allows."""
    T = result.target_ms

    def vs_table(r):
        return (f"{(r['macs'] - r['published_macs']) / r['published_macs']:+.1%}"
                if r["macs"] and r["published_macs"] else "")  # fmt: skip

    def err(r):
        return f"{(r['predicted_ms'] - r['latency_ms']) / r['latency_ms']:+.0%}" if r["predicted_ms"] and r["latency_ms"] else ""

    columns = [
        Column("model", lambda r: r["model"], "left", text=True),
        Column("top-1 %", _top1),
        Column("src", lambda r: sources.get(r["accuracy_source"], "") if r["top1_pct"] is not None else "", drop=4),
        Column("GMACs", lambda r: _num(r["macs"] / 1e9 if r["macs"] else None, ".3f"), drop=3),
        Column("vs table MACs", vs_table, drop=6),
        Column("predicted ms", lambda r: _ms(r["predicted_ms"])),
    ]
    if result.timed:
        columns += [Column("measured ms", _latency), Column("pred err", err, drop=2),
                    Column(f"≤{T:g} ms", lambda r: _flag(r["under_target"], "✓", "✗"), drop=1),
                    Column("front", lambda r: _flag(r["on_front"]), drop=5),
                    Column("reward soft", lambda r: _num(r["reward_soft"], ".2f"), drop=5),
                    Column("doubt", _doubt, "left", drop=4, text=True)]  # fmt: skip
    return columns


@renders(SearchResult)
def render_search(result: SearchResult, *, width: int | None = None, wide: bool = False) -> Group:
    """The grid by predicted latency, the measured answer beside the predictor's, how well it ranked, the phone."""
    rows = sorted(result.rows(), key=lambda r: (r["predicted_ms"] is None, r["predicted_ms"] or 0.0))
    T = result.target_ms
    title = f"effprof search: {result.family}, target {T:g} ms ({timed_on(result.meta)})"
    sources = _sources(rows)
    fitted = fit_table(title, _search_columns(result, sources), rows, width=width, wide=wide)
    parts: list[Any] = [fitted.table, *_errors(rows), *_source_lines(sources), *_unpublished_line(rows)]
    parts.append(Text(f"predictor: {result.predictor}. "
                      + ("pred err = (predicted - measured) / measured. " if result.timed else "")
                      + "vs table MACs = effprof's count against the published table's.", style="dim"))  # fmt: skip
    parts += [n for n in [hidden_note(fitted.hidden, width)] if n]
    answer, predicted = result.answer(), result.predicted_answer()
    if result.timed:
        parts.append(_row_line(f"answer (measured, most accurate within {T:g} ms)", answer,
                               why=f"no measured configuration is within {T:g} ms"))  # fmt: skip
    else:
        parts.append(Text.assemble(("answer: ", "bold"), ("none measured (--backend none): ", "yellow"),
                                   "the line below is the predictor's choice, not a measurement"))  # fmt: skip
    if predicted is not None:
        same = answer is not None and predicted["model"] == answer["model"]
        measured = (f", measured {_ms(predicted['latency_ms'])} ms" if predicted["latency_ms"] is not None
                    else ", not measured")  # fmt: skip
        verdict = ": the same answer" if same else ": a different answer" if answer is not None else ""
        parts.append(Text(f"the predictor alone would have chosen {predicted['model']} (predicted "
                          f"{_ms(predicted['predicted_ms'])} ms{measured}){verdict}", style="green" if same else "yellow"))  # fmt: skip
    parts += _predictor_lines(result)
    phone = result.phone()
    if phone is not None:
        parts += render_phone(phone, "latency_ms", "measured here", width=width, wide=wide)
    all_phone = result.phone_predicted()
    if all_phone is not None and all_phone.spearman is not None:
        parts.append(Text(f"Spearman rank correlation over the whole grid, predicted here vs Pixel 1: "
                          f"{all_phone.spearman:+.2f} ({len(all_phone.rows)} configurations)"))  # fmt: skip
    parts += _tail(result)
    return Group(*parts)


def _predictor_lines(result: SearchResult) -> list[Text]:
    """How the predictor did on the shortlist: rank correlation, scale, misranked pairs, the wrong side of T, notes."""
    parts = []
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
    return parts
