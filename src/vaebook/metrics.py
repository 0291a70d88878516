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

from . import checks, losses

# The loss functions' formulas without their argument checks: the entry points below check the
# images once, and the inner loop then runs on the decoder's own outputs.
_bernoulli_log_likelihood = losses.bernoulli_log_likelihood.__wrapped__
_gaussian_log_likelihood = losses.gaussian_log_likelihood.__wrapped__
_standard_normal_log_density = losses.standard_normal_log_density.__wrapped__
_kl_divergence_standard_normal = losses.kl_divergence_standard_normal.__wrapped__


def _check_vae(model, name: str = "vae"):
    """A likelihood bound needs q(z | x): refuse anything that is not a VAE, by name."""
    return checks.vae(model, name)


def _checked_inputs(vae, x, num_samples, seed, batch_size, sample_chunk):
    """The arguments shared by every estimate, checked; images must be binary (Bernoulli)."""
    _check_vae(vae)
    x = checks.images(x, "x", image_shape=vae.image_shape, binary=True)
    return (x, checks.positive_int(num_samples, "num_samples"),
            checks.seed(seed, allow_none=True), checks.positive_int(batch_size, "batch_size"),
            checks.positive_int(sample_chunk, "sample_chunk"))


def image_noise(seed: int | None, first_image: int, n_images: int, num_samples: int,
                latent_dim: int) -> np.ndarray:
    """Standard normal noise (num_samples, n_images, latent_dim), float32, one stream per image.

    Image ``i`` of the data set (``first_image + column``) always gets the same stream,
    ``SeedSequence(entropy, spawn_key=(i,))``, whatever batch it falls in: so with a fixed seed
    each image's estimate is the same for every ``batch_size`` and ``sample_chunk``, and its
    first k samples are the same for every K >= k. ``seed`` is an int, or an entropy drawn
    once per call by the caller (see :func:`_entropy`).
    """
    noise = np.empty((num_samples, n_images, latent_dim), dtype=np.float32)
    for column in range(n_images):
        stream = np.random.SeedSequence(seed, spawn_key=(first_image + column,))
        noise[:, column, :] = np.random.default_rng(stream).standard_normal(
            (num_samples, latent_dim), dtype=np.float32)
    return noise


def _entropy(seed: int | None) -> int:
    """The seed itself, or for ``None`` fresh entropy from the operating system (a new estimate
    on every call, still one stream per image within the call)."""
    return np.random.SeedSequence(seed).entropy


def _sample_terms(vae, x, z_mean, z_log_var, num_samples, seed, batch_size, sample_chunk):
    """posterior_sample_terms on checked inputs and a computed posterior (N, J) each."""
    entropy = _entropy(seed)
    latent_dim = z_mean.shape[1]
    log_px_given_z = np.empty((len(x), num_samples), dtype=np.float64)
    log_prior_ratio = np.empty_like(log_px_given_z)
    for start in range(0, len(x), batch_size):
        images = x[start:start + batch_size]  # (B, 28, 28, 1)
        mean, log_var = z_mean[start:start + batch_size], z_log_var[start:start + batch_size]
        n_images = len(images)
        noise = image_noise(entropy, start, n_images, num_samples, latent_dim)  # (K, B, J)
        for k0 in range(0, num_samples, sample_chunk):
            k = min(sample_chunk, num_samples - k0)
            z = (mean + np.exp(0.5 * log_var) * noise[k0:k0 + k]).reshape(k * n_images, latent_dim)
            logits = vae.decoder(z, training=False)  # (k*B, 28, 28, 1)
            repeated = np.tile(images, (k, 1, 1, 1))  # sample-major, matches z's order
            log_lik = _bernoulli_log_likelihood(repeated, logits)
            log_ratio = _standard_normal_log_density(z) - _gaussian_log_likelihood(
                z, np.tile(mean, (k, 1)), np.tile(log_var, (k, 1)))
            # (k*B,) -> (B, k): rows are images, columns are samples.
            rows = slice(start, start + n_images)
            log_px_given_z[rows, k0:k0 + k] = ops.convert_to_numpy(log_lik).reshape(k, n_images).T
            log_prior_ratio[rows, k0:k0 + k] = ops.convert_to_numpy(log_ratio).reshape(k, n_images).T
    return log_px_given_z, log_prior_ratio


