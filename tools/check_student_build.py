#!/usr/bin/env python3
"""Check a student build: no line of any solution in the site or in the student notebooks.

    python tools/check_student_build.py SITE_DIR NOTEBOOKS_DIR [--source notebooks]
        [--shown src/vaebook book] [--executed DIR]

The solutions are read from the source notebooks (``--source``, default ``notebooks/``): every
code cell tagged ``solution`` or lying between a ``{solution-start}`` and its ``{solution-end}``,
and every Markdown line between them (or in a cell tagged ``solution`` without gate). Their
*distinctive* lines are the needles: a code line of at least 20 characters, or a run of prose of
at least five words between roles, maths and markup, that appears nowhere the book shows on
purpose outside the solutions: not in the source notebooks outside the solutions (another
chapter's reader code), and not in the files under ``--shown`` (default: the library's source
``src/vaebook``, which the pages show with ``book.show_source``, and the prose pages ``book/``).
With ``--executed`` (a folder of the executed notebooks, solutions and outputs included, such as
the build's ``jupyter_execute/notebooks``), the text outputs of the solution cells are needles
too: an output line of at least 20 characters that no cell outside the solutions printed.
The needles are searched for in every ``.html``, ``.ipynb``,
``.js``, ``.json``, ``.txt`` and ``.md`` file under SITE_DIR (theme assets under ``_static``
excepted) and in every notebook of NOTEBOOKS_DIR: code as written (whitespace normalised, tags
of highlighted HTML removed), prose as its sequence of words (Sphinx's typographic quotes and
dashes, and the notebook's rendered roles, do not hide it).

It also fails when a source notebook whose page was built has no student notebook, when a
student notebook still has a cell tagged ``solution`` or a solution directive, or when an
exercise's label is missing from its page (the solutions went, the exercises must not).

One line per problem, naming the solution line and the file; then a summary line; exit status 1
when there are problems. ``make student`` runs it on its build.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_CODE_CHARS = 20
MIN_PROSE_WORDS = 5
SCANNED = {".html", ".ipynb", ".js", ".json", ".txt", ".md"}
_MARKUP = re.compile(
    r"\{[A-Za-z][\w:+.-]*\}`[^`]*`"  # a role
    r"|`[^`]*`"  # a code span
    r"|\$\$.*?\$\$|\$[^$]*\$"  # maths
    r"|\]\([^)]*\)"  # a link's target
    r"|^\s*(?:`{3,}|~{3,}|:{3,}).*$|^:[\w-]+:.*$"  # fences and directive options
    r"|[*_#>|\[\]]")  # emphasis, headings, quotes, tables, brackets
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Needle:
    notebook: str
    cell: int
    line: str  # the solution's line as written
    kind: str  # "code", "prose" or "output" (a line a solution cell printed)
    text: str  # what is searched: normalised code, or the prose's words joined by spaces


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _code(text: str) -> str:
    return " ".join(text.split())


def solution_lines(notebook: dict) -> tuple[list[tuple[int, str, str]], list[str]]:
    """``(cell index, kind, line)`` of every solution line, and every other line."""
    solution, other = [], []
    inside = False
    for index, cell in enumerate(notebook.get("cells", [])):
        tags = cell.get("metadata", {}).get("tags", [])
        lines = _source(cell).split("\n")
        if cell.get("cell_type") == "code":
            target = solution if inside or "solution" in tags else None
            for line in lines:
                if target is None:
                    other.append(line)
                else:
                    solution.append((index, "code", line))
            continue
        gated = any("{solution-start}" in line or "{solution-end}" in line for line in lines)
        for line in lines:
            if "{solution-start}" in line:
                inside = True
            elif "{solution-end}" in line:
                inside = False
            elif inside or ("solution" in tags and not gated):
                solution.append((index, "prose", line))
            else:
                other.append(line)
    return solution, other


def shown_text(shown: list[Path]) -> str:
    """The text of what the book shows on purpose outside the notebooks: library source (shown
    with ``book.show_source``) and the prose pages."""
    parts = []
    for root in shown:
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".md"))
        parts.extend(p.read_text(encoding="utf-8", errors="replace") for p in files)
    return "\n".join(parts)


def _output_lines(cell) -> list[str]:
    """The text a code cell printed or displayed (streams, text/plain), line by line."""
    lines = []
    for output in cell.get("outputs", []):
        texts = [output.get("text", "")]
        texts += [data for mime, data in output.get("data", {}).items() if mime == "text/plain"]
        for text in texts:
            lines.extend(_source({"source": text}).split("\n"))
    return lines


def output_needles(executed: Path, names: list[str]) -> list[Needle]:
    """The distinctive output lines of the solution cells of the executed notebooks ``names``."""
    found, others = [], []
    for name in names:
        path = executed / name
        if not path.exists():
            continue
        notebook = json.loads(path.read_text(encoding="utf-8"))
        inside = False
        for index, cell in enumerate(notebook.get("cells", [])):
            source = _source(cell)
            if cell.get("cell_type") == "markdown":
                for line in source.split("\n"):
                    if "{solution-start}" in line:
                        inside = True
                    elif "{solution-end}" in line:
                        inside = False
                continue
            solution = inside or "solution" in cell.get("metadata", {}).get("tags", [])
            for line in _output_lines(cell):
                if not solution:
                    others.append(line)
                elif len(_code(line)) >= MIN_CODE_CHARS and _WORD.search(line):
                    found.append(Needle(name, index, line.strip(), "output", _code(line)))
    other = _code("\n".join(others))
    return [n for n in dict.fromkeys(found) if n.text not in other]


def needles(sources: list[Path], shown: str = "") -> list[Needle]:
    """The distinctive solution lines of the source notebooks: none that the book shows on
    purpose elsewhere (outside the solutions, or in ``shown``: library source, prose pages)."""
    found, others = [], [shown]
    for path in sources:
        solution, other = solution_lines(json.loads(path.read_text(encoding="utf-8")))
        others.extend(other)
        for cell, kind, line in solution:
            if kind == "code":
                text = _code(line)
                if len(text) >= MIN_CODE_CHARS:
                    found.append(Needle(path.name, cell, line.strip(), kind, text))
                continue
            for fragment in _MARKUP.split(line):
                words = _words(fragment)
                if len(words.split()) >= MIN_PROSE_WORDS:
                    found.append(Needle(path.name, cell, line.strip(), kind, words))
    other_code, other_words = _code("\n".join(others)), _words("\n".join(others))
    return [n for n in dict.fromkeys(found)
            if n.text not in (other_code if n.kind == "code" else other_words)]


DEFAULT_SHOWN = (ROOT / "src" / "vaebook", ROOT / "book")


def _notebook_text(text: str) -> str:
    notebook = json.loads(text)
    parts = []
    for cell in notebook.get("cells", []):
        parts.append(_source(cell))
        for output in cell.get("outputs", []):
            parts.append(_source({"source": output.get("text", "")}))
            for mime, data in output.get("data", {}).items():
                if mime.startswith("text/"):
                    parts.append(_source({"source": data}))
    return "\n".join(parts)


def haystacks(path: Path) -> tuple[str, str]:
    """A file's text as (code, words) for the search."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        text = _notebook_text(text)
        return _code(text), _words(text)
    if path.suffix == ".html":
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.DOTALL | re.IGNORECASE)
        return _code(html.unescape(re.sub(r"<[^>]+>", "", text))), _words(
            html.unescape(re.sub(r"<[^>]+>", " ", text)))
    return _code(text), _words(text)


