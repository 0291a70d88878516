r"""What VAEs are used for, measured: denoising, inpainting, anomaly detection (Chapter 4).

Each application comes with the classical method it has to beat, computed by this module on the
same images, so that a chapter can say "the VAE wins" only where it does.

Compression
    is in :mod:`vaebook.coding`: the coders that write bytes, the VAE's and the classical ones.
Restoration: denoising and inpainting
    One method serves both. The evidence that a corrupted image gives about each clean binary pixel
    is a log-likelihood ratio (:func:`noise_log_odds` for Gaussian and salt-and-pepper noise,
    :func:`mask_log_odds` for missing pixels), and :func:`posterior_chain` combines it with the VAE
    as a prior over clean images: an estimate of E[clean | corrupted]. :func:`denoise` and
    :func:`inpaint` call it. The baselines are :func:`median_filter` and
    :func:`denoise_independent` (denoising: the second knows the noise model), :func:`fill_mean`,
    :func:`fill_nearest` and :func:`fill_nearest_image` (inpainting); :func:`pixel_mse` and
    :func:`missing_pixel_mse` score them all.
Anomaly detection
    :func:`anomaly_scores` is the negative ELBO or the negative importance-weighted bound per image,
    in nats; :func:`independent_pixel_scores` is the baseline density model (one Bernoulli per
    pixel); :func:`roc` gives the ROC curve and its area (scikit-learn); :func:`invert`,
    :func:`binary_noise` and :func:`resize_binary` make non-digit test inputs.

Images are float32 arrays (N, H, W, C) in [0, 1] (MNIST: (N, 28, 28, 1)). Masks are boolean
arrays of the images' shape, ``True`` where a pixel is *observed*.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import checks, metrics
from .data import add_gaussian_noise

NOISE_KINDS = ("gaussian", "salt-and-pepper")
SCORE_METHODS = ("elbo", "iw")


# Corruption and the denoising baseline -----------------------------------------------------------


def add_salt_and_pepper(images, fraction: float, seed: int = 0) -> np.ndarray:
    """Replace each pixel, with probability ``fraction``, by black (0) or white (1), equally likely.

    On a binary image half of the replaced pixels keep their value, so ``fraction / 2`` of the
    pixels are flipped on average.
    """
    images = checks.images(images, "images", image_shape=None)
    fraction = checks.probability(fraction, "fraction")
    rng = np.random.default_rng(checks.seed(seed))
    hit = rng.random(images.shape) < fraction
    values = (rng.random(images.shape) < 0.5).astype(np.float32)
    return np.where(hit, values, images).astype(np.float32)


def add_noise(images, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """Corrupt images with ``kind`` noise of strength ``level``:

    - ``"gaussian"``: add N(0, level^2) to every pixel and clip to [0, 1]
      (:func:`vaebook.data.add_gaussian_noise`); ``level`` is a standard deviation >= 0;
    - ``"salt-and-pepper"``: :func:`add_salt_and_pepper`; ``level`` is a fraction in [0, 1].
    """
    kind = checks.one_of(kind, "kind", NOISE_KINDS)
    if kind == "gaussian":
        level = checks.real(level, "level", minimum=0.0,
                            expected="a gaussian noise stddev: a finite number >= 0")
        return add_gaussian_noise(images, level, seed=seed)
    level = checks.real(level, "level", minimum=0.0, maximum=1.0,
                        expected="a salt-and-pepper fraction: a number in [0, 1]")
    return add_salt_and_pepper(images, level, seed=seed)


def median_filter(images, size: int = 3) -> np.ndarray:
    """Each image replaced by the medians of its ``size`` x ``size`` neighbourhoods (scipy), the
    classical filter for impulse noise; borders are mirrored."""
    from scipy import ndimage

    images = checks.images(images, "images", image_shape=None)
    size = checks.positive_int(size, "size")
    return ndimage.median_filter(images, size=(1, size, size, 1), mode="reflect")


def pixel_mse(clean, estimate) -> np.ndarray:
    """Mean squared error per pixel of ``estimate`` against the ``clean`` images: (N,).

    For pixel probabilities p and a binary image x this is the Brier score, the mean of (p - x)^2:
    0 for a perfect, confident estimate, 0.25 for a pixel left at 0.5.
    """
    clean = checks.images(clean, "clean", image_shape=None)
    estimate = checks.images(estimate, "estimate", image_shape=None)
    if estimate.shape != clean.shape:
        raise ValueError(f"estimate must have the clean images' shape {clean.shape}, got "
                         f"{estimate.shape}")
    return np.mean((estimate.astype(np.float64) - clean) ** 2, axis=(1, 2, 3))


# Masks and the inpainting baselines --------------------------------------------------------------


def check_mask(observed, images, name: str = "observed") -> np.ndarray:
    """An observation mask for ``images``, returned as a bool array.

    The mask has the images' shape (N, H, W, C) and holds booleans, or the numbers 0 and 1;
    ``True`` (1) marks an observed pixel. ``ValueError`` otherwise.
    """
    expected = f"a mask of the images' shape {np.shape(images)}: True (or 1) where observed"
    if isinstance(observed, (str, bytes)) or observed is None:
        raise TypeError(f"{name} must be {expected}, got {checks.describe(observed)}")
    mask = np.asarray(observed)
    if mask.shape != np.shape(images):
        raise ValueError(f"{name} must be {expected}, got shape {mask.shape}")
    if mask.dtype != bool:
        if mask.dtype.kind not in "iuf" or not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"{name} must be {expected}, got values other than booleans or 0/1")
        mask = mask.astype(bool)
    return mask


def _mask_shape(n, image_shape) -> tuple[int, ...]:
    n = checks.positive_int(n, "n")
    if (not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3
            or not all(isinstance(s, (int, np.integer)) and s > 0 for s in image_shape)):
        raise ValueError(f"image_shape must be (height, width, channels), got {image_shape!r}")
    return (n, *(int(s) for s in image_shape))


def block_mask(n: int, top: int, left: int, height: int, width: int,
               image_shape=checks.MNIST_IMAGE_SHAPE) -> np.ndarray:
    """Masks of ``n`` images whose rectangle of ``height`` x ``width`` pixels with top-left pixel
    (``top``, ``left``) is missing: bool (n, *image_shape), True = observed."""
    shape = _mask_shape(n, image_shape)
    height = checks.positive_int(height, "height")
    width = checks.positive_int(width, "width")
    top = checks.integer(top, "top", minimum=0, maximum=shape[1] - height)
    left = checks.integer(left, "left", minimum=0, maximum=shape[2] - width)
    mask = np.ones(shape, dtype=bool)
    mask[:, top:top + height, left:left + width, :] = False
    return mask


def random_mask(n: int, missing_fraction: float, seed: int = 0,
                image_shape=checks.MNIST_IMAGE_SHAPE) -> np.ndarray:
    """Masks of ``n`` images in which each pixel is missing independently with probability
    ``missing_fraction`` (in (0, 1)): bool (n, *image_shape), True = observed."""
    shape = _mask_shape(n, image_shape)
    missing_fraction = checks.probability(missing_fraction, "missing_fraction", open_interval=True)
    return np.random.default_rng(checks.seed(seed)).random(shape) >= missing_fraction


def fill_mean(images, observed, pixel_means) -> np.ndarray:
    """Baseline: each missing pixel set to its mean over the training images, ``pixel_means``
    (one image, (H, W, C), or one number). Observed pixels are returned unchanged."""
    images = checks.images(images, "images", image_shape=None)
    observed = check_mask(observed, images)
    means = checks.array(pixel_means, "pixel_means",
                         what="the mean training image (H, W, C) or a number, in [0, 1]")
    if means.ndim and means.shape != images.shape[1:]:
        raise ValueError(f"pixel_means must be one image of shape {images.shape[1:]} or a "
                         f"number, got shape {means.shape}")
    if np.any((means < 0) | (means > 1)):
        raise ValueError("pixel_means must lie in [0, 1]")
    return np.where(observed, images, means.astype(np.float32)).astype(np.float32)


def fill_nearest(images, observed) -> np.ndarray:
    """Baseline: each missing pixel takes the value of the nearest observed pixel of the same image
    channel (Euclidean distance; scipy's distance transform). An image without any observed pixel
    raises ``ValueError``."""
    from scipy import ndimage

    images = checks.images(images, "images", image_shape=None)
    observed = check_mask(observed, images)
    filled = images.copy()
    for index in range(len(images)):
        for channel in range(images.shape[3]):
            seen = observed[index, ..., channel]
            if not seen.any():
                raise ValueError(f"observed must show at least one pixel of every image, but "
                                 f"image {index} has none to copy from")
            # For every pixel, the coordinates of the nearest observed pixel (where ~seen is 0).
            rows, cols = ndimage.distance_transform_edt(~seen, return_distances=False,
                                                        return_indices=True)
            filled[index, ..., channel] = images[index, ..., channel][rows, cols]
    return filled


def fill_nearest_image(images, observed, train_images, batch_size: int = 256) -> np.ndarray:
    """Baseline that uses the observed pixels as a whole: each image's missing pixels are copied
    from the training image that agrees with it on the most observed pixels (the smallest
    squared distance over the observed pixels; the first such image on a tie). Observed pixels
    are returned unchanged; float32, the images' shape."""
    images = checks.images(images, "images", image_shape=None)
    observed = check_mask(observed, images)
    train_images = checks.images(train_images, "train_images", image_shape=images.shape[1:])
    batch_size = checks.positive_int(batch_size, "batch_size")
    flat_train = train_images.reshape(len(train_images), -1).astype(np.float64)  # (M, D)
    filled = np.empty_like(images, dtype=np.float32)
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].reshape(-1, flat_train.shape[1]).astype(np.float64)
        seen = observed[start:start + batch_size].reshape(x.shape).astype(np.float64)
        # sum over observed d of (x_d - t_d)^2, for every pair: (batch, M)
        distance = ((seen * x**2).sum(axis=1, keepdims=True) - 2.0 * (seen * x) @ flat_train.T
                    + seen @ (flat_train**2).T)
        nearest = flat_train[np.argmin(distance, axis=1)]
        filled[start:start + batch_size] = np.where(seen > 0, x, nearest).reshape(
            (-1, *images.shape[1:]))
    return filled


