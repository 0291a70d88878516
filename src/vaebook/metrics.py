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
import warnings
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


def nearest_neighbours(queries, references, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Nearest reference of each query, in Euclidean distance: (distances (N,), indices (N,)).

    ``queries`` (N, J) and ``references`` (M, J) are rows of numbers (codes, features, or images
    flattened to rows); the queries go through in chunks of ``chunk`` rows, so memory grows as
    chunk x M, not N x M.
    """
    references = checks.array(references, "references", ndim=2,
                              what="codes of shape (M, J) of finite numbers")
    queries = checks.array(queries, "queries", ndim=2,
                           what="codes of shape (N, J) of finite numbers")
    chunk = checks.positive_int(chunk, "chunk")
    if queries.shape[1] != references.shape[1]:
        raise ValueError(
            f"queries must have as many columns as references: expected (N, "
            f"{references.shape[1]}), got shape {queries.shape}"
        )
    reference_norms = np.sum(references**2, axis=1)[None, :]
    distances, indices = [], []
    for start in range(0, len(queries), chunk):
        part = queries[start:start + chunk]
        squared = np.sum(part**2, axis=1)[:, None] - 2.0 * part @ references.T + reference_norms
        nearest = np.argmin(squared, axis=1)
        indices.append(nearest)
        # |a - b|^2 expanded can fall a rounding error below 0 for identical rows
        distances.append(np.sqrt(np.maximum(squared[np.arange(len(part)), nearest], 0.0)))
    return np.concatenate(distances), np.concatenate(indices).astype(np.int64)


def nearest_neighbour_distance(queries, references) -> np.ndarray:
    """Euclidean distance from each query (N, J) to its nearest reference (M, J): (N,)."""
    return nearest_neighbours(queries, references)[0]


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
    threshold = checks.real(threshold, "threshold", minimum=0.0)  # NumPy's numbers too
    means = vae.encode(x, batch_size).astype(np.float64)  # (N, J) posterior means
    if len(means) < 2:
        raise ValueError(f"x must hold at least 2 images: activity is a variance over images, "
                         f"got {len(means)}")
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
    if len(codes) < 2:
        raise ValueError(f"codes must hold at least 2 images (every probability is a frequency "
                         f"over the images), got {len(codes)}")
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


# Chapters 5 and 6: sample quality of any generative model, through a classifier's features.


def features(classifier, images, batch_size: int = 256) -> np.ndarray:
    """Penultimate-layer features of ``images`` (N, 28, 28, 1) in [0, 1] under the evaluation
    ``classifier`` (:class:`vaebook.models.Classifier`): (N, feature_dim) float64.

    Every score below compares images through these features, so real and generated images
    must go through the same classifier.
    """
    return _check_classifier(classifier).features(images, batch_size)


def _check_classifier(classifier):
    """``classifier``, if it is the evaluation classifier every sample score uses."""
    from .models import Classifier

    return checks.instance(classifier, "classifier", Classifier,
                           "a vaebook.models.Classifier (e.g. ClassifierConfig().build(), trained)")


def _feature_sets(a, b, name_a: str, name_b: str, min_rows: int = 2):
    """Two feature arrays (N, D) and (M, D) of finite numbers, checked, as float64."""
    a = checks.array(a, name_a, ndim=2, what="features of shape (N, D) of finite numbers")
    b = checks.array(b, name_b, ndim=2, what="features of shape (M, D) of finite numbers")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{name_a} and {name_b} must have the same number of features (columns), "
                         f"got shapes {a.shape} and {b.shape}: compute both with the same network")
    for array, name in ((a, name_a), (b, name_b)):
        if len(array) < min_rows:
            raise ValueError(f"{name} must hold at least {min_rows} rows, got {len(array)}")
    return a, b


def frechet_distance_gaussians(mean_a, cov_a, mean_b, cov_b, eps: float = 1e-6) -> float:
    r"""The squared Fréchet (2-Wasserstein) distance between N(mean_a, cov_a) and
    N(mean_b, cov_b), in squared feature units:

    .. math::
        d^2 = \lVert \mu_a - \mu_b \rVert^2
              + \operatorname{tr}\bigl(\Sigma_a + \Sigma_b - 2 (\Sigma_a \Sigma_b)^{1/2}\bigr).

    The matrix square root is ``scipy.linalg.sqrtm``. As in pytorch-fid: when it is not finite
    (a singular product, e.g. fewer samples than features) ``eps`` is added to both diagonals and
    it is taken again; rounding can leave it tiny imaginary parts, which are dropped if every
    diagonal one is below 1e-3 (a larger one means the covariances are not valid, and raises).
    For diagonal covariances the trace term is sum_i (sqrt(a_i) - sqrt(b_i))^2.
    """
    from scipy import linalg

    mean_a = checks.array(mean_a, "mean_a", ndim=1)
    mean_b = checks.array(mean_b, "mean_b", ndim=1)
    dim = len(mean_a)
    if len(mean_b) != dim:
        raise ValueError(f"mean_b must have as many entries as mean_a ({dim}), got {len(mean_b)}")
    for cov, name in ((cov_a, "cov_a"), (cov_b, "cov_b")):
        cov = checks.array(cov, name, ndim=2)
        if cov.shape != (dim, dim) or not np.allclose(cov, cov.T, atol=1e-8, rtol=1e-5):
            raise ValueError(f"{name} must be a symmetric ({dim}, {dim}) covariance matrix, got "
                             f"{'shape ' + str(cov.shape) if cov.shape != (dim, dim) else 'an asymmetric one'}")
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    eps = checks.real(eps, "eps", minimum=0.0)
    with warnings.catch_warnings():
        # A singular product is expected with few samples and handled below.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(root)):
        offset = eps * np.eye(dim)
        root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(root):
        largest = np.max(np.abs(np.diagonal(root).imag))
        if largest > 1e-3:
            raise ValueError(f"the matrix square root has imaginary parts up to {largest:.3g}: "
                             "the covariances are not positive semi-definite")
        root = root.real
    difference = mean_a - mean_b
    distance = difference @ difference + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root)
    return float(max(distance, 0.0))  # rounding can take an exact 0 a hair below


def fid(real_features, generated_features, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D):
    the FID of Heusel et al. (2017), here on the evaluation classifier's features
    (:func:`features`) instead of Inception's. 0 for identical sets; lower is better.

    Means and covariances (unbiased, N - 1) are estimated from the rows; the distance is
    :func:`frechet_distance_gaussians`. FID is biased upwards with few samples: compare models
    with the same number of samples (thousands; the floor of the data itself is the FID of test
    against training images).
    """
    real, generated = _feature_sets(real_features, generated_features, "real_features",
                                    "generated_features")
    return frechet_distance_gaussians(real.mean(axis=0), np.cov(real, rowvar=False),
                                      generated.mean(axis=0), np.cov(generated, rowvar=False), eps)


class KID(NamedTuple):
    """Kernel inception distance: mean and standard deviation of the unbiased MMD^2 over subsets
    (squared feature units of the kernel; 0 when the distributions are the same)."""

    mean: float
    std: float


def _polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """k(x, y) = (x . y / d + 1)^3 for every row pair: (len(a), len(b))."""
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def kid(real_features, generated_features, num_subsets: int = 100, subset_size: int = 1000,
        seed: int | None = 0) -> KID:
    r"""The kernel inception distance of Bińkowski et al. (2018) between two feature sets.

    On each of ``num_subsets`` random subsets of m = min(``subset_size``, N, M) rows of each set
    (drawn without replacement), the unbiased estimate of the squared maximum mean discrepancy
    with the cubic polynomial kernel k(x, y) = (x . y / d + 1)^3,

    .. math::
        \widehat{\mathrm{MMD}}^2 = \frac{1}{m(m-1)}\sum_{i \ne j} [k(x_i, x_j) + k(y_i, y_j)]
            - \frac{2}{m^2} \sum_{i, j} k(x_i, y_j),

    and the mean and standard deviation of the estimates (a subset as large as a whole set is
    that set every time: keep ``subset_size`` below N and M for a meaningful spread, e.g. half
    of them). Unbiased: its expectation is 0 when
    both sets come from one distribution (single estimates can then be slightly negative), which
    makes KID comparable across sample sizes, unlike FID.
    """
    real, generated = _feature_sets(real_features, generated_features, "real_features",
                                    "generated_features")
    num_subsets = checks.positive_int(num_subsets, "num_subsets")
    subset_size = checks.positive_int(subset_size, "subset_size")
    if subset_size < 2:
        raise ValueError(f"subset_size must be at least 2 (the estimate leaves out i = j), "
                         f"got {subset_size}")
    seed = checks.seed(seed, allow_none=True)
    size = min(subset_size, len(real), len(generated))
    rng = np.random.default_rng(seed)
    estimates = np.empty(num_subsets)
    for index in range(num_subsets):
        x = real[rng.choice(len(real), size, replace=False)]
        y = generated[rng.choice(len(generated), size, replace=False)]
        k_xx, k_yy, k_xy = (_polynomial_kernel(x, x), _polynomial_kernel(y, y),
                            _polynomial_kernel(x, y))
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (size * (size - 1))
        estimates[index] = within - 2.0 * k_xy.mean()
    return KID(mean=float(estimates.mean()), std=float(estimates.std()))


def _pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of a (N, D) and b (M, D): (N, M)."""
    squared = (np.sum(a**2, axis=1)[:, None] - 2.0 * a @ b.T + np.sum(b**2, axis=1)[None, :])
    return np.sqrt(np.maximum(squared, 0.0))


def _knn_radii(points: np.ndarray, k: int, chunk: int) -> np.ndarray:
    """Distance from each row to its k-th nearest other row: (N,)."""
    radii = np.empty(len(points))
    for start in range(0, len(points), chunk):
        distances = _pairwise_distances(points[start:start + chunk], points)
        # Column k of the sorted row: column 0 is the point itself, at distance 0.
        radii[start:start + chunk] = np.partition(distances, k, axis=1)[:, k]
    return radii


def _inside_manifold(queries: np.ndarray, points: np.ndarray, radii: np.ndarray,
                     chunk: int) -> np.ndarray:
    """For each query, whether it lies in at least one ball (points[i], radii[i]): (N,) bool."""
    inside = np.empty(len(queries), dtype=bool)
    for start in range(0, len(queries), chunk):
        distances = _pairwise_distances(queries[start:start + chunk], points)
        inside[start:start + chunk] = np.any(distances <= radii[None, :], axis=1)
    return inside


class PrecisionRecall(NamedTuple):
    """Improved precision and recall (Kynkäänniemi et al., 2019), fractions in [0, 1]."""

    precision: float  # fraction of generated samples inside the real data's manifold: fidelity
    recall: float  # fraction of real samples inside the generated samples' manifold: diversity


def precision_recall(real_features, generated_features, k: int = 3,
                     chunk: int = 1000, *, allow_unequal: bool = False) -> PrecisionRecall:
    """Precision and recall of generated samples with k-nearest-neighbour manifolds.

    The manifold of a set is the union of balls centred on its points, each with the radius to
    the point's k-th nearest neighbour in the set. Precision is the fraction of generated
    features inside the real manifold (are the samples realistic?); recall the fraction of real
    features inside the generated manifold (does the model cover the data?). Both are 1 for
    identical sets. ``k = 3`` as in the paper; ``chunk`` rows of distances are held at once.
    The two sets must be of equal size (a larger set has smaller balls, which lowers the other
    set's score); ``allow_unequal=True`` computes it anyway, for an experiment on that bias.
    """
    real, generated = _feature_sets(real_features, generated_features, "real_features",
                                    "generated_features")
    k = checks.positive_int(k, "k")
    chunk = checks.positive_int(chunk, "chunk")
    allow_unequal = checks.boolean(allow_unequal, "allow_unequal")
    if len(real) != len(generated) and not allow_unequal:
        raise ValueError(f"real_features and generated_features must hold as many rows each, got "
                         f"{len(real)} and {len(generated)}: a larger set has smaller balls, so "
                         f"unequal sets bias precision and recall; score as many samples as "
                         f"reference images (or pass allow_unequal=True to measure that bias)")
    for array, name in ((real, "real_features"), (generated, "generated_features")):
        if len(array) <= k:
            raise ValueError(f"{name} must hold more than k = {k} rows (each point needs k "
                             f"neighbours), got {len(array)}")
    real_radii = _knn_radii(real, k, chunk)
    generated_radii = _knn_radii(generated, k, chunk)
    precision = _inside_manifold(generated, real, real_radii, chunk).mean()
    recall = _inside_manifold(real, generated, generated_radii, chunk).mean()
    return PrecisionRecall(precision=float(precision), recall=float(recall))


class Coverage(NamedTuple):
    """How a generator's samples spread over the classes (the modes of MNIST: its digits)."""

    histogram: np.ndarray  # (num_classes,) fraction of samples predicted as each class
    entropy: float  # of the histogram, nats: log(num_classes) when uniform, 0 for one class
    tv_to_uniform: float  # total variation distance to uniform: 0 when uniform, 1 - 1/C at worst
    classes_covered: int  # classes predicted for at least one sample


def mode_coverage(predicted_classes, num_classes: int = 10) -> Coverage:
    """Mode coverage of samples from their predicted classes (N,) (``classifier.predict_classes``).

    ``histogram`` p is the fraction of samples per class; ``entropy`` = -sum p log p in nats
    (log 10 = 2.303 for ten equally frequent digits, 0 for a generator that makes one digit);
    ``tv_to_uniform`` = 1/2 sum |p_c - 1/C| (0 when every class is equally frequent, 0.9 for one
    class of ten). A mode-collapsed GAN has low entropy and high distance.
    """
    num_classes = checks.positive_int(num_classes, "num_classes")
    predicted = checks.labels(predicted_classes, "predicted_classes", num_classes=num_classes)
    if len(predicted) == 0:
        raise ValueError("predicted_classes must hold at least one label, got none")
    histogram = np.bincount(predicted, minlength=num_classes) / len(predicted)
    present = histogram > 0
    entropy = float(-np.sum(histogram[present] * np.log(histogram[present])))
    return Coverage(histogram=histogram, entropy=entropy,
                    tv_to_uniform=float(0.5 * np.abs(histogram - 1.0 / num_classes).sum()),
                    classes_covered=int(present.sum()))


def sample_quality(classifier, generated, reference=None, *, reference_features=None, k: int = 3,
                   kid_subsets: int = 100, kid_subset_size: int = 1000,
                   seed: int | None = 0) -> dict:
    """Every score of generated images (N, 28, 28, 1) against reference images (M, 28, 28, 1),
    both in [0, 1], through the evaluation ``classifier``'s features: a dict with ``fid``,
    ``kid`` and ``kid_std``, ``precision``, ``recall``, ``coverage_entropy`` (nats),
    ``coverage_tv`` and ``classes_covered``. Give the reference as images, or as their
    features already computed (``reference_features=``, which saves computing them again for
    every model), not both. ``seed`` draws KID's subsets.
    """
    if (reference is None) == (reference_features is None):
        raise ValueError("give the reference either as images (reference=) or as their "
                         "features (reference_features=), exactly one of the two")
    # one forward pass for both
    fake, classes = _check_classifier(classifier).features_and_classes(generated)
    real = (features(classifier, reference) if reference_features is None
            else checks.array(reference_features, "reference_features", ndim=2))
    kid_result = kid(real, fake, kid_subsets, kid_subset_size, seed=seed)
    pr = precision_recall(real, fake, k=k)
    coverage = mode_coverage(classes, classifier.num_classes)
    return {"fid": fid(real, fake), "kid": kid_result.mean, "kid_std": kid_result.std,
            "precision": pr.precision, "recall": pr.recall,
            "coverage_entropy": coverage.entropy, "coverage_tv": coverage.tv_to_uniform,
            "classes_covered": coverage.classes_covered}
