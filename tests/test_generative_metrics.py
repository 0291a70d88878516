"""Sample-quality scores of Chapters 5-6: FID, KID, precision/recall, mode coverage.

Each score is tested against a case whose answer is known in closed form or by construction,
on synthetic features (no network needed), plus ``features`` on a small untrained classifier.
"""

import numpy as np
import pytest

from vaebook import metrics
from vaebook.models import ClassifierConfig


def _gaussian(rng, n, mean, std):
    """n draws of N(mean, diag(std^2)): (n, d)."""
    return mean + std * rng.standard_normal((n, len(mean)))


# --- FID


def test_fid_is_zero_for_identical_feature_sets():
    features = np.random.default_rng(0).standard_normal((500, 8))
    assert metrics.fid(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_matches_the_closed_form_for_diagonal_covariances():
    # For diagonal covariances A, B: tr(A + B - 2 (AB)^(1/2)) = sum (sqrt(a) - sqrt(b))^2.
    rng = np.random.default_rng(1)
    mean_a, mean_b = rng.normal(size=5), rng.normal(size=5)
    var_a, var_b = rng.uniform(0.1, 3.0, 5), rng.uniform(0.1, 3.0, 5)
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    got = metrics.frechet_distance_gaussians(mean_a, np.diag(var_a), mean_b, np.diag(var_b))
    assert got == pytest.approx(expected, rel=1e-10)
    assert expected > 1.0  # a case where a wrong trace term would show


def test_frechet_distance_of_full_covariances_matches_the_commuting_case_formula():
    # Rotating both diagonal covariances by the same orthogonal Q leaves the distance unchanged,
    # and exercises the matrix square root on non-diagonal matrices.
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    var_a, var_b = rng.uniform(0.5, 2.0, 6), rng.uniform(0.5, 2.0, 6)
    cov_a, cov_b = q @ np.diag(var_a) @ q.T, q @ np.diag(var_b) @ q.T
    cov_a, cov_b = (cov_a + cov_a.T) / 2, (cov_b + cov_b.T) / 2
    expected = np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    got = metrics.frechet_distance_gaussians(np.zeros(6), cov_a, np.zeros(6), cov_b)
    assert got == pytest.approx(expected, rel=1e-8)


def test_fid_of_samples_approaches_the_distance_of_their_gaussians():
    rng = np.random.default_rng(3)
    std_b = np.array([2.0, 0.5, 1.0, 1.0])
    a = _gaussian(rng, 20000, np.zeros(4), np.ones(4))
    b = _gaussian(rng, 20000, np.array([1.0, 0, 0, 0]), std_b)
    expected = 1.0 + np.sum((1.0 - std_b) ** 2)  # 1 + 1 + 0.25 = 2.25
    assert metrics.fid(a, b) == pytest.approx(expected, rel=0.05)


def test_fid_survives_singular_covariances():
    # Fewer samples than features: both covariances are singular, sqrtm of their product is
    # ill-conditioned; the eps offset and the imaginary-part handling give a finite number.
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(10, 32)), rng.normal(size=(10, 32)) + 1.0
    value = metrics.fid(a, b)
    assert np.isfinite(value) and value > 32 * 0.5  # the means alone are sqrt(32) apart


# --- KID


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(5)
    a = _gaussian(rng, 1000, np.zeros(16), np.ones(16))
    b = _gaussian(rng, 1000, np.zeros(16), np.ones(16))
    c = _gaussian(rng, 1000, np.full(16, 0.5), np.ones(16))
    same = metrics.kid(a, b, num_subsets=20, subset_size=500)
    different = metrics.kid(a, c, num_subsets=20, subset_size=500)
    # Unbiased: the mean over subsets lies within a few standard errors of 0.
    assert abs(same.mean) < 3 * same.std / np.sqrt(20) + 1e-3
    assert different.mean > 10 * max(same.std, abs(same.mean))
    assert different.std > 0


