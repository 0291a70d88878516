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
