"""Shapes with known factors: a dSprites-style data set drawn in code (Chapter 3).

Each image is one white shape on a black background, fixed by five *factors of variation*, on the
grid of the original dSprites data set (Matthey et al., 2017):

======================  =======  ===========================================================
factor                  values   grid
======================  =======  ===========================================================
``shape``               3        square, ellipse, heart
``scale``               6        0.5 to 1 in equal steps
``orientation``         40       0 to 2 pi in equal steps, both ends included (as in dSprites,
                                 so 0 and 2 pi draw the same image)
``x``                   32       0 (left) to 1 (right) in equal steps
``y``                   32       0 (top) to 1 (bottom) in equal steps
======================  =======  ===========================================================

3 x 6 x 40 x 32 x 32 = 737,280 combinations. An image is drawn without anti-aliasing: a pixel is
on (1.0) when its centre lies inside the shape, off (0.0) otherwise, so the same factors always
give the same image. The square and the ellipse have symmetries (a square turned by a quarter turn,
an ellipse by a half turn, is the same image), as in dSprites.

Geometry, in units of the image side: at scale 1 every shape fits in a disc of radius
``SHAPE_RADIUS`` (0.2) about its centre (the centre of mass, for the heart too), and the centre
moves from ``SHAPE_RADIUS`` to ``1 - SHAPE_RADIUS`` as x (or y) goes from 0 to 1, so no shape ever
leaves the image. ``orientation`` turns the shape anticlockwise.

:func:`load_shapes` samples combinations by seed (train and test are disjoint draws) and returns a
:class:`ShapesData`, which says where its images came from as :class:`vaebook.data.MnistData`
does. Given ``path=``, it reads the original ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``
instead (which cannot be downloaded by this package).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import checks
from .data import check_positive_int

SHAPE_NAMES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "orientation", "x", "y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
# The value of each grid index; the shape's "value" is its index in SHAPE_NAMES.
FACTOR_VALUES = (
    np.arange(3, dtype=np.float64),
    np.linspace(0.5, 1.0, 6),
    np.linspace(0.0, 2.0 * math.pi, 40),
    np.linspace(0.0, 1.0, 32),
    np.linspace(0.0, 1.0, 32),
)
IMAGE_SIZES = (32, 64)
SHAPE_RADIUS = 0.2  # radius of the disc holding a scale-1 shape, in units of the image side
ELLIPSE_MINOR = 0.5  # the ellipse's semi-axes are 1 and 0.5 (times scale * SHAPE_RADIUS)
# The heart (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0 has its centre of mass at (0, 0.2935) and reaches
# 1.2935 from it; dividing by that radius makes it fit the unit disc like the other shapes.
_HEART_CENTRE, _HEART_RADIUS = 0.2935, 1.2935
_RENDER_CHUNK = 2048  # images drawn at once: keeps the (chunk, S, S) float arrays small


@dataclass(frozen=True)
class ShapesData:
    """Train/test images of shapes, their factors (grid indices), and where they came from."""

    x_train: np.ndarray  # (n_train, S, S, 1) float32, 0.0 or 1.0
    x_test: np.ndarray  # (n_test, S, S, 1) float32, 0.0 or 1.0
    factors_train: np.ndarray  # (n_train, 5) int64 grid indices, columns as FACTOR_NAMES
    factors_test: np.ndarray  # (n_test, 5) int64
    source: str  # "generated-shapes" (drawn by this module) or "dsprites-npz" (the original file)
    image_size: int  # S
    seed: int  # seed of the draw of factor combinations
    shapes: tuple[str, ...] = SHAPE_NAMES  # the shapes drawn (a subset of SHAPE_NAMES)
    file_name: str | None = None  # the .npz read, for source "dsprites-npz"
    factor_names: tuple[str, ...] = FACTOR_NAMES
    factor_sizes: tuple[int, ...] = FACTOR_SIZES
    factor_values: tuple[np.ndarray, ...] = field(default=FACTOR_VALUES, repr=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(S, S, 1): what the encoder and decoder builders take as ``image_shape``."""
        return (self.image_size, self.image_size, 1)

    @property
    def values_train(self) -> np.ndarray:
        """Factor values of the training images, (n_train, 5) float64 (see FACTOR_VALUES)."""
        return factor_values_of(self.factors_train)

    @property
    def values_test(self) -> np.ndarray:
        """Factor values of the test images, (n_test, 5) float64."""
        return factor_values_of(self.factors_test)

    @property
    def description(self) -> str:
        """One line for the notebook output: data set, sizes and image size."""
        origin = ("shapes drawn on the dSprites grid" if self.source == "generated-shapes"
                  else f"dSprites file {self.file_name}")
        shapes = "" if self.shapes == SHAPE_NAMES else f" ({', '.join(self.shapes)} only)"
        return (f"{self.source}, {len(self.x_train):,} train / {len(self.x_test):,} test binary "
                f"images of {self.image_size}x{self.image_size} pixels, {origin}{shapes}")

    @property
    def tag(self) -> str:
        """Short identifier used in cache keys (source, image size, sizes, seed, shapes)."""
        tag = (f"{self.source}-{self.image_size}px-{len(self.x_train)}-{len(self.x_test)}"
               f"-seed{self.seed}")
        if self.file_name is not None:
            tag += f"-{self.file_name}"
        if self.shapes != SHAPE_NAMES:
            tag += "-" + "+".join(self.shapes)
        return tag


