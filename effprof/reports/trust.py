"""What the terminal says under a table about how far its latencies can be trusted.

Rule: every warning stored on a measurement (contention, spread, thread clamp or reduction,
per-layer profiling under load) is printed, one line each, labelled with its model and backend;
the thread count a run used is printed with the reason the policy gave. Nothing is only in JSON.
Text objects throughout: a label is user text and is never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.text import Text

if TYPE_CHECKING:
    from effprof.results import ModelProfile


#: what a warning's text says, and the short tag the table's "doubt" column shows for it
_TAGS = (("spread too large", "noisy"), ("outliers", "outliers"), ("clamped", "threads clamped"),
         ("timed on", "fewer threads"), ("timed blocks", "few runs"))  # fmt: skip


def row_doubt(row: dict[str, Any]) -> str:
    """Short tags for a latency row's doubts ('contended 74%, noisy'); '' when there are none."""
    tags = [f"contended {row['contended']:.0%}"] if isinstance(row.get("contended"), float) else []
    text = str(row.get("warnings") or "")
    tags += [tag for needle, tag in _TAGS if needle in text]
    return ", ".join(tags)


def profile_warnings(profiles: Iterable[ModelProfile]) -> list[tuple[str, str]]:
    """(label, warning) for every warning on every measurement and per-layer timing, in run order."""
    found: list[tuple[str, str]] = []
    for p in profiles:
        for m in p.measurements:
            found += [(f"{p.model} ({m.backend})", w) for w in m.warnings]
        if p.layer_times is not None:
            found += [(f"{p.model} ({p.layer_times.backend}, per layer)", w) for w in p.layer_times.warnings]
    return found


def threads_line(meta: dict[str, Any]) -> Text | None:
    """'threads: 1 (2 usable cores - 1 busy with other processes)' from a timed run's meta."""
    reason = meta.get("threads_reason")
    if not reason:
        return None
    return Text(f"threads: {meta.get('threads')} ({reason})", style="dim")


def warning_lines(warnings: Iterable[tuple[str, str]]) -> list[Text]:
    """One yellow line per distinct warning, naming the rows it is on ('every row' for a run-wide one)."""
    warnings = list(warnings)
    labels = list(dict.fromkeys(label for label, _ in warnings))
    by_message: dict[str, list[str]] = {}
    for label, message in warnings:
        by_message.setdefault(message, []).append(label)
    lines = []
    for message, on in by_message.items():
        where = "every row" if len(on) > 1 and len(on) == len(labels) else ", ".join(dict.fromkeys(on))
        lines.append(Text.assemble(("warning: ", "yellow bold"), (f"{where}: {message}", "yellow")))
    return lines


def trust_lines(profiles: Iterable[ModelProfile], meta: dict[str, Any]) -> list[Text]:
    """The lines printed under a profile or compare table: threads and why, then every warning."""
    profiles = list(profiles)
    head = threads_line(meta) if any(p.measurements for p in profiles) else None
    return [*([head] if head else []), *warning_lines(profile_warnings(profiles))]