def missing_pixel_mse(clean, filled, observed) -> np.ndarray:
    """Mean squared error per image over its *missing* pixels only: (N,).

    Raises ``ValueError`` if an image has no missing pixel (its error would be undefined).
    """
    clean = checks.images(clean, "clean", image_shape=None)
    filled = checks.images(filled, "filled", image_shape=None)
    if filled.shape != clean.shape:
        raise ValueError(f"filled must have the clean images' shape {clean.shape}, got "
                         f"{filled.shape}")
    missing = ~check_mask(observed, clean)
    counts = missing.sum(axis=(1, 2, 3))
    if np.any(counts == 0):
        raise ValueError("observed must leave at least one pixel of every image missing: the "
                         "error on the missing pixels of a complete image is undefined")
    squared = np.where(missing, (filled.astype(np.float64) - clean) ** 2, 0.0)
    return squared.sum(axis=(1, 2, 3)) / counts


# Restoration with the VAE as a prior -------------------------------------------------------------


def posterior_chain(vae, log_odds, start, iterations: int = 20, burn_in: int = 5,
                    seed: int = 0, chains: int = 1, batch_size: int = 256) -> np.ndarray:
    r"""E[x | evidence] under the VAE, for evidence that bears on each pixel separately.

    The evidence about each clean binary pixel x_d is a log-likelihood ratio, ``log_odds``
    lambda_d = log p(o_d | x_d = 1) - log p(o_d | x_d = 0) (0: no evidence, +-inf: the pixel is
    known). Given a code z with decoder logits l(z) the pixels are independent, so Bayes' rule
    gives, pixel by pixel,

        p(x_d = 1 | z, o) = sigmoid(l_d(z) + lambda_d).

    The chain alternates z ~ q(z | x^(t)) (the encoder standing in for the intractable p(z | x))
    and x^(t+1) ~ Bernoulli(sigmoid(l(z) + lambda)): a pseudo-Gibbs sampler of p(x | o) (Rezende
    et al., 2014), which need not converge to it exactly (Mattei and Frellsen, 2018, give a
    Metropolis-within-Gibbs chain that does). The pixel probabilities sigmoid(l(z) + lambda) are
    averaged over the steps after ``burn_in``: an estimate of E[x | o], the estimate with the least
    expected squared error. Averaging, rather than keeping the last state, matters: one state
    commits to one plausible image; the average hedges between them, as squared error asks. For
    the same reason ``chains`` independent chains are run and averaged: one chain tends to stay
    near the image it first settles on (the encoder of a clear digit is confident), so separate
    chains explore more of the candidates than one chain of the same total length.

    Args:
        vae: a trained :class:`vaebook.models.VAE`.
        log_odds: (N, *vae.image_shape) evidence per pixel; +-inf allowed, NaN not.
        start: (N, *vae.image_shape) in [0, 1], the chain's first images x^(0).
        iterations: steps of the chain; ``burn_in`` (>= 0, < iterations) of them are not averaged.
        seed: seed of the chains' noise.
        chains: independent chains per image, averaged.
        batch_size: images encoded and decoded together.

    Returns (N, *vae.image_shape) float32 pixel probabilities.
    """
    from keras import ops
    from scipy.special import expit

    checks.vae(vae)
    start = checks.images(start, "start", image_shape=vae.image_shape)
    log_odds = checks.array(log_odds, "log_odds", finite=False,
                            what="an array of log-likelihood ratios (+-inf allowed)")
    if log_odds.shape != start.shape:
        raise ValueError(f"log_odds must have the images' shape {start.shape}, got "
                         f"{log_odds.shape}")
    if np.any(np.isnan(log_odds)):
        raise ValueError("log_odds must not contain NaN (an impossible observation?)")
    iterations = checks.positive_int(iterations, "iterations")
    burn_in = checks.integer(burn_in, "burn_in", minimum=0, maximum=iterations - 1)
    chains = checks.positive_int(chains, "chains")
    batch_size = checks.positive_int(batch_size, "batch_size")
    rng = np.random.default_rng(checks.seed(seed))
    n_images = len(start)
    start = np.concatenate([start] * chains)  # chain c of image i is row c * N + i
    log_odds = np.concatenate([log_odds] * chains)
    current, total = start, np.zeros(start.shape, dtype=np.float64)
    for step in range(iterations):
        mean, log_var = vae.posterior(current, batch_size)  # (N, J) each
        z = (mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)).astype(np.float32)
        logits = np.concatenate([
            ops.convert_to_numpy(vae.decoder(z[i:i + batch_size], training=False))
            for i in range(0, len(z), batch_size)]).astype(np.float64)  # (N, 28, 28, 1)
        probabilities = expit(logits + log_odds)  # Bayes' rule, pixel by pixel
        if step >= burn_in:
            total += probabilities
        current = (rng.random(start.shape) < probabilities).astype(np.float32)
    average = total / (iterations - burn_in)  # (chains * N, ...)
    return average.reshape(chains, n_images, *average.shape[1:]).mean(axis=0).astype(np.float32)


