"""The student edition (`make student`): notebooks and pages without solutions.

Pure functions of the book's extension (book/_ext/vaebook_sphinx.py) on small notebooks and on
the real chapters; the chapters' independence from their solutions (no name, no glued value that
only a solution defines is used outside it); the configuration overlay; the checker
tools/check_student_build.py; and one student build of the fixture book tests/fixtures/minibook
(about 30 s; VAEBOOK_SKIP_BOOK_BUILD=1 skips it), whose pages and notebooks must hold no text of any
solution and every exercise.
"""

from __future__ import annotations

import ast
import builtins
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "book" / "_ext" / "vaebook_sphinx.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHECKER = ROOT / "tools" / "check_student_build.py"
STUDENT_CONFIG = ROOT / "tools" / "student_config.py"


def _load(name, path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ext = _load("vaebook_sphinx", EXTENSION)
checker = _load("check_student_build", CHECKER)
student_config = _load("student_config", STUDENT_CONFIG)


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _md(source, tags=(), hidden=False):
    metadata = {"tags": list(tags)} if tags else {}
    if hidden:
        metadata["jupyter"] = {"source_hidden": True}
    return {"cell_type": "markdown", "metadata": metadata, "source": source}


def _code(source, tags=(), hidden=False, outputs=()):
    cell = _md(source, tags, hidden)
    cell.update(cell_type="code", execution_count=None, outputs=list(outputs))
    return cell


def _notebook(*cells):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}


START = "````{solution-start} %s\n:class: dropdown\n````"
END = "````{solution-end}\n````"


# ---------------------------------------------------------------------------------------------
# The student notebook (a pure function)


def test_gated_solutions_go_and_exercises_stay():
    stub = _code("def my_kl(m, v):\n    return None  # your code here\n\n"
                 "exercises.check_kl(my_kl);",
                 tags=["exercise"], outputs=[{"output_type": "stream", "name": "stdout",
                                              "text": "Not yet: your function returned None.\n"}])
    notebook = _notebook(
        _code("x = 1", outputs=[{"output_type": "stream", "name": "stdout", "text": "1\n"}]),
        _md("## Exercises\n\n````{exercise}\n:label: a\n\nWrite the KL.\n````"),
        stub,
        _md(START % "a", tags=["solution"], hidden=True),
        _code("def my_kl(m, v):\n    return secret_formula", tags=["solution"], hidden=True),
        _code("book.record(ch_secret=1)", tags=["remove-cell", "solution"], hidden=True),
        _md("The secret reasoning.\n\n" + END
            + "\n\n````{exercise}\n:label: b\n\nExplain the bound.\n````",
            tags=["solution"], hidden=True),
        _md(START % "b", tags=["solution"], hidden=True),
        _md("Jensen's inequality.", tags=["solution"], hidden=True),
        _md(END, tags=["solution"], hidden=True),
        _md("## Further reading\n\nA book."),
    )
    student = ext.student_notebook(notebook)
    sources = [_source(c) for c in student["cells"]]
    assert sources == [
        "x = 1",
        "## Exercises\n\n````{exercise}\n:label: a\n\nWrite the KL.\n````",
        _source(stub),
        "````{exercise}\n:label: b\n\nExplain the bound.\n````",
        "## Further reading\n\nA book.",
    ]
    assert student["cells"][0]["outputs"] == notebook["cells"][0]["outputs"]  # outputs kept
    assert student["cells"][2] == stub  # the stub, its tag and its first verdict, as they were
    # The next exercise shared a cell with the end of a solution: it stays, untagged and visible.
    assert student["cells"][3]["metadata"] == {}
    assert "secret" not in json.dumps(student) and "Jensen" not in json.dumps(student)
    assert "secret" in json.dumps(notebook), "the input must not change"


