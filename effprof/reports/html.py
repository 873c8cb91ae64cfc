"""A self-contained HTML page for a table: no scripts, no network assets."""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
pre { background: #f7f7f7; padding: 1em; font-size: 0.8em; }
"""


def to_html(df: pd.DataFrame, meta: dict[str, Any], title: str = "effprof report") -> str:
    table = df.to_html(index=False, na_rep="", border=0, classes="effprof")
    meta_text = html.escape(json.dumps(meta, indent=2, default=str))
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n{table}\n"
        f"<h2>Run</h2>\n<pre>{meta_text}</pre>\n</body></html>\n"
    )
