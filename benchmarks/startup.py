"""How long effprof takes to start, against importing torch, in one run: ``python benchmarks/startup.py``.

Times (wall clock, fresh process each) ``effprof --help``, ``effprof list`` and ``python -c "import
torch"``, several repeats each, interleaved so a slow spell of a shared machine hits all of them
alike; prints the median, the spread and each one's ratio to importing torch. The goal (issue 12):
``--help`` and ``list`` under 0.5 s. The machine's load average is printed with them: on a busy
2-core machine every figure reads slow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    "effprof --help": [sys.executable, "-m", "effprof", "--help"],
    "effprof list": [sys.executable, "-m", "effprof", "list"],
    'python -c "import torch"': [sys.executable, "-c", "import torch"],
}


def wall_s(argv: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args()
    for argv in COMMANDS.values():  # warm the file cache once: the first start reads every .pyc from disk
        wall_s(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):
        for name, argv in COMMANDS.items():
            times[name].append(wall_s(argv))
    torch_s = statistics.median(times['python -c "import torch"'])
    table = Table(title=f"startup, median of {args.repeats} (load average {os.getloadavg()[0]:.2f}, "
                  f"{os.cpu_count()} cores)", title_justify="left")  # fmt: skip
    for col in ("command", "median s", "min s", "max s", "× import torch", "< 0.5 s"):
        table.add_column(col, justify="left" if col == "command" else "right", no_wrap=True)
    for name, values in times.items():
        median = statistics.median(values)
        goal = ("met" if median < 0.5 else "missed") if name.startswith("effprof") else ""
        table.add_row(name, f"{median:.3f}", f"{min(values):.3f}", f"{max(values):.3f}", f"{median / torch_s:.2f}", goal)
    console = Console()
    console.print(table, width=max(console.width, 110))  # never cut a figure short on a narrow or piped console


if __name__ == "__main__":
    main()
