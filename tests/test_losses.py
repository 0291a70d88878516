import numpy as np
import pytest
from keras import ops
from scipy.stats import norm

from vaebook import losses


def np_(tensor):
    return ops.convert_to_numpy(tensor)


def test_kl_is_zero_exactly_at_the_prior():
    zeros = np.zeros((3, 5), np.float32)
    np.testing.assert_array_equal(np_(losses.kl_divergence_standard_normal(zeros, zeros)), 0.0)


def test_kl_is_positive_away_from_the_prior(seeded):
    z_mean = seeded.normal(size=(4, 3)).astype(np.float32)
    z_log_var = seeded.normal(size=(4, 3)).astype(np.float32)
    assert np.all(np_(losses.kl_divergence_standard_normal(z_mean, z_log_var)) > 0)


def test_analytic_kl_matches_monte_carlo(seeded):
    z_mean = np.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.2]], np.float32)
    z_log_var = np.array([[-1.0, 0.5, 0.0], [1.0, -2.0, 0.2]], np.float32)
    analytic = np_(losses.kl_divergence_standard_normal(z_mean, z_log_var))
    n = 200_000
    std = np.exp(0.5 * z_log_var)
    z = z_mean + std * seeded.standard_normal((n,) + z_mean.shape)  # (n, batch, J)
    log_q = norm.logpdf(z, loc=z_mean, scale=std).sum(-1)
    log_p = norm.logpdf(z).sum(-1)
    monte_carlo = (log_q - log_p).mean(0)
    standard_error = (log_q - log_p).std(0) / np.sqrt(n)
    assert analytic.shape == (2,)
    np.testing.assert_array_less(np.abs(analytic - monte_carlo), 4 * standard_error)


def test_bernoulli_matches_direct_computation(seeded):
    x = (seeded.random((3, 28, 28, 1)) > 0.5).astype(np.float32)
    logits = seeded.normal(0, 3, size=(3, 28, 28, 1)).astype(np.float32)
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    direct = (x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(3, -1).sum(1)
    np.testing.assert_allclose(np_(losses.bernoulli_log_likelihood(x, logits)), direct, rtol=1e-5)
    np.testing.assert_allclose(np_(losses.reconstruction_loss(x, logits)), -direct, rtol=1e-5)


def test_bernoulli_is_finite_for_extreme_logits():
    x = np.array([[1.0, 0.0, 1.0, 0.0]], np.float32)
    logits = np.array([[-200.0, 200.0, 200.0, -200.0]], np.float32)
    value = np_(losses.bernoulli_log_likelihood(x, logits))
    np.testing.assert_allclose(value, [-400.0], rtol=1e-6)


def test_gaussian_matches_scipy(seeded):
    x = seeded.normal(size=(2, 6)).astype(np.float32)
    mean = seeded.normal(size=(2, 6)).astype(np.float32)
    log_var = seeded.normal(size=(2, 6)).astype(np.float32)
    expected = norm.logpdf(x, mean, np.exp(0.5 * log_var)).sum(1)
    np.testing.assert_allclose(np_(losses.gaussian_log_likelihood(x, mean, log_var)), expected,
                               rtol=1e-5)
    np.testing.assert_allclose(np_(losses.standard_normal_log_density(x)),
                               norm.logpdf(x).sum(1), rtol=1e-5)


def test_elbo_is_likelihood_minus_kl(seeded):
    x = (seeded.random((2, 28, 28, 1)) > 0.5).astype(np.float32)
    logits = seeded.normal(size=(2, 28, 28, 1)).astype(np.float32)
    z_mean = seeded.normal(size=(2, 4)).astype(np.float32)
    z_log_var = seeded.normal(size=(2, 4)).astype(np.float32)
    expected = np_(losses.bernoulli_log_likelihood(x, logits)) - np_(
        losses.kl_divergence_standard_normal(z_mean, z_log_var))
    np.testing.assert_allclose(np_(losses.elbo(x, logits, z_mean, z_log_var)), expected, rtol=1e-6)
