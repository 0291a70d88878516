"""The exercise checkers: a right answer passes, each usual wrong answer is named, nothing raises.

The wrong answers are written as a reader would write them (NumPy, ``keras.ops``, Keras losses),
not taken from the checkers' own lists, so a test fails if a checker stops recognising one.
"""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pytest
from keras import ops
from scipy import linalg
from scipy.spatial import distance

from vaebook import exercises


def sigmoid(values):
    return 1.0 / (1.0 + np.exp(-values))


def fid_from(a, b, root=lambda p, q: linalg.sqrtm(p @ q).real, factor=2.0, ddof=1,
             mean_term=True):
    """The FID of two feature sets, with the parts a reader may get wrong as arguments."""
    cov_a, cov_b = np.cov(a, rowvar=False, ddof=ddof), np.cov(b, rowvar=False, ddof=ddof)
    difference = a.mean(axis=0) - b.mean(axis=0)
    trace = np.trace(cov_a + cov_b - factor * root(cov_a, cov_b))
    return trace + (float(difference @ difference) if mean_term else 0.0)


# --- right answers, in the styles a reader may use ----------------------------------------------


def reconstruction_loss(x, logits):
    return ops.sum(ops.softplus(logits) - x * logits, axis=(1, 2, 3))


def kl(z_mean, z_log_var):
    return 0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var, axis=1)


def kl_numpy(z_mean, z_log_var):
    return 0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - 1.0 - z_log_var, axis=-1)


def conv_size(n, k, s, p):
    return (n - k) // s + 1 if p == "valid" else math.ceil(n / s)


def conv_transpose_size(n, k, s, p):
    return n * s + (max(k - s, 0) if p == "valid" else 0)


def precision_recall(real, generated, k):
    """As a reader may write it: scipy's distances, the k-th neighbour at index k of each sorted
    row (index 0 is the point itself)."""
    real_radii = np.sort(distance.cdist(real, real), axis=1)[:, k]
    generated_radii = np.sort(distance.cdist(generated, generated), axis=1)[:, k]
    precision = np.mean(np.any(distance.cdist(generated, real) <= real_radii, axis=1))
    recall = np.mean(np.any(distance.cdist(real, generated) <= generated_radii, axis=1))
    return precision, recall


RIGHT = {
    "check_reconstruction_loss": reconstruction_loss,
    "check_add_noise": lambda images, stddev, noise: np.clip(images + stddev * noise, 0.0, 1.0),
    "check_kl": kl,
    "check_reparameterize": lambda m, v, e: m + ops.exp(0.5 * v) * e,
    "check_elbo": lambda x, l, m, v: -reconstruction_loss(x, l) - kl(m, v),
    "check_log_mean_exp": lambda w: ops.logsumexp(w, axis=-1) - math.log(w.shape[-1]),
    "check_beta_vae_loss": lambda x, l, m, v, beta: reconstruction_loss(x, l) + beta * kl(m, v),
    "check_capacity_loss": lambda x, l, m, v, c, gamma: (
        reconstruction_loss(x, l) + gamma * ops.abs(kl(m, v) - c)),
    "check_conv_output_size": conv_size,
    "check_conv_transpose_output_size": conv_transpose_size,
    "check_discriminator_loss": lambda real, fake: (
        ops.softplus(-real[:, 0]) + ops.softplus(fake[:, 0])),
    "check_generator_loss": lambda fake: ops.softplus(-fake[:, 0]),
    "check_fid": fid_from,
    "check_precision_recall": precision_recall,
}


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_a_right_answer_passes_and_the_sentence_is_printed_once(name, capsys):
    verdict = getattr(exercises, name)(RIGHT[name])
    assert verdict.passed and bool(verdict), verdict.message
    assert verdict.message.startswith("Passed:") and "matches" in verdict.message
    assert capsys.readouterr().out == verdict.message + "\n"
    assert str(verdict) == verdict.message


