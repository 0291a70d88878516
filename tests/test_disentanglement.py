"""Chapter 3's library: the MIG and the per-dimension metrics, the capacity objective, the image
shape as a parameter of the models, and VAEConfig in the model cache."""

import json

import keras
import numpy as np
import pytest

from vaebook import config, metrics, shapes, training, zoo
from vaebook.models import VAE, VAEConfig, build_decoder, build_encoder, capacity_schedule


@pytest.fixture(scope="module")
def shapes_small():
    return shapes.load_shapes(256, 64, image_size=32, seed=0, verbose=False)


@pytest.fixture(scope="module")
def factors():
    """(4000, 5) factor indices on the dSprites grid, drawn uniformly."""
    rng = np.random.default_rng(0)
    return np.stack([rng.integers(0, size, 4000) for size in shapes.FACTOR_SIZES], axis=1)


# The mutual information gap.

def test_mig_is_one_for_a_code_that_copies_each_factor(factors):
    codes = factors + np.random.default_rng(1).uniform(0, 0.5, factors.shape)  # jitter in a bin
    result = metrics.mutual_information_gap(codes, factors, n_bins=40)
    assert result.score > 0.95
    np.testing.assert_array_equal(result.latent_per_factor, np.arange(5))
    np.testing.assert_array_equal(result.factor_per_latent, np.arange(5))
    # With the usual 20 bins, a factor with 40 values loses half of them to the binning:
    # its gap is at most log 20 / log 40.
    default = metrics.mutual_information_gap(codes, factors)
    assert default.gaps[2] == pytest.approx(np.log(20) / np.log(40), abs=0.03)
    assert default.gaps[0] > 0.95


def test_mig_is_zero_for_noise_and_for_a_code_that_copies_each_factor_twice(factors):
    noise = np.random.default_rng(2).standard_normal((len(factors), 10))
    assert metrics.mutual_information_gap(noise, factors).score < 0.02
    twice = np.repeat(factors, 2, axis=1).astype(float)  # z = (v1, v1, v2, v2, ...)
    assert metrics.mutual_information_gap(twice, factors).score == pytest.approx(0.0, abs=1e-9)
    # An invertible rescaling of one copy is still "alike": the same bins, the same information.
    twice[:, 1::2] = 3.0 * twice[:, 1::2] - 7.0
    assert metrics.mutual_information_gap(twice, factors).score == pytest.approx(0.0, abs=1e-9)


def test_mig_ignores_a_constant_factor_and_normalises_by_entropy(factors):
    with_constant = np.concatenate([factors[:, :2], np.zeros((len(factors), 1), int)], axis=1)
    result = metrics.mutual_information_gap(factors[:, :2].astype(float) + 0.1, with_constant)
    assert np.isnan(result.gaps[2]) and result.score == pytest.approx(np.mean(result.gaps[:2]))
    np.testing.assert_allclose(result.entropies[:2], np.log([3, 6]), atol=0.01)


