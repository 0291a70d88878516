"""Log-likelihoods and KL divergences, one number per example, in nats.

Conventions used throughout the book (and checked by the tests):

* every function here returns a tensor of shape ``(batch,)``: terms are **summed** over pixels and
  over latent dimensions, so each value is a property of one image;
* averaging over the batch happens once, in the model's ``train_step``/``test_step``;
* natural logarithms, so values are in nats (divide by ``784 * ln 2`` for bits per pixel).

The functions take Keras/TensorFlow tensors or NumPy arrays.
"""

from __future__ import annotations

import math

import keras
from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def _sum_per_example(values):
    """Sum every axis but the first: (batch, ...) -> (batch,)."""
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1)


def bernoulli_log_likelihood(x, logits):
    """log p(x | z) for a Bernoulli decoder parameterised by logits, summed over pixels.

        log p(x | z) = sum_d [x_d log sigmoid(l_d) + (1 - x_d) log(1 - sigmoid(l_d))]
                     = sum_d [x_d l_d - softplus(l_d)]

    The second form never takes the log of a sigmoid that has underflowed to 0, so it stays
    finite for any logit.

    Args:
        x: targets in [0, 1], shape (batch, 28, 28, 1) or (batch, D).
        logits: decoder outputs l = log(p / (1 - p)), same shape as ``x``.

    Returns:
        (batch,) log-likelihood of each image, in nats (always <= 0 for binary x).
    """
    x = ops.cast(x, logits.dtype)
    return _sum_per_example(x * logits - ops.softplus(logits))


def gaussian_log_likelihood(x, mean, log_var):
    r"""log N(x; mean, diag(exp(log_var))), summed over dimensions.

    .. math::
        \log \mathcal N(x; \mu, \sigma^2) = -\tfrac12 \sum_d
            \left[\log 2\pi + \log\sigma_d^2 + (x_d - \mu_d)^2 / \sigma_d^2\right]

    Args:
        x, mean: shape (batch, ...).
        log_var: log variance, broadcastable to ``mean`` (a scalar gives a shared variance).

    Returns:
        (batch,) log density of each example, in nats.
    """
    x = ops.cast(x, mean.dtype)
    log_var = ops.broadcast_to(ops.cast(log_var, mean.dtype), ops.shape(mean))
    squared = ops.square(x - mean) * ops.exp(-log_var)
    return -0.5 * _sum_per_example(LOG_2PI + log_var + squared)


def standard_normal_log_density(z):
    r"""log N(z; 0, I), summed over latent dimensions: (batch, latent_dim) -> (batch,)."""
    return -0.5 * _sum_per_example(LOG_2PI + ops.square(z))


def kl_divergence_standard_normal(z_mean, z_log_var):
    """KL( N(z_mean, diag(exp(z_log_var))) || N(0, I) ), summed over latent dimensions.

        KL(q || p) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2),  j = 1..J

    Args:
        z_mean: (batch, latent_dim) posterior means mu.
        z_log_var: (batch, latent_dim) posterior log variances log sigma^2 (not std devs).

    Returns:
        (batch,) KL of each example's posterior from the prior, in nats (>= 0, zero exactly when
        mu = 0 and log sigma^2 = 0).
    """
    return 0.5 * ops.sum(
        ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var, axis=-1
    )


def elbo(x, logits, z_mean, z_log_var):
    r"""Single-sample evidence lower bound per example, with the KL in closed form.

    .. math::
        \mathrm{ELBO}(x) = \mathbb E_{q(z\mid x)}[\log p(x\mid z)]
                           - \mathrm{KL}(q(z\mid x)\,\|\,p(z)) \le \log p(x)

    ``logits`` must be the decoder's output for a sample z ~ q(z | x), which makes the first term
    an unbiased one-sample estimate of the expectation.

    Returns:
        (batch,) ELBO of each image, in nats.
    """
    return bernoulli_log_likelihood(x, logits) - kl_divergence_standard_normal(z_mean, z_log_var)


@keras.saving.register_keras_serializable(package="vaebook")
def reconstruction_loss(x, logits):
    """Keras loss for autoencoders: -log p(x | z) per image (binary cross-entropy summed over
    pixels), shape (batch,). Keras averages it over the batch."""
    return -bernoulli_log_likelihood(x, logits)
