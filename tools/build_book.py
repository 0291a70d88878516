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

``--jobs N`` (N > 1) first runs the book's notebooks that the build's execution cache does not
hold, N at a time, each in its own kernel, and stores each that ran through in that cache as
MyST-NB would (same cache, same key: the notebook's code cells and kernel); the build then renders
them instead of running them one after another. A notebook that fails is reported with its cell and
error, is not stored, and the build is not started. The notebooks share the model cache: a model
two of them want is trained by the first to ask and loaded by the other (``vaebook.zoo`` locks the
entry). ``--first NB`` starts those notebooks first (the longest ones), then the book's order.
Each kernel gets the machine's cores divided among the N jobs as its thread count (TensorFlow's
``TF_NUM_INTRAOP_THREADS``, ``OMP_NUM_THREADS``), unless these are set already.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
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
    return failed_cell_text(report.read_text(encoding="utf-8", errors="replace"))


def failed_cell_text(report: str) -> str:
    """:func:`failed_cell` for the report's text (an execution's traceback)."""
    text = ANSI.sub("", report)
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


def book_notebooks(source: Path) -> list[Path]:
    """The notebooks of the book's table of contents (``_toc.yml``), in its order."""
    import yaml

    found = []

    def walk(node):
        if isinstance(node, dict):
            name = node.get("file")
            if isinstance(name, str):
                path = source / (name if name.endswith(".ipynb") else name + ".ipynb")
                if path.exists():
                    found.append(path)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((source / "_toc.yml").read_text(encoding="utf-8")))
    return found


def execution_timeout(source: Path) -> int:
    """The cell timeout of ``_config.yml`` (``execute.timeout``; MyST-NB's 30 s when absent)."""
    import yaml

    settings = yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8")) or {}
    return int((settings.get("execute") or {}).get("timeout", 30))


def _run_notebook(path: str, timeout: int):
    """Execute one notebook in its own folder, as MyST-NB's cache mode does: (the executed
    notebook as JSON, seconds, the error and its traceback or None)."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = nbformat.read(path, as_version=4)
    result = single_nb_execution(notebook, cwd=str(Path(path).parent), timeout=timeout,
                                 allow_errors=False, meta_override=True)
    error = None if result.err is None else f"{type(result.err).__name__}\n{result.exc_string}"
    return nbformat.writes(notebook), result.time, error


def run_notebooks(notebooks: list[Path], cache_path: Path, jobs: int, timeout: int,
                  first: list[Path] = ()) -> list[str]:
    """Run the notebooks the cache does not hold, ``jobs`` at a time, and store each that ran
    through. Returns the failures (notebook, cell and error), empty when all ran through."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_path))
    first = [Path(p).resolve() for p in first]
    ordered = sorted((p.resolve() for p in notebooks),
                     key=lambda p: first.index(p) if p in first else len(first))
    pending = []
    for path in ordered:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
            print(f"[run] {path.name}: in the execution cache", flush=True)
        except KeyError:
            pending.append(path)
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    for variable in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(variable, threads)  # inherited by each kernel
    failures = []
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        running = {}
        for path in pending:
            running[pool.submit(_run_notebook, str(path), timeout)] = path
        print(f"[run] {len(pending)} notebooks, {jobs} at a time: "
              + ", ".join(p.name for p in pending), flush=True)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                path = running.pop(future)
                text, seconds, error = future.result()
                clock = time.perf_counter() - started
                if error is not None:
                    failures.append(f"notebook {path.stem} stopped at a failed cell:\n"
                                    + failed_cell_text(error))
                    print(f"[run] {path.name}: FAILED after {seconds:.0f} s ({clock:.0f} s "
                          f"in)", flush=True)
                    continue
                record = cache.cache_notebook_bundle(
                    CacheBundleIn(nbformat.reads(text, as_version=4), str(path),
                                  data={"execution_seconds": seconds}),
                    check_validity=False, overwrite=True)
                print(f"[run] {path.name}: ran through in {seconds:.0f} s ({clock:.0f} s in), "
                      f"cached as ID {record.pk}", flush=True)
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=None,
                        help="where to keep the build's output (default: <build>/build.log)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="run the notebooks the cache lacks this many at a time first")
    parser.add_argument("--first", action="append", type=Path, default=[],
                        help="with --jobs: start this notebook first (repeatable)")
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
    if options.jobs < 1:
        parser.error(f"--jobs must be 1 or more, got {options.jobs}")
    if options.jobs > 1:
        source = Path(args[1]) if len(args) > 1 and not args[1].startswith("-") else Path(".")
        failures = run_notebooks(book_notebooks(source), build_dir / ".jupyter_cache",
                                 options.jobs, execution_timeout(source), options.first)
        if failures:
            print(f"\nBUILD FAILED: {len(failures)} notebooks stopped at a failed cell; the book "
                  f"was not built", file=sys.stderr)
            for problem in failures:
                print(f"- {problem}", file=sys.stderr)
            return 1
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