def test_every_checker_is_tested():
    checkers = {name for name in dir(exercises) if name.startswith("check_")}
    assert checkers == set(RIGHT)
    for name in checkers:
        assert "->" in getattr(exercises, name).__doc__  # the docstring states the signature


def test_numpy_code_that_edits_its_inputs_passes():
    def kl_in_place(z_mean, z_log_var):
        z_mean **= 2  # in place: the checker's next case and its reference must not see it
        return 0.5 * np.sum(z_mean + np.exp(z_log_var) - 1.0 - z_log_var, axis=1)

    assert exercises.check_kl(kl_numpy)
    assert exercises.check_kl(kl_in_place)


# --- wrong answers: each is caught and named -----------------------------------------------------


def per_pixel(x, logits):
    return ops.softplus(logits) - x * logits


def kl_terms(m, v):
    return 0.5 * (m**2 + ops.exp(v) - 1 - v)  # (N, J): not yet summed


def bernoulli_of_logits_as_probabilities(x, logits):
    return -np.sum(x * np.log(logits) + (1 - x) * np.log(1 - logits), axis=(1, 2, 3))


def naive_bernoulli(x, logits):
    p = sigmoid(logits)  # float32: rounds to 0 or 1 for logits of +-100
    return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))


def keras_on_probabilities(x, logits):
    # Keras clips probabilities to [1e-7, 1 - 1e-7]: fine until a logit is large. (Given the
    # output of ops.sigmoid itself, TensorFlow's Keras finds the logits and does not clip.)
    return ops.sum(ops.binary_crossentropy(x, sigmoid(logits)), axis=(1, 2, 3))


def min_max_noise(images, stddev, noise):
    noisy = images + stddev * noise
    return (noisy - noisy.min()) / (noisy.max() - noisy.min())


def conv_symmetric_padding(n, k, s, p):
    pad = (k - 1) // 2 if p == "same" else 0
    return (n + 2 * pad - k) // s + 1


def log_mean_exp_naive(w):
    return np.log(np.mean(np.exp(w), axis=1))


def dcgan_tutorial_discriminator_loss(real, fake):
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return cross_entropy(np.ones_like(real), real) + cross_entropy(np.zeros_like(fake), fake)


def naive_discriminator_loss(real, fake):
    return -np.log(sigmoid(real[:, 0])) - np.log(1 - sigmoid(fake[:, 0]))


def generator_loss_on_probabilities(fake):
    return ops.sum(ops.binary_crossentropy(np.ones_like(fake), sigmoid(fake)), axis=1)


def nearest_neighbour_counted_as_itself(real, generated, k):
    # np.partition(..., k - 1)[:, k - 1]: the k-th smallest distance, the point itself included
    real_radii = np.partition(distance.cdist(real, real), k - 1, axis=1)[:, k - 1]
    generated_radii = np.partition(distance.cdist(generated, generated), k - 1, axis=1)[:, k - 1]
    return (np.mean(np.any(distance.cdist(generated, real) <= real_radii, axis=1)),
            np.mean(np.any(distance.cdist(real, generated) <= generated_radii, axis=1)))


def balls_holding_a_sample(real, generated, k):
    real_radii = np.sort(distance.cdist(real, real), axis=1)[:, k]
    generated_radii = np.sort(distance.cdist(generated, generated), axis=1)[:, k]
    # for each real ball: does it hold a sample? (the "coverage" of Naeem et al., 2020)
    return (np.mean(np.any(distance.cdist(generated, real) <= real_radii, axis=0)),
            np.mean(np.any(distance.cdist(real, generated) <= generated_radii, axis=0)))


def nearest_ball_only(real, generated, k):
    def fraction(queries, points):
        radii = np.sort(distance.cdist(points, points), axis=1)[:, k]
        to_points = distance.cdist(queries, points)
        nearest = np.argmin(to_points, axis=1)
        return np.mean(to_points[np.arange(len(queries)), nearest] <= radii[nearest])

    return fraction(generated, real), fraction(real, generated)


