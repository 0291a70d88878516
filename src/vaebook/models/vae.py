r"""The variational autoencoder, one class for every chapter.

A VAE is an encoder q(z | x) = N(z_mean, diag(exp(z_log_var))), a decoder p(x | z) = Bernoulli(
sigmoid(logits)) and a prior p(z) = N(0, I). It is trained by maximising the ELBO

.. math::
    \mathcal L_\beta(x) = \mathbb E_{q(z\mid x)}[\log p(x\mid z)] - \beta\,\mathrm{KL}(q(z\mid x)\,\|\,p(z))

(β = 1 is the ordinary VAE; other β give the β-VAE of Chapter 3). Chapter 3's other objective,
the capacity-controlled one of Burgess et al. (2018), is an option of the same class
(``capacity=``): it minimises reconstruction + γ |KL - C| with C raised from 0 to C_max during
training. The architecture comes from the encoder and decoder passed in, so the convolutional VAE
is ``VAE(build_encoder(16, "conv"), ...)``, not another class. :class:`VAEConfig` holds every
setting of a VAE and builds it: the model cache stores it beside the weights.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from .. import checks, losses
from ..data import IMAGE_SHAPE
from .base import EncoderDecoder
from .builders import _check as _check_network
from .builders import build_decoder, build_encoder, check_widths

DEFAULT_GAMMA = 1000.0  # Burgess et al. (2018) use gamma = 1000 on dSprites


def _check_objective(beta, capacity, capacity_steps, gamma):
    """Validate the settings of the training objective; ``ValueError`` saying what was expected."""
    def finite_non_negative(name, value):
        if (isinstance(value, bool) or not isinstance(value, (int, float, np.number))
                or not math.isfinite(value) or value < 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        return float(value)

    beta = finite_non_negative("beta", beta)
    gamma = finite_non_negative("gamma", gamma)
    capacity_steps = checks.positive_int(capacity_steps, "capacity_steps")
    if capacity is not None:
        capacity = finite_non_negative("capacity (C_max, nats)", capacity)
        if beta != 1.0:
            raise ValueError(
                f"capacity={capacity} replaces the beta-weighted KL by gamma * |KL - C|: leave "
                f"beta at 1.0 (got {beta}) and set gamma instead"
            )
    return beta, capacity, int(capacity_steps), gamma


def capacity_schedule(step, capacity: float, capacity_steps: int):
    """The target KL of the capacity objective after ``step`` training steps, in nats:

        C(step) = C_max * min(1, step / capacity_steps)

    raised linearly from 0 at the first step to C_max = ``capacity`` after ``capacity_steps``
    steps, and held there. ``step`` may be a number or a tensor (the optimizer's step counter).
    """
    capacity_steps = checks.positive_int(capacity_steps, "capacity_steps")  # 0 would give NaN
    fraction = ops.minimum(1.0, ops.cast(step, "float32") / float(capacity_steps))
    return float(capacity) * fraction


def _replicas_in_sync() -> int:
    """Number of replicas training in sync now: 1 outside a ``tf.distribute`` replica context
    (one device, or a model called outside ``fit``), N inside a step run on N replicas."""
    context = tf.distribute.get_replica_context()
    return 1 if context is None else int(context.num_replicas_in_sync)


def _global_batch_mean(values):
    """The mean of per-image ``values`` (batch,) over the global batch, for the gradient.

    On one device: ``mean(values)``. Data-parallel (tf.distribute), each of the N replicas holds
    its share of the batch and the optimizer SUMS the replicas' gradients (an all-reduce), so each
    replica returns sum(its values) / (images in the whole batch): the summed gradient is then
    the gradient of the global mean, what one device computes on the same batch. (A replica's
    own mean divided by N would be the same for equal shares, but wrong for the uneven shares of a
    last, partial batch, and NaN for a replica given no image at all.)
    """
    if _replicas_in_sync() == 1:
        return ops.mean(values)
    count = ops.cast(ops.shape(values)[0], values.dtype)
    total = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, count)
    return ops.sum(values) / ops.maximum(total, 1.0)


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
        replicas = _replicas_in_sync()
        if replicas == 1:
            epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        else:
            # Under a tf.distribute strategy the generator's state is mirrored: every replica
            # holds the same state and would draw the same noise for its share of the global
            # batch (N replicas, only batch/N distinct draws). Folding the replica's index into
            # the seed gives each share its own noise, still reproducible from ``seed``.
            context = tf.distribute.get_replica_context()
            seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1),
                           tf.int32)
            seed = tf.random.experimental.stateless_fold_in(
                seed, context.replica_id_in_sync_group)
            epsilon = tf.random.stateless_normal(tf.shape(z_mean), seed=seed,
                                                 dtype=z_mean.dtype)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="vaebook")
class VAE(EncoderDecoder):
    """``VAE(encoder, decoder, beta=1.0)``, or with ``capacity=C_max`` the capacity objective.

    Args:
        encoder: maps images (batch, 28, 28, 1) (or any other image shape) to
            ``[z_mean, z_log_var]``, each (batch, latent_dim).
        decoder: maps (batch, latent_dim) to logits of the encoder's input shape.
        beta: weight of the KL term in the training loss (β-VAE), a number >= 0; the reported
            ``elbo`` is always the true bound (β = 1), so models trained with different β stay
            comparable.
        seed: seed of the sampling noise (an int >= 0, or None).
        capacity: None (the β objective), or C_max in nats for the capacity-controlled objective
            of Burgess et al. (2018), which replaces β:

                loss = -E_q log p(x|z) + gamma * |KL(q(z|x) || p(z)) - C|,
                C = C_max * min(1, step / capacity_steps)

            (:func:`capacity_schedule`; ``step`` is the optimizer's count of training steps, so the
            schedule goes on where it stopped when a saved model trains further). |KL - C| is taken
            per image, as the paper writes it, so every image is held to C nats. (Some code, e.g.
            disentanglement_lib, takes it of the batch-mean KL instead; in the runs behind
            benchmarks/beta_vae_mig.py that version spread C over more latent dimensions early
            in training and ended with a lower MIG on the shapes data.)
        capacity_steps: training steps over which C rises from 0 to C_max (>= 1).
        gamma: weight of |KL - C| (>= 0); large, so the KL tracks C.

    A mismatched pair (an encoder of 2-dimensional codes with a decoder of 16-dimensional ones,
    a deterministic encoder) is refused here, not deep inside ``fit``.

    ``fit`` reports, averaged over the batch and in nats per image: ``loss`` (the objective
    minimised: -L_β, or the capacity loss), ``elbo``, ``reconstruction`` (-E_q log p(x|z)) and
    ``kl``; the same with ``val_`` on validation data.
    """

    ENCODER_OUTPUTS = 2
    ENCODER_HINT = ("a variational encoder returning [z_mean, z_log_var] (a VAE needs one: use "
                    "build_encoder(..., variational=True))")

    def __init__(self, encoder, decoder, beta=1.0, seed=None, capacity=None, capacity_steps=1,
                 gamma=DEFAULT_GAMMA, **kwargs):
        beta = checks.real(beta, "beta", minimum=0.0)
        seed = checks.seed(seed, allow_none=True)
        beta, capacity, capacity_steps, gamma = _check_objective(beta, capacity, capacity_steps,
                                                                 gamma)
        super().__init__(encoder, decoder, **kwargs)
        self.beta = beta
        self.capacity, self.capacity_steps, self.gamma = capacity, capacity_steps, gamma
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
        """Logits of the decoder for one sample z ~ q(z | x): (batch, *image_shape)."""
        self._check_call_input(x)
        z_mean, z_log_var = self.encoder(x, training=training)
        return self.decoder(self.sampling([z_mean, z_log_var]), training=training)

    def current_capacity(self):
        """C now, in nats: :func:`capacity_schedule` at the optimizer's step count (C_max for a
        model that has no optimizer yet); None for the β objective."""
        if self.capacity is None:
            return None
        if getattr(self, "optimizer", None) is None:
            return self.capacity
        return capacity_schedule(self.optimizer.iterations, self.capacity, self.capacity_steps)

    def compute_terms(self, x, training=False):
        """Per-example terms of the objective, each (batch,), in nats."""
        z_mean, z_log_var = self.encoder(x, training=training)
        z = self.sampling([z_mean, z_log_var])  # a sample, never the mean, during training
        logits = self.decoder(z, training=training)
        log_likelihood = losses.bernoulli_log_likelihood(x, logits)
        kl = losses.kl_divergence_standard_normal(z_mean, z_log_var)
        if self.capacity is None:
            loss = -log_likelihood + self.beta * kl
        else:
            loss = -log_likelihood + self.gamma * ops.abs(kl - self.current_capacity())
        return {
            "reconstruction": -log_likelihood,
            "kl": kl,
            "elbo": log_likelihood - kl,
            "loss": loss,
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
            loss = _global_batch_mean(terms["loss"])
            # Mixed precision: a LossScaleOptimizer scales here and unscales the gradients
            # (the identity for every other optimizer).
            scaled_loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._update_trackers(terms)

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._update_trackers(self.compute_terms(x, training=False))

    # Convenience methods for notebooks: NumPy in, NumPy out, batched, inputs validated.

    def posterior(self, x, batch_size: int = 256) -> Posterior:
        """Parameters of q(z | x) for images x (N, *image_shape) in [0, 1]:
        ``Posterior(mean, log_var)``."""
        mean, log_var = self._batched(self.encoder, self._checked(x), batch_size)
        return Posterior(mean, log_var)

    def encode(self, x, batch_size: int = 256) -> np.ndarray:
        """Posterior means of images x (N, *image_shape): (N, J), as ``Autoencoder.encode``.

        The VAE's code is a distribution; :meth:`posterior` gives its mean and log variance.
        """
        return self.posterior(x, batch_size).mean

    def reconstruct(self, x, batch_size: int = 256) -> np.ndarray:
        """Pixel probabilities of the decoded posterior mean: (N, *image_shape)."""
        return self.decode(self.encode(x, batch_size))

    def sample(self, num_samples: int, seed: int = 0):
        """Pixel probabilities of decoded prior samples z ~ N(0, I): (num_samples, *image_shape)."""
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
        return {**super().get_config(), "beta": self.beta, "seed": self.seed,
                "capacity": self.capacity, "capacity_steps": self.capacity_steps,
                "gamma": self.gamma}


def check_model_class(model_class) -> type[VAE]:
    """``model_class`` checked: :class:`VAE` or a subclass of it (``TypeError`` otherwise);
    None means VAE."""
    if model_class is None:
        return VAE
    if not (isinstance(model_class, type) and issubclass(model_class, VAE)):
        raise TypeError(f"model_class must be vaebook.models.VAE or a subclass of it (the class, "
                        f"not an instance), got {checks.describe(model_class)}")
    return model_class


@dataclass(frozen=True)
class VAEConfig:
    """Every setting of a VAE, in one typed record that builds it (``config.build()``).

    The model cache (:func:`vaebook.zoo.trained_model`) stores ``as_dict()`` beside the weights,
    so ``VAEConfig.from_dict(...).build()`` rebuilds the network the weights belong to.
    """

    latent_dim: int = 16  # J, the size of the code z
    kind: str = "dense"  # architecture of encoder and decoder: "dense" or "conv"
    beta: float = 1.0  # weight of the KL (1: the ordinary VAE; > 1: the beta-VAE)
    capacity: float | None = None  # C_max, nats: the capacity objective instead of beta; None: off
    capacity_steps: int = 1  # training steps over which C rises linearly from 0 to C_max
    gamma: float = DEFAULT_GAMMA  # weight of |KL - C| in the capacity objective
    image_shape: tuple[int, int, int] | None = None  # (height, width, channels); None: MNIST's
    seed: int = 0  # seed of the sampling noise (the zoo also seeds the initial weights with it)
    # the encoder's two hidden widths (dense units or conv filters; the decoder mirrors them);
    # None: the architecture's (512, 256) or (32, 64). benchmarks/validation_search.py chose them
    widths: tuple[int, int] | None = None

    def __post_init__(self):
        # Fail when the config is written, not when a model is built from it minutes later.
        # Checked, and stored as plain Python numbers (NumPy's are accepted), so as_dict() is JSON.
        beta, capacity, capacity_steps, gamma = _check_objective(
            self.beta, self.capacity, self.capacity_steps, self.gamma)
        if self.image_shape is not None:
            object.__setattr__(self, "image_shape", checks.image_shape(self.image_shape))
        _, latent_dim, _ = _check_network(self.kind, self.latent_dim, self.resolved_image_shape)
        if self.widths is not None:
            object.__setattr__(self, "widths", check_widths(self.widths, self.kind))
        seed = int(self.seed) if isinstance(self.seed, np.integer) else self.seed
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")
        for field, value in (("beta", beta), ("capacity", capacity), ("gamma", gamma),
                             ("capacity_steps", capacity_steps), ("latent_dim", latent_dim),
                             ("seed", seed)):
            object.__setattr__(self, field, value)

    @property
    def resolved_image_shape(self) -> tuple[int, int, int]:
        """``image_shape``, or MNIST's (28, 28, 1) when it is None."""
        return IMAGE_SHAPE if self.image_shape is None else self.image_shape

    def build(self, model_class: type[VAE] | None = None) -> VAE:
        """A new, untrained VAE with these settings (weights drawn from Keras' global seed).

        ``model_class``: a subclass of :class:`VAE` to build instead, from the same networks and
        arguments (a variant written in a notebook, such as Chapter 7's bugs); None means VAE.
        """
        model_class = check_model_class(model_class)
        shape = self.resolved_image_shape
        return model_class(build_encoder(self.latent_dim, self.kind, image_shape=shape,
                                         widths=self.widths),
                           build_decoder(self.latent_dim, self.kind, image_shape=shape,
                                         widths=self.widths),
                           beta=self.beta, seed=self.seed, capacity=self.capacity,
                           capacity_steps=self.capacity_steps, gamma=self.gamma)

    def as_dict(self) -> dict:
        """JSON-ready settings (the image shape as a list)."""
        values = asdict(self)
        values["image_shape"] = list(self.resolved_image_shape)
        if self.widths is None:  # the record of a default-width VAE is what it always was
            del values["widths"]
        else:
            values["widths"] = list(self.widths)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "VAEConfig":
        """The inverse of :meth:`as_dict`; unknown keys raise ``TypeError`` naming them."""
        return cls(**values)
