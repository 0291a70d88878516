r"""Self-checking coding exercises: the reader writes a function, a checker says if it is right.

In a notebook::

    def my_kl(z_mean, z_log_var):
        ...

    exercises.check_kl(my_kl)

A checker calls the function on a few fixed test cases (random inputs drawn with a fixed seed, a
case with a known value such as the prior, extreme inputs), compares every output with the book's
own definition (:mod:`vaebook.losses`, :mod:`vaebook.metrics`, :mod:`vaebook.models`, Keras'
layers), and prints one sentence: that the function passes, or what is wrong with it. When an
output is wrong, the checker computes the usual wrong answers from the same inputs (the KL
averaged over the latent dimensions instead of summed, the variance used as the standard
deviation...) and names the one the output matches; otherwise it shows the expected and the
actual values. It returns a :class:`Verdict`.

A wrong answer never raises, and neither does an exception raised by the reader's function: the
checker reports both. Only a ``fn`` that is not callable raises ``TypeError``.

The reader's function is called with NumPy float32 arrays (and Python numbers), so NumPy,
``keras.ops`` and TensorFlow code all work; it may return NumPy arrays, tensors or numbers. The
conventions are those of :mod:`vaebook.losses`: images (N, 28, 28, 1), binary for a likelihood;
logits of the same shape; codes (N, J); one value per example, shape (N,), summed over pixels and
latent dimensions (the batch mean happens once, in the training step); nats.

=========  =====================================================================================
Chapter 1  :func:`check_reconstruction_loss`, :func:`check_add_noise`
Chapter 2  :func:`check_kl`, :func:`check_reparameterize`, :func:`check_elbo`,
           :func:`check_log_mean_exp`
Chapter 3  :func:`check_beta_vae_loss`, :func:`check_capacity_loss`
Chapter 4  :func:`check_conv_output_size`, :func:`check_conv_transpose_output_size`
Chapter 5  :func:`check_discriminator_loss`, :func:`check_generator_loss`, :func:`check_fid`
Chapter 6  :func:`check_precision_recall`
=========  =====================================================================================
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import keras
import numpy as np

from . import checks, losses, metrics
from .models import discriminator_loss, generator_loss

SEED = 0  # every checker draws its test inputs from this seed: the same cases on every run
IMAGE_SHAPE = (28, 28, 1)
PIXELS = 784
NUM_IMAGES = 4  # images per test batch
NUM_CODES = 5  # posteriors per test batch: not LATENT_DIM, so a sum over the wrong axis shows
LATENT_DIM = 8  # J of the test posteriors
# float32 code summing 784 pixels is good to about 1e-5 relative; every wrong answer below differs
# from the right one by far more than these tolerances on the case that tells them apart.
RTOL = 1e-4
ATOL = 1e-4


@dataclass(frozen=True)
class Verdict:
    """What a checker found: ``passed``, and ``message``, one sentence saying why.

    ``bool(verdict)`` is ``passed``, so ``assert exercises.check_kl(my_kl)`` works. The checker
    has printed the message already; a notebook shows the returned verdict (as Markdown) only in a
    later cell, so that the sentence does not appear twice under the cell that ran the check.
    """

    passed: bool
    message: str
    printed_in: int | None = field(default=None, repr=False, compare=False)  # IPython cell number

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        return ("✅ " if self.passed else "❌ ") + self.message

    def _ipython_display_(self):
        if self.printed_in is not None and self.printed_in == _notebook_cell():
            return
        from IPython.display import display

        display({"text/plain": self.message, "text/markdown": self._repr_markdown_()}, raw=True)


def _notebook_cell() -> int | None:
    """The number of the IPython cell running now, or None outside IPython."""
    ipython = sys.modules.get("IPython")  # never imported here: only a running IPython has it
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None)


def _verdict(passed: bool, sentence: str) -> Verdict:
    message = ("Passed: " if passed else "Not yet: ") + sentence
    print(message)
    return Verdict(passed, message, printed_in=_notebook_cell())


# ---------------------------------------------------------------------------------------------
# The machinery every checker shares: run the cases, compare, diagnose.


class _Case(NamedTuple):
    description: str  # in words, for the messages: "random posteriors, shape (5, 8)"
    inputs: tuple  # the arguments of the reader's function


class _Mistake(NamedTuple):
    explanation: str  # what the reader probably did, a clause that completes "Not yet: ..."
    answer: Callable  # the same arguments (float64) -> the wrong answer this mistake gives
    rtol: float = RTOL  # looser for approximate mistakes (clipped probabilities)


def _float64(inputs: tuple) -> tuple:
    return tuple(np.asarray(value, np.float64) if isinstance(value, np.ndarray) else value
                 for value in inputs)


def _fresh(inputs: tuple) -> tuple:
    """Copies of the array arguments: a function that edits its inputs in place (``x *= 2``)
    must not change the next case or the reference."""
    return tuple(value.copy() if isinstance(value, np.ndarray) else value for value in inputs)


def _numbers(value) -> np.ndarray:
    """An array, tensor or number as float64 NumPy (the references and the wrong answers)."""
    return np.asarray(keras.ops.convert_to_numpy(value), np.float64)


def _call(fn, inputs: tuple) -> tuple[np.ndarray | None, str | None]:
    """``fn(*inputs)`` as a float64 array, or None and the reason there is none."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # Overflow warnings would bury the one sentence that explains them.
            warnings.simplefilter("ignore")
            value = fn(*_fresh(inputs))
    except Exception as error:  # any error in the reader's code is reported, not raised
        text = (str(error).strip().splitlines() or [""])[0]
        text = text if len(text) <= 160 else text[:157] + "..."
        return None, f"your function raised {type(error).__name__}" + (f": {text}" if text else "")
    if value is None:
        return None, "your function returned None: is its return statement missing?"
    try:
        array = np.asarray(keras.ops.convert_to_numpy(value))
    except Exception:
        return None, f"your function returned {checks.describe(value)}, not numbers"
    if array.dtype.kind == "c":
        return None, (f"your function returned complex numbers ({_show(array)}): the answer is "
                      "real; scipy.linalg.sqrtm can leave tiny imaginary parts from rounding, "
                      "keep its .real part")
    if array.dtype.kind not in "biuf":
        return None, f"your function returned {checks.describe(value)}, not numbers"
    return array.astype(np.float64), None


def _close(got: np.ndarray, want: np.ndarray, rtol: float = RTOL) -> bool:
    return got.shape == want.shape and bool(np.all(np.isfinite(got))) and np.allclose(
        got, want, rtol=rtol, atol=ATOL)


def _show(values: np.ndarray) -> str:
    values = np.asarray(values)
    if values.ndim == 0:
        return f"{values.item():.6g}"
    flat = [f"{value:.5g}" for value in values.ravel()[:4]]
    return "[" + ", ".join(flat) + (", ...]" if values.size > 4 else "]")


def _pattern(got: np.ndarray, want: np.ndarray) -> str:
    """A constant ratio or offset between two arrays, in words (a clue when no mistake fits)."""
    if got.shape != want.shape or got.size < 2 or not np.all(np.isfinite(got)):
        return ""
    if np.all(np.abs(want) > ATOL):
        ratio = got / want
        if np.allclose(ratio, ratio.flat[0], rtol=1e-3) and abs(ratio.flat[0] - 1.0) > 1e-2:
            return f" (every value is {ratio.flat[0]:.4g} times the expected one)"
    offset = got - want
    if np.allclose(offset, offset.flat[0], rtol=1e-3, atol=ATOL) and abs(offset.flat[0]) > 1e-2:
        return f" (every value is off by the same {offset.flat[0]:+.4g})"
    return ""


