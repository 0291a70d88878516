"""Encoder and decoder networks, dense and convolutional.

An encoder maps images (batch, height, width, channels) to a code: MNIST's (batch, 28, 28, 1) by
default, any ``image_shape`` on request (the shapes data of Chapter 3 is (batch, 32, 32, 1)).
A *deterministic* encoder (the autoencoder of Chapter 1) returns z with shape (batch, latent_dim);
a *variational* one returns the two parameters of a diagonal Gaussian, ``[z_mean, z_log_var]``,
each (batch, latent_dim). A decoder maps (batch, latent_dim) to **logits** of the image shape: no
sigmoid, because the losses take logits (see :func:`vaebook.losses.bernoulli_log_likelihood`).

The architecture is a parameter (``kind="dense"`` or ``"conv"``), never a copy of the model.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .. import checks
from ..data import IMAGE_SHAPE

ARCHITECTURES = ("dense", "conv")
DENSE_HIDDEN_UNITS = (512, 256)  # encoder widths; the decoder mirrors them
CONV_FILTERS = (32, 64)  # as in the TensorFlow CVAE tutorial: two stride-2 3x3 convolutions


def _check(kind, latent_dim, image_shape):
    """The architecture, the latent size (a Python int, for Keras) and the image shape (a tuple of
    three ints), checked."""
    kind = checks.one_of(kind, "kind", ARCHITECTURES)
    latent_dim = checks.positive_int(latent_dim, "latent_dim")
    shape = checks.image_shape(image_shape)
    # Two stride-2 convolutions halve the height and width twice; the decoder doubles them back.
    downsampling = 2 ** len(CONV_FILTERS)
    if kind == "conv" and (shape[0] % downsampling or shape[1] % downsampling):
        raise ValueError(f"the conv architecture needs a height and width divisible by "
                         f"{downsampling}, got image_shape {shape}")
    return kind, latent_dim, shape


def check_widths(widths, kind: str = "dense") -> tuple[int, int]:
    """The two hidden widths of an encoder (the decoder mirrors them), checked: units of the two
    dense layers, or filters of the two stride-2 convolutions; ``None`` gives the architecture's
    default (:data:`DENSE_HIDDEN_UNITS`, :data:`CONV_FILTERS`)."""
    kind = checks.one_of(kind, "kind", ARCHITECTURES)
    if widths is None:
        return DENSE_HIDDEN_UNITS if kind == "dense" else CONV_FILTERS
    if (not isinstance(widths, (tuple, list)) or len(widths) != 2
            or any(isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1
                   for w in widths)):
        raise ValueError(f"widths must be two positive ints (the encoder's two hidden layers; "
                         f"the decoder mirrors them) or None, got {widths!r}")
    return tuple(int(w) for w in widths)


def build_encoder(latent_dim: int, kind: str = "dense", variational: bool = True,
                  image_shape=IMAGE_SHAPE, widths=None) -> keras.Model:
    """Encoder network: (batch, *image_shape) -> z, or -> [z_mean, z_log_var] if ``variational``.

    ``widths``: units of the two dense layers, or filters of the two convolutions (None: the
    defaults, (512, 256) and (32, 64))."""
    kind, latent_dim, image_shape = _check(kind, latent_dim, image_shape)
    widths = check_widths(widths, kind)
    variational = checks.boolean(variational, "variational")
    images = keras.Input(shape=image_shape, name="images")
    if kind == "dense":
        hidden = layers.Flatten()(images)  # (batch, 784) for MNIST
        for units in widths:
            hidden = layers.Dense(units, activation="relu")(hidden)
    else:
        hidden = images
        for filters in widths:  # MNIST: (batch, 14, 14, 32) then (batch, 7, 7, 64)
            hidden = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(hidden)
        hidden = layers.Flatten()(hidden)  # (batch, 3136) for MNIST
    if not variational:
        z = layers.Dense(latent_dim, name="z")(hidden)
        return keras.Model(images, z, name=f"{kind}_encoder")
    z_mean = layers.Dense(latent_dim, name="z_mean")(hidden)
    # A log variance is unconstrained, so a plain linear layer can output it.
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(hidden)
    return keras.Model(images, [z_mean, z_log_var], name=f"{kind}_variational_encoder")


def build_decoder(latent_dim: int, kind: str = "dense", image_shape=IMAGE_SHAPE,
                  widths=None) -> keras.Model:
    """Decoder network: (batch, latent_dim) -> logits (batch, *image_shape); ``widths`` as the
    encoder's (the decoder mirrors them)."""
    kind, latent_dim, image_shape = _check(kind, latent_dim, image_shape)
    widths = check_widths(widths, kind)
    height, width, channels = image_shape
    z = keras.Input(shape=(latent_dim,), name="z")
    if kind == "dense":
        hidden = z
        for units in reversed(widths):
            hidden = layers.Dense(units, activation="relu")(hidden)
        logits = layers.Dense(height * width * channels, name="logits")(hidden)
        logits = layers.Reshape(image_shape)(logits)  # (batch, 28, 28, 1) for MNIST
    else:
        downsampling = 2 ** len(CONV_FILTERS)
        small = (height // downsampling, width // downsampling, widths[0])  # (7, 7, 32): MNIST
        hidden = layers.Dense(small[0] * small[1] * small[2], activation="relu")(z)
        hidden = layers.Reshape(small)(hidden)
        for filters in reversed(widths):  # MNIST: (batch, 14, 14, 64), (batch, 28, 28, 32)
            hidden = layers.Conv2DTranspose(
                filters, 3, strides=2, padding="same", activation="relu"
            )(hidden)
        logits = layers.Conv2DTranspose(channels, 3, padding="same", name="logits")(hidden)
    return keras.Model(z, logits, name=f"{kind}_decoder")
