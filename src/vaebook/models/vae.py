r"""The variational autoencoder, one class for every chapter.

A VAE is an encoder q(z | x) = N(z_mean, diag(exp(z_log_var))), a decoder p(x | z) = Bernoulli(
sigmoid(logits)) and a prior p(z) = N(0, I). It is trained by maximising the ELBO

.. math::
    \mathcal L_\beta(x) = \mathbb E_{q(z\mid x)}[\log p(x\mid z)] - \beta\,\mathrm{KL}(q(z\mid x)\,\|\,p(z))

(β = 1 is the ordinary VAE; other β give the β-VAE of Chapter 3). The architecture comes from the
encoder and decoder passed in, so the convolutional VAE is ``VAE(build_encoder(16, "conv"), ...)``,
not another class.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from .. import checks, losses
from .base import EncoderDecoder


class Posterior(NamedTuple):
    """q(z | x) = N(mean, diag(exp(log_var))) for N images: ``mean`` and ``log_var`` are (N, J)."""

    mean: np.ndarray
    log_var: np.ndarray


@keras.saving.register_keras_serializable(package="vaebook")
class Sampling(layers.Layer):
    r"""The reparameterisation trick: z = z_mean + exp(z_log_var / 2) * epsilon, epsilon ~ N(0, I).

    exp(z_log_var / 2) is the standard deviation sigma (exp(z_log_var) would be the variance).
    Writing z as a deterministic function of (z_mean, z_log_var) and parameter-free noise lets
    gradients flow through the sample into the encoder.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        seed = checks.seed(seed, allow_none=True)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="vaebook")
class VAE(EncoderDecoder):
    """``VAE(encoder, decoder, beta=1.0)``.

    Args:
        encoder: maps images (batch, 28, 28, 1) (or any other image shape) to
            ``[z_mean, z_log_var]``, each (batch, latent_dim).
        decoder: maps (batch, latent_dim) to logits of the encoder's input shape.
        beta: weight of the KL term in the training loss (β-VAE), a number >= 0; the reported
            ``elbo`` is always the true bound (β = 1), so models trained with different β stay
            comparable.
        seed: seed of the sampling noise (an int >= 0, or None).

    A mismatched pair (an encoder of 2-dimensional codes with a decoder of 16-dimensional ones,
    a deterministic encoder) is refused here, not deep inside ``fit``.

    ``fit`` reports, averaged over the batch and in nats per image: ``loss`` (-L_β), ``elbo``,
    ``reconstruction`` (-E_q log p(x|z)) and ``kl``; the same with ``val_`` on validation data.
    """

    ENCODER_OUTPUTS = 2
    ENCODER_HINT = ("a variational encoder returning [z_mean, z_log_var] (a VAE needs one: use "
                    "build_encoder(..., variational=True))")

    def __init__(self, encoder, decoder, beta=1.0, seed=None, **kwargs):
        beta = checks.real(beta, "beta", minimum=0.0)
        seed = checks.seed(seed, allow_none=True)
        super().__init__(encoder, decoder, **kwargs)
        self.beta = beta
        self.seed = seed
        self.sampling = Sampling(seed=seed, name="sampling")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.elbo_tracker = keras.metrics.Mean(name="elbo")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of every epoch.
        return [self.loss_tracker, self.elbo_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, x, training=False):
        """Logits of the decoder for one sample z ~ q(z | x): (batch, 28, 28, 1)."""
        self._check_call_input(x)
        z_mean, z_log_var = self.encoder(x, training=training)
        return self.decoder(self.sampling([z_mean, z_log_var]), training=training)

    def compute_terms(self, x, training=False):
        """Per-example terms of the objective, each (batch,), in nats."""
        z_mean, z_log_var = self.encoder(x, training=training)
        z = self.sampling([z_mean, z_log_var])  # a sample, never the mean, during training
        logits = self.decoder(z, training=training)
        log_likelihood = losses.bernoulli_log_likelihood(x, logits)
        kl = losses.kl_divergence_standard_normal(z_mean, z_log_var)
        return {
            "reconstruction": -log_likelihood,
            "kl": kl,
            "elbo": log_likelihood - kl,
            "loss": -log_likelihood + self.beta * kl,
        }

    def _update_trackers(self, terms):
        # The batch mean happens here, once, for every reported number.
        self.loss_tracker.update_state(terms["loss"])
        self.elbo_tracker.update_state(terms["elbo"])
        self.reconstruction_tracker.update_state(terms["reconstruction"])
        self.kl_tracker.update_state(terms["kl"])
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            terms = self.compute_terms(x, training=True)
            loss = ops.mean(terms["loss"])
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._update_trackers(terms)

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._update_trackers(self.compute_terms(x, training=False))

    # Convenience methods for notebooks: NumPy in, NumPy out, batched, inputs validated.

    def posterior(self, x, batch_size: int = 256) -> Posterior:
        """Parameters of q(z | x) for images x (N, 28, 28, 1) in [0, 1]:
        ``Posterior(mean, log_var)``."""
        mean, log_var = self._batched(self.encoder, self._checked(x), batch_size)
        return Posterior(mean, log_var)

    def encode(self, x, batch_size: int = 256) -> np.ndarray:
        """Posterior means of images x (N, 28, 28, 1): (N, latent_dim), like ``Autoencoder.encode``.

        The VAE's code is a distribution; :meth:`posterior` gives its mean and log variance.
        """
        return self.posterior(x, batch_size).mean

    def reconstruct(self, x, batch_size: int = 256) -> np.ndarray:
        """Pixel probabilities of the decoded posterior mean: (N, 28, 28, 1)."""
        return self.decode(self.encode(x, batch_size))

    def sample(self, num_samples: int, seed: int = 0):
        """Pixel probabilities of decoded prior samples z ~ N(0, I): (num_samples, 28, 28, 1)."""
        num_samples = checks.positive_int(num_samples, "num_samples")
        seed = checks.seed(seed)
        z = np.random.default_rng(seed).standard_normal((num_samples, self.latent_dim))
        return self.decode(z.astype(np.float32))

    def evaluate_terms(self, x, batch_size=256):
        """Test-set averages of elbo, reconstruction and kl (nats per image), one sample each.

        ``x``: binary images (the terms are Bernoulli log-likelihoods).
        """
        x = self._checked(x, binary=True)
        batch_size = checks.positive_int(batch_size, "batch_size")
        results = self.evaluate(x, batch_size=batch_size, verbose=0, return_dict=True)
        return {name: float(value) for name, value in results.items()}

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed}