def _check(fn, cases: list[_Case], reference: Callable, mistakes: list[_Mistake], *, name: str,
           what: str, reference_name: str, shape_hint: str, nonfinite_hint: str) -> Verdict:
    """Run ``fn`` on every case; the first wrong output gives the verdict.

    ``reference`` computes the right answer from the float64 arguments. ``what`` names the
    reader's result in messages ("your KL"); ``shape_hint`` says what the expected shape means;
    ``nonfinite_hint`` explains a NaN or infinity.
    """
    checks.function(fn, "fn", what=f"your function itself, e.g. {name}(my_function) (pass the "
                                   "function, do not call it)")
    seen = []  # (arguments, output) of the cases passed so far, to choose between mistakes
    for index, case in enumerate(cases):
        inputs = _float64(case.inputs)
        with np.errstate(all="ignore"):
            want = _numbers(reference(*inputs))
        got, problem = _call(fn, case.inputs)
        if problem:
            return _verdict(False, f"{problem} (on {case.description}).")
        if index == 0:
            again, _ = _call(fn, case.inputs)
            if again is None or again.shape != got.shape or not np.allclose(
                    again, got, rtol=1e-6, atol=1e-6, equal_nan=True):
                return _verdict(False, f"{what} changes between two calls with the same inputs: "
                                       "the function must not draw random numbers of its own.")
        if _close(got, want):
            seen.append((inputs, got))
            continue
        mistake = _diagnose(got, inputs, mistakes, seen)
        if mistake:
            return _verdict(False, mistake + ".")
        if got.shape != want.shape:
            return _verdict(False, _shape_message(got, want, what, shape_hint, case))
        if not np.all(np.isfinite(got)):
            return _verdict(False, f"{what} is NaN or infinite on {case.description} "
                                   f"({_show(got)}): {nonfinite_hint}.")
        return _verdict(False, f"on {case.description}, expected {_show(want)} but {what} is "
                               f"{_show(got)}{_pattern(got, want)}.")
    return _verdict(True, f"{what} matches {reference_name} on all {len(cases)} test cases.")


def _diagnose(got: np.ndarray, inputs: tuple, mistakes: list[_Mistake], seen: list) -> str | None:
    """The explanation of the mistake whose wrong answer is ``got``, if one is.

    Several mistakes can give the same number on one case; the one that also agrees with the
    reader's outputs on the cases already passed is the likelier (it is right where they were).
    """

    def gives(mistake: _Mistake, arguments: tuple, output: np.ndarray) -> bool:
        try:
            with np.errstate(all="ignore"):
                return _close(output, _numbers(mistake.answer(*arguments)), mistake.rtol)
        except Exception:  # a wrong formula that cannot run on these inputs does not match
            return False

    matching = [mistake for mistake in mistakes if gives(mistake, inputs, got)]
    consistent = [mistake for mistake in matching
                  if all(gives(mistake, arguments, output) for arguments, output in seen)]
    chosen = (consistent or matching or [None])[0]
    return chosen.explanation if chosen else None


def _shape_message(got, want, what, shape_hint, case) -> str:
    if want.ndim == 1 and got.ndim == 0:
        return (f"{what} is one number for the whole batch on {case.description}: return "
                f"{shape_hint}, shape {want.shape}; the book takes the batch mean once, in the "
                "training step.")
    return (f"{what} has shape {got.shape} on {case.description}, expected {want.shape}: "
            f"{shape_hint}.")


def _batch_mistakes(value: Callable, per: str) -> list[_Mistake]:
    """The mean and the sum over the batch: one number where one per example is expected."""
    return [
        _Mistake(f"{per} is the mean over the batch, one number: return one value per example, "
                 "shape (N,); the book takes the batch mean once, in the training step",
                 lambda *arguments: np.mean(_numbers(value(*arguments)))),
        _Mistake(f"{per} is the sum over the batch, one number: return one value per example, "
                 "shape (N,)", lambda *arguments: np.sum(_numbers(value(*arguments)))),
    ]


# ---------------------------------------------------------------------------------------------
# Formulas in NumPy (float64), for the wrong answers; the right ones come from the library.


def _sigmoid(logits):
    return 0.5 * (1.0 + np.tanh(0.5 * logits))  # never overflows, unlike 1 / (1 + exp(-l))


def _softplus(logits):
    return np.logaddexp(0.0, logits)


def _per_image(values):
    return values.reshape(len(values), -1).sum(axis=1)


def _nll(x, logits):
    """-log p(x | z) per image, summed over pixels: softplus(l) - x l."""
    return _per_image(_softplus(logits) - x * logits)


def _clipped_nll(x, logits, epsilon=1e-7):
    """The same from probabilities clipped to [eps, 1 - eps], as Keras does for probabilities:
    a confidently wrong pixel costs about -log(eps) = 16 nats instead of |logit|."""
    p = np.clip(_sigmoid(logits), epsilon, 1.0 - epsilon)
    return -_per_image(x * np.log(p) + (1.0 - x) * np.log(1.0 - p))


def _kl(mean, log_var):
    return 0.5 * np.sum(mean**2 + np.exp(log_var) - 1.0 - log_var, axis=1)


# ---------------------------------------------------------------------------------------------
# Test inputs


def _binary_images(rng, count=NUM_IMAGES):
    return (rng.random((count, *IMAGE_SHAPE)) < 0.3).astype(np.float32)  # (N, 28, 28, 1)


def _random_logits(rng, shape):
    return (3.0 * rng.standard_normal(shape)).astype(np.float32)


def _confident_logits(rng, shape):
    return np.where(rng.random(shape) < 0.5, 100.0, -100.0).astype(np.float32)


def _posterior(rng, count=NUM_CODES):
    mean = rng.standard_normal((count, LATENT_DIM)).astype(np.float32)  # (N, J)
    log_var = (0.5 * rng.standard_normal((count, LATENT_DIM)) - 0.5).astype(np.float32)
    return mean, log_var


def _vae_batch(rng):
    """x (4, 28, 28, 1), logits, z_mean (4, 8), z_log_var (4, 8): one encoder-decoder pass."""
    x = _binary_images(rng)
    mean, log_var = _posterior(rng, NUM_IMAGES)
    return x, _random_logits(rng, x.shape), mean, log_var


# ---------------------------------------------------------------------------------------------
# Chapter 1


_LOGITS_NONFINITE = ("logits are any real numbers, so log(logits) is NaN for negative ones, and "
                     "log(sigmoid(l)) is -inf once sigmoid(l) rounds to 0 or 1 (|l| of about 90 "
                     "in float32); write -log p from the logits: softplus(l) - x * l")


def check_reconstruction_loss(fn) -> Verdict:
    """Chapter 1: the reconstruction loss -log p(x | z) of each image, in nats.

    ``fn(x, logits) -> (N,)``: ``x`` binary images (N, 28, 28, 1), ``logits`` the decoder's
    outputs of the same shape (pixel probabilities sigmoid(logits)). Returns the Bernoulli
    negative log-likelihood of each image, summed over its 784 pixels, as
    :func:`vaebook.losses.reconstruction_loss`.
    """
    rng = np.random.default_rng(SEED)
    x = _binary_images(rng)
    cases = [
        _Case("4 images with random logits, shape (4, 28, 28, 1)",
              (x, _random_logits(rng, x.shape))),
        _Case("logits 0, every pixel probability 1/2 (784 log 2 = 543.4 nats per image)",
              (x, np.zeros_like(x))),
        _Case("logits of +-100, half of the pixels confidently wrong",
              (x, _confident_logits(rng, x.shape))),
    ]
    mistakes = [
        _Mistake("your loss is 1/784 of the expected one: it looks like you averaged over the 784 "
                 "pixels instead of summing them (an image's loss is the sum of its pixels')",
                 lambda x, logits: _nll(x, logits) / PIXELS),
        _Mistake("your loss is one number, the mean over the batch and the pixels (what "
                 "keras.losses.BinaryCrossentropy() returns): sum over each image's pixels and "
                 "return one loss per image, shape (N,)",
                 lambda x, logits: np.mean(_nll(x, logits)) / PIXELS),
        *_batch_mistakes(_nll, "your reconstruction loss"),
        _Mistake("your loss has the wrong sign: it is the negative log-likelihood, -log p(x|z), "
                 "which is never negative", lambda x, logits: -_nll(x, logits)),
        _Mistake("it looks like the sigmoid was applied twice, or probabilities were treated as "
                 "logits: the function receives logits, pass them to the from-logits formula "
                 "softplus(l) - x * l without a sigmoid first",
                 lambda x, logits: _nll(x, _sigmoid(logits))),
        _Mistake("a confidently wrong pixel costs your loss about 16 nats instead of |logit| "
                 "nats: the probabilities were clipped to [1e-7, 1 - 1e-7] (Keras' cross-entropy "
                 "on sigmoid outputs); compute it from the logits, softplus(l) - x * l",
                 _clipped_nll, rtol=0.1),
        _Mistake("it looks like x and 1 - x are swapped: a pixel that is 1 must cost "
                 "-log sigmoid(l) = softplus(-l)", lambda x, logits: _nll(1.0 - x, logits)),
    ]
    return _check(fn, cases, losses.reconstruction_loss, mistakes, name="check_reconstruction_loss",
                  what="your reconstruction loss",
                  reference_name="vaebook.losses.reconstruction_loss",
                  shape_hint="one loss per image, summed over the pixel axes 1, 2 and 3",
                  nonfinite_hint=_LOGITS_NONFINITE)