def test_plain_solution_directive_and_tagged_cells_outside_a_gate_go():
    notebook = _notebook(
        _md("Before.\n\n```{exercise}\n:label: c\nWhy?\n```\n\n```{solution} c\nBecause.\n```"
            "\n\nAfter."),
        _md("A stray solution note.", tags=["solution"]),
        _code("print('stray')", tags=["solution"]),
    )
    student = ext.student_notebook(notebook)
    assert [_source(c) for c in student["cells"]] == [
        "Before.\n\n```{exercise}\n:label: c\nWhy?\n```\n\n\nAfter."]


def test_an_open_solution_is_an_error():
    with pytest.raises(ValueError, match="solution-end"):
        ext.student_notebook(_notebook(_md(START % "a", tags=["solution"])))


def test_strip_solution_text_carries_the_gate_across_cells():
    text, inside = ext.strip_solution_text("Question.\n\n" + START % "q" + "\n\nAnswer begins")
    assert (text, inside) == ("Question.", True)
    text, inside = ext.strip_solution_text("still the answer\n" + END + "\nNext.", inside)
    assert (text, inside) == ("Next.", False)
    # A fenced code block inside a solution does not end it, and one outside is kept.
    text, inside = ext.strip_solution_text(
        START % "q" + "\n`````md\n" + END + "\n`````\nhidden\n" + END + "\n```python\nx = 1\n```")
    assert (text, inside) == ("```python\nx = 1\n```", False)


# ---------------------------------------------------------------------------------------------
# The exercise inventory of the teachers' page


def test_exercise_kinds():
    notebook = _notebook(
        _md("````{exercise}\n:label: words\n\nWhy?\n````"),
        _md(START % "words", tags=["solution"]),
        _code("book.record(x=1)", tags=["remove-cell", "solution"]),  # plumbing only
        _md("Because.\n\n" + END, tags=["solution"]),
        _md("````{exercise} Coding\n:label: code\n\nComplete it.\n````"),
        _code("def f():\n    return None  # your code here", tags=["exercise"]),
        _md(START % "code", tags=["solution"]),
        _code("def f():\n    return 1", tags=["solution"]),
        _md(END, tags=["solution"]),
        _md("````{exercise}\n:label: run\n\nTrain it.\n````"),
        _md(START % "run", tags=["solution"]),
        _code("model.fit()", tags=["solution"]),
        _md(END, tags=["solution"]),
    )
    inventory = ext.exercise_inventory(notebook)
    assert [(e.label, e.title, e.kind) for e in inventory] == [
        ("words", "", "question"), ("code", "Coding", "coding"), ("run", "", "experiment")]
    assert [e.minutes for e in inventory] == [ext.EXERCISE_MINUTES[k]
                                              for k in ("question", "coding", "experiment")]
    plan = ext.lab_plan(inventory, budget=ext.EXERCISE_MINUTES["question"]
                        + ext.EXERCISE_MINUTES["coding"])
    assert [fits for _, fits in plan] == [True, True, False]
    assert [total for total, _ in plan] == list(
        __import__("itertools").accumulate(e.minutes for e in inventory))
    # The notebook's own run comes first.
    assert ext.lab_plan(inventory, budget=40, start=6) == [(16, True), (31, True), (56, False)]
    for kind, minutes in ext.EXERCISE_MINUTES.items():
        assert f"{ext.EXERCISE_KINDS[kind]}, {minutes} min" in ext.minutes_rule()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_exercise_of_the_chapters_is_in_the_inventory(path):
    notebook = json.loads(path.read_text())
    text = "\n".join(_source(c) for c in notebook["cells"] if c["cell_type"] == "markdown")
    labels = re.findall(r"\{exercise\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*?:label:\s*(\S+)", text)
    inventory = ext.exercise_inventory(notebook)
    assert [e.label for e in inventory] == labels
    assert all(e.kind in ext.EXERCISE_KINDS for e in inventory)


# ---------------------------------------------------------------------------------------------
# The real chapters without their solutions


