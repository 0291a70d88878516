"""What the autoencoder and the VAE share: an encoder, a decoder, and saving both."""

from __future__ import annotations

import keras
import numpy as np

from ..data import check_images


class EncoderDecoder(keras.Model):
    """A ``keras.Model`` made of two sub-models, ``encoder`` and ``decoder``.

    ``get_config``/``from_config`` serialise both networks, so ``model.save("m.keras")`` and
    ``keras.saving.load_model`` round-trip the whole model.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, **kwargs):
        super().__init__(**kwargs)
        image_shape = tuple(encoder.inputs[0].shape[1:])
        if tuple(decoder.outputs[0].shape[1:]) != image_shape:
            raise ValueError(
                f"the decoder must output the encoder's image shape {image_shape}, got "
                f"{tuple(decoder.outputs[0].shape[1:])}: build both with the same image_shape"
            )
        self.encoder = encoder
        self.decoder = decoder
        # Both sub-networks are functional models, built when created, so this model is too.
        self.built = True

    @property
    def latent_dim(self) -> int:
        return int(self.decoder.inputs[0].shape[-1])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(height, width, channels) of the images the encoder takes: (28, 28, 1) for MNIST."""
        return tuple(int(size) for size in self.encoder.inputs[0].shape[1:])

    def decode(self, z) -> np.ndarray:
        """Pixel probabilities sigmoid(decoder(z)) of codes z (batch, J): (batch, *image_shape)."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {z.shape}")
        return keras.ops.convert_to_numpy(keras.ops.sigmoid(self.decoder(z, training=False)))

    def _checked(self, x):
        return check_images(x, "x", image_shape=self.image_shape)

    @staticmethod
    def _batched(network, x, batch_size: int = 256) -> list[np.ndarray]:
        """Run ``network`` eagerly on x in batches and return its output(s) as NumPy arrays.

        Eager calls, not ``predict``: ``predict`` compiles a function per model, and notebooks
        that loop over many models then print TensorFlow's retracing warnings.
        """
        outputs = None
        for start in range(0, len(x), batch_size):
            result = network(x[start:start + batch_size], training=False)
            result = result if isinstance(result, (list, tuple)) else [result]
            if outputs is None:
                outputs = [[] for _ in result]
            for collected, value in zip(outputs, result):
                collected.append(keras.ops.convert_to_numpy(value))
        return [np.concatenate(parts) for parts in outputs]

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)