def squared_distances_against_radii(real, generated, k):
    real_radii = np.sort(distance.cdist(real, real), axis=1)[:, k]
    generated_radii = np.sort(distance.cdist(generated, generated), axis=1)[:, k]
    squared = distance.cdist(generated, real, "sqeuclidean")
    return (np.mean(np.any(squared <= real_radii, axis=1)),
            np.mean(np.any(squared.T <= generated_radii, axis=1)))


WRONG = [
    # Chapter 1: the reconstruction loss
    ("check_reconstruction_loss", lambda x, l: ops.mean(per_pixel(x, l), axis=(1, 2, 3)),
     r"averaged over the 784 pixels instead of summing"),
    ("check_reconstruction_loss", lambda x, l: reconstruction_loss(x, ops.sigmoid(l)),
     r"sigmoid was applied twice"),
    ("check_reconstruction_loss", lambda x, l: -reconstruction_loss(x, l), r"wrong sign"),
    ("check_reconstruction_loss", lambda x, l: ops.mean(reconstruction_loss(x, l)),
     r"mean over the batch, one number"),
    ("check_reconstruction_loss",
     lambda x, l: keras.losses.BinaryCrossentropy(from_logits=True)(x, l), r"BinaryCrossentropy"),
    ("check_reconstruction_loss",
     lambda x, l: keras.losses.binary_crossentropy(x, l, from_logits=True),
     r"shape \(4, 28, 28\).*sum.*pixel axes"),
    ("check_reconstruction_loss", bernoulli_of_logits_as_probabilities,
     r"NaN or infinite.*log\(logits\) is NaN"),
    ("check_reconstruction_loss", naive_bernoulli,
     r"NaN or infinite on logits of \+-100.*softplus"),
    ("check_reconstruction_loss", keras_on_probabilities, r"clipped"),
    ("check_reconstruction_loss", lambda x, l: reconstruction_loss(1 - x, l), r"1 - x are swapped"),
    # Chapter 1: the denoising autoencoder's inputs
    ("check_add_noise", lambda images, s, noise: images + s * noise, r"not clipped"),
    ("check_add_noise", lambda images, s, noise: np.clip(images + s**2 * noise, 0, 1),
     r"stddev \*\* 2"),
    ("check_add_noise", lambda images, s, noise: np.clip(images + noise, 0, 1),
     r"not scaled by stddev"),
    ("check_add_noise", lambda images, s, noise: images, r"noise was not added"),
    ("check_add_noise", min_max_noise, r"rescaled.*instead of clipping"),
    # Chapter 2: the KL
    ("check_kl", lambda m, v: ops.mean(kl_terms(m, v), axis=1),
     r"averaged over the 8 latent dimensions instead of summing"),
    ("check_kl", lambda m, v: 0.5 * ops.sum(m**2 + ops.exp(2 * v) - 1 - 2 * v, axis=1),
     r"log standard deviation"),
    ("check_kl", lambda m, v: 0.5 * ops.sum(m**2 + ops.exp(v) ** 2 - 1 - v, axis=1),
     r"squared the variance.*standard deviation"),
    ("check_kl", lambda m, v: 0.5 * ops.sum(m**2 + ops.exp(0.5 * v) - 1 - v, axis=1),
     r"used the standard deviation"),
    ("check_kl", lambda m, v: ops.sum(m**2 + ops.exp(v) - 1 - v, axis=1), r"1/2 .*missing"),
    ("check_kl", lambda m, v: -kl(m, v), r"wrong sign"),
    ("check_kl", lambda m, v: -0.5 * ops.mean(ops.sum(1 + v - m**2 - ops.exp(v), axis=1)),
     r"mean over the batch"),
    ("check_kl", lambda m, v: 0.5 * ops.sum(m**2 + ops.exp(v) - v, axis=1), r"-1 .*missing"),
    ("check_kl", kl_terms, r"shape \(5, 8\).*summed over the latent"),
    ("check_kl", lambda m, v: 3 * kl(m, v), r"expected .* but your KL is .*3 times"),
    # Chapter 2: the reparameterisation trick
    ("check_reparameterize", lambda m, v, e: m + ops.exp(v) * e, r"by the variance"),
    ("check_reparameterize", lambda m, v, e: m + v * e,
     r"z_log_var itself as the standard deviation"),
    ("check_reparameterize", lambda m, v, e: m, r"epsilon was ignored"),
    ("check_reparameterize", lambda m, v, e: m + ops.exp(0.5 * v) + e, r"added, not multiplied"),
    ("check_reparameterize", lambda m, v, e: m + ops.exp(0.5 * v) * keras.random.normal(m.shape),
     r"must not draw random numbers"),
    # Chapter 2: the ELBO
    ("check_elbo", lambda x, l, m, v: reconstruction_loss(x, l) + kl(m, v),
     r"wrong sign.*returned the loss"),
    ("check_elbo", lambda x, l, m, v: -reconstruction_loss(x, l) + kl(m, v),
     r"KL is added instead of subtracted"),
    ("check_elbo", lambda x, l, m, v: -reconstruction_loss(x, l) - ops.mean(kl_terms(m, v), axis=1),
     r"KL was averaged over the 8 latent dimensions"),
    ("check_elbo", lambda x, l, m, v: -ops.mean(per_pixel(x, l), axis=(1, 2, 3)) - kl(m, v),
     r"reconstruction term was averaged over the 784 pixels"),
    ("check_elbo", lambda x, l, m, v: -reconstruction_loss(x, l), r"KL term is missing"),
    ("check_elbo", lambda x, l, m, v: ops.sum(
        x * ops.log(ops.clip(ops.sigmoid(l), 1e-7, 1 - 1e-7))
        + (1 - x) * ops.log(1 - ops.clip(ops.sigmoid(l), 1e-7, 1 - 1e-7)), axis=(1, 2, 3))
     - kl(m, v), r"clipped"),
    ("check_elbo", lambda x, l, m, v: reconstruction_loss(x, l) - kl(m, v),
     r"reconstruction term has the wrong sign"),
    # Chapter 2: log-mean-exp
    ("check_log_mean_exp", lambda w: ops.logsumexp(w, axis=-1), r"log K too large.*log-sum-exp"),
    ("check_log_mean_exp", lambda w: ops.mean(w, axis=-1), r"averaged the log weights.*ELBO"),
    ("check_log_mean_exp", log_mean_exp_naive, r"NaN or infinite.*underflows.*subtract"),
    ("check_log_mean_exp", lambda w: ops.logsumexp(w, axis=0) - math.log(w.shape[0]),
     r"shape \(5,\).*axis 1, not axis 0"),
    ("check_log_mean_exp", lambda w: ops.max(w, axis=-1), r"largest log weight"),
    # Chapter 3
    ("check_beta_vae_loss", lambda x, l, m, v, b: b * reconstruction_loss(x, l) + kl(m, v),
     r"beta multiplies the reconstruction term instead of the KL"),
    ("check_beta_vae_loss", lambda x, l, m, v, b: reconstruction_loss(x, l) + kl(m, v),
     r"does not change with beta"),
    ("check_beta_vae_loss", lambda x, l, m, v, b: -reconstruction_loss(x, l) - b * kl(m, v),
     r"wrong sign.*beta-ELBO"),
    ("check_beta_vae_loss", lambda x, l, m, v, b: reconstruction_loss(x, l) + kl(m, v) / b,
     r"divided the KL by beta"),
    ("check_capacity_loss",
     lambda x, l, m, v, c, g: reconstruction_loss(x, l) + g * (kl(m, v) - c),
     r"absolute value is missing"),
    ("check_capacity_loss", lambda x, l, m, v, c, g: reconstruction_loss(x, l) + g * kl(m, v),
     r"does not depend on C"),
    ("check_capacity_loss",
     lambda x, l, m, v, c, g: reconstruction_loss(x, l) + g * (kl(m, v) - c) ** 2,
     r"squared KL - C"),
    # Chapter 4
    ("check_conv_output_size", lambda n, k, s, p: (n - k) / s + 1 if p == "valid" else n // s,
     r"rounds down.*fraction"),
    ("check_conv_output_size",
     lambda n, k, s, p: (n - k) // s if p == "valid" else conv_size(n, k, s, p),
     r"one short.*\+ 1"),
    ("check_conv_output_size", lambda n, k, s, p: n - k + 1 if p == "valid" else n,
     r"stride is ignored"),
    ("check_conv_output_size",
     lambda n, k, s, p: n // s if p == "same" else conv_size(n, k, s, p),
     r"'same' the size rounds up.*you rounded down"),
    ("check_conv_output_size", lambda n, k, s, p: (n - k) // s + 1,
     r"'valid' formula for padding='same'"),
    ("check_conv_output_size", conv_symmetric_padding, r"even kernel"),
    ("check_conv_transpose_output_size", conv_size, r"convolution's formula"),
    ("check_conv_transpose_output_size", lambda n, k, s, p: n if p == "same" else n + k - 1,
     r"stride is ignored"),
    ("check_conv_transpose_output_size",
     lambda n, k, s, p: n * s if p == "same" else (n - 1) * s + k, r"textbook formula"),
    # Chapter 5
    ("check_discriminator_loss", lambda r, f: ops.softplus(r[:, 0]) + ops.softplus(-f[:, 0]),
     r"labels are swapped"),
    ("check_discriminator_loss",
     lambda r, f: ops.softplus(-ops.sigmoid(r[:, 0])) + ops.softplus(ops.sigmoid(f[:, 0])),
     r"sigmoid was applied.*probabilities treated as logits"),
    ("check_discriminator_loss", naive_discriminator_loss,
     r"NaN or infinite on logits of \+-100.*softplus"),
    ("check_discriminator_loss", dcgan_tutorial_discriminator_loss, r"mean over the batch"),
    ("check_discriminator_loss", lambda r, f: ops.softplus(-r) + ops.softplus(f),
     r"shape \(6, 1\).*logits\[:, 0\]"),
    ("check_discriminator_loss",
     lambda r, f: 0.5 * (ops.softplus(-r[:, 0]) + ops.softplus(f[:, 0])), r"added, not averaged"),
    ("check_generator_loss", lambda f: -ops.softplus(f[:, 0]),
     r"saturating loss log\(1 - D\(G\(z\)\)\)"),
    ("check_generator_loss", lambda f: ops.softplus(f[:, 0]), r"labelled 0"),
    ("check_generator_loss", lambda f: -ops.softplus(-f[:, 0]), r"wrong sign"),
    ("check_generator_loss", generator_loss_on_probabilities, r"clipped"),
    ("check_generator_loss", lambda f: ops.softplus(-ops.sigmoid(f[:, 0])),
     r"probabilities treated as logits"),
    ("check_fid", lambda a, b: fid_from(a, b, mean_term=False), r"mean term .* is missing"),
    ("check_fid", lambda a, b: fid_from(a, b, root=lambda p, q: np.sqrt(p @ q)),
     r"np\.sqrt.*scipy\.linalg\.sqrtm"),
    ("check_fid", lambda a, b: fid_from(a, b, root=lambda p, q: np.sqrt(p * q)),
     r"elementwise square root \(np\.sqrt\) of S_a \* S_b"),
    ("check_fid",
     lambda a, b: fid_from(a, b, root=lambda p, q: linalg.sqrtm(p).real @ linalg.sqrtm(q).real),
     r"commute"),
    ("check_fid", lambda a, b: fid_from(a, b, factor=1.0), r"factor 2"),
    ("check_fid", lambda a, b: np.sqrt(fid_from(a, b)), r"square root of the expected"),
    ("check_fid", lambda a, b: fid_from(a, b, ddof=0), r"N - 1"),
    ("check_fid", lambda a, b: fid_from(a, b) + 0j, r"complex numbers.*\.real"),
    # Chapter 6
    ("check_precision_recall", lambda r, g, k: precision_recall(r, g, k)[::-1], r"swapped"),
    ("check_precision_recall", nearest_neighbour_counted_as_itself, r"index k, not k - 1"),
    ("check_precision_recall", lambda r, g, k: precision_recall(r, g, 3), r"ignores k"),
    ("check_precision_recall", balls_holding_a_sample, r"coverage.*Naeem"),
    ("check_precision_recall", nearest_ball_only, r"nearest real point only"),
    ("check_precision_recall", squared_distances_against_radii, r"squared distances"),
    ("check_precision_recall", lambda r, g, k: 100 * np.array(precision_recall(r, g, k)),
     r"percentages"),
    ("check_precision_recall", lambda r, g, k: precision_recall(r, g, k)[0],
     r"one number, the precision: return both"),
]


