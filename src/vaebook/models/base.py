"""What the autoencoder and the VAE share: an encoder, a decoder, and saving both."""

from __future__ import annotations

import keras
import numpy as np

from .. import checks


def _functional(network, name: str) -> keras.Model:
    """A functional ``keras.Model`` (built from ``keras.Input``), whose shapes are known."""
    if not isinstance(network, keras.Model):
        raise TypeError(f"{name} must be a keras.Model (e.g. from vaebook.models.build_{name}), "
                        f"got {type(network).__name__}")
    if not getattr(network, "inputs", None) or not getattr(network, "outputs", None):
        raise TypeError(f"{name} must be a functional keras.Model built from keras.Input (its "
                        f"input and output shapes must be known), got a {type(network).__name__} "
                        "without inputs/outputs")
    return network



def run_batched(network, x, batch_size: int = 256) -> list[np.ndarray]:
    """Run ``network`` eagerly on x in batches of ``batch_size``; its output(s), as a list of
    NumPy arrays (one per output of the network), concatenated over the batches.

    Eager calls, not ``predict``: ``predict`` compiles a function per model, and notebooks
    that loop over many models then print TensorFlow's retracing warnings. Every model of the
    library (autoencoders, VAEs, the GAN, the classifier) runs its networks on NumPy input this way.
    """
    batch_size = checks.positive_int(batch_size, "batch_size")
    outputs = None
    for start in range(0, len(x), batch_size):
        result = network(x[start:start + batch_size], training=False)
        result = result if isinstance(result, (list, tuple)) else [result]
        if outputs is None:
            outputs = [[] for _ in result]
        for collected, value in zip(outputs, result):
            collected.append(keras.ops.convert_to_numpy(value))
    return [np.concatenate(parts) for parts in outputs]

class EncoderDecoder(keras.Model):
    """A ``keras.Model`` made of two sub-models, ``encoder`` and ``decoder``.

    ``get_config``/``from_config`` serialise both networks, so ``model.save("m.keras")`` and
    ``keras.saving.load_model`` round-trip the whole model.

    The two networks are checked when the model is made: the encoder must have
    ``ENCODER_OUTPUTS`` outputs of ``latent_dim`` columns, the decoder must take codes of that
    size and return logits of the encoder's input shape. Images given to the model's methods are
    checked against the encoder's input shape (:attr:`image_shape`), so a model of 32 x 32 images
    takes 32 x 32 images.
    """

    ENCODER_OUTPUTS = 1
    ENCODER_HINT = "a deterministic encoder returning z (use build_encoder(..., variational=False))"

    def __init__(self, encoder: keras.Model, decoder: keras.Model, **kwargs):
        self._check_networks(_functional(encoder, "encoder"), _functional(decoder, "decoder"))
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

    @classmethod
    def _check_networks(cls, encoder, decoder):
        outputs = encoder.outputs
        if len(outputs) != cls.ENCODER_OUTPUTS:
            raise ValueError(f"encoder must be {cls.ENCODER_HINT}; got one with {len(outputs)} "
                             f"output(s)")
        code_sizes = sorted({output.shape[-1] for output in outputs})
        decoder_size = decoder.inputs[0].shape[-1]
        if code_sizes != [decoder_size]:
            raise ValueError(
                "decoder must take codes of the size the encoder gives: the encoder outputs "
                f"{' and '.join(map(str, code_sizes))}-dimensional codes, the decoder takes "
                f"{decoder_size}-dimensional ones"
            )
        image_shape = tuple(encoder.inputs[0].shape[1:])
        logits_shape = tuple(decoder.outputs[0].shape[1:])
        if image_shape != logits_shape:
            raise ValueError(f"decoder must return logits of the encoder's input shape "
                             f"{image_shape}, got {logits_shape}")

    @property
    def latent_dim(self) -> int:
        return int(self.decoder.inputs[0].shape[-1])

    @property
    def image_shape(self) -> tuple[int, ...]:
        """(height, width, channels) of the images the encoder takes."""
        return tuple(int(d) for d in self.encoder.inputs[0].shape[1:])

    def decode(self, z) -> np.ndarray:
        """Pixel probabilities sigmoid(decoder(z)) of codes z (N, latent_dim): (N, *image_shape)."""
        z = checks.codes(z, "z", latent_dim=self.latent_dim)
        return keras.ops.convert_to_numpy(keras.ops.sigmoid(self.decoder(z, training=False)))

    def _checked(self, x, binary: bool = False):
        """Images x checked against this model's input shape, as float32."""
        return checks.images(x, "x", image_shape=self.image_shape, binary=binary)

    def _check_call_input(self, x):
        """In ``call``: check the images when their values are known (eager calls); a symbolic
        tensor (inside ``fit``'s compiled step) is left alone, the entry points checked it."""
        values = checks.known_values(x)
        if values is not None:
            checks.images(values, "x", image_shape=self.image_shape)

    @staticmethod
    def _batched(network, x, batch_size: int = 256) -> list[np.ndarray]:
        return run_batched(network, x, batch_size)

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
