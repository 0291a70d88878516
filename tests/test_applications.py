"""vaebook.applications: denoising, inpainting, anomaly scores."""

import math

import numpy as np
import pytest

from vaebook import applications as apps
from vaebook import plotting, training
from vaebook.models import VAE, build_decoder, build_encoder


@pytest.fixture(scope="module")
def trained_vae(mnist_small):
    from vaebook.config import set_seed

    set_seed(11)
    vae = VAE(build_encoder(8), build_decoder(8), seed=11)
    training.fit(vae, mnist_small.x_train, epochs=6, batch_size=32, lines=0)
    return vae


# Denoising


def test_salt_and_pepper_noise(mnist_small):
    clean = mnist_small.x_test[:32]
    np.testing.assert_array_equal(apps.add_noise(clean, "salt-and-pepper", 0.0), clean)
    noisy = apps.add_noise(clean, "salt-and-pepper", 0.4, seed=1)
    assert set(np.unique(noisy)) <= {0.0, 1.0}
    # Half of the hit pixels get their old value back: 20% flipped on average.
    assert abs(np.mean(noisy != clean) - 0.2) < 0.02
    np.testing.assert_array_equal(noisy, apps.add_noise(clean, "salt-and-pepper", 0.4, seed=1))


@pytest.mark.parametrize("kind, level, error, match", [
    ("gaussian", -0.1, ValueError, "level must be a gaussian noise stddev"),
    ("gaussian", float("nan"), ValueError, "level must be a gaussian noise stddev"),
    ("salt-and-pepper", 1.5, ValueError, "level must be a salt-and-pepper fraction"),
    ("salt-and-pepper", -0.2, ValueError, "level must be a salt-and-pepper fraction"),
    ("speckle", 0.1, ValueError, "kind must be one of"),
    ("gaussian", "0.1", TypeError, "level must be"),
    ("gaussian", True, TypeError, "level must be"),
])
def test_bad_noise_levels_raise(kind, level, error, match):
    with pytest.raises(error, match=match):
        apps.add_noise(np.zeros((1, 28, 28, 1), np.float32), kind, level)


def test_median_filter_removes_an_isolated_pixel():
    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 10, 10, 0] = 1.0
    assert apps.median_filter(image).max() == 0.0
    with pytest.raises(ValueError, match="size must be a positive int"):
        apps.median_filter(image, size=0)


def test_pixel_mse():
    clean = np.zeros((2, 28, 28, 1), np.float32)
    estimate = np.full_like(clean, 0.5)
    np.testing.assert_allclose(apps.pixel_mse(clean, estimate), [0.25, 0.25])
    with pytest.raises(ValueError, match="shape"):
        apps.pixel_mse(clean, estimate[:1])
    with pytest.raises(ValueError, match="shape"):
        apps.pixel_mse(clean, np.zeros((2, 28, 28), np.float32))


def test_noise_log_odds_is_bayes_rule_for_each_noise():
    from scipy.stats import norm

    noisy = np.array([0.0, 0.3, 0.8, 1.0], np.float32).reshape(1, 2, 2, 1)
    s = 0.4
    odds = apps.noise_log_odds(noisy, "gaussian", s).ravel()
    inside = [norm.logpdf(y, 1, s) - norm.logpdf(y, 0, s) for y in (0.3, 0.8)]
    np.testing.assert_allclose(odds[1:3], inside)
    # Clipped to 0: P(c + noise <= 0) is Phi(-1/s) for c = 1 and 1/2 for c = 0; to 1 the reverse.
    np.testing.assert_allclose(odds[0], norm.logcdf(-1 / s) - np.log(0.5))
    np.testing.assert_allclose(odds[3], -odds[0])
    binary = np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1)
    keep = np.log((1 - 0.1) / 0.1)  # fraction 0.2 flips a pixel with probability 0.1
    np.testing.assert_allclose(apps.noise_log_odds(binary, "salt-and-pepper", 0.2).ravel(),
                               [-keep, keep])
    with pytest.raises(ValueError, match=r"noisy must be images .*\(binary\)"):
        apps.noise_log_odds(noisy, "salt-and-pepper", 0.2)
    with pytest.raises(ValueError, match="level must be a gaussian noise stddev: a finite number > 0"):
        apps.noise_log_odds(noisy, "gaussian", 0.0)