def factor_values_of(factors) -> np.ndarray:
    """Grid indices (N, 5) -> factor values (N, 5) float64: shape index, scale, angle in radians,
    x and y in [0, 1]."""
    factors = _check_factors(factors)
    return np.stack([values[factors[:, k]] for k, values in enumerate(FACTOR_VALUES)], axis=1)


def _check_factors(factors) -> np.ndarray:
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_NAMES):
        raise ValueError(f"factors must have shape (N, {len(FACTOR_NAMES)}), columns "
                         f"{FACTOR_NAMES}, got {factors.shape}")
    if not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"factors must be integer grid indices, got dtype {factors.dtype}")
    for k, (name, size) in enumerate(zip(FACTOR_NAMES, FACTOR_SIZES)):
        if factors.size and (factors[:, k].min() < 0 or factors[:, k].max() >= size):
            raise ValueError(f"factor {name!r} indices must lie in 0..{size - 1}, got "
                             f"{factors[:, k].min()}..{factors[:, k].max()}")
    return factors.astype(np.int64, copy=False)


def _check_image_size(image_size, allowed=IMAGE_SIZES):
    if isinstance(image_size, bool) or image_size not in allowed:
        raise ValueError(f"image_size must be one of {allowed}, got {image_size!r}")
    return int(image_size)


def _inside_unit_shape(shape: str, u, v):
    """Whether points (u, v) (y axis up) lie inside the scale-1 shape of radius 1 at the origin."""
    if shape == "square":
        half_side = 1.0 / math.sqrt(2.0)  # its corners touch the unit circle
        return np.maximum(np.abs(u), np.abs(v)) <= half_side
    if shape == "ellipse":
        return u**2 + (v / ELLIPSE_MINOR) ** 2 <= 1.0
    # heart: scale to the curve's own units, centre of mass at the origin
    x, y = u * _HEART_RADIUS, v * _HEART_RADIUS + _HEART_CENTRE
    return (x**2 + y**2 - 1.0) ** 3 - x**2 * y**3 <= 0.0


def _draw(shape: str, scale, orientation, x, y, image_size: int) -> np.ndarray:
    """Images (N, S, S) bool of one shape for N values of scale, orientation (rad), x and y."""
    centres = (np.arange(image_size) + 0.5) / image_size  # pixel centres, units of the side
    scale, orientation, x, y = (np.asarray(v, dtype=np.float64)[:, None, None]
                                for v in (scale, orientation, x, y))
    centre_x = SHAPE_RADIUS + x * (1.0 - 2.0 * SHAPE_RADIUS)  # (N, 1, 1)
    centre_y = SHAPE_RADIUS + y * (1.0 - 2.0 * SHAPE_RADIUS)
    dx = centres[None, None, :] - centre_x  # (N, 1, S): columns, rightwards
    dy = centre_y - centres[None, :, None]  # (N, S, 1): rows, flipped so that up is positive
    cos, sin = np.cos(orientation), np.sin(orientation)
    radius = scale * SHAPE_RADIUS
    # Turn each pixel centre back by the orientation: the shape turns anticlockwise.
    u = (cos * dx + sin * dy) / radius  # (N, S, S)
    v = (-sin * dx + cos * dy) / radius
    return _inside_unit_shape(shape, u, v)


