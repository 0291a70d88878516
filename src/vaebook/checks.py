"""Input checks shared by every public function of vaebook.

A reader's mistake should stop at the first call that sees it, with a message that names the
argument, says what was expected and shows what was given, for example::

    ValueError: x must be images of shape (N, 28, 28, 1) with values in [0, 1], got shape (28, 28)

Conventions:

* ``TypeError`` for a value of the wrong *kind*: a string, None, a bool or an array where a number
  is expected (``True`` is never a count: a flag passed as a count is a bug), an array where a
  data set is expected, a string where a function is expected;
* ``ValueError`` for a value of the right kind that is wrong: out of range, a number that is not
  an integer where an int is expected (``2.5`` samples), the wrong shape, NaN or infinity, grey
  levels where binary pixels are needed, integer images (grey levels 0-255 never divided by 255);
* NumPy scalars (``np.int64(3)``, ``np.float32(1e-3)``) and 0-d arrays are accepted wherever a
  Python number is, and every check returns plain Python ``int``/``float``/``bool`` values (so
  they can be written to JSON and passed to Keras);
* array checks return the array converted (images as float32), so a caller writes
  ``x = checks.images(x, "x")`` and uses ``x``.

This module is a leaf: at import it needs only NumPy (the checks of models and tensors import
Keras and the models when called), so every other module of the package can use it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np

MNIST_IMAGE_SHAPE = (28, 28, 1)  # (height, width, channels): the default image shape of the book
SEED_MAX = 2**63 - 1  # Keras keeps seeds as int64
LEGACY_SEED_MAX = 2**32 - 1  # np.random.seed, used by keras.utils.set_random_seed


def describe(value: Any) -> str:
    """A short description of ``value`` for an error message: its repr if short, else its type."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) <= 40:
        return text
    return f"a {type(value).__name__}"


