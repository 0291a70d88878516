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
    """``Autoencoder(encoder, decoder)``: ``call(x)`` returns reconstruction logits like x."""

    def call(self, x, training=False):
        self._check_call_input(x)
        return self.decoder(self.encoder(x, training=training), training=training)

    def encode(self, x, batch_size: int = 256) -> np.ndarray:
        """Codes z of images x (N, *image_shape) in [0, 1]: (N, latent_dim)."""
        (codes,) = self._batched(self.encoder, self._checked(x), batch_size)
        return codes

    def reconstruct(self, x, batch_size: int = 256) -> np.ndarray:
        """Pixel probabilities of the reconstructions of x: (N, *image_shape)."""
        return self.decode(self.encode(x, batch_size))