def noise_log_odds(noisy, kind: str, level: float) -> np.ndarray:
    r"""The evidence of each noisy pixel about the clean binary pixel under it:

        lambda_d = log p(noisy_d | clean_d = 1) - log p(noisy_d | clean_d = 0)

    for the noise of :func:`add_noise`. Salt and pepper with fraction f keeps a pixel with
    probability 1 - f/2, so lambda = +-log((1 - f/2) / (f/2)). Gaussian noise of standard deviation
    s, then clipping: a value y inside (0, 1) has lambda = (2y - 1) / (2 s^2); a value clipped to 0
    has probability Phi(-c / s) for a clean pixel c, so lambda = log Phi(-1/s) - log(1/2), and a
    value clipped to 1 the opposite. float64, shaped like ``noisy``.
    """
    from scipy.stats import norm

    kind = checks.one_of(kind, "kind", NOISE_KINDS)
    if kind == "salt-and-pepper":
        noisy = checks.images(noisy, "noisy", image_shape=None, binary=True).astype(np.float64)
        level = checks.real(level, "level", minimum=0.0, maximum=1.0, open_below=True,
                            expected="a salt-and-pepper fraction in (0, 1]")
        evidence = math.log1p(-level / 2) - math.log(level / 2)
        return np.where(noisy > 0.5, evidence, -evidence)
    noisy = checks.images(noisy, "noisy", image_shape=None).astype(np.float64)
    level = checks.real(level, "level", minimum=0.0, open_below=True,
                        expected="a gaussian noise stddev: a finite number > 0")
    clipped = norm.logcdf(-1.0 / level) - math.log(0.5)  # < 0: a clipped 0 is evidence for 0
    inside = (2.0 * noisy - 1.0) / (2.0 * level**2)
    return np.where(noisy <= 0.0, clipped, np.where(noisy >= 1.0, -clipped, inside))