def _scalar(value):
    """A NumPy scalar or 0-d array as the Python scalar it holds; anything else unchanged."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic):
        value = value.item()
    return value


# ---------------------------------------------------------------------------------------------
# Numbers: counts, seeds, rates, probabilities


def integer(value, name: str, *, minimum: int | None = None, maximum: int | None = None,
            allow_none: bool = False) -> int | None:
    """An int (Python or NumPy) in [minimum, maximum], returned as a Python ``int``."""
    if value is None and allow_none:
        return None
    plain = _scalar(value)
    bounds = _bounds_text(minimum, maximum)
    expected = f"an int{bounds}" + (" or None" if allow_none else "")
    if isinstance(plain, bool) or not isinstance(plain, numbers.Number):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    if not isinstance(plain, numbers.Integral):
        raise ValueError(f"{name} must be {expected}, got {describe(value)}")
    plain = int(plain)
    if (minimum is not None and plain < minimum) or (maximum is not None and plain > maximum):
        raise ValueError(f"{name} must be {expected}, got {plain}")
    return plain


def _bounds_text(minimum, maximum) -> str:
    if minimum == 1 and maximum is None:
        return " >= 1"
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def positive_int(value, name: str, *, allow_none: bool = False) -> int | None:
    """A count: an int >= 1 (a number of images, samples, epochs, latent dimensions...)."""
    if value is None and allow_none:
        return None
    plain = _scalar(value)
    suffix = " or None" if allow_none else ""
    if isinstance(plain, bool) or not isinstance(plain, numbers.Number):
        raise TypeError(f"{name} must be a positive int{suffix}, got {describe(value)}")
    if not isinstance(plain, numbers.Integral) or plain < 1:
        raise ValueError(f"{name} must be a positive int{suffix}, got {describe(value)}")
    return int(plain)


def seed(value, name: str = "seed", *, allow_none: bool = False,
         maximum: int = SEED_MAX) -> int | None:
    """A random seed: an int in [0, maximum] (``None`` too if allowed: fresh randomness)."""
    if value is None and allow_none:
        return None
    plain = _scalar(value)
    expected = f"an int in [0, {maximum}]" + (" or None (fresh randomness)" if allow_none else "")
    if isinstance(plain, bool) or not isinstance(plain, numbers.Number):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    if not isinstance(plain, numbers.Integral) or not 0 <= plain <= maximum:
        raise ValueError(f"{name} must be {expected}, got {describe(value)}")
    return int(plain)


def real(value, name: str, *, minimum: float | None = None, maximum: float | None = None,
         open_below: bool = False, open_above: bool = False, allow_none: bool = False,
         expected: str | None = None) -> float | None:
    """A finite real number (Python or NumPy, ints too) within the given bounds, as ``float``.

    ``open_below``/``open_above`` exclude the bound itself. ``expected`` replaces the generated
    description of what is expected (e.g. "a learning rate in (0, 1)").
    """
    if value is None and allow_none:
        return None
    if expected is None:
        expected = "a finite number" + _interval_text(minimum, maximum, open_below, open_above)
    if allow_none and "None" not in expected:
        expected += " or None"
    plain = _scalar(value)
    if isinstance(plain, bool) or not isinstance(plain, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    plain = float(plain)
    too_low = minimum is not None and (plain <= minimum if open_below else plain < minimum)
    too_high = maximum is not None and (plain >= maximum if open_above else plain > maximum)
    if not math.isfinite(plain) or too_low or too_high:
        raise ValueError(f"{name} must be {expected}, got {describe(value)}")
    return plain


def _interval_text(minimum, maximum, open_below, open_above) -> str:
    if minimum is not None and maximum is not None:
        left, right = "(" if open_below else "[", ")" if open_above else "]"
        return f" in {left}{minimum:g}, {maximum:g}{right}"
    if minimum is not None:
        return f" {'>' if open_below else '>='} {minimum:g}"
    if maximum is not None:
        return f" {'<' if open_above else '<='} {maximum:g}"
    return ""


def learning_rate(value, name: str = "learning_rate", *, allow_none: bool = False) -> float | None:
    """A learning rate: a number in (0, 1). ``None`` (if allowed) means "keep the current one"."""
    return real(value, name, minimum=0.0, maximum=1.0, open_below=True, open_above=True,
                allow_none=allow_none)


def probability(value, name: str, *, open_interval: bool = False) -> float:
    """A probability or fraction: a number in [0, 1], or in (0, 1) with ``open_interval``."""
    return real(value, name, minimum=0.0, maximum=1.0, open_below=open_interval,
                open_above=open_interval)


def boolean(value, name: str) -> bool:
    """``True`` or ``False`` (NumPy's too); not 0/1, not strings ("False" is truthy)."""
    plain = _scalar(value)
    if not isinstance(plain, bool):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return plain


# ---------------------------------------------------------------------------------------------
# Strings, sets of choices, containers, objects


def text(value, name: str, *, allow_empty: bool = True) -> str:
    """A string (titles, labels, names)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {describe(value)}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def one_of(value, name: str, allowed: Iterable) -> Any:
    """One of a fixed set of choices (model kinds, architectures, modes...): the matching choice."""
    allowed = tuple(allowed)
    for choice in allowed:
        try:
            if value is choice or (type(value) is not bool and bool(value == choice)):
                return choice  # the Python object itself (a np.str_ comes back as a str)
        except (TypeError, ValueError):  # an array, or a value that cannot be compared
            break
    kind = ValueError if isinstance(value, str) or value is None else TypeError
    raise kind(f"{name} must be one of {allowed}, got {describe(value)}")


def mapping(value, name: str, *, allow_empty: bool = False, what: str = "a dict") -> dict:
    """A dict (or other mapping), non-empty unless allowed."""
    from collections.abc import Mapping

    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be {what}, got {describe(value)}")
    if not allow_empty and not value:
        raise ValueError(f"{name} must be a non-empty {what.removeprefix('a ')}, got an empty one")
    return dict(value)


def names(value, name: str) -> list[str]:
    """A non-empty list or tuple of strings (not a bare string, which would iterate as letters)."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be a list of names, got the string {value!r} "
                        f"(write [{value!r}])")
    if not isinstance(value, (list, tuple)) or not value:
        raise TypeError(f"{name} must be a non-empty list of names, got {describe(value)}")
    for index, item in enumerate(value):
        text(item, f"{name}[{index}]")
    return list(value)


def path(value, name: str) -> str:
    """A file or folder path: a string or ``os.PathLike`` (a ``pathlib.Path``), returned as str."""
    import os

    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be a path (a non-empty string or pathlib.Path), got "
                        f"{describe(value)}")
    return value