@pytest.mark.parametrize("name, fn, pattern", WRONG,
                         ids=[f"{name}-{index}" for index, (name, _, _) in enumerate(WRONG)])
def test_a_usual_mistake_is_named(name, fn, pattern, capsys):
    verdict = getattr(exercises, name)(fn)
    assert not verdict.passed and not verdict
    assert verdict.message.startswith("Not yet: ")
    assert re.search(pattern, verdict.message), verdict.message
    assert capsys.readouterr().out == verdict.message + "\n"  # printed, once
    assert verdict.message.count("\n") == 0


# --- what is reported rather than raised, and what raises ----------------------------------------


def test_an_exception_in_the_readers_function_is_reported():
    def broken(z_mean, z_log_var):
        return ops.matmul(z_mean, z_log_var)  # (5, 8) @ (5, 8): the shapes do not fit

    verdict = exercises.check_kl(broken)
    assert not verdict.passed
    assert re.search(r"your function raised \w+Error.*on random posteriors, z_mean and z_log_var "
                     r"of shape \(5, 8\)", verdict.message), verdict.message


def test_a_function_with_the_wrong_arguments_is_reported():
    verdict = exercises.check_elbo(lambda x, logits: x)
    assert not verdict.passed and "raised TypeError" in verdict.message


def test_a_missing_return_and_a_non_number_are_reported():
    assert "return statement" in exercises.check_kl(lambda m, v: None).message
    assert "not numbers" in exercises.check_kl(lambda m, v: "kl").message