def denoise(vae, noisy, kind: str, level: float, iterations: int = 20, burn_in: int = 5,
            seed: int = 0, chains: int = 1) -> np.ndarray:
    """Denoise with the VAE as the prior and the noise model as the likelihood: the
    :func:`posterior_chain` with the evidence of :func:`noise_log_odds`, started from the noisy
    images. Returns an estimate of E[clean | noisy], pixel probabilities shaped like ``noisy``."""
    return posterior_chain(vae, noise_log_odds(noisy, kind, level), noisy, iterations, burn_in,
                           seed, chains)


def denoise_independent(train_images, noisy, kind: str, level: float,
                        pseudo_count: float = 1.0) -> np.ndarray:
    r"""Baseline that knows the noise model but not what digits look like: the Bayes estimate
    E[clean | noisy] with independent pixels (:func:`pixel_prior`) as the prior, pixel by pixel,

        p(x_d = 1 | y_d) = sigmoid(logit p_d + lambda_d),

    the same formula as the VAE's (:func:`posterior_chain`) with the prior's logit in place of the
    decoder's. Pixel probabilities shaped like ``noisy``, float32.
    """
    p = pixel_prior(train_images, pseudo_count)
    evidence = noise_log_odds(noisy, kind, level)
    if evidence.shape[1:] != p.shape:
        raise ValueError(f"noisy must have the training images' shape {p.shape}, got "
                         f"{evidence.shape[1:]}")
    prior_logit = np.log(p) - np.log1p(-p)
    return (1.0 / (1.0 + np.exp(-(prior_logit + evidence)))).astype(np.float32)


