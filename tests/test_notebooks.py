"""Notebook hygiene: the book executes notebooks, so they are committed clean."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_notebook_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in toc, f"{path.name} is not in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "nbval-check-output" not in tags:
            assert not cell.get("outputs"), f"{path.name}: a code cell has committed outputs"
            assert cell.get("execution_count") is None, f"{path.name}: execution count committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_imports_the_library_and_the_profile(path):
    notebook = json.loads(path.read_text())
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert "from vaebook import" in code
    assert "config.get_profile()" in code
    assert "!pip" not in code and "%pip" not in code, "install packages in requirements.txt"
    assert "VAEBOOK_PROFILE" not in code, "notebooks read the profile through vaebook.config only"
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


def test_config_excludes_non_book_folders():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    for folder in ("src", "tests", ".venv", "README.md"):
        assert folder in config["exclude_patterns"]


# The chapter template (CONTRIBUTING.md): what makes every route into a notebook work.

def _cells(path):
    return json.loads(path.read_text())["cells"]


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_plumbing_is_hidden_on_the_page(path):
    """Glue calls and assertions run in cells the page removes; reader code shows the idea."""
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        hidden = "remove-cell" in _tags(cell)
        for plumbing in ("book.record(", "book.record_figure(", "glue(", "assert "):
            if plumbing in source:
                assert hidden, f"{path.name}: `{plumbing}` in a cell the page shows:\n{source}"
        assert "from myst_nb import glue" not in source, "use vaebook.book.record"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_glued_name_is_recorded(path):
    """Each {glue:text}`name` of the prose is recorded by a book.record(name=...) call."""
    cells = _cells(path)
    prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    used = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", prose))
    assert used, f"{path.name} glues no number"
    missing = {name for name in used if not re.search(rf"\b{name}\s*=", code)}
    assert not missing, f"{path.name}: glued but never recorded: {sorted(missing)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_directive_that_only_the_page_resolves(path):
    """Library code is shown with book.show_source, which every route renders."""
    prose = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    assert "{literalinclude}" not in prose


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_solutions_are_executed_and_collapsed(path):
    """Solutions are gated (their code cells run in the build and under nbval), every cell of a
    solution is tagged `solution` and collapsed in JupyterLab."""
    inside, solutions, code_in_solutions = False, 0, 0
    for cell in _cells(path):
        source = "".join(cell["source"])
        assert "{solution}" not in source, "use the gated solution-start/solution-end form"
        if "{solution-start}" in source:
            assert not inside, "a solution starts inside another"
            inside, solutions = True, solutions + 1
        if inside:
            assert "solution" in _tags(cell), f"{path.name}: untagged solution cell:\n{source}"
            assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True
            code_in_solutions += cell["cell_type"] == "code"
        elif cell["cell_type"] == "code":
            assert "solution" not in _tags(cell)
        if "solution" in _tags(cell):
            # an exercise in a solution's cell is collapsed with it, and dropped from students'
            assert "{exercise}" not in source, (
                f"{path.name}: an exercise in a solution-tagged cell (start a new cell):\n{source}")
        if "{solution-end}" in source:
            assert inside, "solution-end without solution-start"
            inside = False
    assert not inside, "a solution is not closed"
    exercises = sum("{exercise}" in "".join(c["source"]) for c in _cells(path))
    assert solutions == exercises >= 3, f"{path.name}: {exercises} exercises, {solutions} solutions"
    assert code_in_solutions >= 2, f"{path.name}: solutions should run code, not describe it"


def _cited_keys() -> set[str]:
    texts = [p.read_text() for p in NOTEBOOKS] + [p.read_text() for p in (ROOT / "book").glob("*.md")]
    keys = set()
    for text in texts:
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
            keys.update(key.strip() for key in group.split(","))
    return keys


def test_bibliography_is_cited_and_complete():
    """Every citation has an entry, and every entry is cited somewhere (no padding)."""
    entries = set(re.findall(r"@\w+\{([^,\s]+),", (ROOT / "book/references.bib").read_text()))
    cited = _cited_keys()
    assert cited - entries == set(), f"cited but missing from references.bib: {cited - entries}"
    assert entries - cited == set(), f"in references.bib but never cited: {entries - cited}"


CHAPTERS = [p for p in NOTEBOOKS if re.match(r"0\d_", p.name)]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_every_chapter_has_four_exercises_two_of_them_self_checking(path):
    """A chapter ends with at least four exercises; at least two are coding exercises whose
    visible `exercise` cell calls a checker of `vaebook.exercises` on the reader's function."""
    cells = _cells(path)
    exercises = sum("{exercise}" in "".join(c["source"]) for c in cells)
    checked = [c for c in cells if c["cell_type"] == "code" and "exercise" in _tags(c)
               and re.search(r"exercises\.check_\w+\(", "".join(c["source"]))]
    assert exercises >= 4, f"{path.name}: {exercises} exercises"
    assert len(checked) >= 2, f"{path.name}: {len(checked)} self-checking exercises"
    for cell in checked:  # the reader's part is blank: the stub returns None, never a solution
        assert "your code here" in "".join(cell["source"]), f"{path.name}: exercise cell not blank"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_vaebook_is_imported_before_tensorflow(path):
    """vaebook imports TensorFlow with its start-up lines on stderr silenced; a chapter that
    imports tensorflow or keras first prints them on the page (and fails the -W build). (The
    appendix configures its devices before TensorFlow starts, and silences it itself.)"""
    code = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code")
    first_vaebook = code.find("from vaebook import")
    first_tf = min((m.start() for m in re.finditer(r"^(import|from) (tensorflow|keras)\b", code,
                                                     re.M)), default=len(code))
    assert first_vaebook < first_tf, f"{path.name}: import vaebook before tensorflow/keras"


