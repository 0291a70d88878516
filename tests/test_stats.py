"""The tests behind "leads" and "level" (vaebook.stats), against scipy and by hand."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from vaebook import stats


def test_welch_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 4), rng.normal(1, 3, 3)
    t, df, p = stats.welch(a, b)
    reference = scipy_stats.ttest_ind(a, b, equal_var=False)
    assert t == pytest.approx(reference.statistic)
    assert p == pytest.approx(reference.pvalue)
    assert df == pytest.approx(reference.df)


def test_welch_without_variance():
    assert stats.welch([1.0, 1.0], [1.0, 1.0]) == (0.0, 2.0, 1.0)
    assert stats.welch([1.0, 1.0], [2.0, 2.0])[2] == 0.0


def test_paired_difference_sign_only_beyond_two_standard_errors():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    mean, se, sign = stats.paired_difference(a + 1.0 + np.array([0.1, -0.1, 0.1, -0.1]), a)
    assert mean == pytest.approx(1.0) and se == pytest.approx(0.05773502691896258)
    assert sign == 1
    mean, se, sign = stats.paired_difference([1.0, -1.0, 1.2, -1.0], [0, 0, 0, 0])
    assert sign == 0 and mean == pytest.approx(0.05)


@pytest.mark.parametrize("bad", [[1.0], [[1.0, 2.0]], [1.0, np.nan], "12"])
def test_bad_values_are_refused(bad):
    with pytest.raises(ValueError, match="at least 2 finite numbers"):
        stats.welch(bad, [1.0, 2.0])


def test_paired_difference_against_one_number():
    a = np.array([250.0, 252.0, 248.0, 251.0])
    assert stats.paired_difference(a, 256.56) == stats.paired_difference(a, np.full(4, 256.56))
    assert stats.paired_difference(a, np.float64(256.56))[2] == -1


def test_paired_difference_needs_the_same_items():
    with pytest.raises(ValueError, match="same items"):
        stats.paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])


def test_grey_percent():
    images = np.array([0.0, 1.0, 0.5, 0.1, 0.9, 0.2, 0.95, 0.05])
    assert stats.grey_percent(images) == pytest.approx(25.0)
    with pytest.raises(ValueError, match="non-empty array"):
        stats.grey_percent([])
