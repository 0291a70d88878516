r"""The generative adversarial network of Chapter 5: a DCGAN for 28 x 28 images.

A generator G maps noise z ~ N(0, I) to images; a discriminator D maps an image to a logit
l(x), with D(x) = sigmoid(l(x)) the probability that x is real. The two play the minimax game of
Goodfellow et al. (2014),

.. math::
    \min_G \max_D\; \mathbb E_{x \sim p_\text{data}}[\log D(x)]
        + \mathbb E_{z \sim p(z)}[\log(1 - D(G(z)))].

D maximises it: its loss is the binary cross-entropy of real images labelled 1 and generated
ones labelled 0. Early in training D rejects G's samples easily, D(G(z)) ~ 0, where
log(1 - D(G(z))) is flat and gives G almost no gradient; so G minimises the *non-saturating*
loss -log D(G(z)) instead, which has the same fixed point and strong gradients exactly there.
With logits, -log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l).

The networks follow Radford et al. (2016, "DCGAN"): no pooling (strided convolutions down in D,
transposed convolutions up in G), batch norm in G, ReLU in G and leaky ReLU (slope 0.2) in D,
and Adam with learning rate 2e-4 and beta_1 = 0.5. G ends in a sigmoid, so samples are pixel
grey levels in [0, 1] like the data (DCGAN's tanh would give [-1, 1]).

:class:`GANConfig` holds every setting and builds the model; the model cache stores it beside
the weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from .. import checks
from .base import run_batched
from ..data import IMAGE_SHAPE

GAN_LEARNING_RATE = 2e-4  # Radford et al. (2016): 1e-3 was too high for them
GAN_BETA_1 = 0.5  # Radford et al. (2016): Adam's default 0.9 made training oscillate
LEAKY_SLOPE = 0.2  # slope of the leaky ReLU for x < 0 in D (Radford et al., 2016)
DEFAULT_GENERATOR_FILTERS = (64, 32)  # channels after each of the two upsampling steps
DEFAULT_DISCRIMINATOR_FILTERS = (32, 64)  # channels after each of the two downsampling steps
# GANConfig's defaults: what benchmarks/gan_settings.py found best for a few thousand training
# steps (2 CPU cores, a few thousand digits): half DCGAN's channels and 15 times its learning rate
# reach an FID in 10 epochs that DCGAN's rate does not reach in 30 (benchmarks/gan_settings.md).
CONFIG_GENERATOR_FILTERS = (32, 16)
CONFIG_DISCRIMINATOR_FILTERS = (16, 32)
CONFIG_LEARNING_RATE = 3e-3
_UPSAMPLING = 4  # two stride-2 steps: 7 x 7 -> 14 x 14 -> 28 x 28


def _check_filters(filters, name: str) -> tuple[int, int]:
    if not isinstance(filters, (tuple, list)) or len(filters) != 2:
        raise ValueError(f"{name} must be two positive ints (channels of the two stride-2 "
                         f"layers), got {filters!r}")
    return tuple(checks.positive_int(f, f"{name}[{i}]") for i, f in enumerate(filters))


def _check_image_shape(image_shape) -> tuple[int, int, int]:
    shape = checks.image_shape(image_shape)
    if shape[0] % _UPSAMPLING or shape[1] % _UPSAMPLING:
        raise ValueError(f"the DCGAN needs a height and width divisible by {_UPSAMPLING} (two "
                         f"stride-2 layers), got image_shape {shape}")
    return shape


def build_generator(latent_dim: int = 64, filters=DEFAULT_GENERATOR_FILTERS,
                    image_shape=IMAGE_SHAPE) -> keras.Model:
    """Generator network: noise (batch, latent_dim) -> images (batch, *image_shape) in [0, 1].

    Dense to a (7, 7, 2 * filters[0]) block, then two stride-2 transposed convolutions (4 x 4
    kernels, which divide evenly by the stride and so avoid checkerboard artefacts), batch norm and
    ReLU after every layer but the last, a sigmoid at the end.
    """
    latent_dim = checks.positive_int(latent_dim, "latent_dim")
    filters = _check_filters(filters, "filters")
    height, width, channels = _check_image_shape(image_shape)
    small = (height // _UPSAMPLING, width // _UPSAMPLING, 2 * filters[0])  # (7, 7, 128) default
    z = keras.Input(shape=(latent_dim,), name="z")
    # No bias before batch norm: its mean subtraction would cancel it.
    hidden = layers.Dense(small[0] * small[1] * small[2], use_bias=False)(z)
    hidden = layers.ReLU()(layers.BatchNormalization()(hidden))
    hidden = layers.Reshape(small)(hidden)  # (batch, 7, 7, 128)
    for units in filters:  # (batch, 14, 14, 64), then (batch, 28, 28, 32)
        hidden = layers.Conv2DTranspose(units, 4, strides=2, padding="same", use_bias=False)(hidden)
        hidden = layers.ReLU()(layers.BatchNormalization()(hidden))
    images = layers.Conv2D(channels, 3, padding="same", activation="sigmoid",
                           name="images")(hidden)  # (batch, 28, 28, 1) in [0, 1]
    return keras.Model(z, images, name="generator")


def build_discriminator(filters=DEFAULT_DISCRIMINATOR_FILTERS,
                        image_shape=IMAGE_SHAPE) -> keras.Model:
    """Discriminator network: images (batch, *image_shape) in [0, 1] -> logits (batch, 1).

    Two stride-2 convolutions (4 x 4 kernels) with leaky ReLU, then one dense logit. No batch
    norm: D sees a batch of real images and a batch of generated ones separately, and batch
    statistics computed on each would let it tell them apart by their batch means alone
    (the keras.io DCGAN leaves it out of D too).
    """
    filters = _check_filters(filters, "filters")
    image_shape = _check_image_shape(image_shape)
    images = keras.Input(shape=image_shape, name="images")
    hidden = images
    for units in filters:  # (batch, 14, 14, 32), then (batch, 7, 7, 64)
        hidden = layers.Conv2D(units, 4, strides=2, padding="same")(hidden)
        hidden = layers.LeakyReLU(negative_slope=LEAKY_SLOPE)(hidden)
    hidden = layers.Flatten()(hidden)  # (batch, 3136)
    logits = layers.Dense(1, name="logits")(hidden)
    return keras.Model(images, logits, name="discriminator")


def discriminator_loss(real_logits, fake_logits):
    """-log D(x) - log(1 - D(G(z))) per pair, (batch,), in nats:
    softplus(-l(x)) + softplus(l(G(z))), the cross-entropy of real = 1 and fake = 0."""
    return ops.softplus(-real_logits[:, 0]) + ops.softplus(fake_logits[:, 0])


def generator_loss(fake_logits):
    """The non-saturating generator loss -log D(G(z)) = softplus(-l(G(z))), (batch,), in nats."""
    return ops.softplus(-fake_logits[:, 0])


@keras.saving.register_keras_serializable(package="vaebook")
class GAN(keras.Model):
    """``GAN(generator, discriminator, seed=0)``: trained with ``fit`` on images alone.

    Args:
        generator: maps noise (batch, latent_dim) to images (batch, *image_shape) in [0, 1]
            (:func:`build_generator`).
        discriminator: maps images (batch, *image_shape) to logits (batch, 1)
            (:func:`build_discriminator`).
        seed: seed of the training noise z (an int >= 0, or None).

    Compile with :meth:`compile` (two Adam optimizers, one per network). Each training step
    updates D once on a batch of real and a batch of generated images, then G once on fresh
    noise. ``fit`` reports, as means over the epoch: ``d_loss`` (nats per pair of images),
    ``g_loss`` (nats per image), ``d_accuracy_real`` and ``d_accuracy_fake`` (fractions of real
    images D calls real, generated images D calls generated: both near 1 means D wins, near 0.5
    that it cannot tell); the same with ``val_`` on validation images.
    """

    def __init__(self, generator, discriminator, seed=0, **kwargs):
        for network, name in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(network, keras.Model) or not getattr(network, "inputs", None):
                raise TypeError(f"{name} must be a functional keras.Model (from "
                                f"vaebook.models.build_{name}), got {type(network).__name__}")
        seed = checks.seed(seed, allow_none=True)
        made, taken = tuple(generator.outputs[0].shape[1:]), tuple(discriminator.inputs[0].shape[1:])
        if made != taken:
            raise ValueError(f"the generator must make the images the discriminator takes: it "
                             f"makes {made}, the discriminator takes {taken}")
        if tuple(discriminator.outputs[0].shape[1:]) != (1,):
            raise ValueError(f"the discriminator must return one logit per image, shape "
                             f"(batch, 1), got (batch, {discriminator.outputs[0].shape[1:]})")
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.seed = generator, discriminator, seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_accuracy = keras.metrics.Mean(name="d_accuracy_real")
        self.fake_accuracy = keras.metrics.Mean(name="d_accuracy_fake")
        self.d_optimizer = self.g_optimizer = None
        self.built = True  # both networks are functional models, built when made

    @property
    def latent_dim(self) -> int:
        return int(self.generator.inputs[0].shape[-1])

    @property
    def image_shape(self) -> tuple[int, ...]:
        """(height, width, channels) of the images G makes and D takes."""
        return tuple(int(d) for d in self.discriminator.inputs[0].shape[1:])

    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of every epoch.
        return [self.d_loss_tracker, self.g_loss_tracker, self.real_accuracy, self.fake_accuracy]

    def compile(self, d_optimizer=None, g_optimizer=None, steps_per_execution=1, **kwargs):
        """Give each network its own optimizer (default: Adam(2e-4, beta_1=0.5) each, as in DCGAN).

        Both optimizers are built here, so saved weights (with their optimizer state) load into a
        freshly compiled model and training goes on where it stopped.
        """
        if kwargs:
            raise TypeError(f"GAN.compile takes d_optimizer, g_optimizer and "
                            f"steps_per_execution, got {sorted(kwargs)}")
        steps_per_execution = checks.positive_int(steps_per_execution, "steps_per_execution")
        optimizers = []
        for optimizer, name in ((d_optimizer, "d_optimizer"), (g_optimizer, "g_optimizer")):
            if optimizer is None:
                optimizer = keras.optimizers.Adam(GAN_LEARNING_RATE, beta_1=GAN_BETA_1)
            optimizers.append(checks.instance(optimizer, name, keras.optimizers.Optimizer,
                                              "a keras.optimizers.Optimizer or None"))
        # Keras' own optimizer slot stays empty: the two below do the work, and an unused third
        # optimizer would only add variables to the saved file.
        super().compile(optimizer=None, steps_per_execution=steps_per_execution)
        self.d_optimizer, self.g_optimizer = optimizers
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        # Keras would rebuild the optimizer from this when loading a .keras file and call
        # compile(optimizer=...), which a GAN does not take: a loaded GAN is compiled again by
        # the caller (GANConfig.build, or training.compile_model).
        return None

    def call(self, z, training=False):
        """Images G(z) (batch, *image_shape) in [0, 1] for noise z (batch, latent_dim)."""
        values = checks.known_values(z)
        if values is not None:
            checks.codes(values, "z", latent_dim=self.latent_dim)
        return self.generator(z, training=training)

    def _noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def _update(self, d_loss, g_loss, real_logits, fake_logits):
        # The batch means happen here, once, for every reported number.
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.real_accuracy.update_state(ops.cast(real_logits[:, 0] > 0, "float32"))
        self.fake_accuracy.update_state(ops.cast(fake_logits[:, 0] < 0, "float32"))
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        batch_size = ops.shape(real)[0]
        # 1. D: one step on real images (label 1) and generated ones (label 0). G runs in
        # training mode (its batch norm uses the batch statistics, as in G's own step).
        fake = self.generator(self._noise(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)  # (batch,)
            mean_d_loss = ops.mean(d_loss)
        weights = self.discriminator.trainable_weights
        self.d_optimizer.apply_gradients(zip(tape.gradient(mean_d_loss, weights), weights))
        # 2. G: one step on fresh noise, through the updated D; only G's weights move.
        with tf.GradientTape() as tape:
            new_fake_logits = self.discriminator(
                self.generator(self._noise(batch_size), training=True), training=True)
            g_loss = generator_loss(new_fake_logits)  # (batch,)
            mean_g_loss = ops.mean(g_loss)
        weights = self.generator.trainable_weights
        self.g_optimizer.apply_gradients(zip(tape.gradient(mean_g_loss, weights), weights))
        # D's accuracy is that of the step it just took, on the images it was trained with.
        return self._update(d_loss, g_loss, real_logits, fake_logits)

    def test_step(self, data):
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        fake = self.generator(self._noise(ops.shape(real)[0]), training=False)
        real_logits = self.discriminator(real, training=False)
        fake_logits = self.discriminator(fake, training=False)
        return self._update(discriminator_loss(real_logits, fake_logits),
                            generator_loss(fake_logits), real_logits, fake_logits)

    # Convenience methods for notebooks: NumPy in, NumPy out, inputs validated.

    def generate(self, z, batch_size: int = 256) -> np.ndarray:
        """Images G(z) for codes z (N, latent_dim): (N, *image_shape) in [0, 1]."""
        z = checks.codes(z, "z", latent_dim=self.latent_dim)
        (images,) = run_batched(self.generator, z, batch_size)
        return images

    def sample(self, num_samples: int, seed: int = 0) -> np.ndarray:
        """Images of noise z ~ N(0, I) drawn with ``seed``: (num_samples, *image_shape) in [0, 1]
        (the same call as ``VAE.sample``)."""
        num_samples = checks.positive_int(num_samples, "num_samples")
        seed = checks.seed(seed)
        z = np.random.default_rng(seed).standard_normal((num_samples, self.latent_dim))
        return self.generate(z.astype(np.float32))

    def discriminate(self, x, batch_size: int = 256) -> np.ndarray:
        """D(x), the discriminator's probability that each image is real: (N,)."""
        x = checks.images(x, "x", image_shape=self.image_shape)
        (logits,) = run_batched(self.discriminator, x, batch_size)
        return 1.0 / (1.0 + np.exp(-logits[:, 0]))

    def get_config(self):
        return {**super().get_config(),
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


class SampleGrids(keras.callbacks.Callback):
    """Keeps G's images of a fixed noise batch at chosen epochs, to show training progress.

    ``noise``: (n, latent_dim) codes, the same at every epoch, so the grids show the same
    samples changing. ``epochs``: the 1-based epochs after which to keep a grid. After training,
    ``grids`` is a list of (epoch, images (n, *image_shape) in [0, 1]).
    """

    def __init__(self, noise, epochs):
        super().__init__()
        self.noise = checks.codes(noise, "noise")
        if isinstance(epochs, (str, bytes)) or not hasattr(epochs, "__iter__"):
            raise TypeError(f"epochs must be a list of positive ints, got {checks.describe(epochs)}")
        self.epochs = sorted({checks.positive_int(e, "epochs[...]") for e in epochs})
        self.grids: list[tuple[int, np.ndarray]] = []

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.epochs:
            self.grids.append((epoch + 1, self.model.generate(self.noise)))

    def as_history(self) -> dict:
        """The grids as JSON-ready history entries: ``sample_epochs`` (the epochs) and
        ``samples``, grey levels rounded to 0-255 (n_grids, n, height, width, channels), so a
        cached model keeps its training story in a few hundred kB."""
        return {"sample_epochs": [epoch for epoch, _ in self.grids],
                "samples": [np.rint(images * 255).astype(int).tolist()
                            for _, images in self.grids]}


def sample_grids(history: dict) -> list[tuple[int, np.ndarray]]:
    """The sample grids a GAN's training history holds (:meth:`SampleGrids.as_history`):
    a list of (epoch, images (n, height, width, channels) float32 in [0, 1])."""
    history = checks.mapping(history, "history", what="a training history dict")
    if "samples" not in history or "sample_epochs" not in history:
        raise ValueError(f"history must hold 'sample_epochs' and 'samples' (the history of a GAN "
                         f"trained by vaebook.zoo), got keys {sorted(history)}")
    return [(int(epoch), np.asarray(images, dtype=np.float32) / 255.0)
            for epoch, images in zip(history["sample_epochs"], history["samples"])]


def grid_epochs(epochs: int, count: int = 4) -> list[int]:
    """``count`` epochs spread over a run of ``epochs`` (the first and the last included):
    the stages of training a figure shows."""
    epochs = checks.positive_int(epochs, "epochs")
    count = checks.positive_int(count, "count")
    return sorted({int(round(e)) for e in np.geomspace(1, epochs, count)})


@dataclass(frozen=True)
class GANConfig:
    """Every setting of a GAN, in one typed record that builds it (``config.build()``).

    The model cache (:func:`vaebook.zoo.trained_model`) stores ``as_dict()`` beside the weights,
    so ``GANConfig.from_dict(...).build()`` rebuilds the networks the weights belong to.
    """

    MODEL_TYPE = "gan"  # the zoo's name for this kind of model (a class attribute, not a field)

    latent_dim: int = 64  # size of the noise z ~ N(0, I)
    generator_filters: tuple[int, int] = CONFIG_GENERATOR_FILTERS  # G's channels, 14 then 28 px
    discriminator_filters: tuple[int, int] = CONFIG_DISCRIMINATOR_FILTERS  # D's, 14 then 7 px
    d_learning_rate: float = CONFIG_LEARNING_RATE  # Adam's rate for D (a too-strong D: raise it)
    g_learning_rate: float = CONFIG_LEARNING_RATE  # Adam's rate for G
    beta_1: float = GAN_BETA_1  # Adam's first-moment decay, both optimizers
    image_shape: tuple[int, int, int] | None = None  # (height, width, channels); None: MNIST's
    seed: int = 0  # seed of the training noise (the zoo also seeds the initial weights with it)

    def __post_init__(self):
        # Fail when the config is written, not when a model is built from it minutes later.
        # Checked, and stored as plain Python numbers (NumPy's are accepted), so as_dict() is JSON.
        checked = {
            "latent_dim": checks.positive_int(self.latent_dim, "latent_dim"),
            "generator_filters": _check_filters(self.generator_filters, "generator_filters"),
            "discriminator_filters": _check_filters(self.discriminator_filters,
                                                    "discriminator_filters"),
            "d_learning_rate": checks.learning_rate(self.d_learning_rate, "d_learning_rate"),
            "g_learning_rate": checks.learning_rate(self.g_learning_rate, "g_learning_rate"),
            "beta_1": checks.real(self.beta_1, "beta_1", minimum=0.0, maximum=1.0,
                                  open_above=True),
            "seed": checks.seed(self.seed, maximum=checks.LEGACY_SEED_MAX)}
        if self.image_shape is not None:
            checked["image_shape"] = _check_image_shape(self.image_shape)
        for field, value in checked.items():
            object.__setattr__(self, field, value)

    @property
    def resolved_image_shape(self) -> tuple[int, int, int]:
        """``image_shape``, or MNIST's (28, 28, 1) when it is None."""
        return IMAGE_SHAPE if self.image_shape is None else self.image_shape

    def build(self, steps_per_execution: int = 1) -> GAN:
        """A new, untrained GAN, compiled with its two Adam optimizers (weights drawn from
        Keras' global seed); ``steps_per_execution`` as in :meth:`GAN.compile`."""
        shape = self.resolved_image_shape
        gan = GAN(build_generator(self.latent_dim, self.generator_filters, shape),
                  build_discriminator(self.discriminator_filters, shape), seed=self.seed)
        gan.compile(keras.optimizers.Adam(self.d_learning_rate, beta_1=self.beta_1),
                    keras.optimizers.Adam(self.g_learning_rate, beta_1=self.beta_1),
                    steps_per_execution=steps_per_execution)
        return gan

    def as_dict(self) -> dict:
        """JSON-ready settings (tuples as lists)."""
        values = asdict(self)
        values["image_shape"] = list(self.resolved_image_shape)
        for key in ("generator_filters", "discriminator_filters"):
            values[key] = list(values[key])
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "GANConfig":
        """The inverse of :meth:`as_dict`; unknown keys raise ``TypeError`` naming them."""
        return cls(**values)