@pytest.mark.parametrize("codes, factor_values, kwargs, message", [
    (np.zeros((10, 1)), np.zeros((10, 2), int), {}, "J >= 2"),
    (np.zeros((10, 3)), np.zeros((9, 2), int), {}, "N = 10 like codes"),
    (np.zeros((10, 3)), np.zeros((10, 2)), {}, "integer"),
    (np.zeros((10, 3)), np.arange(20).reshape(10, 2), {"n_bins": 1}, "n_bins must be at least 2"),
    (np.full((10, 3), np.nan), np.zeros((10, 2), int), {}, "NaN"),
    (np.zeros((10, 3)), np.zeros((10, 2), int), {}, "single value"),
])
def test_mig_bad_arguments(codes, factor_values, kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.mutual_information_gap(codes, factor_values, **kwargs)


# Models for other image shapes.

@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_models_take_the_image_shape(kind, shapes_small):
    vae = VAE(build_encoder(3, kind, image_shape=(32, 32, 1)),
              build_decoder(3, kind, image_shape=(32, 32, 1)), seed=0)
    assert vae.image_shape == (32, 32, 1)
    assert vae(shapes_small.x_test[:4]).shape == (4, 32, 32, 1)
    assert vae.reconstruct(shapes_small.x_test[:4]).shape == (4, 32, 32, 1)
    assert vae.sample(2).shape == (2, 32, 32, 1)
    with pytest.raises(ValueError, match=r"x must be images of shape \(N, 32, 32, 1\).*got shape \(2, 28, 28, 1\)"):
        vae.encode(np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(ValueError, match=r"x_train must be images of shape \(N, 32, 32, 1\)"):
        training.fit(vae, np.zeros((8, 28, 28, 1), np.float32), epochs=1, lines=0)


@pytest.mark.parametrize("call, message", [
    (lambda: build_encoder(2, "conv", image_shape=(30, 30, 1)), "divisible by 4"),
    (lambda: build_decoder(2, image_shape=(32, 32)), "image_shape must be"),
    (lambda: VAE(build_encoder(2, image_shape=(32, 32, 1)), build_decoder(2)),
     r"decoder must return logits of the encoder's input shape \(32, 32, 1\)"),
])
def test_bad_image_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# The capacity objective.

def test_capacity_schedule_rises_linearly_then_holds():
    values = [float(capacity_schedule(step, 12.0, 400)) for step in (0, 100, 200, 400, 1000)]
    assert values == pytest.approx([0.0, 3.0, 6.0, 12.0, 12.0])


def test_capacity_objective_follows_the_optimizer_step(shapes_small, seeded):
    vae = VAEConfig(latent_dim=4, capacity=10.0, capacity_steps=8, gamma=50.0,
                    image_shape=(32, 32, 1), seed=1).build()
    assert float(vae.current_capacity()) == 10.0  # no optimizer yet: the end of the schedule
    training.compile_model(vae)
    assert float(vae.current_capacity()) == 0.0
    history = training.fit(vae, shapes_small.x_train[:128], epochs=1, batch_size=32, lines=0)
    assert set(history) >= {"loss", "elbo", "reconstruction", "kl"}
    assert int(vae.optimizer.iterations) == 4 and float(vae.current_capacity()) == 5.0
    x = shapes_small.x_test
    result = vae.evaluate_terms(x, batch_size=len(x))
    assert result["elbo"] == pytest.approx(-(result["reconstruction"] + result["kl"]), rel=1e-5)
    # |KL - C| per image: at least |mean KL - C|, and equal to it when every KL is above C.
    posterior = vae.posterior(x)
    kl = 0.5 * np.sum(posterior.mean**2 + np.exp(posterior.log_var) - 1 - posterior.log_var, axis=1)
    assert result["loss"] == pytest.approx(
        result["reconstruction"] + 50.0 * np.mean(np.abs(kl - 5.0)), rel=1e-4)


def test_capacity_is_saved_and_restored(shapes_small, tmp_path, seeded):
    vae = VAEConfig(latent_dim=3, kind="conv", capacity=7.5, capacity_steps=100, gamma=20.0,
                    image_shape=(32, 32, 1), seed=2).build()
    training.fit(vae, shapes_small.x_train[:64], epochs=1, batch_size=32, lines=0)
    vae.save(tmp_path / "capacity.keras")
    loaded = keras.saving.load_model(tmp_path / "capacity.keras")
    assert isinstance(loaded, VAE) and loaded.image_shape == (32, 32, 1)
    assert (loaded.capacity, loaded.capacity_steps, loaded.gamma) == (7.5, 100, 20.0)
    np.testing.assert_array_equal(loaded.encode(shapes_small.x_test),
                                  vae.encode(shapes_small.x_test))
    assert float(loaded.current_capacity()) == pytest.approx(float(vae.current_capacity()))


@pytest.mark.parametrize("kwargs, message", [
    ({"beta": -1.0}, r"beta must be a finite number >= 0, got -1.0"),
    ({"capacity": -2.0}, r"capacity \(C_max, nats\) must be a finite number >= 0"),
    ({"capacity": 5.0, "gamma": -1.0}, "gamma must be a finite number >= 0"),
    ({"capacity": 5.0, "capacity_steps": 0}, "capacity_steps must be a positive int"),
    ({"capacity": 5.0, "beta": 4.0}, "leave beta at 1.0"),
    ({"kind": "resnet"}, "kind must be one of"),
    ({"image_shape": (30, 30, 1), "kind": "conv"}, "divisible by 4"),
    ({"seed": -1}, "seed must be a non-negative int"),
])
def test_bad_objective_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VAEConfig(latent_dim=2, **kwargs)
    if set(kwargs) <= {"beta", "capacity", "gamma", "capacity_steps"}:
        with pytest.raises(ValueError, match=message):
            VAE(build_encoder(2), build_decoder(2), **kwargs)


# Per-dimension metrics, rate and distortion.

def test_kl_per_dimension_active_units_and_rate_distortion(shapes_small, seeded):
    vae = VAEConfig(latent_dim=4, image_shape=(32, 32, 1), seed=3).build()
    training.fit(vae, shapes_small.x_train, epochs=2, batch_size=32, lines=0)
    x = shapes_small.x_test
    per_dimension = metrics.kl_per_dimension(vae, x)
    assert per_dimension.shape == (4,) and np.all(per_dimension >= 0)
    terms = vae.evaluate_terms(x, batch_size=len(x))
    assert per_dimension.sum() == pytest.approx(terms["kl"], rel=1e-4)
    result = metrics.rate_distortion(vae, x, seed=0, num_samples=50)
    assert result.rate == pytest.approx(per_dimension.sum())
    assert result.elbo == pytest.approx(metrics.elbo_per_image(vae, x, 50, seed=0).mean(), rel=1e-5)
    assert metrics.rate_distortion(vae, x, seed=0) == metrics.rate_distortion(vae, x, seed=0)
    variances = np.var(vae.encode(x), axis=0)
    assert metrics.active_units(vae, x) == int(np.sum(variances > 0.01))
    assert metrics.active_units(vae, x, threshold=1e9) == 0
    assert metrics.active_units(vae, x, threshold=np.float32(0.01)) == metrics.active_units(vae, x)
    with pytest.raises(ValueError, match="threshold must be"):
        metrics.active_units(vae, x, threshold=-1.0)
    with pytest.raises(ValueError, match=r"\(N, 32, 32, 1\)"):
        metrics.kl_per_dimension(vae, np.zeros((2, 28, 28, 1), np.float32))


# The model cache: VAEConfig, the shapes data, and the old keyword calls.

def test_zoo_trains_a_configured_vae_on_shapes(shapes_small, cache_dir, capsys):
    profile = config.get_profile("quick")
    settings = VAEConfig(latent_dim=3, beta=4.0, seed=1)  # image_shape None: the data's
    model, history = zoo.trained_model("t-shapes", shapes_small, profile, config=settings,
                                       epochs=1, batch_size=32)
    assert model.image_shape == (32, 32, 1) and model.beta == 4.0
    again, _ = zoo.trained_model("t-shapes", shapes_small, profile, config=settings, epochs=1,
                                 batch_size=32)
    assert "loaded t-shapes from cache" in capsys.readouterr().out
    x = shapes_small.x_test
    np.testing.assert_array_equal(again.encode(x), model.encode(x))
    entry = json.loads(next(cache_dir.glob("t-shapes-*/config.json")).read_text())
    rebuilt = VAEConfig.from_dict(entry["config"]["model"])
    assert rebuilt == VAEConfig(latent_dim=3, beta=4.0, seed=1, image_shape=(32, 32, 1))
    # The keyword call of Chapters 1-2 still works, with the image shape from the data.
    keyword, _ = zoo.trained_model("t-keyword", shapes_small, profile, model_type="vae",
                                   latent_dim=2, epochs=1, batch_size=64)
    assert keyword.image_shape == (32, 32, 1)
    autoencoder, _ = zoo.trained_model("t-ae", shapes_small, profile, model_type="autoencoder",
                                       latent_dim=2, epochs=1, batch_size=64)
    assert autoencoder.reconstruct(x).shape == x.shape
    with pytest.raises(ValueError, match="either as config= or as keywords"):
        zoo.trained_model("t", shapes_small, profile, config=settings, latent_dim=4, epochs=1)
    with pytest.raises(ValueError, match="does not match the data's images"):
        zoo.trained_model("t", shapes_small, profile, epochs=1,
                          config=VAEConfig(latent_dim=2, image_shape=(28, 28, 1)))
    with pytest.raises(ValueError, match="pass config=VAEConfig"):
        zoo.trained_model("t", shapes_small, profile, epochs=1)


def test_benchmark_script_runs(tmp_path):
    """Smoke run of benchmarks/beta_vae_mig.py (tiny settings): it trains, evaluates and writes."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "beta_vae_mig.py"
    result = subprocess.run(
        [sys.executable, str(script), "--n-train", "256", "--n-test", "128", "--betas", "1",
         "--beta-epochs", "1", "--capacity-epochs", "1", "--capacity-steps", "5",
         "--mnist-epochs", "0", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads((tmp_path / "beta_vae_results.json").read_text())
    beta_row, capacity_row = payload["results"]["shapes"]
    assert beta_row["beta"] == 1.0 and capacity_row["capacity"] == 8.0
    assert 0.0 <= capacity_row["mig"] <= 1.0 and len(capacity_row["gaps"]) == 5
    assert payload["results"]["mnist"] == []  # --mnist-epochs 0: no MNIST sweep
    assert "| capacity C = 8 nats over 5 steps" in (tmp_path / "beta_vae_results.md").read_text()