def test_kid_is_unbiased_where_the_biased_estimate_is_not():
    # Identical distributions, small subsets: the biased MMD^2 (with i = j terms) would be
    # clearly positive; the unbiased mean over many subsets straddles 0.
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(400, 4)), rng.normal(size=(400, 4))
    result = metrics.kid(a, b, num_subsets=200, subset_size=20, seed=1)
    assert abs(result.mean) < 3 * result.std / np.sqrt(200)
    x, y = a[:20], b[:20]
    kernel = lambda p, q: (p @ q.T / 4 + 1) ** 3  # noqa: E731
    biased = kernel(x, x).mean() + kernel(y, y).mean() - 2 * kernel(x, y).mean()
    assert biased > 3 * result.std / np.sqrt(200)


def test_kid_is_repeatable_with_a_seed():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(100, 3)), rng.normal(size=(100, 3))
    assert metrics.kid(a, b, 5, 50, seed=3) == metrics.kid(a, b, 5, 50, seed=3)


# --- precision and recall


def test_precision_and_recall_are_one_for_identical_sets():
    features = np.random.default_rng(8).normal(size=(300, 5))
    assert metrics.precision_recall(features, features) == (1.0, 1.0)


def test_precision_and_recall_drop_for_disjoint_sets():
    rng = np.random.default_rng(9)
    real = rng.normal(size=(300, 5))
    result = metrics.precision_recall(real, rng.normal(size=(300, 5)) + 20.0)
    assert result.precision == 0.0 and result.recall == 0.0


def test_a_collapsed_generator_has_precision_but_no_recall():
    # Samples from one small region of the data: realistic (precision high) but not diverse.
    rng = np.random.default_rng(10)
    real = rng.normal(size=(1000, 2))
    collapsed = 0.05 * rng.normal(size=(1000, 2))
    result = metrics.precision_recall(real, collapsed, k=3, chunk=128)
    assert result.precision > 0.95 and result.recall < 0.1


def test_unequal_sets_are_scored_only_when_asked():
    # the bias the check guards against: more generated points, smaller balls, lower precision
    rng = np.random.default_rng(11)
    real = rng.normal(size=(200, 2))
    few = metrics.precision_recall(real, rng.normal(size=(200, 2)))
    many = metrics.precision_recall(real, rng.normal(size=(2000, 2)), allow_unequal=True)
    assert many.recall < few.recall


# --- mode coverage


def test_one_class_has_minimal_coverage():
    coverage = metrics.mode_coverage(np.full(50, 7))
    assert coverage.entropy == 0.0
    assert coverage.tv_to_uniform == pytest.approx(0.9)
    assert coverage.classes_covered == 1 and coverage.histogram[7] == 1.0


def test_uniform_classes_have_maximal_coverage():
    coverage = metrics.mode_coverage(np.arange(100) % 10)
    assert coverage.entropy == pytest.approx(np.log(10))
    assert coverage.tv_to_uniform == pytest.approx(0.0)
    assert coverage.classes_covered == 10


# --- features and the combined scores


@pytest.fixture(scope="module")
def classifier():
    from vaebook.config import set_seed

    set_seed(0)
    return ClassifierConfig(feature_dim=16).build()


def test_features_have_the_penultimate_width(classifier, mnist_small):
    values = metrics.features(classifier, mnist_small.x_test[:10])
    assert values.shape == (10, 16) and values.dtype == np.float64
    # Batching changes nothing.
    np.testing.assert_allclose(classifier.features(mnist_small.x_test[:10], batch_size=3), values,
                               rtol=1e-5, atol=1e-6)


