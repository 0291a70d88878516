r"""How good is a generative model? Likelihood bounds and estimates, per image, in nats.

Importance sampling with the encoder as proposal gives, for K samples z_k ~ q(z | x),

.. math::
    \mathcal L_K(x) = \log \frac1K \sum_{k=1}^K w_k, \qquad
    w_k = \frac{p(x \mid z_k)\, p(z_k)}{q(z_k \mid x)},

the importance-weighted bound (IWAE, Burda et al., 2016). Its expectation is a lower bound on
log p(x) for every K, equals the ELBO for K = 1, never decreases as K grows, and converges to
log p(x) as K -> infinity. With K = 1000 it is the usual "importance-sampled estimate of log p(x)".
A single draw of L_K is a noisy estimate; averaged over many test images it is a tight one.

Everything is computed with the stable log-sum-exp and batched over images and samples, so
K = 1000 on thousands of images fits in a few hundred MB on a CPU.
"""

from __future__ import annotations

import math

import numpy as np
from keras import ops

from . import losses
from .data import check_images, check_positive_int


def _check_vae(model):
    """A likelihood bound needs q(z | x): refuse anything that is not a VAE, by name."""
    from .models import VAE

    if not isinstance(model, VAE):
        raise TypeError(
            "expected a vaebook.models.VAE (a model with a posterior q(z|x)), got "
            f"{type(model).__name__}: an autoencoder's code is a point, so it has no ELBO or "
            "likelihood bound; compare it through its reconstruction loss instead"
        )


def posterior_sample_terms(vae, x, num_samples: int, *, seed: int | None,
                           batch_size: int = 100, sample_chunk: int = 100):
    r"""Draw K samples z_k ~ q(z | x) per image and return, each (N, K) float64 in nats,

    * ``log_px_given_z``: log p(x | z_k), the decoder's Bernoulli log-likelihood, and
    * ``log_prior_ratio``: log p(z_k) - log q(z_k | x).

    Args:
        vae: a trained :class:`vaebook.models.VAE`.
        x: images (N, 28, 28, 1) in [0, 1].
        num_samples: K, samples per image.
        seed: seed of the sampling noise; ``None`` draws fresh noise on every call (a new
            estimate), an int gives the same samples, hence the same number, every time.
        batch_size: images decoded together; ``batch_size * sample_chunk`` decoder passes are held
            in memory at once (100 x 100 x 784 floats = 31 MB).
        sample_chunk: samples per image decoded together. The noise is drawn per image batch
            (B x K x J floats, 6 MB for K = 1000, J = 16), so the result does not depend on it.
    """
    _check_vae(vae)
    x = check_images(x, "x")
    for name, value in [("num_samples", num_samples), ("batch_size", batch_size),
                        ("sample_chunk", sample_chunk)]:
        check_positive_int(name, value)
    rng = np.random.default_rng(seed)
    z_mean, z_log_var = vae.posterior(x)  # (N, J) each
    latent_dim = z_mean.shape[1]
    log_px_given_z = np.empty((len(x), num_samples), dtype=np.float64)
    log_prior_ratio = np.empty_like(log_px_given_z)
    for start in range(0, len(x), batch_size):
        images = x[start:start + batch_size]  # (B, 28, 28, 1)
        mean, log_var = z_mean[start:start + batch_size], z_log_var[start:start + batch_size]
        n_images = len(images)
        noise = rng.standard_normal((num_samples, n_images, latent_dim)).astype(np.float32)
        for k0 in range(0, num_samples, sample_chunk):
            k = min(sample_chunk, num_samples - k0)
            z = (mean + np.exp(0.5 * log_var) * noise[k0:k0 + k]).reshape(k * n_images, latent_dim)
            logits = vae.decoder(z, training=False)  # (k*B, 28, 28, 1)
            repeated = np.tile(images, (k, 1, 1, 1))  # sample-major, matches z's order
            log_lik = losses.bernoulli_log_likelihood(repeated, logits)
            log_ratio = losses.standard_normal_log_density(z) - losses.gaussian_log_likelihood(
                z, np.tile(mean, (k, 1)), np.tile(log_var, (k, 1)))
            # (k*B,) -> (B, k): rows are images, columns are samples.
            rows = slice(start, start + n_images)
            log_px_given_z[rows, k0:k0 + k] = ops.convert_to_numpy(log_lik).reshape(k, n_images).T
            log_prior_ratio[rows, k0:k0 + k] = ops.convert_to_numpy(log_ratio).reshape(k, n_images).T
    return log_px_given_z, log_prior_ratio


