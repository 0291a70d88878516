"""The tests behind the book's "leads" and "level": one definition of each, shared by the chapters.

- :func:`paired_difference`: two scores of the same images (a log-likelihood, a reconstruction
  error), compared image by image.
- :func:`welch`: two sets of independent values (a score over draws of samples, or over training
  seeds), compared by Welch's t-test, with the Welch-Satterthwaite degrees of freedom.
- :func:`grey_percent`: how much of an image set is neither black nor white.
"""

from __future__ import annotations

import math

import numpy as np

from . import checks

GREY_RANGE = (0.1, 0.9)  # a pixel strictly inside is grey; binarised data has none


def _values(values, name: str, minimum: int = 2) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or len(array) < minimum or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be a 1-D sequence of at least {minimum} finite numbers, "
                         f"got {checks.describe(values)}")
    return array


def paired_difference(a, b, z: float = 2.0) -> tuple[float, float, int]:
    """Mean of ``a - b`` over the same items (N,), its standard error, and its sign where the mean
    is more than ``z`` standard errors from 0 (``z = 2``: a paired test at about the 5 % level),
    else 0: ``(mean, se, sign)``. ``b`` may also be one number, the same for every item (a
    method with one cost for the whole set, such as one compressed file): the test is then of
    ``a``'s items against that constant."""
    a = _values(a, "a")
    if np.ndim(b) == 0 and not isinstance(b, (str, bytes)):
        b = np.full_like(a, checks.real(b, "b"))
    b = _values(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must score the same items, got {len(a)} and {len(b)} values")
    z = checks.real(z, "z", minimum=0.0)
    difference = a - b
    mean = float(difference.mean())
    se = float(difference.std(ddof=1) / math.sqrt(len(difference)))
    return mean, se, (int(np.sign(mean)) if abs(mean) > z * se else 0)


def welch(a, b) -> tuple[float, float, float]:
    """Welch's two-sided t-test of two sets of independent values (each at least 2):
    ``(t, degrees of freedom, p)``, the degrees of freedom from the two sets' own variances
    (Welch-Satterthwaite). When neither set varies, t = 0 and p = 1 if their means are equal,
    p = 0 if they differ."""
    from scipy import stats

    a, b = _values(a, "a"), _values(b, "b")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return 0.0, float(len(a) + len(b) - 2), 1.0 if a.mean() == b.mean() else 0.0
    t = (a.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return float(t), float(df), float(2 * stats.t.sf(abs(t), df))


def grey_percent(images) -> float:
    """Percentage of pixels that are grey, strictly between 0.1 and 0.9 (binarised data: 0)."""
    images = np.asarray(images)
    if images.size == 0 or not np.issubdtype(images.dtype, np.number):
        raise ValueError(f"images must be a non-empty array of pixel values in [0, 1], got "
                         f"{checks.describe(images)}")
    low, high = GREY_RANGE
    return 100 * float(np.mean((images > low) & (images < high)))