def mask_log_odds(images, observed) -> np.ndarray:
    """The evidence of a mask, per pixel: +inf on observed pixels that are on, -inf on observed
    pixels that are off, 0 on missing pixels (which say nothing). float64, the images' shape."""
    images = checks.images(images, "images", image_shape=None, binary=True)
    observed = check_mask(observed, images)
    return np.where(observed, np.where(images > 0.5, np.inf, -np.inf), 0.0)


def inpaint(vae, images, observed, iterations: int = 20, burn_in: int = 5, seed: int = 0,
            chains: int = 1, start=0.5) -> np.ndarray:
    """Fill the missing pixels with the VAE as the prior: the :func:`posterior_chain` with the
    evidence of the mask (:func:`mask_log_odds`), so the observed pixels are clamped.

    This is the Markov chain of Rezende et al. (2014) for missing data, averaged: an estimate of
    E[x_missing | x_observed], the fill with the least expected squared error.

    Args:
        vae: a trained :class:`vaebook.models.VAE`.
        images: (N, *vae.image_shape) binary; only their observed pixels are read.
        observed: mask, True where a pixel is observed (:func:`check_mask`).
        iterations, burn_in, seed, chains: of the chains (:func:`posterior_chain`).
        start: the chain's first guess for the missing pixels: a number, or one image (e.g. the
            mean training image), or one per image.

    Returns the filled images (N, *vae.image_shape) float32: the observed pixels exactly as given,
    probabilities on the missing ones.
    """
    checks.vae(vae)
    images = checks.images(images, "images", image_shape=vae.image_shape, binary=True)
    observed = check_mask(observed, images)
    start = checks.array(start, "start", what="a number or images in [0, 1]")
    if start.shape not in ((), images.shape[1:], images.shape):
        raise ValueError(f"start must be a number, one image {images.shape[1:]} or one per image "
                         f"{images.shape}, got shape {start.shape}")
    if np.any((start < 0) | (start > 1)):
        raise ValueError("start must lie in [0, 1]")
    first = np.where(observed, images, start.astype(np.float32))
    filled = posterior_chain(vae, mask_log_odds(images, observed), first, iterations, burn_in,
                             seed, chains)
    return np.where(observed, images, filled).astype(np.float32)