def log_importance_weights(vae, x, num_samples: int, *, seed: int | None,
                           **kwargs) -> np.ndarray:
    r"""log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x) for z_k ~ q(z | x): (N, K) in nats.

    ``seed`` and ``kwargs`` (batch_size, sample_chunk) as in :func:`posterior_sample_terms`.
    """
    log_px_given_z, log_prior_ratio = posterior_sample_terms(vae, x, num_samples, seed=seed,
                                                             **kwargs)
    return log_px_given_z + log_prior_ratio


def log_mean_exp(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(mean(exp(values))) along ``axis``, without overflow: max + log mean exp(v - max)."""
    values = np.asarray(values, dtype=np.float64)
    peak = np.max(values, axis=axis, keepdims=True)
    return np.squeeze(peak, axis) + np.log(np.mean(np.exp(values - peak), axis=axis))


def iwae_bound(vae, x, num_samples: int, *, seed: int | None = None, **kwargs) -> np.ndarray:
    """The importance-weighted bound L_K per image, (N,) in nats.

    ``seed=None`` gives a fresh estimate on every call; pass an int to repeat one. ``kwargs``
    (batch_size, sample_chunk) go to :func:`posterior_sample_terms`.
    """
    return log_mean_exp(log_importance_weights(vae, x, num_samples, seed=seed, **kwargs), axis=1)


def log_likelihood_estimate(vae, x, num_samples: int = 1000, *, seed: int | None = None,
                            **kwargs) -> np.ndarray:
    """Importance-sampled estimate of log p(x) per image (L_K with K = 1000 by default), (N,)."""
    return iwae_bound(vae, x, num_samples, seed=seed, **kwargs)


def elbo_per_image(vae, x, num_samples: int = 1, *, seed: int | None = None,
                   **kwargs) -> np.ndarray:
    """ELBO per image, (N,) in nats: the reconstruction term averaged over ``num_samples`` draws
    z ~ q(z | x), minus the KL in closed form (:func:`vaebook.losses.kl_divergence_standard_normal`).

    ``seed=None`` gives a fresh estimate on every call; pass an int to repeat one.
    """
    log_px_given_z, _ = posterior_sample_terms(vae, x, num_samples, seed=seed, **kwargs)
    posterior = vae.posterior(x)
    kl = ops.convert_to_numpy(losses.kl_divergence_standard_normal(posterior.mean,
                                                                   posterior.log_var))
    return log_px_given_z.mean(axis=1) - kl


def reconstruction_loss_per_image(autoencoder, x, targets=None, batch_size: int = 256) -> np.ndarray:
    """-log p(targets | z) per image for an autoencoder's code z of x, (N,) in nats.

    ``targets`` defaults to ``x``; pass the clean images when ``x`` is noisy (denoising). The mean
    over images is what ``autoencoder.evaluate(x, targets)`` reports, computed eagerly: looping
    ``evaluate`` over many models makes TensorFlow print retracing warnings.
    """
    from .models import Autoencoder

    if not isinstance(autoencoder, Autoencoder):
        raise TypeError(
            "expected a vaebook.models.Autoencoder, got "
            f"{type(autoencoder).__name__}: a VAE's reconstruction term needs samples of its "
            "posterior; use elbo_per_image for a VAE"
        )
    x = check_images(x, "x")
    targets = x if targets is None else check_images(targets, "targets")
    if len(targets) != len(x):
        raise ValueError(f"targets must have one image per input: {len(targets)} for {len(x)}")
    check_positive_int("batch_size", batch_size)
    values = []
    for start in range(0, len(x), batch_size):
        logits = autoencoder(x[start:start + batch_size], training=False)
        values.append(ops.convert_to_numpy(
            -losses.bernoulli_log_likelihood(targets[start:start + batch_size], logits)))
    return np.concatenate(values).astype(np.float64)


def nats_to_bits_per_dim(nats_per_image, num_dims: int = 784):
    """Convert a log-likelihood in nats per image to bits per pixel."""
    return np.asarray(nats_per_image) / (num_dims * math.log(2.0))


def nearest_neighbour_distance(queries, references) -> np.ndarray:
    """Euclidean distance from each query (N, J) to its nearest reference (M, J): (N,)."""
    queries = np.asarray(queries, dtype=np.float64)
    references = np.asarray(references, dtype=np.float64)
    if queries.ndim != 2 or references.ndim != 2 or queries.shape[1] != references.shape[1]:
        raise ValueError(
            f"expected (N, J) and (M, J) arrays, got {queries.shape} and {references.shape}"
        )
    squared = (
        np.sum(queries**2, axis=1)[:, None]
        - 2.0 * queries @ references.T
        + np.sum(references**2, axis=1)[None, :]
    )
    return np.sqrt(np.maximum(squared.min(axis=1), 0.0))
