import keras
import numpy as np
import pytest

from vaebook import training
from vaebook.models import VAE, Autoencoder, build_decoder, build_encoder


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_shapes(kind, mnist_small):
    x = mnist_small.x_test[:5]
    z_mean, z_log_var = build_encoder(3, kind)(x)
    assert z_mean.shape == (5, 3) and z_log_var.shape == (5, 3)
    assert build_encoder(3, kind, variational=False)(x).shape == (5, 3)
    assert build_decoder(3, kind)(np.zeros((5, 3), np.float32)).shape == (5, 28, 28, 1)
    vae = VAE(build_encoder(3, kind), build_decoder(3, kind), seed=0)
    assert vae(x).shape == (5, 28, 28, 1)
    assert vae.sample(4).shape == (4, 28, 28, 1)
    assert vae.reconstruct(x).min() >= 0 and vae.reconstruct(x).max() <= 1


def _one_step_reduces_loss(model, x):
    training.compile_model(model, learning_rate=1e-3)
    before = model.evaluate(x, None if isinstance(model, VAE) else x, verbose=0, return_dict=True)
    model.fit(x, None if isinstance(model, VAE) else x, batch_size=len(x), epochs=1, verbose=0)
    after = model.evaluate(x, None if isinstance(model, VAE) else x, verbose=0, return_dict=True)
    return before["loss"], after["loss"]


def test_one_training_step_reduces_the_loss(mnist_small, seeded):
    x = mnist_small.x_train[:64]
    before, after = _one_step_reduces_loss(
        Autoencoder(build_encoder(4, variational=False), build_decoder(4)), x)
    assert after < before
    # The VAE's loss is stochastic; a fixed seed makes the comparison a fixed one.
    before, after = _one_step_reduces_loss(VAE(build_encoder(4), build_decoder(4), seed=3), x)
    assert after < before


def test_vae_reports_elbo_terms_consistently(mnist_small, seeded):
    vae = VAE(build_encoder(2), build_decoder(2), beta=4.0, seed=0)
    training.compile_model(vae)
    result = vae.evaluate_terms(mnist_small.x_test)
    assert set(result) == {"loss", "elbo", "reconstruction", "kl"}
    assert result["elbo"] == pytest.approx(-(result["reconstruction"] + result["kl"]), rel=1e-5)
    assert result["loss"] == pytest.approx(result["reconstruction"] + 4.0 * result["kl"], rel=1e-5)


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_save_load_round_trip(kind, mnist_small, tmp_path, seeded):
    x = mnist_small.x_test[:8]
    vae = VAE(build_encoder(2, kind), build_decoder(2, kind), beta=2.0, seed=5)
    training.fit(vae, mnist_small.x_train[:64], epochs=1, batch_size=32, lines=0)
    vae.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    assert isinstance(loaded, VAE) and loaded.beta == 2.0
    np.testing.assert_array_equal(loaded.reconstruct(x), vae.reconstruct(x))
    np.testing.assert_array_equal(loaded.posterior(x).log_var, vae.posterior(x).log_var)

    ae = Autoencoder(build_encoder(2, kind, variational=False), build_decoder(2, kind))
    training.fit(ae, mnist_small.x_train[:64], epochs=1, batch_size=32, lines=0)
    ae.save(tmp_path / "ae.keras")
    loaded = keras.saving.load_model(tmp_path / "ae.keras")
    np.testing.assert_array_equal(loaded.reconstruct(x), ae.reconstruct(x))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: build_encoder(0), "latent_dim must be a positive int"),
        (lambda: build_decoder(2, "resnet"), r"kind must be one of \('dense', 'conv'\), got 'resnet'"),
        (lambda: VAE(build_encoder(2, variational=False), build_decoder(2)), "variational encoder"),
        (lambda: VAE(build_encoder(2), build_decoder(2), beta=-1), "beta must be"),
        (lambda: VAE(build_encoder(2), build_decoder(2)).sample(0), "num_samples"),
        (lambda: VAE(build_encoder(2), build_decoder(2)).decode(np.zeros((3, 5))), r"shape \(N, 2\)"),
        (lambda: VAE(build_encoder(2), build_decoder(2)).encode(np.ones((3, 28, 28, 1)) * 3),
         r"\[0, 1\]"),
    ],
)
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_autoencoder_and_vae_encode_alike(mnist_small):
    """``encode`` gives codes (N, J) for both models; only the VAE has a posterior."""
    x = mnist_small.x_test[:5]
    vae = VAE(build_encoder(3), build_decoder(3))
    ae = Autoencoder(build_encoder(3, variational=False), build_decoder(3))
    posterior = vae.posterior(x)
    assert posterior.mean.shape == posterior.log_var.shape == (5, 3)
    np.testing.assert_array_equal(vae.encode(x), posterior.mean)
    assert ae.encode(x).shape == (5, 3)
    # Batching does not change the result.
    np.testing.assert_allclose(vae.encode(x, batch_size=2), posterior.mean, atol=1e-5)


def test_vae_widths_set_both_networks_and_round_trip():
    from vaebook.models import VAEConfig

    dense = VAEConfig(latent_dim=2, widths=(64, 32)).build()
    units = [layer.units for layer in dense.encoder.layers if hasattr(layer, "units")]
    assert units[:2] == [64, 32]
    decoder_units = [layer.units for layer in dense.decoder.layers if hasattr(layer, "units")]
    assert decoder_units[:2] == [32, 64]
    conv = VAEConfig(latent_dim=2, kind="conv", widths=[8, 16])
    filters = [layer.filters for layer in conv.build().encoder.layers if hasattr(layer, "filters")]
    assert filters == [8, 16] and conv.widths == (8, 16)
    assert VAEConfig.from_dict(conv.as_dict()).as_dict() == conv.as_dict()
    # the record of a default-width VAE has no widths: its cache entries are what they were
    assert "widths" not in VAEConfig().as_dict()
    assert VAEConfig.from_dict(VAEConfig().as_dict()).widths is None