def posterior_sample_terms(vae, x, num_samples: int, *, seed: int | None,
                           batch_size: int = 100, sample_chunk: int = 100):
    r"""Draw K samples z_k ~ q(z | x) per image and return, each (N, K) float64 in nats,

    * ``log_px_given_z``: log p(x | z_k), the decoder's Bernoulli log-likelihood, and
    * ``log_prior_ratio``: log p(z_k) - log q(z_k | x).

    Args:
        vae: a trained :class:`vaebook.models.VAE`.
        x: binary images (N, 28, 28, 1) (the model's image shape), each pixel 0 or 1.
        num_samples: K, samples per image.
        seed: seed of the sampling noise; ``None`` draws fresh noise on every call (a new
            estimate), an int gives the same samples, hence the same number, every time.
        batch_size: images decoded together; ``batch_size * sample_chunk`` decoder passes are held
            in memory at once (100 x 100 x 784 floats = 31 MB).
        sample_chunk: samples per image decoded together.

    Each image draws its noise from its own stream (:func:`image_noise`), so with a fixed seed
    every per-image value is the same whatever ``batch_size`` and ``sample_chunk`` are. The
    stream follows the image's position in ``x``: ``x[:10]`` gets the noise of the first ten
    images of ``x[:100]``.
    """
    x, num_samples, seed, batch_size, sample_chunk = _checked_inputs(
        vae, x, num_samples, seed, batch_size, sample_chunk)
    z_mean, z_log_var = vae.posterior(x)  # (N, J) each
    return _sample_terms(vae, x, z_mean, z_log_var, num_samples, seed, batch_size, sample_chunk)


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
    values = checks.array(values, "values", finite=False,
                          what="an array of numbers (log weights)")
    axis = checks.integer(axis, "axis", minimum=-values.ndim, maximum=values.ndim - 1)
    if values.shape[axis] == 0:
        raise ValueError(f"values must hold at least one value along axis {axis}, "
                         f"got shape {values.shape}")
    if np.isnan(values).any():
        raise ValueError("values must not hold NaN (log weights of a diverged model?)")
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
    x, num_samples, seed, batch_size, sample_chunk = _checked_inputs(
        vae, x, num_samples, seed, kwargs.pop("batch_size", 100), kwargs.pop("sample_chunk", 100))
    if kwargs:
        raise TypeError(f"elbo_per_image got unexpected keyword argument(s) {sorted(kwargs)}")
    posterior = vae.posterior(x)
    log_px_given_z, _ = _sample_terms(vae, x, posterior.mean, posterior.log_var, num_samples,
                                      seed, batch_size, sample_chunk)
    kl = ops.convert_to_numpy(_kl_divergence_standard_normal(posterior.mean, posterior.log_var))
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
    # The images scored must be binary: x itself, or the targets when x is a noisy input.
    x = checks.images(x, "x", image_shape=autoencoder.image_shape, binary=targets is None)
    targets = x if targets is None else checks.images(
        targets, "targets", image_shape=autoencoder.image_shape, binary=True)
    if len(targets) != len(x):
        raise ValueError(f"targets must have one image per input: {len(targets)} for {len(x)}")
    batch_size = checks.positive_int(batch_size, "batch_size")
    values = []
    for start in range(0, len(x), batch_size):
        logits = autoencoder(x[start:start + batch_size], training=False)
        values.append(ops.convert_to_numpy(
            -losses.bernoulli_log_likelihood(targets[start:start + batch_size], logits)))
    return np.concatenate(values).astype(np.float64)


def nats_to_bits_per_dim(nats_per_image, num_dims: int = 784):
    """Convert a log-likelihood in nats per image to bits per pixel (a number or an array)."""
    values = checks.array(nats_per_image, "nats_per_image", min_size=0,
                          what="a number or an array of finite numbers (nats per image)")
    num_dims = checks.positive_int(num_dims, "num_dims")
    return values / (num_dims * math.log(2.0))


def nearest_neighbour_distance(queries, references) -> np.ndarray:
    """Euclidean distance from each query (N, J) to its nearest reference (M, J): (N,)."""
    references = checks.array(references, "references", ndim=2,
                              what="codes of shape (M, J) of finite numbers")
    queries = checks.array(queries, "queries", ndim=2,
                           what="codes of shape (N, J) of finite numbers")
    if queries.shape[1] != references.shape[1]:
        raise ValueError(
            f"queries must have as many columns as references: expected (N, "
            f"{references.shape[1]}), got shape {queries.shape}"
        )
    squared = (
        np.sum(queries**2, axis=1)[:, None]
        - 2.0 * queries @ references.T
        + np.sum(references**2, axis=1)[None, :]
    )
    return np.sqrt(np.maximum(squared.min(axis=1), 0.0))