def _solution_flags(notebook) -> list[bool]:
    """For each cell: does it belong to a solution (tagged, or inside a gate)? Independent of
    the extension's code on purpose."""
    flags, inside = [], False
    for cell in notebook["cells"]:
        source = _source(cell)
        starts, ends = "{solution-start}" in source, "{solution-end}" in source
        flags.append(inside or starts or "solution" in _tags(cell))
        inside = (inside or starts) and not ends
    return flags


def _glued_names(code: str) -> set[str]:
    """Names glued by ``book.record(name=...)`` or ``glue("name", ...)`` calls."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", "")
            if function == "record":
                names.update(k.arg for k in node.keywords if k.arg)
            elif function == "glue" and node.args and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
    return names


def _python(source: str) -> str:
    """A code cell's source without IPython magics and shell lines."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.split("\n"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_student_notebook_of_each_chapter(path):
    notebook = json.loads(path.read_text())
    student = ext.student_notebook(notebook)
    flags = _solution_flags(notebook)
    for cell in student["cells"]:
        assert "solution" not in _tags(cell)
        assert not re.search(r"\{solution(-start|-end)?\}", _source(cell)), _source(cell)
    markdown = "\n".join(_source(c) for c in student["cells"] if c["cell_type"] == "markdown")
    exercises = re.findall(r"\{exercise\}", "\n".join(_source(c) for c in notebook["cells"]))
    assert len(re.findall(r"\{exercise\}", markdown)) == len(exercises) >= 1
    kept_code = [_source(c) for c in student["cells"] if c["cell_type"] == "code"]
    assert kept_code == [_source(c) for c, solution in zip(notebook["cells"], flags)
                         if c["cell_type"] == "code" and not solution]
    # The checker's needles (read by independent code) are all gone.
    needles = checker.needles([path])
    code_text = checker._code("\n".join(_source(c) for c in student["cells"]))
    words = checker._words("\n".join(_source(c) for c in student["cells"]))
    left = [n.line for n in needles if n.text in (code_text if n.kind == "code" else words)]
    assert not left, left


def _solution_glue_quoted_outside(notebook) -> tuple[set[str], set[str]]:
    """The values glued only by solutions, and those of them that the student notebook quotes."""
    flags = _solution_flags(notebook)
    in_solutions, elsewhere = set(), set()
    for cell, solution in zip(notebook["cells"], flags):
        if cell["cell_type"] == "code":
            (in_solutions if solution else elsewhere).update(_glued_names(_python(_source(cell))))
    only_in_solutions = in_solutions - elsewhere
    quoted = set()
    for cell in ext.student_notebook(notebook)["cells"]:
        if cell["cell_type"] == "markdown":
            for reference in re.findall(r"\{glue(?::\w+)?\}`([^`]+)`", _source(cell)):
                quoted.add(reference.split("::")[-1].split(":")[0].strip())
    return only_in_solutions, quoted & only_in_solutions


def test_a_solution_value_quoted_outside_is_found():
    notebook = _notebook(
        _code("book.record(shown=1)", tags=["remove-cell"]),
        _md("Shown: {glue:text}`shown:.1f`."),
        _md(START % "a", tags=["solution"]),
        _code("book.record(answer=2, other=3)", tags=["remove-cell", "solution"]),
        _md("The answer is {glue:text}`answer`.\n\n" + END, tags=["solution"]),
        _md("Later, {glue:text}`other:.2f` leaks."),
    )
    assert _solution_glue_quoted_outside(notebook) == ({"answer", "other"}, {"other"})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_nothing_outside_the_solutions_uses_their_glued_values(path):
    """A value glued only by a solution may be quoted only by that solution's text (which the
    student edition removes with it), so the student pages and notebooks quote nothing missing."""
    notebook = json.loads(path.read_text())
    only_in_solutions, quoted = _solution_glue_quoted_outside(notebook)
    assert not quoted, sorted(quoted)
    # Other chapters quote no solution's value either.
    for other in NOTEBOOKS:
        text = other.read_text()
        for name in only_in_solutions:
            assert f"{path.name}::{name}" not in text and f"{path.stem}::{name}" not in text