@pytest.mark.parametrize("argument", [None, "kl", 3, np.zeros(5)])
def test_something_that_is_not_a_function_raises_type_error(argument):
    with pytest.raises(TypeError, match=r"fn must be your function itself, e\.g\. "
                                        r"check_kl\(my_function\)"):
        exercises.check_kl(argument)


def test_the_verdict_shows_once_in_a_notebook(monkeypatch, capsys):
    shown = []
    monkeypatch.setattr(exercises, "_notebook_cell", lambda: 7)
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: shown.append(args))
    verdict = exercises.check_kl(kl)
    assert verdict.printed_in == 7
    verdict._ipython_display_()  # the cell that printed it: nothing more
    assert shown == []
    monkeypatch.setattr(exercises, "_notebook_cell", lambda: 8)
    verdict._ipython_display_()  # a later cell: shown as Markdown
    assert shown and shown[0][0]["text/markdown"].startswith("✅ Passed:")
    assert "Passed" in capsys.readouterr().out
    assert exercises.Verdict(False, "Not yet: x")._repr_markdown_() == "❌ Not yet: x"


def test_the_closed_form_fid_case_is_exact():
    # The FID check's first case is built to have FID 8 exactly (|dmu|^2 + sum (sigma_a -
    # sigma_b)^2), and vaebook.metrics.fid agrees: a constant 8 passes it and fails the next.
    verdict = exercises.check_fid(lambda a, b: 8.0)
    assert re.search(r"on features \(200, 4\) .*correlated.*expected [\d.]+ but your FID is 8",
                     verdict.message), verdict.message