def _exercise_labels(notebook: dict) -> list[str]:
    text = "\n".join(_source(c) for c in notebook.get("cells", [])
                     if c.get("cell_type") == "markdown")
    return re.findall(r"\{exercise(?:-start)?\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*?:label:\s*(\S+)", text)


def check(site: Path, notebooks: Path, source: Path, shown=DEFAULT_SHOWN,
          executed: Path | None = None) -> tuple[list[str], str]:
    """The problems found, and a summary line. ``shown``: files and folders whose text the book
    shows on purpose (a solution line found there is no leak); ``executed``: a folder of executed
    notebooks whose solution outputs are looked for too."""
    problems = []
    sources = sorted(source.glob("*.ipynb"))
    built = [p for p in sources if (site / "notebooks" / f"{p.stem}.html").exists()
             or any(site.rglob(f"{p.stem}.html"))]
    if not built:
        problems.append(f"no page of any notebook of {source} under {site}")
    student = sorted(notebooks.glob("*.ipynb"))
    for path in built:
        if not (notebooks / path.name).exists():
            problems.append(f"missing-notebook: {notebooks / path.name} (its page is in the site)")
    for path in student:
        for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            if "solution" in cell.get("metadata", {}).get("tags", []):
                problems.append(f"solution-cell: {path}, cell {index} is tagged solution")
            if re.search(r"\{solution(-start|-end)?\}", _source(cell)):
                problems.append(f"solution-directive: {path}, cell {index}")
    for path in built:
        page = site / "notebooks" / f"{path.stem}.html"
        if not page.exists():
            page = next(site.rglob(f"{path.stem}.html"))
        text = page.read_text(encoding="utf-8")
        for label in _exercise_labels(json.loads(path.read_text(encoding="utf-8"))):
            if f'id="{label}"' not in text:
                problems.append(f"missing-exercise: {label} is not on {page}")
    found = needles(built, shown_text([Path(p) for p in shown]))
    if executed is not None:
        if not any((executed / p.name).exists() for p in built):
            problems.append(f"no executed notebook of the built pages in {executed}")
        found += output_needles(executed, [p.name for p in built])
    if built and not found:
        problems.append("no solution line to look for: are the source notebooks right?")
    files = [p for p in site.rglob("*") if p.is_file() and p.suffix in SCANNED
             and "_static" not in p.relative_to(site).parts] + student
    for path in files:
        code, words = haystacks(path)
        for needle in found:
            if needle.text in (words if needle.kind == "prose" else code):
                problems.append(f"solution-text: {needle.notebook} cell {needle.cell}: "
                                f"{needle.line!r} is in {path}")
    summary = (f"student build check: {len(found)} solution lines of {len(built)} notebooks looked "
               f"for in {len(files)} files, {len(problems)} problems")
    return problems, summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the student site (the build's html folder)")
    parser.add_argument("notebooks", type=Path, help="the folder of student notebooks")
    parser.add_argument("--source", type=Path, default=ROOT / "notebooks",
                        help="the source notebooks, solutions included (default: notebooks/)")
    parser.add_argument("--shown", type=Path, nargs="*", default=list(DEFAULT_SHOWN),
                        help="files and folders the book shows on purpose (default: src/vaebook "
                             "and book/): a solution line found there is no leak")
    parser.add_argument("--executed", type=Path, default=None,
                        help="executed notebooks (solutions and outputs included): their "
                             "solutions' outputs are looked for too")
    args = parser.parse_args(argv)
    problems, summary = check(args.site, args.notebooks, args.source, args.shown, args.executed)
    for problem in problems:
        print(problem)
    print(summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
