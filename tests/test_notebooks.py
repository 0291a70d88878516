"""Notebook hygiene: the book executes notebooks, so they are committed clean."""

import json
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
