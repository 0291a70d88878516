#!/usr/bin/env python3
"""Build the book and fail, naming the notebook and the cell, when any chapter did not run through.

    python tools/build_book.py [--log FILE] -- JUPYTER_BOOK_ARGS...

Runs ``jupyter-book JUPYTER_BOOK_ARGS`` (for example ``build . --builder html``), shows its output
as it comes and keeps it in ``--log``. Jupyter Book 1.x exits 0 when a notebook stops at a failed
cell: it warns "Executing notebook failed", skips the rest of that notebook, and every number the
skipped cells would have glued is missing from the prose ("No key ... found in glue data"). Such a
book must never be published, so this exits 1 when

- jupyter-book itself failed (its own exit status);
- a notebook's execution failed: each one is named with the cell that raised and its error, from
  the traceback MyST-NB saves under ``<build>/html/reports/``;
- a glued value is missing from a page, or a glued figure;

and 0 only for a book in which every cell ran and every glued value is in place. ``make book``,
``make test`` (its -W build) and ``make student`` build through it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAILED = re.compile(r"Executing notebook failed")
MISSING_GLUE = re.compile(r"No key ['\"]?([^'\" ]+)['\"]? found in glue data")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
SAVED = re.compile(r"traceback saved in:?\s*(\S+\.err\.log)")


def jupyter_book() -> str:
    """The jupyter-book next to this Python (the project's .venv), else the one on PATH."""
    here = Path(sys.executable).parent / "jupyter-book"
    return str(here) if here.exists() else "jupyter-book"


def failed_cell(report: Path) -> str:
    """The cell that raised and its error, from a MyST-NB execution report (``*.err.log``)."""
    text = ANSI.sub("", report.read_text(encoding="utf-8", errors="replace"))
    lines = [line.rstrip() for line in text.splitlines()]
    cell, error = [], ""
    try:
        start = next(i for i, line in enumerate(lines)
                     if "An error occurred while executing the following cell" in line)
    except StopIteration:
        start = None
    if start is not None:
        body = [line for line in lines[start + 1:]]
        # the cell's source sits between two rules of dashes
        rules = [i for i, line in enumerate(body) if set(line.strip()) == {"-"}]
        if len(rules) >= 2:
            cell = body[rules[0] + 1:rules[1]]
    for line in reversed(lines):
        if re.match(r"^\w*(Error|Exception|Interrupt)\b.*:", line.strip()) or re.match(
                r"^\w+(Error|Exception)$", line.strip()):
            error = line.strip()
            break
    shown = "\n".join(f"      | {line}" for line in cell[:12])
    more = f"\n      | ... ({len(cell) - 12} more lines)" if len(cell) > 12 else ""
    return f"    the cell that raised:\n{shown}{more}\n    its error: {error or '(see the report)'}"


def problems(log: str, build_dir: Path | None) -> list[str]:
    """What is wrong with a finished build, from its log and its execution reports."""
    found = []
    reports = set()
    for match in SAVED.finditer(log):
        reports.add(Path(match.group(1)))
    if build_dir is not None:
        reports.update((build_dir / "html" / "reports").rglob("*.err.log"))
    for report in sorted(reports):
        if not report.exists():
            found.append(f"a notebook failed (its report {report} is gone)")
            continue
        notebook = report.name[:-len(".err.log")]
        found.append(f"notebook {notebook} stopped at a failed cell ({report}):\n"
                     + failed_cell(report))
    if FAILED.search(log) and not reports:
        found.append("a notebook's execution failed (see the log): 'Executing notebook failed'")
    missing = sorted(set(MISSING_GLUE.findall(log)))
    if missing:
        found.append(f"{len(missing)} glued values are missing from the prose: "
                     + ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""))
    return found


def output_dir(args: list[str]) -> Path:
    """The build folder (``<path-output>/_build``) of a ``jupyter-book build`` command line."""
    source = Path(args[1]) if len(args) > 1 and not args[1].startswith("-") else Path(".")
    out = source
    for index, arg in enumerate(args):
        if arg == "--path-output" and index + 1 < len(args):
            out = Path(args[index + 1])
        elif arg.startswith("--path-output="):
            out = Path(arg.split("=", 1)[1])
    return out / "_build"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=None,
                        help="where to keep the build's output (default: <build>/build.log)")
    parser.add_argument("args", nargs=argparse.REMAINDER,
                        help="jupyter-book's arguments, after --")
    options = parser.parse_args(argv)
    args = [a for a in options.args if a != "--"] if options.args[:1] == ["--"] else options.args
    if not args or args[0] != "build":
        parser.error("give jupyter-book's arguments after --, starting with build")
    build_dir = output_dir(args)
    # stale reports of an earlier build must not be blamed on this one
    for stale in (build_dir / "html" / "reports").rglob("*.err.log"):
        stale.unlink()
    log_path = options.log or build_dir / "build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    chunks = []
    with subprocess.Popen([jupyter_book(), *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as process:
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            chunks.append(line)
    log = "".join(chunks)
    log_path.write_text(log, encoding="utf-8")
    found = problems(log, build_dir)
    if process.returncode != 0:
        found.insert(0, f"jupyter-book exited with status {process.returncode}")
    if found:
        print(f"\nBUILD FAILED: {len(found)} problems (the log: {log_path})", file=sys.stderr)
        for problem in found:
            print(f"- {problem}", file=sys.stderr)
        print("A book with a chapter that stopped is never published: fix the cell (or, for a "
              "claim that does not hold, the sentence it guards) and build again.",
              file=sys.stderr)
        return 1
    print(f"Build checked: every notebook ran through, no glued value missing ({log_path}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