def _add_noise(images, stddev, noise):
    # vaebook.data.add_gaussian_noise, with the noise given instead of drawn from a seed.
    return np.clip(images + stddev * noise, 0.0, 1.0)


def check_add_noise(fn) -> Verdict:
    """Chapter 1: the corrupted inputs of a denoising autoencoder.

    ``fn(images, stddev, noise) -> (N, 28, 28, 1)``: ``images`` grey levels in [0, 1],
    ``stddev`` a number, ``noise`` standard normal draws of the images' shape. Returns the images
    plus ``stddev * noise``, clipped back to [0, 1], as :func:`vaebook.data.add_gaussian_noise`
    (which draws the noise from a seed).
    """
    rng = np.random.default_rng(SEED)
    images = rng.random((NUM_IMAGES, *IMAGE_SHAPE)).astype(np.float32)
    noise = rng.standard_normal(images.shape).astype(np.float32)
    cases = [
        _Case("4 grey images, stddev 0.5", (images, 0.5, noise)),
        _Case("stddev 0 (the images unchanged)", (images, 0.0, noise)),
        _Case("stddev 2 (strong noise)", (images, 2.0, noise)),
    ]
    mistakes = [
        _Mistake("your noisy images are not clipped: pixel values must stay in [0, 1], clip "
                 "them after adding the noise",
                 lambda images, stddev, noise: images + stddev * noise),
        _Mistake("it looks like you rescaled the noisy images to [0, 1] (min-max) instead of "
                 "clipping them: rescaling changes every pixel, clipping only those outside",
                 lambda images, stddev, noise: _rescaled(images + stddev * noise)),
        _Mistake("your noise has standard deviation stddev ** 2: stddev is the standard "
                 "deviation, multiply the standard normal noise by it (not by the variance)",
                 lambda images, stddev, noise: _add_noise(images, stddev**2, noise)),
        _Mistake("your noise is not scaled by stddev: multiply the standard normal noise by it",
                 lambda images, stddev, noise: _add_noise(images, 1.0, noise)),
        _Mistake("your images are unchanged: the noise was not added",
                 lambda images, stddev, noise: images),
    ]
    return _check(fn, cases, _add_noise, mistakes, name="check_add_noise",
                  what="your noisy batch", reference_name="vaebook.data.add_gaussian_noise",
                  shape_hint="images of the input's shape (N, 28, 28, 1)",
                  nonfinite_hint="images plus finite noise are finite")


def _rescaled(values):
    return (values - values.min()) / (values.max() - values.min())


# ---------------------------------------------------------------------------------------------
# Chapter 2


def check_kl(fn) -> Verdict:
    """Chapter 2: KL(N(z_mean, diag(exp(z_log_var))) || N(0, I)) of each example, in nats.

    ``fn(z_mean, z_log_var) -> (N,)``: both (N, J), ``z_log_var`` the log *variance*. Returns
    1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2), summed over the J latent dimensions, as
    :func:`vaebook.losses.kl_divergence_standard_normal`.
    """
    rng = np.random.default_rng(SEED)
    mean, log_var = _posterior(rng)
    zeros = np.zeros_like(mean)
    extreme_mean = np.where(rng.random(mean.shape) < 0.5, 5.0, -5.0).astype(np.float32)
    extreme_log_var = np.where(rng.random(mean.shape) < 0.5, 10.0, -10.0).astype(np.float32)
    cases = [
        _Case(f"random posteriors, z_mean and z_log_var of shape {mean.shape}", (mean, log_var)),
        _Case("the prior itself (z_mean 0, z_log_var 0: KL 0)", (zeros, zeros)),
        _Case("very wide and very narrow posteriors (z_log_var +-10)",
              (extreme_mean, extreme_log_var)),
    ]
    J = LATENT_DIM
    mistakes = [
        _Mistake(f"your KL is 1/{J} of the expected value: it looks like you averaged over the "
                 f"{J} latent dimensions instead of summing them (an accidental beta of 1/{J})",
                 lambda m, v: _kl(m, v) / J),
        *_batch_mistakes(_kl, "your KL"),
        _Mistake("your KL is twice the expected value: the 1/2 in front of the sum is missing",
                 lambda m, v: 2.0 * _kl(m, v)),
        _Mistake("your KL has the wrong sign: KL(q || p) = 1/2 sum (mu^2 + sigma^2 - 1 - log "
                 "sigma^2) is never negative", lambda m, v: -_kl(m, v)),
        _Mistake("it looks like you treated z_log_var as the log standard deviation, sigma = "
                 "exp(z_log_var): it is the log variance, sigma^2 = exp(z_log_var) and log "
                 "sigma^2 = z_log_var",
                 lambda m, v: 0.5 * np.sum(m**2 + np.exp(2 * v) - 1 - 2 * v, axis=1)),
        _Mistake("it looks like you squared the variance, using exp(z_log_var) as the standard "
                 "deviation: sigma^2 = exp(z_log_var) itself",
                 lambda m, v: 0.5 * np.sum(m**2 + np.exp(2 * v) - 1 - v, axis=1)),
        _Mistake("it looks like you used the standard deviation exp(z_log_var / 2) where the "
                 "variance sigma^2 = exp(z_log_var) belongs",
                 lambda m, v: 0.5 * np.sum(m**2 + np.exp(0.5 * v) - 1 - v, axis=1)),
        _Mistake(f"your KL is {J / 2:g} nats (J/2) too large everywhere: the -1 inside the sum "
                 "is missing (the KL must be 0 at the prior)", lambda m, v: _kl(m, v) + J / 2),
        _Mistake("the log-variance term has the wrong sign: the sum holds - log sigma^2 = "
                 "- z_log_var", lambda m, v: 0.5 * np.sum(m**2 + np.exp(v) - 1 + v, axis=1)),
        _Mistake("z_mean is not squared: the sum holds mu^2",
                 lambda m, v: 0.5 * np.sum(m + np.exp(v) - 1 - v, axis=1)),
    ]
    return _check(fn, cases, losses.kl_divergence_standard_normal, mistakes, name="check_kl", what="your KL",
                  reference_name="vaebook.losses.kl_divergence_standard_normal",
                  shape_hint="one KL per example, summed over the latent dimensions (axis 1)",
                  nonfinite_hint="only exp(z_log_var) can grow large, and it is finite for "
                                 "z_log_var = 10")


def _reparameterized(z_mean, z_log_var, epsilon):
    # The formula of vaebook.models.Sampling, with the noise given instead of drawn.
    return z_mean + np.exp(0.5 * z_log_var) * epsilon


