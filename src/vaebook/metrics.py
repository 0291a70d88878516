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
from typing import NamedTuple

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


# Chapter 3: what the latent dimensions are used for.


def kl_per_dimension(vae, x, batch_size: int = 256) -> np.ndarray:
    """The KL of each latent dimension, averaged over the images x: (J,) in nats.

        KL_j = mean over images of 1/2 (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)

    The sum over j is the model's mean KL (its rate). A dimension with KL_j near 0 has a
    posterior equal to the prior for every image: it carries no information about x.
    """
    _check_vae(vae)
    mean, log_var = vae.posterior(x, batch_size)  # (N, J) each, images checked there
    mean, log_var = mean.astype(np.float64), log_var.astype(np.float64)
    return np.mean(0.5 * (mean**2 + np.exp(log_var) - 1.0 - log_var), axis=0)


def active_units(vae, x, threshold: float = 0.01, batch_size: int = 256) -> int:
    """How many latent dimensions are active (Burda et al., 2016):

        A_j = Cov_x(E_q(z|x)[z_j]) > threshold,

    the variance over the images x of the posterior mean of dimension j. An inactive dimension's
    posterior mean is the same for every image, so the decoder cannot read anything from it.
    """
    _check_vae(vae)
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}")
    means = vae.encode(x, batch_size).astype(np.float64)  # (N, J) posterior means
    return int(np.sum(np.var(means, axis=0) > threshold))


class RateDistortion(NamedTuple):
    """Rate and distortion on a data set, nats per image; ``elbo`` is -(rate + distortion)."""

    rate: float
    distortion: float

    @property
    def elbo(self) -> float:
        return -(self.rate + self.distortion)


def rate_distortion(vae, x, *, seed: int | None = None, num_samples: int = 1,
                    **kwargs) -> RateDistortion:
    """The ELBO's two terms, averaged over the images x, in nats per image:

        rate       R = mean over x of KL(q(z|x) || p(z))        (closed form)
        distortion D = mean over x of -E_q(z|x)[log p(x|z)]     (num_samples draws of z per image)

    so that ELBO = -(R + D). β > 1 trades distortion for rate. ``seed=None`` gives a fresh
    estimate of D on every call; pass an int to repeat one. ``kwargs`` (batch_size, sample_chunk)
    go to :func:`posterior_sample_terms`.
    """
    log_px_given_z, _ = posterior_sample_terms(vae, x, num_samples, seed=seed, **kwargs)
    rate = float(np.sum(kl_per_dimension(vae, x)))
    return RateDistortion(rate=rate, distortion=float(-log_px_given_z.mean()))


class MIGResult(NamedTuple):
    """The mutual information gap and what it is made of (K factors, J latent dimensions)."""

    score: float  # MIG: the mean of ``gaps`` over the factors that vary
    gaps: np.ndarray  # (K,) normalised gap of each factor (NaN for a factor that never varies)
    latent_per_factor: np.ndarray  # (K,) int, the latent with the most information on each factor
    mutual_information: np.ndarray  # (J, K) I(z_j; v_k) in nats, z_j discretised
    entropies: np.ndarray  # (K,) H(v_k) in nats

    @property
    def factor_per_latent(self) -> np.ndarray:
        """(J,) int, the factor each latent holds most information on, relative to the factor's
        entropy (I(z_j; v_k) / H(v_k)): to label a row of latent traversals."""
        with np.errstate(divide="ignore", invalid="ignore"):
            normalised = np.where(self.entropies > 0, self.mutual_information / self.entropies, 0)
        return np.argmax(normalised, axis=1)


def _discrete_entropy(labels: np.ndarray) -> float:
    """H(v) = -sum_a p(a) log p(a), nats, from the empirical distribution of integer labels."""
    counts = np.unique(labels, return_counts=True)[1]
    p = counts / counts.sum()
    return float(-np.sum(p * np.log(p)))