def function(value, name: str, *, what: str = "a callable") -> Any:
    """A function (or other callable)."""
    if not callable(value):
        raise TypeError(f"{name} must be {what}, got {describe(value)}")
    return value


def instance(value, name: str, types, what: str) -> Any:
    """An instance of ``types``; ``what`` says in words what was expected."""
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def vae(value, name: str = "vae") -> Any:
    """A :class:`vaebook.models.VAE`: anything else (an autoencoder above all) has no q(z | x)."""
    from .models import VAE

    if not isinstance(value, VAE):
        raise TypeError(
            f"{name} must be a vaebook.models.VAE (a model with a posterior q(z|x)), got "
            f"{type(value).__name__}: an autoencoder's code is a point, so it has no ELBO or "
            "likelihood bound; compare it through its reconstruction loss instead"
        )
    return value


def model(value, name: str = "model") -> Any:
    """A Keras model (``Autoencoder``, ``VAE`` or another ``keras.Model``)."""
    import keras

    if not isinstance(value, keras.Model):
        raise TypeError(f"{name} must be a keras.Model (a vaebook Autoencoder or VAE), got "
                        f"{type(value).__name__}")
    return value


def strategy(value, name: str = "strategy", *, allow_none: bool = True) -> Any:
    """A ``tf.distribute.Strategy`` (``MirroredStrategy``, ``MultiWorkerMirroredStrategy``...),
    or None (the default: one device)."""
    if value is None and allow_none:
        return None
    import tensorflow as tf

    if not isinstance(value, tf.distribute.Strategy):
        raise TypeError(f"{name} must be a tf.distribute.Strategy (e.g. "
                        "tf.distribute.MirroredStrategy())" + (" or None" if allow_none else "")
                        + f", got {describe(value)}")
    return value


def built_under(model_value, strategy_value, name: str = "model") -> None:
    """Raise ``ValueError`` unless every variable of ``model_value`` was created under
    ``strategy_value.scope()`` (a model is trained by the strategy that holds its variables)."""
    outside = [weight.path for weight in model_value.weights
               if not strategy_value.extended.variable_created_in_scope(weight.value)]
    if outside:
        raise ValueError(
            f"{name} must be built under strategy.scope() to be trained with that strategy, but "
            f"its weight {outside[0]} was created outside it; build (and compile) the model "
            "inside `with strategy.scope():`, as vaebook.zoo.trained_model(strategy=...) does")


# ---------------------------------------------------------------------------------------------
# Arrays: images, codes, labels, numbers


def known_values(value) -> np.ndarray | None:
    """The values of ``value`` as a NumPy array when they are known now (NumPy input, numbers,
    an eager tensor), or None for a symbolic tensor (traced inside a compiled training step, where
    a value check would break tracing; the public entry points check the data before)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple, numbers.Number, np.generic)):
        return np.asarray(value)
    import keras
    import tensorflow as tf

    if isinstance(value, keras.KerasTensor) or not tf.executing_eagerly():
        return None
    if tf.is_tensor(value) or isinstance(value, tf.Variable):
        return value.numpy()
    return None


def _numeric_array(value, name: str, expected: str) -> np.ndarray:
    """``value`` as a NumPy array of numbers (bool, int or float), else ``TypeError``."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged lists, objects NumPy cannot convert
        raise TypeError(f"{name} must be {expected}, got {describe(value)} ({error})") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    return array


MAX_CHANNELS = 4  # grey, grey + alpha, RGB, RGBA: more channels than this is not channels last