def _defined_and_used(source: str) -> tuple[set[str], set[str]]:
    tree = ast.parse(_python(source))
    defined, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, (ast.Store, ast.Del)) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    return defined, used


def _uses_of_solution_names(notebook) -> list[str]:
    """Code cells outside the solutions that use a name only an earlier solution defines."""
    defined_outside, defined_in_solutions, problems = set(dir(builtins)), set(), []
    for index, (cell, solution) in enumerate(zip(notebook["cells"], _solution_flags(notebook))):
        if cell["cell_type"] != "code":
            continue
        defined, used = _defined_and_used(_source(cell))
        if solution:
            defined_in_solutions |= defined
            continue
        missing = (used - defined - defined_outside) & defined_in_solutions
        if missing:
            problems.append(f"cell {index} uses {sorted(missing)}, defined only in a solution")
        defined_outside |= defined
    return problems


def test_a_name_from_a_solution_used_later_is_found():
    notebook = _notebook(
        _code("import numpy as np\nx = np.ones(3)"),
        _md(START % "a", tags=["solution"]),
        _code("answer = x.sum()\ndef helper():\n    return 1", tags=["solution"]),
        _md(END, tags=["solution"]),
        _code("print(x, answer, helper(), len([1]))"),
    )
    assert _uses_of_solution_names(notebook) == [
        "cell 4 uses ['answer', 'helper'], defined only in a solution"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_chapter_runs_without_its_solutions(path):
    """No code outside a solution uses a name that only an earlier solution defines: the
    student notebook runs top to bottom, and its outputs do not depend on the solutions."""
    problems = _uses_of_solution_names(json.loads(path.read_text()))
    assert not problems, problems


# ---------------------------------------------------------------------------------------------
# The configuration overlay and the checker


def test_overlay_switches_student_mode_and_keeps_the_rest():
    merged = student_config.student_config(ROOT / "_config.yml", ROOT / "_config_student.yml")
    base = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert merged["sphinx"]["config"]["vaebook_student"] is True
    for key, value in base["sphinx"]["config"].items():
        assert merged["sphinx"]["config"][key] == value
    assert merged["sphinx"]["extra_extensions"] == base["sphinx"]["extra_extensions"]
    assert not merged["launch_buttons"]["binderhub_url"]
    assert not merged["launch_buttons"]["colab_url"]
    extension = Path(merged["sphinx"]["local_extensions"]["vaebook_sphinx"])
    assert extension.is_absolute() and (extension / "vaebook_sphinx.py").exists()
    for key in ("title", "execute", "parse", "bibtex_bibfiles", "exclude_patterns", "repository"):
        assert merged[key] == base[key], key
    assert student_config.merge({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2]}, "d": 3}) == {
        "a": {"b": 1, "c": [2]}, "d": 3}


def _recipe(makefile: str, target: str) -> str:
    return makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]


def test_makefile_student_target_has_its_own_folder_and_runs_the_check():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PROFILE \?= quick$", makefile, re.M)
    assert re.search(r"^STUDENT_BUILD := _build/student/\$\(PROFILE\)$", makefile, re.M)
    recipe = _recipe(makefile, "student")
    assert "--path-output $(STUDENT_BUILD)" in recipe
    assert "--config $(STUDENT_BUILD)/_config.yml" in recipe
    assert "VAEBOOK_PROFILE=$(PROFILE)" in recipe
    assert "student-notebooks STUDENT_BUILD=$(STUDENT_BUILD)" in recipe
    collect = _recipe(makefile, "student-notebooks")
    assert ("tools/check_student_build.py $(STUDENT_BUILD)/_build/html "
            "$(STUDENT_BUILD)/notebooks") in collect
    assert "--executed $(STUDENT_BUILD)/_build/jupyter_execute/notebooks" in collect