# Anomaly detection -------------------------------------------------------------------------------


def anomaly_scores(vae, x, method: str = "elbo", num_samples: int = 10, *,
                   seed: int | None = 0, **kwargs) -> np.ndarray:
    """Anomaly score per image, (N,) in nats: how badly the model explains it.

    - ``"elbo"``: the negative ELBO, -L(x) >= -log p(x), its reconstruction term averaged over
      ``num_samples`` draws (:func:`vaebook.metrics.elbo_per_image`);
    - ``"iw"``: the negative importance-weighted bound -L_K(x) with K = ``num_samples``
      (:func:`vaebook.metrics.iwae_bound`), closer to -log p(x).

    ``kwargs`` (batch_size, sample_chunk) go to the metrics function.
    """
    method = checks.one_of(method, "method", SCORE_METHODS)
    if method == "elbo":
        return -metrics.elbo_per_image(vae, x, num_samples, seed=seed, **kwargs)
    return -metrics.iwae_bound(vae, x, num_samples, seed=seed, **kwargs)


def pixel_prior(train_images, pseudo_count: float = 1.0) -> np.ndarray:
    r"""The independent-pixel model of binary images: p_d = p(x_d = 1) for every pixel, float64
    (H, W, C),

        p_d = (number of training images with pixel d on + a) / (N_train + 2a).

    ``pseudo_count`` a > 0 (Laplace smoothing) keeps every p_d away from 0 and 1, so a pixel never
    seen on in training costs about log(N_train) nats instead of infinitely many.
    """
    train_images = checks.images(train_images, "train_images", image_shape=None, binary=True)
    pseudo_count = checks.real(pseudo_count, "pseudo_count", minimum=0.0, open_below=True)
    return (train_images.sum(axis=0, dtype=np.float64) + pseudo_count) / (
        len(train_images) + 2 * pseudo_count)


def independent_pixel_scores(train_images, x, pseudo_count: float = 1.0) -> np.ndarray:
    r"""Baseline anomaly score: -log p(x) in nats under independent Bernoulli pixels, (N,):

        -log p(x) = -sum_d [x_d log p_d + (1 - x_d) log(1 - p_d)]

    with p_d from :func:`pixel_prior` (``pseudo_count`` as there).
    """
    p = pixel_prior(train_images, pseudo_count)
    x = checks.images(x, "x", image_shape=p.shape, binary=True)
    log_p = x * np.log(p) + (1.0 - x) * np.log1p(-p)
    return -log_p.reshape(len(x), -1).sum(axis=1)


class ROC(NamedTuple):
    """A ROC curve: false and true positive rates at every threshold, and the area under it."""

    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    auc: float


