"""Where a benchmark's numbers came from: the fields of its JSON's ``meta`` that every script
writes alike (what ``vaebook.book.benchmark_caveat`` reads)."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def commit() -> str:
    """The short hash of the checked-out commit, or "unknown" outside git."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=HERE, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(script: str, argv, started: float, load: list[float], head: str) -> dict:
    """``command`` (the recipe: ``python benchmarks/<script>`` and its arguments, without
    ``--out`` and ``--cache``, which name this machine's folders), ``commit`` (``head``: take
    :func:`commit` when the run starts, as its code is imported then), ``date`` (UTC),
    ``machine``, ``load_average`` (as given: sampled at the start and the end) and ``minutes``
    since ``started`` (a ``time.time()``)."""
    given = list(argv if argv is not None else sys.argv[1:])
    for option in ("--out", "--cache"):
        while option in given and given.index(option) + 1 < len(given):
            at = given.index(option)
            del given[at:at + 2]
    return {"command": f"python benchmarks/{script} {shlex.join(given)}".strip(),
            "commit": head,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, "
                       f"{platform.platform()}",
            "load_average": load, "minutes": round((time.time() - started) / 60, 1)}