def check_reparameterize(fn) -> Verdict:
    """Chapter 2: the reparameterisation trick, a sample z of q(z | x) from given noise.

    ``fn(z_mean, z_log_var, epsilon) -> (N, J)``: all three (N, J), ``epsilon`` standard normal
    draws. Returns z = z_mean + exp(0.5 * z_log_var) * epsilon, as :class:`vaebook.models.Sampling`
    (which draws epsilon itself). Deterministic: the same epsilon gives the same z.
    """
    rng = np.random.default_rng(SEED)
    mean, log_var = _posterior(rng)
    epsilon = rng.standard_normal(mean.shape).astype(np.float32)
    cases = [
        _Case(f"random posteriors and noise, shape {mean.shape}", (mean, log_var, epsilon)),
        _Case("z_log_var 0 (sigma 1: z = z_mean + epsilon)", (mean, np.zeros_like(mean), epsilon)),
        _Case("z_log_var +-6 (very wide and very narrow posteriors)",
              (mean, np.where(epsilon > 0, 6.0, -6.0).astype(np.float32), epsilon)),
    ]
    mistakes = [
        _Mistake("it looks like you scaled epsilon by the variance exp(z_log_var): the standard "
                 "deviation is exp(0.5 * z_log_var)", lambda m, v, e: m + np.exp(v) * e),
        _Mistake("it looks like you used z_log_var itself as the standard deviation: sigma = "
                 "exp(0.5 * z_log_var)", lambda m, v, e: m + v * e),
        _Mistake("it looks like you divided epsilon by the standard deviation "
                 "(exp(-0.5 * z_log_var)): multiply by it",
                 lambda m, v, e: m + np.exp(-0.5 * v) * e),
        _Mistake("your z is z_mean: epsilon was ignored, so the sample has no noise and the "
                 "decoder sees only the mean", lambda m, v, e: m),
        _Mistake("it looks like sigma and epsilon were added, not multiplied: z = z_mean + sigma "
                 "* epsilon", lambda m, v, e: m + np.exp(0.5 * v) + e),
        _Mistake("the standard deviation is missing: z = z_mean + exp(0.5 * z_log_var) * epsilon",
                 lambda m, v, e: m + e),
        _Mistake("z_mean is missing: z = z_mean + exp(0.5 * z_log_var) * epsilon",
                 lambda m, v, e: np.exp(0.5 * v) * e),
    ]
    return _check(fn, cases, _reparameterized, mistakes, name="check_reparameterize",
                  what="your z", reference_name="the formula of vaebook.models.Sampling",
                  shape_hint="one code per example, the shape of z_mean",
                  nonfinite_hint="exp(0.5 * z_log_var) is finite for |z_log_var| <= 6")


def _elbo(x, logits, z_mean, z_log_var):
    return losses.elbo(x, logits, z_mean, z_log_var)


def check_elbo(fn) -> Verdict:
    """Chapter 2: the evidence lower bound of each image, log p(x | z) - KL, in nats.

    ``fn(x, logits, z_mean, z_log_var) -> (N,)``: ``x`` binary images (N, 28, 28, 1), ``logits``
    the decoder's outputs for a sample z, ``z_mean`` and ``z_log_var`` (N, J). Returns the
    Bernoulli log-likelihood summed over pixels minus the KL summed over latent dimensions, as
    :func:`vaebook.losses.elbo`.
    """
    rng = np.random.default_rng(SEED)
    x, logits, mean, log_var = _vae_batch(rng)
    cases = [
        _Case("4 random images, logits and posteriors (J = 8)", (x, logits, mean, log_var)),
        _Case("logits 0 and the prior as posterior (ELBO -784 log 2 = -543.4 nats)",
              (x, np.zeros_like(x), np.zeros_like(mean), np.zeros_like(log_var))),
        _Case("logits of +-100 (half of the pixels confidently wrong)",
              (x, _confident_logits(rng, x.shape), mean, log_var)),
    ]
    J = LATENT_DIM
    mistakes = [
        _Mistake("your ELBO has the wrong sign: it looks like you returned the loss, the "
                 "negative ELBO; the ELBO is log p(x|z) - KL, a negative number of nats",
                 lambda x, l, m, v: _nll(x, l) + _kl(m, v)),
        _Mistake("the KL is added instead of subtracted: ELBO = log p(x|z) - KL",
                 lambda x, l, m, v: -_nll(x, l) + _kl(m, v)),
        _Mistake("it looks like the reconstruction term has the wrong sign: the ELBO holds the "
                 "log-likelihood log p(x|z), not the reconstruction loss -log p(x|z)",
                 lambda x, l, m, v: _nll(x, l) - _kl(m, v)),
        _Mistake(f"it looks like the KL was averaged over the {J} latent dimensions instead of "
                 f"summed (an accidental beta of 1/J: 1/{J} here, where the test cases have "
                 f"J = {J})",
                 lambda x, l, m, v: -_nll(x, l) - _kl(m, v) / J),
        _Mistake("it looks like the reconstruction term was averaged over the 784 pixels "
                 "instead of summed", lambda x, l, m, v: -_nll(x, l) / PIXELS - _kl(m, v)),
        _Mistake("the KL term is missing: ELBO = log p(x|z) - KL", lambda x, l, m, v: -_nll(x, l)),
        _Mistake("it looks like the sigmoid was applied to the logits before a from-logits "
                 "formula (probabilities treated as logits)",
                 lambda x, l, m, v: -_nll(x, _sigmoid(l)) - _kl(m, v)),
        _Mistake("a confidently wrong pixel costs your reconstruction term about 16 nats instead "
                 "of |logit| nats: the probabilities were clipped to [1e-7, 1 - 1e-7] (Keras' "
                 "cross-entropy on sigmoid outputs); compute log p(x|z) from the logits, "
                 "-(softplus(l) - x * l)",
                 lambda x, l, m, v: -_clipped_nll(x, l) - _kl(m, v), rtol=0.1),
        *_batch_mistakes(lambda x, l, m, v: -_nll(x, l) - _kl(m, v), "your ELBO"),
    ]
    return _check(fn, cases, _elbo, mistakes, name="check_elbo", what="your ELBO",
                  reference_name="vaebook.losses.elbo",
                  shape_hint="one ELBO per image, each term summed over its own axes",
                  nonfinite_hint=_LOGITS_NONFINITE)


def check_log_mean_exp(fn) -> Verdict:
    r"""Chapter 2: the importance-weighted bound of each image from its K log weights.

    ``fn(log_weights) -> (N,)``: ``log_weights`` (N, K), K samples per image, in nats. Returns
    log (1/K) sum_k exp(log_weights[:, k]), computed without overflow or underflow, as
    :func:`vaebook.metrics.log_mean_exp` (along the last axis, as :func:`vaebook.metrics.iwae_bound`
    uses it).
    """
    rng = np.random.default_rng(SEED)
    shape = (3, 5)  # (N, K): N != K, so a reduction over the wrong axis shows in the shape
    cases = [
        _Case(f"log weights of about -50, shape {shape}",
              ((3.0 * rng.standard_normal(shape) - 50.0).astype(np.float32),)),
        _Case("log weights of about -1000, where exp underflows to 0",
              ((3.0 * rng.standard_normal(shape) - 1000.0).astype(np.float32),)),
        _Case("one sample per image, K = 1 (the bound is the weight itself)",
              ((3.0 * rng.standard_normal((3, 1)) - 50.0).astype(np.float32),)),
    ]
    mistakes = [
        _Mistake("your log-mean-exp is log K too large: it looks like you computed log-sum-exp "
                 "without the -log K; the bound is the log of the *mean* of the K weights",
                 lambda v: metrics.log_mean_exp(v, axis=-1) + math.log(v.shape[-1])),
        _Mistake("it looks like you averaged the log weights (the mean of the logs, which is the "
                 "ELBO estimated from K samples): take the log of the mean of exp(log_weights)",
                 lambda v: np.mean(v, axis=-1)),
        _Mistake("your log-mean-exp is the largest log weight: after subtracting the maximum m, "
                 "add back log mean exp(v - m)", lambda v: np.max(v, axis=-1)),
        _Mistake("it looks like you subtracted the maximum inside the exp but did not add it "
                 "back: m + log mean exp(v - m)",
                 lambda v: metrics.log_mean_exp(v, axis=-1) - np.max(v, axis=-1)),
        *_batch_mistakes(lambda v: metrics.log_mean_exp(v, axis=-1), "your log-mean-exp"),
    ]
    return _check(fn, cases, lambda v: metrics.log_mean_exp(v, axis=-1), mistakes,
                  name="check_log_mean_exp", what="your log-mean-exp",
                  reference_name="vaebook.metrics.log_mean_exp",
                  shape_hint="one value per image, reduced over the K samples (axis 1, not axis 0)",
                  nonfinite_hint="exp(-1000) underflows to 0 (and exp(1000) overflows): subtract "
                                 "the largest log weight m of each image first, m + log mean "
                                 "exp(v - m)")


