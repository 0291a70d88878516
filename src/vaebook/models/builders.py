"""Encoder and decoder networks, dense and convolutional.

An encoder maps images (batch, 28, 28, 1) to a code. A *deterministic* encoder (the autoencoder of
Chapter 1) returns z with shape (batch, latent_dim); a *variational* one returns the two parameters
of a diagonal Gaussian, ``[z_mean, z_log_var]``, each (batch, latent_dim). A decoder maps
(batch, latent_dim) to **logits** of shape (batch, 28, 28, 1): no sigmoid, because the losses take
logits (see :func:`vaebook.losses.bernoulli_log_likelihood`).

The architecture is a parameter (``kind="dense"`` or ``"conv"``), never a copy of the model.
"""

from __future__ import annotations

import keras
from keras import layers

from .. import checks
from ..data import IMAGE_SHAPE

ARCHITECTURES = ("dense", "conv")
DENSE_HIDDEN_UNITS = (512, 256)  # encoder widths; the decoder mirrors them
CONV_FILTERS = (32, 64)  # as in the TensorFlow CVAE tutorial: two stride-2 3x3 convolutions


def _check(kind, latent_dim):
    """The architecture and the latent size, checked (the size as a Python int, for Keras)."""
    return checks.one_of(kind, "kind", ARCHITECTURES), checks.positive_int(latent_dim, "latent_dim")


def build_encoder(latent_dim: int, kind: str = "dense", variational: bool = True) -> keras.Model:
    """Encoder network: (batch, 28, 28, 1) -> z, or -> [z_mean, z_log_var] if ``variational``."""
    kind, latent_dim = _check(kind, latent_dim)
    variational = checks.boolean(variational, "variational")
    images = keras.Input(shape=IMAGE_SHAPE, name="images")
    if kind == "dense":
        hidden = layers.Flatten()(images)  # (batch, 784)
        for units in DENSE_HIDDEN_UNITS:
            hidden = layers.Dense(units, activation="relu")(hidden)
    else:
        hidden = images
        for filters in CONV_FILTERS:  # (batch, 14, 14, 32) then (batch, 7, 7, 64)
            hidden = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(hidden)
        hidden = layers.Flatten()(hidden)  # (batch, 3136)
    if not variational:
        z = layers.Dense(latent_dim, name="z")(hidden)
        return keras.Model(images, z, name=f"{kind}_encoder")
    z_mean = layers.Dense(latent_dim, name="z_mean")(hidden)
    # A log variance is unconstrained, so a plain linear layer can output it.
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(hidden)
    return keras.Model(images, [z_mean, z_log_var], name=f"{kind}_variational_encoder")


def build_decoder(latent_dim: int, kind: str = "dense") -> keras.Model:
    """Decoder network: (batch, latent_dim) -> logits (batch, 28, 28, 1)."""
    kind, latent_dim = _check(kind, latent_dim)
    z = keras.Input(shape=(latent_dim,), name="z")
    if kind == "dense":
        hidden = z
        for units in reversed(DENSE_HIDDEN_UNITS):
            hidden = layers.Dense(units, activation="relu")(hidden)
        logits = layers.Dense(IMAGE_SHAPE[0] * IMAGE_SHAPE[1], name="logits")(hidden)
        logits = layers.Reshape(IMAGE_SHAPE)(logits)  # (batch, 28, 28, 1)
    else:
        hidden = layers.Dense(7 * 7 * 32, activation="relu")(z)
        hidden = layers.Reshape((7, 7, 32))(hidden)
        for filters in reversed(CONV_FILTERS):  # (batch, 14, 14, 64) then (batch, 28, 28, 32)
            hidden = layers.Conv2DTranspose(
                filters, 3, strides=2, padding="same", activation="relu"
            )(hidden)
        logits = layers.Conv2DTranspose(1, 3, padding="same", name="logits")(hidden)
    return keras.Model(z, logits, name=f"{kind}_decoder")