def roc(typical_scores, anomalous_scores) -> ROC:
    """ROC curve and AUC of a score that should be higher for anomalies (scikit-learn).

    The AUC is the probability that a random anomalous image scores higher than a random typical
    one (ties count one half): 1 separates them perfectly, 0.5 is chance, below 0.5 ranks them the
    wrong way round.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    typical = checks.array(typical_scores, "typical_scores", ndim=1)
    anomalous = checks.array(anomalous_scores, "anomalous_scores", ndim=1)
    labels = np.concatenate([np.zeros(typical.size), np.ones(anomalous.size)])
    scores = np.concatenate([typical, anomalous])
    false_positive_rate, true_positive_rate, _ = roc_curve(labels, scores)
    return ROC(false_positive_rate, true_positive_rate, float(roc_auc_score(labels, scores)))


class AUCDifference(NamedTuple):
    difference: float  # AUC of score a minus AUC of score b, on all the images
    low: float  # bounds of the paired bootstrap interval of the difference
    high: float


def _auc(typical: np.ndarray, anomalous: np.ndarray) -> np.ndarray:
    """AUCs of score sets, the last axis holding the images: the Mann-Whitney statistic."""
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([typical, anomalous], axis=-1), axis=-1)  # ties: mean rank
    n_typical, n_anomalous = typical.shape[-1], anomalous.shape[-1]
    rank_sum = ranks[..., n_typical:].sum(axis=-1)
    return (rank_sum - n_anomalous * (n_anomalous + 1) / 2) / (n_typical * n_anomalous)


def auc_difference(typical_a, anomalous_a, typical_b, anomalous_b, *, resamples: int = 2000,
                   level: float = 0.95, seed: int = 0) -> AUCDifference:
    """AUC of score ``a`` minus AUC of score ``b`` on the same images, with a bootstrap interval.

    ``typical_a`` and ``typical_b`` (N,) are two scores of the same N typical images, in the same
    order; ``anomalous_a`` and ``anomalous_b`` (M,) of the same M anomalies. The interval is the
    percentile interval at ``level`` of the difference over ``resamples`` paired bootstrap draws:
    typical images and anomalies are resampled separately, and each draw scores the same images
    with both scores, so what the two share does not count as uncertainty. An interval that
    contains 0 says the data do not tell which score is better.
    """
    typical_a = checks.array(typical_a, "typical_a", ndim=1, min_size=1)
    typical_b = checks.array(typical_b, "typical_b", ndim=1, min_size=1)
    anomalous_a = checks.array(anomalous_a, "anomalous_a", ndim=1, min_size=1)
    anomalous_b = checks.array(anomalous_b, "anomalous_b", ndim=1, min_size=1)
    if typical_a.shape != typical_b.shape or anomalous_a.shape != anomalous_b.shape:
        raise ValueError(f"the two scores must be of the same images: typical_a "
                         f"{typical_a.shape} and typical_b {typical_b.shape}, anomalous_a "
                         f"{anomalous_a.shape} and anomalous_b {anomalous_b.shape}")
    resamples = checks.positive_int(resamples, "resamples")
    level = checks.probability(level, "level", open_interval=True)
    rng = np.random.default_rng(checks.seed(seed))
    t = rng.integers(0, typical_a.size, size=(resamples, typical_a.size))
    m = rng.integers(0, anomalous_a.size, size=(resamples, anomalous_a.size))
    draws = _auc(typical_a[t], anomalous_a[m]) - _auc(typical_b[t], anomalous_b[m])
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    difference = float(_auc(typical_a, anomalous_a) - _auc(typical_b, anomalous_b))
    return AUCDifference(difference, float(low), float(high))


def invert(images) -> np.ndarray:
    """Photographic negatives, 1 - x: dark digits on a white page."""
    return (1.0 - checks.images(images, "images", image_shape=None)).astype(np.float32)


def resize_binary(images, image_shape=checks.MNIST_IMAGE_SHAPE) -> np.ndarray:
    """Binary images (N, H, W, 1) resized to ``image_shape`` (h, w, 1) and binarised again: each new
    pixel is on when more than half of the area it covers was on (Pillow's box filter, then a
    threshold at 0.5). So that a model of 28 x 28 digits can score 32 x 32 shapes, for instance."""
    from PIL import Image

    images = checks.images(images, "images", image_shape=None, binary=True)
    height, width, channels = _mask_shape(1, image_shape)[1:]
    if images.shape[-1] != 1 or channels != 1:
        raise ValueError(f"resize_binary takes one-channel images to a one-channel shape, got "
                         f"images {images.shape} and image_shape {tuple(image_shape)}")
    resized = np.empty((len(images), height, width, 1), dtype=np.float32)
    for index, image in enumerate(images[..., 0]):
        picture = Image.fromarray((image * 255).astype(np.uint8))
        area = np.asarray(picture.resize((width, height), Image.Resampling.BOX)) / 255.0
        resized[index, ..., 0] = area > 0.5
    return resized


def binary_noise(n: int, on_fraction: float, seed: int = 0,
                 image_shape=checks.MNIST_IMAGE_SHAPE) -> np.ndarray:
    """``n`` images of independent pixels, each on with probability ``on_fraction``: noise with a
    chosen amount of ink (the digits' own, say, so that the amount of ink cannot give it away)."""
    shape = _mask_shape(n, image_shape)
    on_fraction = checks.probability(on_fraction, "on_fraction")
    return (np.random.default_rng(checks.seed(seed)).random(shape) < on_fraction).astype(np.float32)