def test_posterior_chain_follows_certain_evidence(trained_vae):
    start = np.full((3, 28, 28, 1), 0.5, np.float32)
    odds = np.full(start.shape, np.inf)
    odds[1] = -np.inf
    for chains in (1, 3):
        result = apps.posterior_chain(trained_vae, odds, start, iterations=2, burn_in=1,
                                      chains=chains)
        assert result.shape == start.shape
        np.testing.assert_array_equal(result[0], 1.0)
        np.testing.assert_array_equal(result[1], 0.0)
    # Without evidence, several chains still give one probability per pixel of every image.
    free = np.zeros(start.shape)
    two = apps.posterior_chain(trained_vae, free, start, iterations=3, burn_in=1, chains=2, seed=5)
    assert two.shape == start.shape and 0 < two.mean() < 1
    with pytest.raises(ValueError, match="chains must be a positive int"):
        apps.posterior_chain(trained_vae, odds, start, chains=0)
    with pytest.raises(ValueError, match=r"burn_in must be an int in \[0, 1\]"):
        apps.posterior_chain(trained_vae, odds, start, iterations=2, burn_in=2)
    with pytest.raises(ValueError, match="log_odds must not contain NaN"):
        apps.posterior_chain(trained_vae, np.full(start.shape, np.nan), start)
    with pytest.raises(ValueError, match="log_odds must have the images' shape"):
        apps.posterior_chain(trained_vae, odds[:2], start)
    with pytest.raises(TypeError, match="vae must be a vaebook.models.VAE"):
        apps.posterior_chain("model", odds, start)


def test_denoising_with_the_noise_model_beats_the_noisy_input(trained_vae, mnist_small):
    clean = mnist_small.x_test[:64]
    for kind, level in (("salt-and-pepper", 0.4), ("gaussian", 0.5)):
        noisy = apps.add_noise(clean, kind, level, seed=3)
        restored = apps.denoise(trained_vae, noisy, kind, level, iterations=8, burn_in=3)
        assert restored.shape == clean.shape
        assert apps.pixel_mse(clean, restored).mean() < 0.5 * apps.pixel_mse(clean, noisy).mean()


def test_independent_pixel_denoiser_is_bayes_rule_with_the_mean_image(mnist_small):
    train, clean = mnist_small.x_train[:200], mnist_small.x_test[:8]
    noisy = apps.add_noise(clean, "gaussian", 0.4, seed=3)
    estimate = apps.denoise_independent(train, noisy, "gaussian", 0.4)
    p = (train.sum(axis=0, dtype=np.float64) + 1.0) / (len(train) + 2.0)
    log_odds = apps.noise_log_odds(noisy, "gaussian", 0.4)
    by_hand = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + log_odds)))
    np.testing.assert_allclose(estimate, by_hand, rtol=1e-5, atol=1e-7)
    # It knows the noise model: its error is below the noisy input's and the median filter's.
    error = apps.pixel_mse(clean, estimate).mean()
    assert error < apps.pixel_mse(clean, noisy).mean()
    assert error < apps.pixel_mse(clean, apps.median_filter(noisy)).mean()


def test_independent_pixel_denoiser_without_evidence_returns_the_prior(mnist_small):
    train = mnist_small.x_train[:100]
    # salt and pepper at fraction 1: every pixel is replaced, so a pixel says nothing
    noisy = apps.add_noise(mnist_small.x_test[:2], "salt-and-pepper", 1.0, seed=0)
    estimate = apps.denoise_independent(train, noisy, "salt-and-pepper", 1.0)
    np.testing.assert_allclose(estimate, np.broadcast_to(apps.pixel_prior(train), noisy.shape),
                               rtol=1e-5)