def test_make_test_checks_the_student_edition_without_running_the_chapters_again():
    makefile = (ROOT / "Makefile").read_text()
    test_prerequisites = makefile.split("\ntest:", 1)[1].split("\n", 1)[0].split()
    # after nbval and the -W build (prerequisites of test), whose execution cache it renders
    # from, in the recipe: side by side with the browser check, which reads only the -W build
    assert "test-book" in test_prerequisites and "notebooks" in test_prerequisites
    assert "student-check" not in test_prerequisites
    test_recipe = _recipe(makefile, "test")
    assert "-j2" in test_recipe and "student-check" in test_recipe
    assert "browser-check" in test_recipe
    recipe = _recipe(makefile, "student-check")
    assert "--cache $(TEST_BUILD)/_build/.jupyter_cache" in recipe
    assert "student-notebooks STUDENT_BUILD=$(STUDENT_CHECK_BUILD)" in recipe
    assert "VAEBOOK_PROFILE=quick" in recipe


def test_student_config_points_at_another_execution_cache(tmp_path):
    out = tmp_path / "student" / "_config.yml"
    subprocess.run([sys.executable, str(STUDENT_CONFIG), str(out), "--cache",
                    str(tmp_path / "cache")], check=True, timeout=60)
    merged = yaml.safe_load(out.read_text())
    assert merged["execute"]["cache"] == str((tmp_path / "cache").resolve())
    assert merged["execute"]["execute_notebooks"] == "cache"
    assert merged["sphinx"]["config"]["vaebook_student"] is True