# ---------------------------------------------------------------------------------------------
# Chapter 3


def _beta_loss(x, logits, z_mean, z_log_var, beta):
    # The loss a VAE with this beta minimises (vaebook.models.VAE.compute_terms), per image.
    return (-losses.bernoulli_log_likelihood(x, logits)
            + beta * losses.kl_divergence_standard_normal(z_mean, z_log_var))


def check_beta_vae_loss(fn) -> Verdict:
    """Chapter 3: the β-VAE loss of each image, -(log p(x | z) - β KL), in nats.

    ``fn(x, logits, z_mean, z_log_var, beta) -> (N,)``: as :func:`check_elbo`'s arguments, plus
    ``beta`` a number >= 0. Returns -log p(x|z) + beta * KL per image, the loss
    :class:`vaebook.models.VAE` minimises (its ``compute_terms(x)["loss"]``).
    """
    rng = np.random.default_rng(SEED)
    x, logits, mean, log_var = _vae_batch(rng)
    cases = [
        _Case("4 random images and posteriors, beta = 4", (x, logits, mean, log_var, 4.0)),
        _Case("beta = 0.25", (x, logits, mean, log_var, 0.25)),
        _Case("beta = 1 (the negative ELBO)", (x, logits, mean, log_var, 1.0)),
    ]
    mistakes = [
        _Mistake("it looks like beta multiplies the reconstruction term instead of the KL: the "
                 "loss is -log p(x|z) + beta * KL",
                 lambda x, l, m, v, b: b * _nll(x, l) + _kl(m, v)),
        _Mistake("your loss does not change with beta: it is the plain negative ELBO; multiply "
                 "the KL by beta", lambda x, l, m, v, b: _nll(x, l) + _kl(m, v)),
        _Mistake("your loss has the wrong sign: it looks like you returned the beta-ELBO, "
                 "log p(x|z) - beta * KL, which training maximises; the loss is its negative",
                 lambda x, l, m, v, b: -_nll(x, l) - b * _kl(m, v)),
        _Mistake("the KL term has the wrong sign: the loss is -log p(x|z) + beta * KL",
                 lambda x, l, m, v, b: _nll(x, l) - b * _kl(m, v)),
        _Mistake("it looks like you divided the KL by beta instead of multiplying it",
                 lambda x, l, m, v, b: _nll(x, l) + _kl(m, v) / b),
        _Mistake("it looks like beta multiplies the whole loss: only the KL term is weighted",
                 lambda x, l, m, v, b: b * (_nll(x, l) + _kl(m, v))),
        _Mistake(f"it looks like the KL was averaged over the {LATENT_DIM} latent dimensions "
                 "instead of summed",
                 lambda x, l, m, v, b: _nll(x, l) + b * _kl(m, v) / LATENT_DIM),
        _Mistake("it looks like the reconstruction term was averaged over the 784 pixels "
                 "instead of summed", lambda x, l, m, v, b: _nll(x, l) / PIXELS + b * _kl(m, v)),
        *_batch_mistakes(lambda x, l, m, v, b: _nll(x, l) + b * _kl(m, v), "your loss"),
    ]
    return _check(fn, cases, _beta_loss, mistakes, name="check_beta_vae_loss",
                  what="your beta-VAE loss",
                  reference_name="vaebook.models.VAE's loss (-log p(x|z) + beta * KL)",
                  shape_hint="one loss per image", nonfinite_hint=_LOGITS_NONFINITE)


def _capacity_loss(x, logits, z_mean, z_log_var, capacity, gamma):
    # The capacity objective of vaebook.models.VAE (Burgess et al., 2018), per image.
    kl = losses.kl_divergence_standard_normal(z_mean, z_log_var)
    return -losses.bernoulli_log_likelihood(x, logits) + gamma * keras.ops.abs(kl - capacity)


def check_capacity_loss(fn) -> Verdict:
    """Chapter 3: the capacity-controlled loss of each image, -log p(x | z) + γ |KL - C|, in nats.

    ``fn(x, logits, z_mean, z_log_var, capacity, gamma) -> (N,)``: as :func:`check_elbo`'s
    arguments, plus ``capacity`` C (nats) and ``gamma`` γ, numbers >= 0. Returns the loss
    :class:`vaebook.models.VAE` minimises with ``capacity=`` set (with C at its current value).
    """
    rng = np.random.default_rng(SEED)
    x, logits, mean, log_var = _vae_batch(rng)
    kl = _kl(mean.astype(np.float64), log_var.astype(np.float64))
    # A capacity between the examples' KLs, so that some lie below C and some above.
    capacity = float(np.round(np.median(kl), 1))
    cases = [
        _Case(f"4 random images and posteriors (KLs {_show(kl)}), C = {capacity:g} nats, "
              "gamma = 10",
              (x, logits, mean, log_var, capacity, 10.0)),
        _Case("C = 0, gamma = 1 (the negative ELBO)", (x, logits, mean, log_var, 0.0, 1.0)),
        _Case("C = 50 nats, above every KL, gamma = 2", (x, logits, mean, log_var, 50.0, 2.0)),
    ]
    mistakes = [
        _Mistake("the absolute value is missing: gamma * (KL - C) rewards a KL below C; the "
                 "loss is gamma * |KL - C|",
                 lambda x, l, m, v, c, g: _nll(x, l) + g * (_kl(m, v) - c)),
        _Mistake("your loss does not depend on C: gamma * KL is a beta-VAE with beta = gamma; "
                 "the loss is gamma * |KL - C|",
                 lambda x, l, m, v, c, g: _nll(x, l) + g * _kl(m, v)),
        _Mistake("it looks like C was subtracted outside the absolute value: gamma * |KL - C|, "
                 "not gamma * KL - C", lambda x, l, m, v, c, g: _nll(x, l) + g * _kl(m, v) - c),
        _Mistake("it looks like gamma multiplies the reconstruction term instead of |KL - C|",
                 lambda x, l, m, v, c, g: g * _nll(x, l) + np.abs(_kl(m, v) - c)),
        _Mistake("it looks like you squared KL - C: the loss is gamma * |KL - C|",
                 lambda x, l, m, v, c, g: _nll(x, l) + g * (_kl(m, v) - c) ** 2),
        _Mistake("your loss has the wrong sign: it is -log p(x|z) + gamma * |KL - C|",
                 lambda x, l, m, v, c, g: -_nll(x, l) - g * np.abs(_kl(m, v) - c)),
        _Mistake("it looks like the reconstruction term was averaged over the 784 pixels "
                 "instead of summed",
                 lambda x, l, m, v, c, g: _nll(x, l) / PIXELS + g * np.abs(_kl(m, v) - c)),
        *_batch_mistakes(lambda x, l, m, v, c, g: _nll(x, l) + g * np.abs(_kl(m, v) - c),
                         "your loss"),
    ]
    return _check(fn, cases, _capacity_loss, mistakes, name="check_capacity_loss",
                  what="your capacity loss",
                  reference_name="vaebook.models.VAE's capacity loss "
                                 "(-log p(x|z) + gamma |KL - C|)",
                  shape_hint="one loss per image", nonfinite_hint=_LOGITS_NONFINITE)