# Inpainting


def test_masks():
    block = apps.block_mask(3, top=14, left=0, height=14, width=28)
    assert block.shape == (3, 28, 28, 1) and block.dtype == bool
    assert block[:, :14].all() and not block[:, 14:].any()
    missing = 1.0 - apps.random_mask(50, 0.3, seed=0).mean()
    assert abs(missing - 0.3) < 0.01


@pytest.mark.parametrize("kwargs, match", [
    ({"top": 20, "left": 0, "height": 10, "width": 5}, r"top must be an int in \[0, 18\]"),
    ({"top": -1, "left": 0, "height": 10, "width": 5}, r"top must be an int in \[0, 18\]"),
    ({"top": 0, "left": 25, "height": 10, "width": 5}, r"left must be an int in \[0, 23\]"),
    ({"top": 0, "left": 0, "height": 0, "width": 5}, "height must be a positive int"),
])
def test_bad_block_masks_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        apps.block_mask(2, **kwargs)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, "half"])
def test_bad_missing_fractions_raise(fraction):
    with pytest.raises((ValueError, TypeError), match="missing_fraction must be"):
        apps.random_mask(2, fraction)


def test_bad_masks_raise(trained_vae):
    images = np.zeros((2, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match="observed must be a mask of the images' shape"):
        apps.check_mask(np.ones((2, 28, 28), bool), images)
    with pytest.raises(ValueError, match="shape"):
        apps.check_mask(np.ones((3, 28, 28, 1), bool), images)
    with pytest.raises(ValueError, match="other than booleans or 0/1"):
        apps.check_mask(np.full((2, 28, 28, 1), 0.5), images)
    with pytest.raises(ValueError, match="other than booleans or 0/1"):
        apps.check_mask(np.full((2, 28, 28, 1), "yes"), images)
    with pytest.raises(TypeError, match="observed must be a mask"):
        apps.check_mask(None, images)
    np.testing.assert_array_equal(apps.check_mask(np.ones((2, 28, 28, 1)), images), True)
    observed = np.ones((2, 28, 28, 1), bool)
    observed[:, 0, 0] = False
    with pytest.raises(ValueError, match="start must be a number, one image"):
        apps.inpaint(trained_vae, images, observed, start=np.zeros((3, 28, 28, 1)))
    with pytest.raises(ValueError, match="start must lie in"):
        apps.inpaint(trained_vae, images, observed, start=2.0)
    with pytest.raises(ValueError, match="at least one pixel of every image missing"):
        apps.missing_pixel_mse(images, images, np.ones((2, 28, 28, 1), bool))
    with pytest.raises(ValueError, match=r"images must be images .*\(binary\)"):
        apps.inpaint(trained_vae, np.full((2, 28, 28, 1), 0.5, np.float32), observed)


def test_baseline_fills():
    images = np.zeros((1, 28, 28, 1), np.float32)
    images[0, :, :14] = 1.0  # left half on
    observed = apps.block_mask(1, top=10, left=12, height=4, width=4)
    nearest = apps.fill_nearest(images, observed)
    np.testing.assert_array_equal(nearest, images)  # each missing pixel copies its neighbour
    mean = apps.fill_mean(images, observed, pixel_means=0.3)
    assert np.all(mean[~observed] == np.float32(0.3))
    np.testing.assert_array_equal(mean[observed], images[observed])
    with pytest.raises(ValueError, match="image 0 has none to copy from"):
        apps.fill_nearest(images, np.zeros_like(observed))


def test_nearest_training_image_fill(mnist_small):
    train = mnist_small.x_train[:300]
    images = train[[5, 17]]  # images that are in the training set
    observed = apps.block_mask(2, top=8, left=8, height=12, width=12)
    filled = apps.fill_nearest_image(images, observed, train)
    np.testing.assert_array_equal(filled[observed], images[observed])
    # each agrees with itself on every observed pixel, so its own missing pixels come back
    # (unless another training image agrees as well on every observed pixel)
    distance = ((train[None] - images[:, None]) ** 2 * observed[:, None]).sum(axis=(2, 3, 4))
    nearest = np.argmin(distance, axis=1)
    np.testing.assert_array_equal(filled, np.where(observed, images, train[nearest]))
    assert distance[0, 5] == 0 and distance[1, 17] == 0
    # batched and unbatched agree
    np.testing.assert_array_equal(apps.fill_nearest_image(images, observed, train, batch_size=1),
                                  filled)


def test_inpainting_keeps_observed_pixels_and_reduces_error(trained_vae, mnist_small):
    clean = mnist_small.x_test[:64]
    for observed in (apps.block_mask(64, top=14, left=0, height=14, width=28),
                     apps.random_mask(64, 0.6, seed=2)):
        start = np.float32(0.5)
        filled = apps.inpaint(trained_vae, clean, observed, iterations=8, burn_in=3,
                              start=start)
        # Observed pixels are exactly the inputs, never changed by the decoder.
        np.testing.assert_array_equal(filled[observed], clean[observed])
        before = apps.missing_pixel_mse(clean, np.where(observed, clean, start), observed)
        after = apps.missing_pixel_mse(clean, filled, observed)
        assert after.mean() < 0.7 * before.mean()


# Anomaly detection


def test_anomaly_score_ranks_an_obvious_outlier_first(trained_vae, mnist_small):
    typical = mnist_small.x_test[:32]
    outliers = apps.invert(typical[:4])
    for method in apps.SCORE_METHODS:
        scores = apps.anomaly_scores(trained_vae, np.concatenate([typical, outliers]), method,
                                     num_samples=5, seed=0)
        assert scores.shape == (36,)
        assert scores[32:].min() > scores[:32].max(), method
    # The IW score is a tighter bound: on average below the negative ELBO.
    elbo = apps.anomaly_scores(trained_vae, typical, "elbo", 10, seed=1)
    iw = apps.anomaly_scores(trained_vae, typical, "iw", 200, seed=1)
    assert iw.mean() < elbo.mean()
    with pytest.raises(ValueError, match="method must be one of"):
        apps.anomaly_scores(trained_vae, typical, "likelihood")


def test_independent_pixel_scores_by_hand():
    train = np.zeros((3, 28, 28, 1), np.float32)
    train[0, 0, 0, 0] = 1.0  # pixel (0, 0) on in 1 of 3 images
    x = np.zeros((1, 28, 28, 1), np.float32)
    x[0, 0, 0, 0] = 1.0
    p_on = (1 + 1) / (3 + 2)  # Laplace smoothing
    p_off = 1 / (3 + 2)  # every other pixel: never on in training
    expected = -(math.log(p_on) + 783 * math.log(1 - p_off))
    assert apps.independent_pixel_scores(train, x)[0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="pseudo_count must be a finite number > 0"):
        apps.independent_pixel_scores(train, x, pseudo_count=0)


def test_roc_and_auc():
    perfect = apps.roc([1.0, 2.0, 3.0], [4.0, 5.0])
    assert perfect.auc == 1.0
    assert perfect.true_positive_rate[-1] == 1.0 and perfect.false_positive_rate[0] == 0.0
    assert apps.roc([4.0, 5.0], [1.0, 2.0]).auc == 0.0
    assert apps.roc([1.0, 2.0], [1.0, 2.0]).auc == 0.5
    with pytest.raises(ValueError, match="typical_scores must be a 1-d array"):
        apps.roc([], [1.0])
    with pytest.raises(ValueError, match="typical_scores must be .*finite"):
        apps.roc([np.nan], [1.0])


def test_outlier_images():
    images = np.zeros((2, 28, 28, 1), np.float32)
    np.testing.assert_array_equal(apps.invert(images), 1.0)
    noise = apps.binary_noise(200, 0.13, seed=3)
    assert noise.shape == (200, 28, 28, 1) and abs(noise.mean() - 0.13) < 0.01
    with pytest.raises(ValueError, match="on_fraction must be a finite number in"):
        apps.binary_noise(2, 1.3)
    with pytest.raises(ValueError, match="n must be a positive int"):
        apps.binary_noise(0, 0.1)


def test_resize_binary_keeps_shapes_binary():
    from vaebook import shapes

    square = shapes.render(np.array([[0, 5, 0, 16, 16]]), image_size=32)  # a square in the middle
    small = apps.resize_binary(square)
    assert small.shape == (1, 28, 28, 1) and set(np.unique(small)) == {0.0, 1.0}
    # Area is kept to within the pixels along the border of the shape.
    assert abs(small.mean() * 28**2 - square.mean() * 32**2 * (28 / 32) ** 2) < 4 * 28
    np.testing.assert_array_equal(apps.resize_binary(np.ones((2, 32, 32, 1), np.float32)), 1.0)
    with pytest.raises(ValueError, match=r"image_shape must be \(height, width, channels\)"):
        apps.resize_binary(square, (28, 28))
    with pytest.raises(ValueError, match="one-channel"):
        apps.resize_binary(square, (28, 28, 3))


def test_roc_figure():
    plotting.use_book_style()
    curves = {"a": apps.roc([1.0, 2.0, 3.0], [2.5, 5.0]), "b": apps.roc([1.0], [2.0])}
    fig = plotting.plot_roc_curves(curves, "ROC")
    assert plotting.figure_title(fig) == "ROC"
    assert fig.get_figwidth() <= plotting.MAX_WIDTH_INCHES
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == "a (AUC 0.833)" and labels[-1].startswith("chance")
    with pytest.raises(ValueError, match="curves must be a non-empty dict"):
        plotting.plot_roc_curves({}, "empty")
    with pytest.raises(TypeError, match=r"curves\['a'\] must be a tuple"):
        plotting.plot_roc_curves({"a": [0.0, 1.0]}, "bad")


# --- paired bootstrap of AUC differences ----------------------------------------------------------

def test_auc_difference_matches_scikit_learn_and_is_zero_for_one_score():
    rng = np.random.default_rng(0)
    typical, anomalous = rng.normal(0, 1, 300), rng.normal(1, 1, 80)
    result = apps.auc_difference(typical, anomalous, typical, anomalous, resamples=200)
    assert result == (0.0, 0.0, 0.0)
    noisy_typical = typical + rng.normal(0, 3, typical.size)
    noisy_anomalous = anomalous + rng.normal(0, 3, anomalous.size)
    result = apps.auc_difference(typical, anomalous, noisy_typical, noisy_anomalous)
    expected = (apps.roc(typical, anomalous).auc
                - apps.roc(noisy_typical, noisy_anomalous).auc)
    assert result.difference == pytest.approx(expected, abs=1e-12)
    # a score drowned in noise is clearly worse: the interval lies above 0 and holds the difference
    assert 0 < result.low < result.difference < result.high


def test_auc_difference_interval_covers_zero_for_two_equally_good_scores():
    rng = np.random.default_rng(1)
    typical, anomalous = rng.normal(0, 1, (2, 200)), rng.normal(0.5, 1, (2, 50))
    result = apps.auc_difference(typical[0], anomalous[0], typical[1], anomalous[1])
    assert result.low < 0 < result.high


def test_auc_difference_refuses_scores_of_different_images():
    with pytest.raises(ValueError, match="same images"):
        apps.auc_difference(np.zeros(5), np.ones(3), np.zeros(6), np.ones(3))
    with pytest.raises(ValueError, match="level"):
        apps.auc_difference(np.zeros(5), np.ones(3), np.zeros(5), np.ones(3), level=1.5)
