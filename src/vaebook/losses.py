"""Log-likelihoods and KL divergences, one number per example, in nats.

Conventions used throughout the book (and checked by the tests):

* every function here returns a tensor of shape ``(batch,)``: terms are **summed** over pixels and
  over latent dimensions, so each value is a property of one image;
* averaging over the batch happens once, in the model's ``train_step``/``test_step``;
* natural logarithms, so values are in nats (divide by ``784 * ln 2`` for bits per pixel).

The functions take Keras/TensorFlow tensors or NumPy arrays, and check them (``@_checked_by``):
shapes always (with a batch axis first, and no broadcasting between the image and the decoder's
output), and values too when they are known, that is for NumPy arrays and eager tensors: the
targets of the Bernoulli likelihood must be binary, everything must be finite. Inside a compiled
training step the tensors are symbolic, and only their static shapes are checked (free, at trace
time); the public entry points (``training.fit``, ``metrics``) check the data before it gets there.
The unchecked formula of each function is its ``__wrapped__`` attribute, for callers that have
checked their inputs once already (``vaebook.metrics``' inner loops).
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from . import checks

LOG_2PI = math.log(2.0 * math.pi)
PER_EXAMPLE_NDIMS = (2, 4)  # (batch, D) or (batch, height, width, channels)


def _as_tensor_like(value, name: str):
    """Arrays and tensors as they are, lists and numbers as float32 arrays, anything else refused."""
    if isinstance(value, (list, tuple, numbers.Number, np.generic)) and not isinstance(value, bool):
        return np.asarray(value, dtype=np.float32)
    if isinstance(value, (np.ndarray, keras.KerasTensor, tf.Variable)) or tf.is_tensor(value):
        return value
    raise TypeError(f"{name} must be a tensor or array of numbers, got {checks.describe(value)}")


def _shape(value) -> tuple:
    """Static shape, with None for unknown dimensions."""
    shape = value.shape
    return tuple(None if d is None else int(d) for d in shape)


def _check_per_example(value, name: str, ndims=PER_EXAMPLE_NDIMS, expected=None):
    value = _as_tensor_like(value, name)
    shape = _shape(value)
    if len(shape) not in ndims:
        expected = expected or "shape (batch, height, width, channels) or (batch, D)"
        hint = f" (one example without its batch axis? use {name}[None])" if len(shape) == 3 else ""
        raise ValueError(f"{name} must have a batch axis first, {expected}; got shape "
                         f"{shape}{hint}")
    if shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example, got an empty batch {shape}")
    return value


def _check_same_shape(first, second, names: str):
    a, b = _shape(first), _shape(second)
    if len(a) != len(b) or any(x is not None and y is not None and x != y for x, y in zip(a, b)):
        raise ValueError(f"{names} must have the same shape (no broadcasting: one value per "
                         f"pixel or dimension), got {a} and {b}")


def _check_floats(value, name: str):
    dtype = keras.backend.standardize_dtype(value.dtype)
    if "float" not in dtype:
        raise TypeError(f"{name} must be floats, got dtype {dtype}")
    values = checks.known_values(value)
    if values is not None and not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite, got NaN or infinite values")


def _check_binary(value, name: str):
    """Targets of a Bernoulli likelihood: every value 0 or 1 (checked when the values are known)."""
    values = checks.known_values(value)
    if values is None:
        return
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numbers 0 or 1, got dtype {values.dtype}")
    if values.dtype == bool:
        return
    bad = (values != 0) & (values != 1)
    if not bad.any():
        return
    example = values[bad].flat[0]
    if not np.isfinite(example):
        raise ValueError(f"{name} must be binary pixels (0 or 1), got NaN or infinite values")
    if values.max() > 1:
        raise ValueError(f"{name} must be binary pixels (0 or 1), got values up to "
                         f"{values.max():g} (grey levels 0-255? divide by 255 and binarise)")
    raise ValueError(f"{name} must be binary pixels (0 or 1), got grey levels such as "
                     f"{example:.3g}. {checks.GREY_LEVEL_REASON}")


def _check_codes(value, name: str):
    value = _check_per_example(value, name, ndims=(2,), expected="shape (batch, latent_dim)")
    _check_floats(value, name)
    return value


def _checked_by(check):
    """Run ``check(**arguments)`` (which returns the arguments, converted) before the function.

    The undecorated function stays available as ``function.__wrapped__``.
    """

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def checked(*args, **kwargs):
            arguments = signature.bind(*args, **kwargs).arguments
            return function(**check(**arguments))

        return checked

    return decorate


def _bernoulli_arguments(x, logits):
    x = _check_per_example(x, "x")
    logits = _check_per_example(logits, "logits")
    _check_same_shape(x, logits, "x and logits")
    _check_binary(x, "x")
    _check_floats(logits, "logits")
    return {"x": x, "logits": logits}


def _gaussian_arguments(x, mean, log_var):
    x = _check_per_example(x, "x")
    mean = _check_per_example(mean, "mean")
    _check_same_shape(x, mean, "x and mean")
    log_var = _as_tensor_like(log_var, "log_var")
    variance_shape, mean_shape = _shape(log_var), _shape(mean)
    broadcastable = len(variance_shape) <= len(mean_shape) and all(
        a in (1, None) or b is None or a == b
        for a, b in zip(variance_shape[::-1], mean_shape[::-1]))
    if not broadcastable:
        raise ValueError(f"log_var must be broadcastable to mean's shape {mean_shape}, "
                         f"got shape {variance_shape}")
    for name, value in (("x", x), ("mean", mean), ("log_var", log_var)):
        _check_floats(value, name)
    return {"x": x, "mean": mean, "log_var": log_var}


def _standard_normal_arguments(z):
    return {"z": _check_codes(z, "z")}


def _kl_arguments(z_mean, z_log_var):
    z_mean, z_log_var = _check_codes(z_mean, "z_mean"), _check_codes(z_log_var, "z_log_var")
    _check_same_shape(z_mean, z_log_var, "z_mean and z_log_var")
    return {"z_mean": z_mean, "z_log_var": z_log_var}


def _elbo_arguments(x, logits, z_mean, z_log_var):
    arguments = {**_bernoulli_arguments(x, logits), **_kl_arguments(z_mean, z_log_var)}
    batch, codes_batch = _shape(arguments["x"])[0], _shape(arguments["z_mean"])[0]
    if batch is not None and codes_batch is not None and batch != codes_batch:
        raise ValueError(f"x and z_mean must hold the same number of examples, got {batch} "
                         f"and {codes_batch}")
    return arguments


def _sum_per_example(values):
    """Sum every axis but the first: (batch, ...) -> (batch,)."""
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1)


@_checked_by(_bernoulli_arguments)
def bernoulli_log_likelihood(x, logits):
    """log p(x | z) for a Bernoulli decoder parameterised by logits, summed over pixels.

        log p(x | z) = sum_d [x_d log sigmoid(l_d) + (1 - x_d) log(1 - sigmoid(l_d))]
                     = sum_d [x_d l_d - softplus(l_d)]

    The second form never takes the log of a sigmoid that has underflowed to 0, so it stays
    finite for any logit.

    Args:
        x: binary targets (each pixel 0 or 1), shape (batch, height, width, channels) or
            (batch, D). For a grey level x_d the sum is not the log of any probability, so grey
            images are refused.
        logits: decoder outputs l = log(p / (1 - p)), the same shape as ``x``.

    Returns:
        (batch,) log-likelihood of each image, in nats (always <= 0).
    """
    x = ops.cast(x, logits.dtype)
    return _sum_per_example(x * logits - ops.softplus(logits))


@_checked_by(_gaussian_arguments)
def gaussian_log_likelihood(x, mean, log_var):
    r"""log N(x; mean, diag(exp(log_var))), summed over dimensions.

    .. math::
        \log \mathcal N(x; \mu, \sigma^2) = -\tfrac12 \sum_d
            \left[\log 2\pi + \log\sigma_d^2 + (x_d - \mu_d)^2 / \sigma_d^2\right]

    Args:
        x, mean: the same shape, (batch, D) or (batch, height, width, channels).
        log_var: log variance, broadcastable to ``mean`` (a scalar gives a shared variance).

    Returns:
        (batch,) log density of each example, in nats.
    """
    x = ops.cast(x, mean.dtype)
    log_var = ops.broadcast_to(ops.cast(log_var, mean.dtype), ops.shape(mean))
    squared = ops.square(x - mean) * ops.exp(-log_var)
    return -0.5 * _sum_per_example(LOG_2PI + log_var + squared)


@_checked_by(_standard_normal_arguments)
def standard_normal_log_density(z):
    r"""log N(z; 0, I), summed over latent dimensions: (batch, latent_dim) -> (batch,)."""
    return -0.5 * _sum_per_example(LOG_2PI + ops.square(z))


@_checked_by(_kl_arguments)
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


@_checked_by(_elbo_arguments)
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
    return (bernoulli_log_likelihood.__wrapped__(x, logits)
            - kl_divergence_standard_normal.__wrapped__(z_mean, z_log_var))


@keras.saving.register_keras_serializable(package="vaebook")
@_checked_by(_bernoulli_arguments)
def reconstruction_loss(x, logits):
    """Keras loss for autoencoders: -log p(x | z) per image (binary cross-entropy summed over
    pixels), shape (batch,). Keras averages it over the batch."""
    return -bernoulli_log_likelihood.__wrapped__(x, logits)