# ---------------------------------------------------------------------------------------------
# Chapter 4


def _conv_size(size, kernel_size, strides, padding):
    # Keras itself is the reference: the output shape of a Conv2D layer (nothing is built).
    layer = keras.layers.Conv2D(1, kernel_size, strides=strides, padding=padding)
    return layer.compute_output_shape((None, size, size, 1))[1]


def _conv_transpose_size(size, kernel_size, strides, padding):
    layer = keras.layers.Conv2DTranspose(1, kernel_size, strides=strides, padding=padding)
    return layer.compute_output_shape((None, size, size, 1))[1]


def _valid_formula(n, k, s):
    return (n - k) // s + 1


def _same_formula(n, k, s):
    return -(-n // s)  # ceil(n / s) in integers


def _only(padding, wrong):
    """A mistake made for one padding only: the right size for the other."""

    def answer(n, k, s, p):
        if p == padding:
            return wrong(n, k, s)
        return _valid_formula(n, k, s) if p == "valid" else _same_formula(n, k, s)

    return answer


def _conv_cases(cases) -> list[_Case]:
    return [_Case(f"size {n}, kernel_size {k}, strides {s}, padding '{p}'", (n, k, s, p))
            for n, k, s, p in cases]


def check_conv_output_size(fn) -> Verdict:
    """Chapter 4: the height (or width) of a Conv2D layer's output, with Keras' conventions.

    ``fn(size, kernel_size, strides, padding) -> int``: ``size`` the input's height, the three
    others as ``keras.layers.Conv2D`` takes them (``padding`` is ``"valid"`` or ``"same"``).
    'valid': (size - kernel_size) // strides + 1; 'same': ceil(size / strides).
    """
    cases = _conv_cases([(28, 3, 2, "same"), (28, 3, 2, "valid"), (28, 5, 1, "valid"),
                         (7, 3, 2, "same"), (27, 4, 3, "valid"), (28, 4, 1, "same")])
    mistakes = [
        _Mistake("for padding='valid' the division rounds down, (size - kernel_size) // strides "
                 "+ 1: your size is a fraction", _only("valid", lambda n, k, s: (n - k) / s + 1)),
        _Mistake("your 'valid' size is one short: (size - kernel_size) // strides + 1, the + 1 "
                 "counts the first position of the kernel",
                 _only("valid", lambda n, k, s: (n - k) // s)),
        _Mistake("for padding='valid' the division rounds down; you rounded up",
                 _only("valid", lambda n, k, s: -(-(n - k) // s) + 1)),
        _Mistake("the stride is ignored: a stride s keeps one kernel position in s, dividing the "
                 "size by about s", lambda n, k, s, p: n - k + 1 if p == "valid" else n),
        _Mistake("you used the 'valid' formula for padding='same': 'same' pads the input so that "
                 "only the stride shrinks it, ceil(size / strides), whatever the kernel",
                 _only("same", _valid_formula)),
        _Mistake("for padding='same' the size rounds up, ceil(size / strides) (the last, partial "
                 "step is padded); you rounded down", _only("same", lambda n, k, s: n // s)),
        _Mistake("you used the 'same' formula for padding='valid': without padding the kernel "
                 "must fit inside the input, (size - kernel_size) // strides + 1",
                 _only("valid", _same_formula)),
        _Mistake("your 'same' size is one short for an even kernel: Keras pads kernel_size - 1 "
                 "pixels in all (one more after than before), so the size is ceil(size / strides)",
                 _only("same", lambda n, k, s: (n + 2 * ((k - 1) // 2) - k) // s + 1)),
    ]
    return _check(fn, cases, _conv_size, mistakes, name="check_conv_output_size",
                  what="your output size",
                  reference_name="keras.layers.Conv2D(...).compute_output_shape",
                  shape_hint="a single number, the output's height",
                  nonfinite_hint="the size is a whole number")


def check_conv_transpose_output_size(fn) -> Verdict:
    """Chapter 4: the height of a Conv2DTranspose layer's output (the decoder's upsampling).

    ``fn(size, kernel_size, strides, padding) -> int``, as ``keras.layers.Conv2DTranspose``
    (``output_padding=None``): 'same': size * strides; 'valid': size * strides +
    max(kernel_size - strides, 0). The book's decoder goes 7 -> 14 -> 28 with 'same' and stride 2.
    """
    cases = _conv_cases([(7, 3, 2, "same"), (14, 3, 2, "same"), (7, 3, 2, "valid"),
                         (7, 3, 1, "valid"), (5, 4, 3, "valid"), (7, 1, 2, "valid")])
    mistakes = [
        _Mistake("you used a convolution's formula: a transposed convolution with stride s "
                 "multiplies the size by s instead of dividing it (size * strides for 'same')",
                 lambda n, k, s, p: (_valid_formula if p == "valid" else _same_formula)(n, k, s)),
        _Mistake("the stride is ignored: a transposed convolution with stride s multiplies the "
                 "size by s", lambda n, k, s, p: n + k - 1 if p == "valid" else n),
        _Mistake("for padding='valid' the kernel overhangs: size * strides + max(kernel_size - "
                 "strides, 0); you gave the 'same' size", _only("valid", lambda n, k, s: n * s)),
        _Mistake("for padding='same' the size is exactly size * strides; you added the 'valid' "
                 "overhang", _only("same", lambda n, k, s: n * s + max(k - s, 0))),
        _Mistake("(size - 1) * strides + kernel_size is the textbook formula, but Keras' 'valid' "
                 "gives size * strides + max(kernel_size - strides, 0): they differ when the "
                 "kernel is smaller than the stride",
                 _only("valid", lambda n, k, s: (n - 1) * s + k)),
    ]
    return _check(fn, cases, _conv_transpose_size, mistakes,
                  name="check_conv_transpose_output_size", what="your output size",
                  reference_name="keras.layers.Conv2DTranspose(...).compute_output_shape",
                  shape_hint="a single number, the output's height",
                  nonfinite_hint="the size is a whole number")


# ---------------------------------------------------------------------------------------------
# Chapter 5


_GAN_NONFINITE = ("log(sigmoid(l)) is -inf once sigmoid(l) rounds to 0 or 1 (logits of +-100): "
                  "write -log sigmoid(l) as softplus(-l) and -log(1 - sigmoid(l)) as softplus(l)")


def _gan_logits(rng):
    """Random, zero and extreme discriminator outputs, each (6, 1) like the discriminator's."""
    extreme = np.array([100.0, -100.0, 100.0, -100.0, 100.0, -100.0], np.float32)[:, None]
    random = (2.0 * rng.standard_normal((6, 1))).astype(np.float32)
    return random, np.zeros((6, 1), np.float32), extreme


def check_discriminator_loss(fn) -> Verdict:
    """Chapter 5: the discriminator's loss on pairs of a real and a generated image, in nats.

    ``fn(real_logits, fake_logits) -> (N,)``: both (N, 1), the discriminator's logits for real
    images and for generated ones. Returns the cross-entropy of real = 1 and fake = 0 for each
    pair, softplus(-real_logits[:, 0]) + softplus(fake_logits[:, 0]), as
    :func:`vaebook.models.discriminator_loss` (the GAN's train_step takes the batch mean).
    """
    rng = np.random.default_rng(SEED)
    random, zeros, extreme = _gan_logits(rng)
    cases = [
        _Case("random logits, real and fake of shape (6, 1)",
              (random, (2.0 * rng.standard_normal((6, 1))).astype(np.float32))),
        _Case("logits 0 (D undecided: 2 log 2 = 1.386 nats)", (zeros, zeros)),
        _Case("logits of +-100 (D confident, right and wrong)", (extreme, extreme[::-1].copy())),
    ]

    def terms(real, fake):
        return _softplus(-real[:, 0]), _softplus(fake[:, 0])

    mistakes = [
        _Mistake("it looks like the labels are swapped: real images are labelled 1, costing "
                 "softplus(-l), and generated ones 0, costing softplus(l)",
                 lambda r, f: _softplus(r[:, 0]) + _softplus(-f[:, 0])),
        _Mistake("your loss has the wrong sign: it looks like you returned log D(x) + log(1 - "
                 "D(G(z))), which D maximises; the loss is its negative",
                 lambda r, f: -sum(terms(r, f))),
        _Mistake("it looks like the sigmoid was applied before a from-logits cross-entropy "
                 "(probabilities treated as logits): pass the logits themselves",
                 lambda r, f: sum(terms(_sigmoid(r), _sigmoid(f)))),
        _Mistake("your loss is half the expected one: the two cross-entropies are added, not "
                 "averaged", lambda r, f: 0.5 * sum(terms(r, f))),
        _Mistake("the generated images' term softplus(fake_logits) is missing",
                 lambda r, f: terms(r, f)[0]),
        _Mistake("the real images' term softplus(-real_logits) is missing",
                 lambda r, f: terms(r, f)[1]),
        _Mistake("a confident mistake costs your loss about 16 nats instead of |logit|: the "
                 "probabilities were clipped (Keras' cross-entropy on sigmoid outputs); compute "
                 "it from the logits with softplus",
                 lambda r, f: _clipped_nll(np.ones_like(r), r) + _clipped_nll(np.zeros_like(f), f),
                 rtol=0.1),
        *_batch_mistakes(lambda r, f: sum(terms(r, f)), "your loss"),
    ]
    return _check(fn, cases, discriminator_loss, mistakes, name="check_discriminator_loss",
                  what="your discriminator loss",
                  reference_name="vaebook.models.discriminator_loss",
                  shape_hint="one loss per pair of images; the discriminator outputs (N, 1), take "
                             "its column logits[:, 0]",
                  nonfinite_hint=_GAN_NONFINITE)


def check_generator_loss(fn) -> Verdict:
    """Chapter 5: the generator's non-saturating loss -log D(G(z)) of each generated image.

    ``fn(fake_logits) -> (N,)``: ``fake_logits`` (N, 1), the discriminator's logits for generated
    images. Returns softplus(-fake_logits[:, 0]), as :func:`vaebook.models.generator_loss`.
    """
    rng = np.random.default_rng(SEED)
    random, zeros, extreme = _gan_logits(rng)
    cases = [
        _Case("random logits of shape (6, 1)", (random,)),
        _Case("logits 0 (D undecided: log 2 = 0.693 nats)", (zeros,)),
        _Case("logits of +-100 (D confident)", (extreme,)),
    ]
    mistakes = [
        _Mistake("that is the saturating loss log(1 - D(G(z))) of the minimax game, which gives "
                 "G almost no gradient while D rejects its samples: minimise -log D(G(z)) = "
                 "softplus(-l) instead", lambda f: -_softplus(f[:, 0])),
        _Mistake("it looks like the generated images are labelled 0, as in D's loss: G wants D "
                 "to call them real (label 1), -log D(G(z)) = softplus(-l)",
                 lambda f: _softplus(f[:, 0])),
        _Mistake("your loss has the wrong sign: it is log D(G(z)), which G maximises; the loss "
                 "is -log D(G(z)) = softplus(-l)", lambda f: -_softplus(-f[:, 0])),
        _Mistake("it looks like the sigmoid was applied before a from-logits cross-entropy "
                 "(probabilities treated as logits): pass the logits themselves",
                 lambda f: _softplus(-_sigmoid(f[:, 0]))),
        _Mistake("a confident rejection costs your loss about 16 nats instead of |logit|: the "
                 "probabilities were clipped (Keras' cross-entropy on sigmoid outputs); compute "
                 "it from the logits, softplus(-l)",
                 lambda f: _clipped_nll(np.ones_like(f), f), rtol=0.1),
        *_batch_mistakes(lambda f: _softplus(-f[:, 0]), "your loss"),
    ]
    return _check(fn, cases, generator_loss, mistakes, name="check_generator_loss",
                  what="your generator loss", reference_name="vaebook.models.generator_loss",
                  shape_hint="one loss per generated image; the discriminator outputs (N, 1), "
                             "take its column logits[:, 0]",
                  nonfinite_hint=_GAN_NONFINITE)


def _features_with(rng, mean, covariance, count):
    """``count`` feature rows whose sample mean and (N - 1) covariance are exactly the given ones,
    so that the FID of two such sets is known in closed form."""
    raw = rng.standard_normal((count, len(mean)))
    raw -= raw.mean(axis=0)
    whitened = raw @ np.linalg.inv(np.linalg.cholesky(np.cov(raw, rowvar=False))).T
    return whitened @ np.linalg.cholesky(covariance).T + mean


def _statistics(a, b, ddof=1):
    return (a.mean(axis=0), np.cov(a, rowvar=False, ddof=ddof), b.mean(axis=0),
            np.cov(b, rowvar=False, ddof=ddof))


def _frechet(a, b, root=None, mean_term=lambda d: d @ d, factor=2.0, ddof=1):
    """The Fréchet distance from the features' statistics, with one part swappable for the
    wrong answers: ``root(cov_a, cov_b)`` is the matrix whose trace is subtracted."""
    from scipy import linalg

    mean_a, cov_a, mean_b, cov_b = _statistics(a, b, ddof)
    root = root or (lambda p, q: linalg.sqrtm(p @ q).real)
    return (mean_term(mean_a - mean_b) + np.trace(cov_a) + np.trace(cov_b)
            - factor * np.trace(root(cov_a, cov_b)))


def check_fid(fn) -> Verdict:
    r"""Chapter 5: the Fréchet distance between Gaussians fitted to two feature sets.

    ``fn(features_a, features_b) -> float``: (N, D) and (M, D) features. Returns
    |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^{1/2}), with the covariances S unbiased (N - 1)
    and the matrix square root (``scipy.linalg.sqrtm``), as :func:`vaebook.metrics.fid`.
    For diagonal covariances it is |mu_a - mu_b|^2 + sum_i (sigma_a,i - sigma_b,i)^2.
    """
    from scipy import linalg

    rng = np.random.default_rng(SEED)
    # Diagonal: FID = |(1, 0, -1)|^2 + (1 - 2)^2 + (2 - 1)^2 + (3 - 1)^2 = 2 + 6 = 8.
    diagonal = (_features_with(rng, np.zeros(3), np.diag([1.0, 4.0, 9.0]), 200),
                _features_with(rng, np.array([1.0, 0.0, -1.0]), np.diag([4.0, 1.0, 1.0]), 150))
    # Correlated: covariances that do not commute, so tr sqrtm(A B) differs from the shortcuts.
    factors = rng.standard_normal((2, 4, 4))
    correlated = tuple(_features_with(rng, rng.standard_normal(4), f @ f.T + 0.5 * np.eye(4), n)
                       for f, n in zip(factors, (200, 150)))
    cases = [
        _Case("features (200, 3) and (150, 3) from Gaussians with diagonal covariances (FID 8)",
              tuple(a.astype(np.float32) for a in diagonal)),
        _Case("features (200, 4) and (150, 4) with correlated covariances",
              tuple(a.astype(np.float32) for a in correlated)),
        _Case("the same features twice (FID 0)", (diagonal[0].astype(np.float32),) * 2),
    ]
    mistakes = [
        _Mistake("the mean term |mu_a - mu_b|^2 is missing: two sets with the same spread but "
                 "different means must be apart",
                 lambda a, b: _frechet(a, b, mean_term=lambda d: 0.0)),
        _Mistake("it looks like you took the elementwise square root (np.sqrt) of the product of "
                 "the covariances instead of the matrix square root scipy.linalg.sqrtm",
                 lambda a, b: _frechet(a, b, root=lambda p, q: np.sqrt(p @ q))),
        _Mistake("it looks like you took the elementwise square root (np.sqrt) of S_a * S_b "
                 "instead of the matrix square root of the product, scipy.linalg.sqrtm(S_a @ S_b)",
                 lambda a, b: _frechet(a, b, root=lambda p, q: np.sqrt(np.abs(p * q)))),
        _Mistake("it looks like you used sqrtm(S_a) @ sqrtm(S_b): that equals sqrtm(S_a @ S_b) "
                 "only when the covariances commute; take the square root of the product",
                 lambda a, b: _frechet(a, b, root=lambda p, q: (linalg.sqrtm(p).real
                                                                @ linalg.sqrtm(q).real))),
        _Mistake("the factor 2 in front of the trace of the square root is missing",
                 lambda a, b: _frechet(a, b, factor=1.0)),
        _Mistake("your FID is the square root of the expected one: the FID is the *squared* "
                 "Fréchet distance, do not take its square root",
                 lambda a, b: np.sqrt(max(_frechet(a, b), 0.0))),
        _Mistake("the mean term is not squared: it is |mu_a - mu_b|^2, not |mu_a - mu_b|",
                 lambda a, b: _frechet(a, b, mean_term=lambda d: np.sqrt(d @ d))),
        _Mistake("it looks like the covariances divide by N instead of N - 1: the book (and "
                 "np.cov by default) uses the unbiased covariance; np.var divides by N",
                 lambda a, b: _frechet(a, b, ddof=0)),
    ]
    return _check(fn, cases, metrics.fid, mistakes, name="check_fid", what="your FID",
                  reference_name="vaebook.metrics.fid",
                  shape_hint="a single number for the two sets",
                  nonfinite_hint="np.sqrt of a matrix with negative entries gives NaN; the "
                                 "square root of S_a S_b is a matrix square root, "
                                 "scipy.linalg.sqrtm")


# ---------------------------------------------------------------------------------------------
# Chapter 6


def _distances(a, b):
    """Euclidean distances between the rows of a (N, D) and b (M, D): (N, M)."""
    return np.sqrt(np.maximum(np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1), 0.0))


def _radii(points, k, column=None):
    """Distance from each row to its k-th nearest *other* row (column k of the sorted distances,
    column 0 being the point itself); ``column`` overrides k for the wrong answers."""
    return np.sort(_distances(points, points), axis=1)[:, k if column is None else column]


def _manifold_fraction(queries, points, radii, rule="any ball", squared=False):
    """The fraction of ``queries`` inside the balls (points, radii), by one of the rules a reader
    may write: inside any ball (right), inside the ball of the nearest point, or (``rule`` =
    "balls holding a query") the fraction of balls that hold at least one query."""
    distances = _distances(queries, points)  # (queries, points)
    if squared:
        distances = distances**2
    inside = distances <= radii[None, :]
    if rule == "any ball":
        return float(np.mean(np.any(inside, axis=1)))
    if rule == "nearest ball":
        nearest = np.argmin(distances, axis=1)
        return float(np.mean(inside[np.arange(len(queries)), nearest]))
    return float(np.mean(np.any(inside, axis=0)))  # "balls holding a query"


def _precision_recall(real, generated, k, column=None, rule="any ball", squared=False):
    precision = _manifold_fraction(generated, real, _radii(real, k, column), rule, squared)
    recall = _manifold_fraction(real, generated, _radii(generated, k, column), rule, squared)
    return np.array([precision, recall])


def check_precision_recall(fn) -> Verdict:
    """Chapter 6: the improved precision and recall of Kynkäänniemi et al. (2019), of Chapter 5.

    ``fn(real_features, generated_features, k) -> (precision, recall)``: (N, D) and (M, D)
    features and ``k`` a positive int. Around each real feature vector put a ball whose radius is
    the distance to its k-th nearest *other* real vector, and the same around each generated one.
    Precision is the fraction of generated vectors inside at least one real ball (a point on a
    ball's edge counts as inside), recall the fraction of real vectors inside at least one
    generated ball; both in [0, 1], as :func:`vaebook.metrics.precision_recall`.
    """
    rng = np.random.default_rng(SEED)
    real = rng.standard_normal((40, 2)).astype(np.float32)  # (N, D)
    # A model that is off-centre and too narrow: a part of its samples is realistic, and it
    # covers a part of the data (precision 0.8, recall 0.675). M != N, so that a mean over the
    # wrong set shows.
    shifted = (0.8 * rng.standard_normal((30, 2)) + np.array([2.0, 0.0])).astype(np.float32)
    # A collapsed model: every sample near one real point, realistic but covering one mode.
    collapsed = (real[0] + 0.05 * rng.standard_normal((30, 2))).astype(np.float32)
    cases = [
        _Case("real features (40, 2), generated (30, 2) off-centre and too narrow, k = 3",
              (real, shifted, 3)),
        _Case("the same features, k = 1 (balls to the nearest other point)", (real, shifted, 1)),
        _Case("a collapsed model: all 30 samples next to one real point, k = 3",
              (real, collapsed, 3)),
        _Case("the same features twice (precision and recall 1), k = 3", (real, real.copy(), 3)),
    ]
    mistakes = [
        _Mistake("your precision and recall are swapped: precision is the fraction of *generated* "
                 "samples inside the real balls (are the samples realistic?), recall the fraction "
                 "of *real* images inside the generated balls (is the data covered?)",
                 lambda r, g, k: _precision_recall(r, g, k)[::-1]),
        _Mistake("it looks like each ball reaches the (k-1)-th other point: in the sorted "
                 "distances from a point to its own set, the first is the point itself (0), so "
                 "the k-th nearest neighbour is at index k, not k - 1",
                 lambda r, g, k: _precision_recall(r, g, k, column=k - 1)),
        _Mistake("it looks like each ball reaches the (k+1)-th nearest neighbour: the radius is "
                 "the distance to the k-th nearest *other* point",
                 lambda r, g, k: _precision_recall(r, g, k, column=k + 1)),
        _Mistake("your function ignores k (it always uses 3): the radius is the distance to the "
                 "k-th nearest other point", lambda r, g, k: _precision_recall(r, g, 3)),
        _Mistake("it looks like you counted the real balls that hold a sample (the 'coverage' of "
                 "Naeem et al.); precision counts the samples that lie inside any real ball",
                 lambda r, g, k: _precision_recall(r, g, k, rule="balls holding a query")),
        _Mistake("it looks like a sample is tested against the ball of its nearest real point "
                 "only: it counts if it lies inside *any* real ball (a point with a larger ball "
                 "may reach it)",
                 lambda r, g, k: _precision_recall(r, g, k, rule="nearest ball")),
        _Mistake("it looks like squared distances were compared with radii that are not squared: "
                 "compare distances with distances (or squares with squares)",
                 lambda r, g, k: _precision_recall(r, g, k, squared=True)),
        _Mistake("your precision and recall are percentages: return fractions in [0, 1]",
                 lambda r, g, k: 100.0 * _precision_recall(r, g, k)),
        _Mistake("your function returned one number, the precision: return both, "
                 "(precision, recall)", lambda r, g, k: _precision_recall(r, g, k)[0]),
        _Mistake("your function returned one number, the recall: return both, "
                 "(precision, recall)", lambda r, g, k: _precision_recall(r, g, k)[1]),
    ]
    return _check(fn, cases, lambda r, g, k: np.array(metrics.precision_recall(r, g, k, allow_unequal=True)),
                  mistakes, name="check_precision_recall", what="your (precision, recall)",
                  reference_name="vaebook.metrics.precision_recall",
                  shape_hint="two numbers, (precision, recall)",
                  nonfinite_hint="they are fractions of points, between 0 and 1")