def test_every_figure_another_page_pastes_is_recorded_by_its_notebook():
    """A `{glue}` directive with `:doc:` on a prose page names a figure its notebook records."""
    pages = sorted((ROOT / "book").glob("*.md"))
    pasted = []
    for page in pages:
        text = page.read_text()
        for key, doc in re.findall(r"```\{glue\} (\w+)\n:doc: ([^\n]+)", text):
            pasted.append((page.name, key, doc))
    assert pasted, "the landing page shows a figure from a chapter"
    for page, key, doc in pasted:
        notebook = (ROOT / "book" / doc).resolve()
        assert notebook.exists(), f"{page}: {doc} does not exist"
        code = "\n".join("".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "code")
        assert re.search(rf"book\.record_figure\(\s*\"{key}\"", code), (
            f"{page}: {key} is never recorded with book.record_figure in {doc}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_chapter_ends_with_next_steps_and_further_reading(path):
    """A section that says where to go next in the book ({doc} link) and what to read (a citation)."""
    cells = [c for c in _cells(path) if c["cell_type"] == "markdown"]
    sections = ["".join(c["source"]) for c in cells
                if "".join(c["source"]).startswith("## Next steps and further reading")]
    assert len(sections) == 1, f"{path.name}: one '## Next steps and further reading' section"
    section = sections[0]
    assert "- Next: " in section and "{doc}`" in section, f"{path.name}: no next chapter named"
    assert "{cite:" in section, f"{path.name}: nothing to read cited"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_section_heading_inside_a_solution_cell(path):
    """The student edition removes solution cells whole: a heading in one would vanish with it."""
    for cell in _cells(path):
        if "solution" in _tags(cell) and cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            assert not re.search(r"^#{1,3} ", source, re.M), f"{path.name}: heading in:\n{source}"


# A reader copies the cells the page shows, in order: none may need a name that only a hidden cell
# (removed from the page) defines. Names are found with Python's parser: assigned, defined or
# imported names count as defined, loaded names as used (an approximation that errs on the side of
# finding too few definitions, never too many).
HIDDEN_TAGS = {"remove-cell", "remove-input"}


def _defined_and_used(source: str):
    import ast

    lines = ["pass" if line.lstrip().startswith(("%", "!")) else line
             for line in source.splitlines()]  # IPython magics are not Python
    defined, used = set(), set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    return defined, used


def _names_only_hidden_cells_define(cells):
    """(cell index, sorted names) for each shown code cell that uses a name which, before it, only
    hidden cells define."""
    import builtins

    shown, hidden_only, problems = set(dir(builtins)), set(), []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        defined, used = _defined_and_used("".join(cell["source"]))
        if HIDDEN_TAGS & set(_tags(cell)):
            hidden_only |= defined - shown
            continue
        missing = sorted((used - defined - shown) & hidden_only)
        if missing:
            problems.append((index, missing))
        shown |= defined
    return problems


def test_the_hidden_name_check_finds_a_name_only_a_hidden_cell_defines():
    cells = [{"cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "source": ["best = 1"]},
             {"cell_type": "code", "metadata": {}, "source": ["%matplotlib inline\n", "print(best)"]},
             {"cell_type": "code", "metadata": {}, "source": ["best = 2\n", "print(best)"]},
             {"cell_type": "code", "metadata": {}, "source": ["print(best, len([]))"]}]
    assert _names_only_hidden_cells_define(cells) == [(1, ["best"])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_shown_cell_runs_when_the_shown_cells_are_copied_in_order(path):
    problems = _names_only_hidden_cells_define(_cells(path))
    assert not problems, (f"{path.name}: shown cells use names that only hidden cells define "
                          f"(cell index, names): {problems}")


def _tables_not_shown(source: str) -> list[str]:
    """``book.table(...)`` calls whose Styler is dropped: a bare call that is not the cell's last
    statement, or one inside a loop or a function (Jupyter shows only the last expression)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lost = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and ast.unparse(node.value.func) == "book.table"):
            continue
        if node is not tree.body[-1]:
            lost.append(ast.unparse(node)[:60])
    return lost


def test_the_table_check_finds_a_table_that_is_never_shown():
    assert _tables_not_shown("book.table(a)\nx = 1")
    assert _tables_not_shown("for a in b:\n    book.table(a)")
    assert not _tables_not_shown("x = 1\nbook.table(a)")
    assert not _tables_not_shown("display(book.table(a))\nx = 1")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_table_is_the_last_expression_of_its_cell(path):
    """A book.table(...) mid-cell returns a Styler nobody displays: the page loses the table."""
    lost = {cell.get("id"): _tables_not_shown("".join(cell["source"]))
            for cell in _cells(path) if cell["cell_type"] == "code"}
    lost = {cell_id: calls for cell_id, calls in lost.items() if calls}
    assert not lost, f"{path.name}: tables that are never displayed: {lost}"