def test_checker_finds_a_solution_line_and_names_it(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    notebook = _notebook(
        _md("## Exercises\n\n````{exercise}\n:label: ex-a\n\nFind the gradient.\n````"),
        _md(START % "ex-a", tags=["solution"]),
        _code("gradient_of_the_loss = sigmoid(logits) - targets", tags=["solution"]),
        _md("The gradient of the Bernoulli loss is the error of the prediction.\n\n" + END,
            tags=["solution"]))
    (source / "01_x.ipynb").write_text(json.dumps(notebook))
    site, notebooks = tmp_path / "html", tmp_path / "notebooks"
    (site / "notebooks").mkdir(parents=True)
    notebooks.mkdir()
    page = site / "notebooks" / "01_x.html"
    page.write_text('<section id="ex-a"><p>Find the gradient.</p></section>')
    (notebooks / "01_x.ipynb").write_text(json.dumps(ext.student_notebook(notebook)))
    problems, summary = checker.check(site, notebooks, source)
    assert problems == [] and "2 solution lines" in summary, (problems, summary)
    # Highlighted code and typographic quotes do not hide a solution.
    page.write_text('<section id="ex-a"><span class="n">gradient_of_the_loss</span> '
                    '<span class="o">=</span> <span class="n">sigmoid</span><span class="p">'
                    '(</span>logits<span class="p">)</span> - targets</section>'
                    "<p>The gradient of the <em>Bernoulli</em> loss is the error of the "
                    "prediction’s sign</p>")
    problems, _ = checker.check(site, notebooks, source)
    assert len(problems) == 2 and all("01_x.ipynb cell" in p for p in problems), problems
    assert "gradient_of_the_loss = sigmoid(logits) - targets" in problems[0]
    # An exercise that went missing, and a notebook that kept a solution cell, are problems too.
    page.write_text("<p>nothing</p>")
    (notebooks / "01_x.ipynb").write_text(json.dumps(notebook))
    problems, _ = checker.check(site, notebooks, source)
    kinds = {p.split(":")[0] for p in problems}
    assert {"missing-exercise", "solution-cell", "solution-directive", "solution-text"} <= kinds


def _one_solution_book(tmp_path, solution_code, page_text, outputs=()):
    """A source notebook with one exercise and one solution cell, its student page and
    notebook, and its executed notebook (the solution's outputs): (site, notebooks, source,
    executed)."""
    source, executed = tmp_path / "source", tmp_path / "executed"
    source.mkdir()
    executed.mkdir()
    notebook = _notebook(
        _md("## Exercises\n\n````{exercise}\n:label: ex-a\n\nCompute the distance.\n````"),
        _code("print('the reader code of the chapter, printed as usual')",
              outputs=[{"output_type": "stream", "name": "stdout",
                        "text": "the reader code of the chapter, printed as usual\n"}]),
        _md(START % "ex-a", tags=["solution"]),
        _code(solution_code, tags=["solution"], outputs=list(outputs)),
        _md(END, tags=["solution"]))
    (source / "01_x.ipynb").write_text(json.dumps({**notebook, "cells": [
        {**c, "outputs": []} if c["cell_type"] == "code" else c for c in notebook["cells"]]}))
    (executed / "01_x.ipynb").write_text(json.dumps(notebook))
    site, notebooks = tmp_path / "html", tmp_path / "notebooks"
    (site / "notebooks").mkdir(parents=True)
    notebooks.mkdir()
    (site / "notebooks" / "01_x.html").write_text(f'<section id="ex-a">{page_text}</section>')
    (notebooks / "01_x.ipynb").write_text(json.dumps(ext.student_notebook(notebook)))
    return site, notebooks, source, executed


def test_a_solution_line_the_book_shows_in_library_source_is_no_leak(tmp_path):
    shared = "with warnings.catch_warnings():"
    code = f"{shared}\n    warnings.simplefilter('ignore')\n    distance_of_the_solution = 42"
    library = tmp_path / "library.py"
    library.write_text(f"def fid():\n    {shared}\n        pass\n")
    page = f"<pre>def fid():\n    {shared}\n        pass</pre>"  # the page shows the library
    site, notebooks, source, _ = _one_solution_book(tmp_path, code, page)
    problems, summary = checker.check(site, notebooks, source, shown=[library])
    assert problems == [], problems
    # without the library among what the book shows, the shared line is (wrongly) a leak
    problems, _ = checker.check(site, notebooks, source, shown=[])
    assert len(problems) == 1 and shared in problems[0], problems
    # a planted leak of the solution's own line is found and named, library or not
    (site / "notebooks" / "01_x.html").write_text(
        f'<section id="ex-a">{page}<p>distance_of_the_solution = 42</p></section>')
    problems, _ = checker.check(site, notebooks, source, shown=[library])
    assert len(problems) == 1 and "01_x.ipynb cell 3" in problems[0], problems
    assert "distance_of_the_solution = 42" in problems[0] and "01_x.html" in problems[0]


def test_a_solution_output_in_the_student_site_is_found(tmp_path):
    printed = "the distance of the solution is 4.2 nats"
    site, notebooks, source, executed = _one_solution_book(
        tmp_path, "distance = 4.2\nprint(f'the distance of the solution is {distance} nats')",
        "<p>Compute the distance.</p><pre>the reader code of the chapter, printed as usual</pre>",
        outputs=[{"output_type": "stream", "name": "stdout", "text": printed + "\n"}])
    problems, summary = checker.check(site, notebooks, source, shown=[], executed=executed)
    assert problems == [], problems
    assert "solution lines" in summary
    # the reader code's output is shown on purpose: only the solution's own output is a needle
    assert [n.kind for n in checker.output_needles(executed, ["01_x.ipynb"])] == ["output"]
    (site / "notebooks" / "01_x.html").write_text(f'<section id="ex-a"><pre>{printed}</pre></section>')
    problems, _ = checker.check(site, notebooks, source, shown=[], executed=executed)
    assert len(problems) == 1 and printed in problems[0] and "01_x.html" in problems[0], problems
    # a folder of executed notebooks that holds none of the built ones is an error, not a pass
    problems, _ = checker.check(site, notebooks, source, shown=[], executed=tmp_path / "html")
    assert any("no executed notebook" in p for p in problems), problems


def test_the_chapters_solutions_that_share_library_lines_are_no_leaks():
    """The lines a teacher's build reported as leaks (Chapter 6's FID solution and the appendix's train step share
    lines with library code that the pages show) are not needles."""
    sources = [p for p in NOTEBOOKS]
    shown = checker.shown_text([Path(p) for p in checker.DEFAULT_SHOWN])
    texts = {n.text for n in checker.needles(sources, shown)}
    for shared in ("with warnings.catch_warnings():",
                   'warnings.simplefilter("ignore", linalg.LinAlgWarning)',
                   "terms = self.compute_terms(x, training=True)"):
        assert " ".join(shared.split()) not in texts, shared
    assert texts, "the chapters' solutions still have distinctive lines to look for"


# ---------------------------------------------------------------------------------------------
# The fixture book's student edition, built


def _solution_snippets(path: Path) -> list[str]:
    """Every line of every solution of a source notebook that appears nowhere else in it, as
    searched for below: code as written, prose as plain words between markup. A Markdown cell
    is read line by line: what follows a solution-end in it (the next exercise) is no solution."""
    notebook = json.loads(path.read_text())
    solution_lines, other_lines, inside = [], [], False
    for cell in notebook["cells"]:
        lines = _source(cell).split("\n")
        if cell["cell_type"] == "code":
            solution = inside or "solution" in _tags(cell)
            (solution_lines if solution else other_lines).extend(("code", l) for l in lines)
            continue
        gated = any("{solution-" in line for line in lines)
        for line in lines:
            if "{solution-start}" in line or "{solution-end}" in line:
                inside = "{solution-start}" in line
            elif inside or ("solution" in _tags(cell) and not gated):
                solution_lines.append(("prose", line))
            else:
                other_lines.append(("prose", line))
    other = "\n".join(line for _, line in other_lines)
    snippets = []
    for kind, line in solution_lines:
        line = line.strip()
        if not line or line.startswith(("````", ":class:")) or line in other:
            continue
        if kind == "code":
            snippets.append(line)
            continue
        for piece in re.split(r"\{[\w:]+\}`[^`]*`|\$[^$]*\$|`[^`]*`", line):
            words = " ".join(re.findall(r"[^\W_]+", piece.lower()))
            if len(words.split()) >= 2:
                snippets.append(words)
    return snippets


@pytest.mark.skipif(os.environ.get("VAEBOOK_SKIP_BOOK_BUILD") == "1",
                    reason="VAEBOOK_SKIP_BOOK_BUILD=1")
def test_fixture_student_edition_has_no_solution_text(tmp_path, minibook):
    jupyter_book, book = minibook
    config = tmp_path / "student" / "_config.yml"
    subprocess.run([sys.executable, str(STUDENT_CONFIG), str(config), "--base",
                    str(book / "_config.yml")], check=True, timeout=60)
    result = subprocess.run(
        [str(jupyter_book), "build", str(book), "--config", str(config), "--path-output",
         str(tmp_path / "student"), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "VAEBOOK_PROFILE": "full"})
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert not re.search(r"WARNING: (?!Kernel is running over TCP)", log), log[-5000:]
    site = tmp_path / "student" / "_build" / "html"
    notebooks = tmp_path / "student" / "notebooks"  # as `make student` collects them
    notebooks.mkdir()
    for path in (site / "_sources" / "notebooks").glob("*.ipynb"):
        shutil.copy(path, notebooks / path.name)
    assert sorted(p.name for p in notebooks.iterdir()) == ["01_first.ipynb", "02_second.ipynb"]
    _assert_student_edition(site, notebooks, book)


def _assert_student_edition(site: Path, notebooks: Path, book: Path) -> None:
    check = subprocess.run([sys.executable, str(CHECKER), str(site), str(notebooks), "--source",
                            str(book / "notebooks")], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert re.search(r"student build check: [1-9]\d* solution lines of 2 notebooks .* 0 problems",
                     check.stdout), check.stdout

    # No text of any solution cell, in any page or notebook.
    pages = {p: " ".join(html.unescape(re.sub(r"<[^>]+>", "", p.read_text())).split())
             for p in site.rglob("*.html")}
    page_words = {p: " ".join(re.findall(r"[^\W_]+", html.unescape(
        re.sub(r"<[^>]+>", " ", p.read_text())).lower())) for p in site.rglob("*.html")}
    student = {p: json.loads(p.read_text()) for p in notebooks.iterdir()}
    notebook_text = {p: "\n".join(_source(c) + "".join(
        "".join(o.get("text", "")) for o in c.get("outputs", [])) for c in nb["cells"])
        for p, nb in student.items()}
    snippets = [s for p in sorted((book / "notebooks").glob("*.ipynb"))
                for s in _solution_snippets(p)]
    assert "jensen s inequality" in snippets and "gradient = 1 / (1 + np.exp(-0.5)) - 1" in snippets
    for snippet in snippets:
        for path in pages:
            assert snippet not in pages[path] and snippet not in page_words[path], (snippet, path)
        for path, text in notebook_text.items():
            words = " ".join(re.findall(r"[^\W_]+", text.lower()))
            assert snippet not in text and snippet not in words, (snippet, path)
    first = pages[site / "notebooks" / "01_first.html"]
    for gone in ("Solution", "gradient at 0.5", "Jensen", "rounds up"):
        assert all(gone not in text for text in pages.values()), gone
        assert all(gone not in text for text in notebook_text.values()), gone

    # Every exercise stays: its text, on the page and in the notebook, and the coding stub.
    assert "Exercise 1.1" in first and "Differentiate (1.1) with respect to" in first
    assert "Exercise 1.2 (Output sizes)" in first and "Complete my_output_size so that" in first
    assert "return None # your code here" in first
    second = pages[site / "notebooks" / "02_second.html"]
    assert "Exercise 2.1 (A titled exercise)" in second and "holds." in second
    first_notebook = student[notebooks / "01_first.ipynb"]
    markdown = "\n".join(_source(c) for c in first_notebook["cells"]
                         if c["cell_type"] == "markdown")
    assert "**Exercise 1.1**" in markdown and "**Exercise 1.2** (Output sizes)" in markdown
    stub = [c for c in first_notebook["cells"] if "exercise" in _tags(c)]
    assert len(stub) == 1 and "return None  # your code here" in _source(stub[0])
    assert "returned None" in "".join("".join(o.get("text", "")) for o in stub[0]["outputs"])
    assert "**Exercise 2.1** (A titled exercise)" in "\n".join(
        _source(c) for c in student[notebooks / "02_second.ipynb"]["cells"])
    # Outputs outside the solutions are kept (the figure and the printed numbers).
    outputs = [o for c in first_notebook["cells"] for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert any("mb_loss = 123.5" in "".join(o.get("text", "")) for o in outputs)

    # The site says it is the student edition, has no Binder or Colab button, and its
    # teachers' page shows the other profile's measured times from the committed file.
    raw = (site / "notebooks" / "01_first.html").read_text()
    assert "Minibook (student edition)" in raw
    assert "colab.research.google.com" not in raw and "mybinder.org" not in raw
    teachers = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", (site / "teachers.html").read_text()
                                             )).split())
    assert "This site is the student edition (no solutions), built in the full profile." in teachers
    assert ("The quick profile, measured by python benchmarks/full_profile_times.py --profile "
            "quick --data subset (2026-01-02; 2 CPU cores, a fixture, not a measurement; file "
            "benchmarks/quick_profile_times.json ). Each notebook ran top to bottom in a fresh "
            "kernel, in the book's order; each data set started from an empty model cache that "
            "its chapters shared, as in make book, so every model trained once:") in teachers
    assert "01_first 12 s 02_second 1 min 01 s all 1 min 13 s" in teachers