def render(factors, image_size: int = 64) -> np.ndarray:
    """Images of the given factor combinations: grid indices (N, 5) -> (N, S, S, 1) float32 0/1."""
    factors = _check_factors(factors)
    image_size = _check_image_size(image_size)
    values = factor_values_of(factors)
    images = np.zeros((len(factors), image_size, image_size), dtype=bool)
    chunks = [(shape, rows[start:start + _RENDER_CHUNK])
              for shape_index, shape in enumerate(SHAPE_NAMES)
              for rows in [np.flatnonzero(factors[:, 0] == shape_index)]
              for start in range(0, len(rows), _RENDER_CHUNK)]

    def draw(task):
        shape, chunk = task
        images[chunk] = _draw(shape, *values[chunk, 1:].T, image_size)  # rows of its own

    # NumPy's array arithmetic releases the GIL: threads draw chunks on every core at once
    # (Chapter 3 draws all 737,280 combinations of the grid). The result does not depend on them.
    if len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) as pool:
            list(pool.map(draw, chunks))
    else:
        for task in chunks:
            draw(task)
    return images[..., None].astype(np.float32)


def draw_shape(shape: str, scale: float = 1.0, orientation: float = 0.0, x: float = 0.5,
               y: float = 0.5, image_size: int = 64) -> np.ndarray:
    """One image (S, S, 1) float32 of ``shape`` at any scale in [0.5, 1], orientation (radians),
    and x, y in [0, 1]: for figures that show what a factor does between the grid's values."""
    if shape not in SHAPE_NAMES:
        raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPE_NAMES}")
    image_size = _check_image_size(image_size)
    for name, value, low, high in [("scale", scale, 0.5, 1.0), ("x", x, 0.0, 1.0),
                                   ("y", y, 0.0, 1.0)]:
        if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number))
                or not low <= value <= high):  # a bool is not a position
            raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    if (isinstance(orientation, (bool, np.bool_))
            or not (isinstance(orientation, (int, float, np.number))
                    and math.isfinite(orientation))):
        raise ValueError(f"orientation must be a finite angle in radians, got {orientation!r}")
    image = _draw(shape, [scale], [orientation], [x], [y], image_size)[0]
    return image[..., None].astype(np.float32)


