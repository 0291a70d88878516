"""tools/nbval_cache.py: what nbval ran reaches the build's execution cache, and only what passed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, sources: list[str]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.cells = [nbformat.v4.new_markdown_cell("# A page")]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)


def _run_nbval(folder: Path, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider",
         "-p", "tools.nbval_cache", "--nbval-cache-dir", str(cache), str(folder), "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    _notebook(folder / "good.ipynb", [
        "print('hello')\nprint('again')",
        "from IPython.display import display, HTML\ndisplay(HTML('<b>shown</b>'))\n6 * 7",
        "x = 1  # no output",
    ])
    _notebook(folder / "bad.ipynb", ["print('before')", "1 / 0", "print('never')"])
    cache = folder / "cache"
    result = _run_nbval(folder, cache)
    return folder, cache, result


def test_the_passing_notebook_is_cached_with_the_outputs_of_the_run(run):
    folder, cache, result = run
    assert "cached for the book build" in result.stdout, result.stdout + result.stderr
    # The lookup MyST-NB makes in `execute_notebooks: cache` mode: the notebook as it is on disk.
    record = get_cache(str(cache)).match_cache_notebook(nbformat.read(folder / "good.ipynb", 4))
    assert record.data["execution_seconds"] > 0
    _, merged = get_cache(str(cache)).merge_match_into_notebook(
        nbformat.read(folder / "good.ipynb", 4))
    code = [cell for cell in merged.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == [1, 2, 3]
    assert code[0].outputs[0].output_type == "stream"
    assert code[0].outputs[0].text == "hello\nagain\n"
    kinds = [output.output_type for output in code[1].outputs]
    assert kinds == ["display_data", "execute_result"]
    assert code[1].outputs[0].data["text/html"] == "<b>shown</b>"
    assert code[1].outputs[1].data["text/plain"] == "42"
    assert code[1].outputs[1].execution_count == 2
    assert code[2].outputs == []
    nbformat.validate(merged)


def test_a_notebook_with_a_failing_cell_is_not_cached(run):
    folder, cache, result = run
    assert result.returncode != 0  # nbval still fails the run
    assert "not cached (a cell failed or was skipped)" in result.stdout
    assert "bad.ipynb" in result.stdout
    with pytest.raises(KeyError):
        get_cache(str(cache)).match_cache_notebook(nbformat.read(folder / "bad.ipynb", 4))


def test_a_notebook_changed_after_the_run_is_not_matched(run):
    folder, cache, _ = run
    notebook = nbformat.read(folder / "good.ipynb", 4)
    notebook.cells[1].source += "\nprint('changed')"
    with pytest.raises(KeyError):
        get_cache(str(cache)).match_cache_notebook(notebook)