def test_features_and_classes_in_one_pass_match_the_two_methods(classifier, mnist_small):
    x = mnist_small.x_test[:20]
    values, classes = classifier.features_and_classes(x, batch_size=7)
    np.testing.assert_allclose(values, classifier.features(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(classes, classifier.predict_classes(x))
    assert values.dtype == np.float64 and classes.dtype == np.int64
    with pytest.raises(ValueError, match="x"):
        classifier.features_and_classes(np.zeros((3, 28, 28)))


def test_sample_quality_of_the_data_against_itself(classifier, mnist_small):
    x = mnist_small.x_test
    scores = metrics.sample_quality(classifier, x, x, kid_subsets=5, kid_subset_size=32)
    assert scores["fid"] == pytest.approx(0.0, abs=1e-6)
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0
    reference = metrics.features(classifier, x)
    assert metrics.sample_quality(classifier, x, reference_features=reference, kid_subsets=5,
                                  kid_subset_size=32) == scores


# --- mistakes


@pytest.mark.parametrize("call, error, match", [
    (lambda: metrics.fid(np.zeros((5, 3)), np.zeros((5, 4))), ValueError,
     r"real_features and generated_features must have the same number of features"),
    (lambda: metrics.fid(np.zeros(5), np.zeros((5, 4))), ValueError,
     r"real_features must be features of shape \(N, D\)"),
    (lambda: metrics.fid(np.zeros((1, 3)), np.zeros((5, 3))), ValueError,
     r"real_features must hold at least 2 rows"),
    (lambda: metrics.fid(np.full((5, 3), np.nan), np.zeros((5, 3))), ValueError, r"NaN"),
    (lambda: metrics.fid("features", np.zeros((5, 3))), TypeError, r"real_features must be"),
    (lambda: metrics.frechet_distance_gaussians(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)),
     ValueError, r"cov_a must be a symmetric \(2, 2\) covariance matrix"),
    (lambda: metrics.frechet_distance_gaussians(np.zeros(2), [[1, 2], [0, 1]], np.zeros(2),
                                                np.eye(2)), ValueError, r"asymmetric"),
    (lambda: metrics.frechet_distance_gaussians(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2),
                                                eps=-1), ValueError, r"eps must be"),
    (lambda: metrics.kid(np.zeros((5, 3)), np.zeros((5, 3)), num_subsets=0), ValueError,
     r"num_subsets must be a positive int"),
    (lambda: metrics.kid(np.zeros((5, 3)), np.zeros((5, 3)), subset_size=1), ValueError,
     r"subset_size must be at least 2"),
    (lambda: metrics.kid(np.zeros((5, 3)), np.zeros((5, 3)), seed=-1), ValueError, r"seed must"),
    (lambda: metrics.precision_recall(np.zeros((3, 2)), np.zeros((3, 2))), ValueError,
     r"real_features must hold more than k = 3 rows"),
    (lambda: metrics.precision_recall(np.zeros((5, 2)), np.zeros((9, 2))), ValueError,
     r"must hold as many rows each, got 5 and 9: a larger set has smaller balls"),
    (lambda: metrics.precision_recall(np.zeros((9, 2)), np.zeros((9, 2)), allow_unequal="yes"),
     TypeError, r"allow_unequal must be"),
    (lambda: metrics.precision_recall(np.zeros((9, 2)), np.zeros((9, 2)), k=0), ValueError,
     r"k must be a positive int"),
    (lambda: metrics.mode_coverage([0.5, 1.0]), TypeError, r"predicted_classes must be integer"),
    (lambda: metrics.mode_coverage([3, 12]), ValueError, r"predicted_classes must be .*\[0, 9\]"),
    (lambda: metrics.mode_coverage(np.array([], int)), ValueError,
     r"predicted_classes must hold at least one label"),
    (lambda: metrics.mode_coverage([1], num_classes=0), ValueError, r"num_classes must be"),
    (lambda: metrics.features("net", np.zeros((2, 28, 28, 1))), TypeError,
     r"classifier must be a vaebook.models.Classifier"),
])
def test_mistakes_are_explained(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_sample_quality_needs_exactly_one_reference(classifier, mnist_small):
    x = mnist_small.x_test[:8]
    with pytest.raises(ValueError, match="exactly one of the two"):
        metrics.sample_quality(classifier, x)
    with pytest.raises(ValueError, match=r"x must be images.*\[0, 1\]"):
        metrics.sample_quality(classifier, x * 255, x)