def load_shapes(
    n_train: int,
    n_test: int,
    image_size: int = 32,
    seed: int = 0,
    path: str | Path | None = None,
    shapes: tuple[str, ...] = SHAPE_NAMES,
    verbose: bool = True,
) -> ShapesData:
    """Draw ``n_train`` training and ``n_test`` test images of shapes with known factors.

    Args:
        n_train, n_test: how many images of each split. Each split is a draw, without
            replacement, of factor combinations (of images of the file, with ``path``): the two
            draws are disjoint, and the test draw depends only on ``seed`` and ``n_test``, so
            models trained on different ``n_train`` are tested on the same images.
        image_size: 32 or 64 pixels a side (dSprites has 64).
        seed: seed of the draws.
        path: the original dSprites ``.npz`` (keys ``imgs`` (N, 64, 64) 0/1, ``latents_classes``
            (N, 6) with columns colour, shape, scale, orientation, x, y): images are taken from
            it instead of drawn, and downsampled to 32 pixels if asked (a 32-pixel pixel is on
            when at least two of its four 64-pixel pixels are). Reading all of dSprites needs
            about 3 GB of memory.
        shapes: which shapes to draw (names from SHAPE_NAMES); factor indices keep meaning
            SHAPE_NAMES' order.
        verbose: print the one-line description.

    Raises ``ValueError`` for an unknown shape, an image size other than 32 or 64, counts that
    are not positive ints or exceed the combinations (images) available, or a malformed file.
    """
    check_positive_int("n_train", n_train)
    check_positive_int("n_test", n_test)
    image_size = _check_image_size(image_size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(shapes, (str, list, tuple)):
        raise TypeError(f"shapes must be a shape name or a list of them, from {SHAPE_NAMES}, got "
                        f"{checks.describe(shapes)}")
    shapes = (shapes,) if isinstance(shapes, str) else tuple(shapes)
    unknown = [name for name in shapes if name not in SHAPE_NAMES]
    if unknown or not shapes or len(set(shapes)) != len(shapes):
        raise ValueError(f"shapes must be distinct names from {SHAPE_NAMES}, got {shapes!r}")
    shapes = tuple(name for name in SHAPE_NAMES if name in shapes)  # the grid's order
    rng = np.random.default_rng(seed)

    if path is None:
        sizes = (len(shapes),) + FACTOR_SIZES[1:]
        total = math.prod(sizes)
        _check_counts(n_train, n_test, total, f"{total:,} factor combinations")
        drawn = rng.permutation(total)[:n_test + n_train]
        factors = np.stack(np.unravel_index(drawn, sizes), axis=1).astype(np.int64)
        factors[:, 0] = np.array([SHAPE_NAMES.index(name) for name in shapes])[factors[:, 0]]
        images = render(factors, image_size)
        source, file_name = "generated-shapes", None
    else:
        images, factors = _read_dsprites(path)
        keep = np.flatnonzero(np.isin(factors[:, 0], [SHAPE_NAMES.index(s) for s in shapes]))
        _check_counts(n_train, n_test, len(keep), f"{len(keep):,} images of {shapes} in {path}")
        drawn = keep[rng.permutation(len(keep))[:n_test + n_train]]
        images = _downsample(images[drawn], image_size)
        factors = factors[drawn]
        source, file_name = "dsprites-npz", Path(path).name

    data = ShapesData(
        x_train=images[n_test:], x_test=images[:n_test], factors_train=factors[n_test:],
        factors_test=factors[:n_test], source=source, image_size=image_size, seed=int(seed),
        shapes=shapes, file_name=file_name,
    )
    if verbose:
        print(f"data: {data.description}")
    return data


def _check_counts(n_train, n_test, available, what):
    if n_train + n_test > available:
        raise ValueError(f"n_train + n_test must be at most the {what}, got "
                         f"{n_train:,} + {n_test:,}")


def _read_dsprites(path):
    """Images (N, H, W) uint8 and factor indices (N, 5) of a dSprites .npz."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path must be the dSprites .npz file, {path} does not exist")
    with np.load(path, allow_pickle=False) as archive:
        missing = {"imgs", "latents_classes"} - set(archive.files)
        if missing:
            raise ValueError(f"{path} is not a dSprites .npz: it lacks {sorted(missing)} "
                             f"(has {sorted(archive.files)})")
        images, classes = archive["imgs"], archive["latents_classes"]
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"imgs must have shape (N, S, S), got {images.shape}")
    if classes.shape != (len(images), 1 + len(FACTOR_NAMES)):
        raise ValueError(f"latents_classes must have shape ({len(images)}, 6) (colour, "
                         f"{', '.join(FACTOR_NAMES)}), got {classes.shape}")
    return images, _check_factors(classes[:, 1:])  # the colour column is always 0


def _downsample(images, image_size):
    """(N, H, H) 0/1 -> (N, S, S, 1) float32: a pixel is on when half or more of its block is."""
    size = images.shape[1]
    if size % image_size:
        raise ValueError(f"cannot downsample {size}-pixel images to {image_size} pixels")
    block = size // image_size
    blocks = images.reshape(len(images), image_size, block, image_size, block)
    on = blocks.astype(np.float32).mean(axis=(2, 4)) >= 0.5
    return on[..., None].astype(np.float32)