def _discrete_mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) = sum p(a, b) log(p(a, b) / (p(a) p(b))), nats, from integer label arrays."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    shape = (a.max() + 1, b.max() + 1)
    joint = np.bincount(a * shape[1] + b, minlength=shape[0] * shape[1]).reshape(shape)
    joint = joint / joint.sum()
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    present = joint > 0
    return float(np.sum(joint[present] * np.log(joint[present] / outer[present])))


def discretise(codes, n_bins: int = 20) -> np.ndarray:
    """Each column of codes (N, J) cut into ``n_bins`` equal-width bins between its minimum and
    maximum: (N, J) int bin indices 0..n_bins-1 (a constant column is all 0)."""
    codes = np.asarray(codes, dtype=np.float64)
    bins = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        low, high = codes[:, j].min(), codes[:, j].max()
        if high > low:
            edges = np.linspace(low, high, n_bins + 1)[1:-1]  # the n_bins - 1 inner edges
            bins[:, j] = np.digitize(codes[:, j], edges)
    return bins


def mutual_information_gap(codes, factors, n_bins: int = 20) -> MIGResult:
    """The Mutual Information Gap (Chen et al., 2018) of a code for known discrete factors.

        MIG = 1/K sum_k  [ I(z_(1); v_k) - I(z_(2); v_k) ] / H(v_k)

    where z_(1) and z_(2) are the latent dimensions with the largest and second-largest mutual
    information I(z_j; v_k) with factor v_k, and H(v_k) is the factor's entropy. A factor captured
    by one dimension alone scores near 1; one spread over several dimensions, or captured by none,
    near 0.

    The latents are continuous (use the posterior means, ``vae.encode(x)``): each is discretised
    into ``n_bins`` equal-width bins between its smallest and largest value (:func:`discretise`),
    and every probability is a frequency over the N images, as in disentanglement_lib. So a
    factor with more values than ``n_bins`` cannot reach a gap of 1 (at best about
    log(n_bins) / H(v_k)), and with few images the estimated MI is biased upwards by about
    (n_bins - 1)(values - 1) / (2 N) nats for every dimension alike.

    Args:
        codes: (N, J) continuous codes, J >= 2.
        factors: (N, K) integer factor values (grid indices).
        n_bins: bins per latent dimension.

    Returns a :class:`MIGResult`: ``score``, the per-factor ``gaps``, ``latent_per_factor``, the
    (J, K) ``mutual_information`` matrix and the factors' ``entropies``. Factors that take one
    value only (entropy 0) get a NaN gap and are left out of the mean.
    """
    codes = np.asarray(codes)
    factors = np.asarray(factors)
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise ValueError(f"codes must have shape (N, J) with J >= 2 latent dimensions, got "
                         f"{codes.shape}")
    if not np.all(np.isfinite(codes)):
        raise ValueError("codes contain NaN or infinite values")
    if factors.ndim != 2 or len(factors) != len(codes):
        raise ValueError(f"factors must have shape (N, K) with N = {len(codes)} like codes, got "
                         f"{factors.shape}")
    if not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"factors must be integer (discrete) values, got dtype {factors.dtype}")
    n_bins = checks.positive_int(n_bins, "n_bins")
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}")
    binned = discretise(codes, n_bins)
    latent_dim, num_factors = codes.shape[1], factors.shape[1]
    information = np.array([[_discrete_mutual_information(binned[:, j], factors[:, k])
                             for k in range(num_factors)] for j in range(latent_dim)])
    entropies = np.array([_discrete_entropy(factors[:, k]) for k in range(num_factors)])
    ranked = np.sort(information, axis=0)[::-1]  # (J, K), largest first
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = np.where(entropies > 0, (ranked[0] - ranked[1]) / entropies, np.nan)
    if np.all(np.isnan(gaps)):
        raise ValueError("every factor takes a single value: the MIG is undefined")
    return MIGResult(score=float(np.nanmean(gaps)), gaps=gaps,
                     latent_per_factor=np.argmax(information, axis=0),
                     mutual_information=information, entropies=entropies)