def image_shape(value, name: str = "image_shape", *, min_size: int = 1) -> tuple[int, int, int]:
    """The book's one image-shape rule: (height, width, channels), three positive ints (NumPy's
    too), channels last, as Keras expects on CPU; returned as a tuple of Python ints. A shape whose
    last axis is longer than :data:`MAX_CHANNELS` and whose first is not, such as (1, 28, 28), is
    refused as channels first. ``min_size``: the least height and width."""
    shape = tuple(value) if isinstance(value, (tuple, list)) else None
    if (shape is None or len(shape) != 3 or any(isinstance(size, bool) for size in shape)
            or not all(isinstance(size, (int, np.integer)) and size >= 1 for size in shape)):
        raise ValueError(f"{name} must be (height, width, channels), three positive ints, "
                         f"channels last, e.g. (28, 28, 1); got {value!r}")
    shape = tuple(int(size) for size in shape)
    if shape[2] > MAX_CHANNELS and shape[0] <= MAX_CHANNELS:
        raise ValueError(f"{name} must be (height, width, channels), channels last, e.g. "
                         f"(28, 28, 1); got {shape}, which looks channels first: use "
                         f"{(shape[1], shape[2], shape[0])} (np.moveaxis(images, 1, -1) for the "
                         f"images)")
    if min(shape[:2]) < min_size:
        raise ValueError(f"{name} must have a height and width of at least {min_size}, got "
                         f"{shape}")
    return shape


def images(value, name: str = "images", *, image_shape: tuple | None = MNIST_IMAGE_SHAPE,
           binary: bool = False) -> np.ndarray:
    """A non-empty batch of images (N, *image_shape) of floats in [0, 1], returned as float32.

    Args:
        value: the images (NumPy array, list, or eager tensor).
        name: the argument's name, for the message.
        image_shape: (height, width, channels) expected after the batch axis (MNIST's by
            default); ``None`` accepts any (height, width, channels).
        binary: also require every pixel to be 0 or 1 (targets of a Bernoulli likelihood).

    Integer images are refused even within [0, 1]: an integer image almost always holds grey
    levels 0-255 that were never divided by 255. Booleans are accepted (as 0 and 1).
    """
    shape_text = ("(N, H, W, C)" if image_shape is None
                  else f"(N, {', '.join(str(int(d)) for d in image_shape)})")
    expected = (f"images of shape {shape_text} with values "
                + ("0 or 1 (binary)" if binary else "in [0, 1]"))
    array = _numeric_array(value, name, expected)
    if image_shape is None:
        good_shape = array.ndim == 4
        if good_shape and array.shape[3] > MAX_CHANNELS and array.shape[1] <= MAX_CHANNELS:
            raise ValueError(f"{name} must be {expected}, channels last; got shape "
                             f"{array.shape}, which looks channels first: "
                             f"np.moveaxis({name}, 1, -1) gives {shape_text}")
    else:
        good_shape = array.shape[1:] == tuple(int(d) for d in image_shape)
    if not good_shape:
        hint = ""
        if image_shape is not None and array.shape == tuple(image_shape):
            hint = f" (one image? give it a batch axis: {name}[None])"
        raise ValueError(f"{name} must be {expected}, got shape {array.shape}{hint}")
    if len(array) == 0:
        raise ValueError(f"{name} must be {expected}, got an empty batch (0 images)")
    if array.dtype.kind in "iu":
        raise ValueError(
            f"{name} must be {expected}, got dtype {array.dtype} (integer grey levels 0-255? "
            "divide by 255 first)"
        )
    lowest, highest = array.min(), array.max()
    if not (lowest >= 0 and highest <= 1):  # also true when a NaN makes min/max NaN
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be {expected}, got NaN or infinite values")
        raise ValueError(
            f"{name} must be {expected}, got values in [{lowest:.3g}, {highest:.3g}]"
            + (" (grey levels 0-255? divide by 255 first)" if highest > 1 else "")
        )
    if binary and array.dtype != bool:
        grey = (array > 0) & (array < 1)
        if grey.any():
            raise ValueError(f"{name} must be {expected}, got grey levels such as "
                             f"{array[grey].flat[0]:.3g}. {GREY_LEVEL_REASON}")
    return array.astype(np.float32, copy=False)


def is_dataset(value) -> bool:
    """Whether ``value`` is a ``tf.data.Dataset`` (without importing TensorFlow for arrays)."""
    import sys

    if "tensorflow" not in sys.modules:
        return False
    import tensorflow as tf

    return isinstance(value, tf.data.Dataset)


