import numpy as np
import pytest

from vaebook import metrics, training
from vaebook.models import VAE, build_decoder, build_encoder


@pytest.fixture(scope="module")
def trained_vae(mnist_small):
    from vaebook.config import set_seed

    set_seed(7)
    vae = VAE(build_encoder(4), build_decoder(4), seed=7)
    training.fit(vae, mnist_small.x_train, epochs=2, batch_size=64, lines=0)
    return vae


def test_iwae_with_one_sample_is_the_elbo_in_expectation(trained_vae, mnist_small):
    x = mnist_small.x_test[:16]
    draws = metrics.log_importance_weights(trained_vae, x, num_samples=2000, seed=1)  # (16, 2000)
    k1_mean = draws.mean(axis=1)  # average of 2000 independent IWAE(K=1) values per image
    k1_error = draws.std(axis=1) / np.sqrt(draws.shape[1])
    elbo = metrics.elbo_per_image(trained_vae, x, num_samples=2000, seed=2)  # analytic KL
    assert draws.shape == (16, 2000)
    # Same expectation; the two estimates differ only by Monte Carlo error.
    np.testing.assert_array_less(np.abs(k1_mean - elbo), 5 * k1_error + 0.05)


def test_bound_does_not_decrease_with_k(trained_vae, mnist_small):
    x = mnist_small.x_test[:32]
    bounds = [metrics.iwae_bound(trained_vae, x, k, seed=3).mean() for k in (1, 10, 100, 1000)]
    assert all(b2 >= b1 for b1, b2 in zip(bounds, bounds[1:])), bounds
    assert bounds[-1] > metrics.elbo_per_image(trained_vae, x, num_samples=10).mean()


def test_sample_chunks_do_not_change_the_estimate(trained_vae, mnist_small):
    x = mnist_small.x_test[:6]
    one = metrics.log_importance_weights(trained_vae, x, 1000, seed=4, batch_size=4,
                                       sample_chunk=1000)
    many = metrics.log_importance_weights(trained_vae, x, 1000, seed=4, batch_size=4,
                                        sample_chunk=128)
    assert one.shape == (6, 1000)
    np.testing.assert_allclose(one, many, rtol=1e-5)


def test_log_mean_exp_is_stable():
    values = np.array([[-1000.0, -1000.0], [1000.0, 1000.0 + np.log(3.0)]])
    np.testing.assert_allclose(metrics.log_mean_exp(values, axis=1),
                               [-1000.0, 1000.0 + np.log(2.0)], rtol=1e-12)


def test_nearest_neighbour_distance():
    refs = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(metrics.nearest_neighbour_distance([[3.0, 0.0], [3.0, 4.0]], refs),
                               [3.0, 0.0], atol=1e-7)
    with pytest.raises(ValueError, match="expected"):
        metrics.nearest_neighbour_distance(np.zeros((2, 3)), refs)


def test_nearest_neighbours_match_brute_force_across_chunks():
    rng = np.random.default_rng(0)
    queries, refs = rng.normal(size=(37, 5)), rng.normal(size=(23, 5))
    distances, indices = metrics.nearest_neighbours(queries, refs, chunk=8)
    brute = np.linalg.norm(queries[:, None, :] - refs[None, :, :], axis=2)
    np.testing.assert_array_equal(indices, brute.argmin(axis=1))
    np.testing.assert_allclose(distances, brute.min(axis=1), rtol=1e-9)
    # a query that is a reference finds itself at distance 0
    distances, indices = metrics.nearest_neighbours(refs[[4, 9]], refs)
    np.testing.assert_array_equal(indices, [4, 9])
    np.testing.assert_allclose(distances, 0.0, atol=1e-6)
    with pytest.raises(ValueError, match="chunk"):
        metrics.nearest_neighbours(queries, refs, chunk=0)


def test_bits_per_dim():
    assert metrics.nats_to_bits_per_dim(-784 * np.log(2.0)) == pytest.approx(-1.0)


def test_bad_sample_count(trained_vae, mnist_small):
    with pytest.raises(ValueError, match="num_samples"):
        metrics.iwae_bound(trained_vae, mnist_small.x_test[:2], 0)


def test_seed_is_explicit(trained_vae, mnist_small):
    """An int seed repeats an estimate; no seed gives a fresh one on every call."""
    x = mnist_small.x_test[:8]
    same = [metrics.iwae_bound(trained_vae, x, 5, seed=11) for _ in range(2)]
    np.testing.assert_array_equal(*same)
    fresh = [metrics.elbo_per_image(trained_vae, x, 3) for _ in range(2)]
    assert not np.array_equal(*fresh)


def test_an_autoencoder_is_refused_by_name(mnist_small):
    from vaebook.models import Autoencoder

    ae = Autoencoder(build_encoder(2, variational=False), build_decoder(2))
    for function in (metrics.iwae_bound, metrics.elbo_per_image, metrics.log_likelihood_estimate):
        with pytest.raises(TypeError, match="vae must be a vaebook.models.VAE.*got Autoencoder"):
            function(ae, mnist_small.x_test[:2], 1)


def test_reconstruction_loss_per_image_matches_evaluate(mnist_small):
    from vaebook.models import Autoencoder

    ae = Autoencoder(build_encoder(3, variational=False), build_decoder(3))
    training.fit(ae, mnist_small.x_train[:64], epochs=1, batch_size=32, lines=0)
    x = mnist_small.x_test[:40]
    per_image = metrics.reconstruction_loss_per_image(ae, x, batch_size=16)
    assert per_image.shape == (40,)
    assert per_image.mean() == pytest.approx(ae.evaluate(x, x, verbose=0), rel=1e-4)
    with pytest.raises(TypeError, match="expected a vaebook.models.Autoencoder"):
        metrics.reconstruction_loss_per_image(VAE(build_encoder(3), build_decoder(3)), x)
