"""The plain (deterministic) autoencoder of Chapter 1.

x -> encoder -> z -> decoder -> logits, trained to minimise -log p(x | z) per image
(:func:`vaebook.losses.reconstruction_loss`).
"""

from __future__ import annotations

import keras
import numpy as np

from .base import EncoderDecoder


@keras.saving.register_keras_serializable(package="vaebook")
class Autoencoder(EncoderDecoder):
    """``Autoencoder(encoder, decoder)``: ``call(x)`` returns reconstruction logits (batch, 28, 28, 1)."""

    def call(self, x, training=False):
        return self.decoder(self.encoder(x, training=training), training=training)

    def encode(self, x) -> np.ndarray:
        """Codes z of images x (N, 28, 28, 1): (N, latent_dim)."""
        return keras.ops.convert_to_numpy(self.encoder.predict(self._checked(x), verbose=0))

    def reconstruct(self, x) -> np.ndarray:
        """Pixel probabilities of the reconstructions of x: (N, 28, 28, 1)."""
        logits = self.predict(self._checked(x), verbose=0)
        return keras.ops.convert_to_numpy(keras.ops.sigmoid(logits))
