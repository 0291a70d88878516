"""tools/build_book.py: a book whose chapter stopped, or whose prose misses a glued value, fails.

The parsing of Jupyter Book's log and MyST-NB's execution reports on made-up text, and one real
build of the fixture book (tests/fixtures/minibook) with a claim planted to fail: it must exit 1
and name the notebook, the cell and the missing values (about 30 s; VAEBOOK_SKIP_BOOK_BUILD=1
skips it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "build_book.py"
spec = importlib.util.spec_from_file_location("build_book", SCRIPT)
build_book = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_book)

REPORT = """Traceback (most recent call last):
  File "jupyter_cache/executors/utils.py", line 58, in single_nb_execution
nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:
------------------
gap = fid["GAN"] - fid["conv VAE"]
book.claim(gap < 0, "the GAN's FID is below the convolutional VAE's")
------------------


\x1b[0;31m---------------------------------------------------------------------------\x1b[0m
\x1b[0;31mClaimError\x1b[0m                                Traceback (most recent call last)
Cell \x1b[0;32mIn[15], line 2\x1b[0m
\x1b[0;31mClaimError\x1b[0m: a claim of the prose does not hold in this run: the GAN's FID is below the convolutional VAE's
"""


def test_a_failed_notebook_is_named_with_its_cell_and_error(tmp_path):
    build = tmp_path / "_build"
    report = build / "html" / "reports" / "notebooks" / "06_vae_vs_gan.err.log"
    report.parent.mkdir(parents=True)
    report.write_text(REPORT)
    log = ("WARNING: Executing notebook failed: CellExecutionError [mystnb.exec]\n"
           f"WARNING: Notebook exception traceback saved in: {report} [mystnb.exec]\n"
           "notebooks/06_vae_vs_gan.ipynb:40002: WARNING: No key 'ch6_gan_fid' found in glue "
           "data for this document. [mystnb.missing_glue]\n"
           "WARNING: No key 'ch6_conv_fid' found in glue data for this document.\n")
    found = build_book.problems(log, build)
    assert len(found) == 2, found
    assert "notebook 06_vae_vs_gan stopped at a failed cell" in found[0]
    assert 'book.claim(gap < 0, "the GAN\'s FID is below the convolutional VAE\'s")' in found[0]
    assert ("its error: ClaimError: a claim of the prose does not hold in this run: the GAN's "
            "FID is below the convolutional VAE's") in found[0]
    assert found[1].startswith("2 glued values are missing") and "ch6_gan_fid" in found[1]
    assert build_book.problems("build succeeded.\n", build)[0].startswith("notebook 06_vae")
    report.unlink()
    assert build_book.problems("build succeeded.\n", build) == []
    assert build_book.problems("WARNING: Executing notebook failed: X", build) != []


def test_the_build_folder_follows_path_output():
    assert build_book.output_dir(["build", "."]) == Path("_build")
    assert build_book.output_dir(["build", ".", "--path-output", "_build/test", "-W"]) == Path(
        "_build/test/_build")


def test_makefile_builds_every_edition_through_it():
    makefile = (ROOT / "Makefile").read_text()
    assert "export VAEBOOK_STRICT := 1" in makefile
    for target in ("book", "test-book", "student", "student-check"):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert "$(BUILD) " in recipe and "$(JB) build" not in recipe, target


@pytest.mark.skipif(os.environ.get("VAEBOOK_SKIP_BOOK_BUILD") == "1",
                    reason="VAEBOOK_SKIP_BOOK_BUILD=1")
def test_a_book_with_a_failed_claim_fails_and_names_it(tmp_path, minibook):
    _, book = minibook
    path = book / "notebooks" / "02_second.ipynb"
    notebook = json.loads(path.read_text())
    planted = ("from vaebook import book\n"
               "book.claim(1 + 1 == 3, 'a planted claim that does not hold')")
    glue_cell = next(i for i, c in enumerate(notebook["cells"]) if "glue(" in "".join(c["source"]))
    notebook["cells"].insert(glue_cell, {"cell_type": "code", "execution_count": None,
                                         "metadata": {"tags": ["remove-cell"]}, "outputs": [],
                                         "source": planted})
    path.write_text(json.dumps(notebook))
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--", "build", str(book), "--builder", "html"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "VAEBOOK_STRICT": "1", "VAEBOOK_PROFILE": "quick"})
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "BUILD FAILED" in result.stderr
    assert "notebook 02_second stopped at a failed cell" in result.stderr
    assert "a planted claim that does not hold" in result.stderr
    assert "glued values are missing" in result.stderr and "mb_gap" in result.stderr
    assert (book / "_build" / "build.log").exists()


@pytest.mark.skipif(os.environ.get("VAEBOOK_SKIP_BOOK_BUILD") == "1",
                    reason="VAEBOOK_SKIP_BOOK_BUILD=1")
def test_notebooks_run_side_by_side_then_render_from_the_cache(tmp_path, minibook):
    _, book = minibook
    command = [sys.executable, str(SCRIPT), "--jobs", "2", "--first",
               str(book / "notebooks" / "02_second.ipynb"), "--", "build", str(book),
               "--builder", "html"]
    env = {**os.environ, "VAEBOOK_STRICT": "1", "VAEBOOK_PROFILE": "quick"}
    env.pop("TF_NUM_INTRAOP_THREADS", None)
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                            env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "[run] 2 notebooks, 2 at a time: 02_second.ipynb, 01_first.ipynb" in result.stdout
    assert result.stdout.count("ran through in") == 2
    # the build executed nothing itself: both notebooks came from the cache the run filled
    assert result.stdout.count("Using cached notebook") == 2, result.stdout[-3000:]
    assert "Executing notebook using" not in result.stdout
    # a second build finds both in the cache and runs nothing
    again = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                           env=env)
    assert again.returncode == 0 and again.stdout.count(": in the execution cache") == 2


@pytest.mark.skipif(os.environ.get("VAEBOOK_SKIP_BOOK_BUILD") == "1",
                    reason="VAEBOOK_SKIP_BOOK_BUILD=1")
def test_a_notebook_that_fails_side_by_side_stops_the_build_and_is_named(tmp_path, minibook):
    _, book = minibook
    path = book / "notebooks" / "01_first.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                              "outputs": [], "source": "raise ValueError('planted failure')"})
    path.write_text(json.dumps(notebook))
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--jobs", "2", "--", "build", str(book), "--builder",
         "html"], capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "VAEBOOK_STRICT": "1", "VAEBOOK_PROFILE": "quick"})
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "the book was not built" in result.stderr
    assert "notebook 01_first stopped at a failed cell" in result.stderr
    assert "raise ValueError('planted failure')" in result.stderr
    assert "ValueError: planted failure" in result.stderr
    assert not (book / "_build" / "html" / "index.html").exists()