def image_dataset(value, name: str = "images", *, image_shape: tuple | None = MNIST_IMAGE_SHAPE,
                  binary: bool = False):
    """A ``tf.data.Dataset`` of image batches (batch, *image_shape), float32 in [0, 1].

    Its element spec is checked (one float32 tensor of rank 4, the right image shape: not pairs,
    not single unbatched images), and the values of its first batch with :func:`images` (so grey
    levels where binary pixels are needed, or grey levels 0-255, are caught at once). The other
    batches are not read here: a data set on disk may be larger than memory. Returns the dataset.
    """
    import tensorflow as tf

    shape_text = ("(batch, H, W, C)" if image_shape is None
                  else f"(batch, {', '.join(str(int(d)) for d in image_shape)})")
    expected = f"a tf.data.Dataset of image batches {shape_text}, float32"
    if not isinstance(value, tf.data.Dataset):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    spec = value.element_spec
    if not isinstance(spec, tf.TensorSpec):
        raise ValueError(f"{name} must be {expected} (images only, not pairs or dicts), got "
                         f"elements {spec}")
    if spec.dtype != tf.float32 or spec.shape.rank != 4 or (
            image_shape is not None and tuple(spec.shape[1:]) != tuple(image_shape)):
        hint = " (unbatched? call .batch(batch_size))" if spec.shape.rank == 3 else ""
        raise ValueError(f"{name} must be {expected}, got elements of shape {spec.shape} and "
                         f"dtype {spec.dtype.name}{hint}")
    first = next(iter(value.take(1)), None)
    if first is None:
        raise ValueError(f"{name} must be {expected}, got an empty dataset")
    images(first.numpy(), f"{name} (first batch)", image_shape=image_shape, binary=binary)
    return value


GREY_LEVEL_REASON = (
    "A Bernoulli likelihood gives a probability only to pixels that are 0 or 1: for a grey "
    "level x, x log p + (1 - x) log(1 - p) is not the log of any probability, so the number "
    "would not be a log-likelihood (nor an ELBO, nor a bound) in nats. Binarise the images "
    "first, e.g. data.load_mnist(binarize='threshold')."
)


def codes(value, name: str = "z", *, latent_dim: int | None = None) -> np.ndarray:
    """A non-empty batch of finite latent codes (N, latent_dim), returned as float32."""
    columns = latent_dim if latent_dim is not None else "J"
    expected = f"codes of shape (N, {columns}) of finite numbers"
    array = _numeric_array(value, name, expected)
    if array.ndim != 2 or (latent_dim is not None and array.shape[1] != latent_dim):
        raise ValueError(f"{name} must be {expected}, got shape {array.shape}")
    if len(array) == 0:
        raise ValueError(f"{name} must be {expected}, got an empty batch (0 codes)")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be {expected}, got NaN or infinite values")
    return array.astype(np.float32, copy=False)


def labels(value, name: str = "labels", *, count: int | None = None,
           num_classes: int = 10) -> np.ndarray:
    """Integer class labels 0..num_classes-1, shape (N,) (N = ``count`` if given), as int64."""
    rows = count if count is not None else "N"
    expected = f"integer labels in [0, {num_classes - 1}] of shape ({rows},)"
    if isinstance(value, (list, tuple)) and len(value) == 0:  # not a dtype problem
        raise ValueError(f"{name} must be {expected}, got no labels (an empty "
                         f"{type(value).__name__})")
    array = _numeric_array(value, name, expected)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be {expected}, got dtype {array.dtype}"
                        + (" (cast class labels to int)" if array.dtype.kind == "f" else ""))
    if array.ndim != 1 or (count is not None and len(array) != count):
        raise ValueError(f"{name} must be {expected}, got shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"{name} must be {expected}, got values in [{array.min()}, {array.max()}]")
    return array.astype(np.int64, copy=False)


def array(value, name: str, *, ndim: int | None = None, min_size: int = 1,
          finite: bool = True, what: str | None = None) -> np.ndarray:
    """An array of real numbers (``ndim`` axes if given, at least ``min_size`` values), float64."""
    expected = what or (f"a {ndim}-d array of finite numbers" if ndim is not None
                        else "an array of finite numbers")
    result = _numeric_array(value, name, expected)
    if ndim is not None and result.ndim != ndim:
        raise ValueError(f"{name} must be {expected}, got shape {result.shape}")
    if result.size < min_size:
        raise ValueError(f"{name} must be {expected}, got {result.size} value(s)")
    if finite and not np.all(np.isfinite(result)):
        raise ValueError(f"{name} must be {expected}, got NaN or infinite values")
    return result.astype(np.float64, copy=False)
