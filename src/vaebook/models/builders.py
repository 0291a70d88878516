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
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
    if (shape is None or len(shape) != 3 or any(isinstance(size, bool) for size in shape)
            or not all(isinstance(size, (int, np.integer)) and size >= 1 for size in shape)):
        raise ValueError(
            f"image_shape must be (height, width, channels), three positive ints, "
            f"got {image_shape!r}")
    # Two stride-2 convolutions halve the height and width twice; the decoder doubles them back.
    downsampling = 2 ** len(CONV_FILTERS)
    if kind == "conv" and (shape[0] % downsampling or shape[1] % downsampling):
        raise ValueError(f"the conv architecture needs a height and width divisible by "
                         f"{downsampling}, got image_shape {shape}")
    return kind, latent_dim, tuple(int(size) for size in shape)


def build_encoder(latent_dim: int, kind: str = "dense", variational: bool = True,
                  image_shape=IMAGE_SHAPE) -> keras.Model:
    """Encoder network: (batch, *image_shape) -> z, or -> [z_mean, z_log_var] if ``variational``."""
    kind, latent_dim, image_shape = _check(kind, latent_dim, image_shape)
    variational = checks.boolean(variational, "variational")
    images = keras.Input(shape=image_shape, name="images")
    if kind == "dense":
        hidden = layers.Flatten()(images)  # (batch, 784) for MNIST
        for units in DENSE_HIDDEN_UNITS:
            hidden = layers.Dense(units, activation="relu")(hidden)
    else:
        hidden = images
        for filters in CONV_FILTERS:  # MNIST: (batch, 14, 14, 32) then (batch, 7, 7, 64)
            hidden = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(hidden)
        hidden = layers.Flatten()(hidden)  # (batch, 3136) for MNIST
    if not variational:
        z = layers.Dense(latent_dim, name="z")(hidden)
        return keras.Model(images, z, name=f"{kind}_encoder")
    z_mean = layers.Dense(latent_dim, name="z_mean")(hidden)
    # A log variance is unconstrained, so a plain linear layer can output it.
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(hidden)
    return keras.Model(images, [z_mean, z_log_var], name=f"{kind}_variational_encoder")


def build_decoder(latent_dim: int, kind: str = "dense", image_shape=IMAGE_SHAPE) -> keras.Model:
    """Decoder network: (batch, latent_dim) -> logits (batch, *image_shape)."""
    kind, latent_dim, image_shape = _check(kind, latent_dim, image_shape)
    height, width, channels = image_shape
    z = keras.Input(shape=(latent_dim,), name="z")
    if kind == "dense":
        hidden = z
        for units in reversed(DENSE_HIDDEN_UNITS):
            hidden = layers.Dense(units, activation="relu")(hidden)
        logits = layers.Dense(height * width * channels, name="logits")(hidden)
        logits = layers.Reshape(image_shape)(logits)  # (batch, 28, 28, 1) for MNIST
    else:
        downsampling = 2 ** len(CONV_FILTERS)
        small = (height // downsampling, width // downsampling, 32)  # (7, 7, 32) for MNIST
        hidden = layers.Dense(small[0] * small[1] * small[2], activation="relu")(z)
        hidden = layers.Reshape(small)(hidden)
        for filters in reversed(CONV_FILTERS):  # MNIST: (batch, 14, 14, 64), (batch, 28, 28, 32)
            hidden = layers.Conv2DTranspose(
                filters, 3, strides=2, padding="same", activation="relu"
            )(hidden)
        logits = layers.Conv2DTranspose(channels, 3, padding="same", name="logits")(hidden)
    return keras.Model(z, logits, name=f"{kind}_decoder")
