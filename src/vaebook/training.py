"""Training with ``model.fit``: a compact progress display and a divergence guard.

``fit`` is a thin wrapper around ``keras.Model.fit``. It adds what a book needs and Keras leaves
out: input validation, a fresh optimizer per model (never a global one), a few progress lines
instead of one per epoch, the time per epoch, and a hard stop with a clear message when the loss
or the weights stop being finite (so no NaN model is ever cached).
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from . import checks, losses
from .models import GAN, VAE, Classifier
from .models.base import EncoderDecoder
from .models.gan import GAN_BETA_1, GAN_LEARNING_RATE

DEFAULT_LEARNING_RATE = 1e-3
# The dense VAE's learning rate where the book ranks samples (Chapter 6): the rate of lowest
# validation FID in benchmarks/validation_search.md. Where the book ranks likelihoods (Chapters 2
# and 4) the dense VAE keeps DEFAULT_LEARNING_RATE, the rate of best validation ELBO in the same
# search; tests/test_validation_search.py checks both against the search's file.
DENSE_VAE_SAMPLE_LEARNING_RATE = 3e-3
# Chosen by benchmarks/vae_training_speed.py on 2 CPU cores: with batches of 64 and 16 steps per
# compiled call, both the dense and the convolutional VAE reach a given test ELBO in the least
# wall time (larger learning rates were unstable for the dense VAE, larger batches slower to learn).
DEFAULT_BATCH_SIZE = 64
DEFAULT_STEPS_PER_EXECUTION = 16


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or infinite during training."""


def first_non_finite_weight(model: keras.Model) -> str | None:
    """Path of the first weight of ``model`` holding a NaN or infinity, or None if all are finite."""
    checks.model(model)
    for weight in model.weights:
        if not np.all(np.isfinite(keras.ops.convert_to_numpy(weight))):
            return weight.path
    return None


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training by raising :class:`TrainingDiverged` as soon as the loss is not finite.

    A model that logs no ``loss`` (the GAN: ``d_loss`` and ``g_loss``) is stopped as soon as
    any value it logs is not finite.

    With ``steps_per_execution`` > 1, Keras runs several batches in one compiled call and reports
    only the index of the call's last *step*, which can lie past the end of the epoch (step 16 of
    an epoch of 4 batches). The guard names the batches of the epoch that the call really ran
    (``batches 5-6 of 6``): the loss became non-finite in one of them. (The loss Keras logs is the
    running mean of the epoch, so which batch of the call it was is not known; train with
    ``steps_per_execution=1`` to find it.)
    """

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self._first_step = batch

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        watched = ["loss"] if "loss" in logs else sorted(logs)
        name = next((name for name in watched if not math.isfinite(float(logs[name]))), None)
        if name is not None:
            raise TrainingDiverged(
                f"training diverged: {name} is {float(logs[name])} at epoch {self._epoch + 1}, "
                f"{self._batches_text(getattr(self, '_first_step', batch), batch)}; lower the "
                "learning rate or check the inputs"
            )

    def _batches_text(self, first_step: int, last_step: int) -> str:
        """'batch 3 of 8', or 'batches 5-6 of 6' for a compiled call of several steps."""
        total = (self.params or {}).get("steps")
        first, last = first_step + 1, last_step + 1
        if total:
            last = min(last, total)
        of = f" of {total}" if total else ""
        return f"batch {last}{of}" if first >= last else f"batches {first}-{last}{of}"

    def on_epoch_end(self, epoch, logs=None):
        bad = first_non_finite_weight(self.model)
        if bad is not None:
            raise TrainingDiverged(
                f"training diverged: weight {bad} is not finite after epoch {epoch + 1}"
            )


class CompactProgress(keras.callbacks.Callback):
    """Prints about ``lines`` lines for a whole run, with every logged metric and seconds/epoch
    (``lines=0``: none)."""

    def __init__(self, epochs: int, lines: int = 4, label: str = ""):
        super().__init__()
        epochs = checks.positive_int(epochs, "epochs")
        lines = checks.integer(lines, "lines", minimum=0)
        label = checks.text(label, "label")
        self.every = math.ceil(epochs / lines) if lines else None
        self.epochs = epochs
        self.label = f"{label}: " if label else ""
        self.epoch_seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._start)
        if self.every is None:
            return
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
            values = ", ".join(f"{name} {value:.2f}" for name, value in (logs or {}).items())
            print(
                f"{self.label}epoch {epoch + 1}/{self.epochs}: {values} "
                f"({self.epoch_seconds[-1]:.1f} s/epoch)"
            )


class BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the lowest ``val_loss`` and restores them at the end.

    Long training on a small data set overfits: the validation loss turns back up while the
    training loss keeps falling. Selecting the best epoch on held-out data (never on the test set)
    gives the model one would have stopped at, without guessing the number of epochs.
    """

    def __init__(self):
        super().__init__()
        self.best_loss, self.best_epoch, self._weights = math.inf, None, None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("val_loss")
        if loss is not None and loss < self.best_loss:
            self.best_loss, self.best_epoch = float(loss), epoch
            self._weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self._weights is not None:
            self.model.set_weights(self._weights)


def compile_model(model: keras.Model, learning_rate: float | None = None,
                  steps_per_execution: int | None = None) -> keras.Model:
    """Compile with its own Adam optimizer; an autoencoder also gets the reconstruction loss, a
    :class:`~vaebook.models.Classifier` the cross-entropy of its logits and the accuracy, and a
    :class:`~vaebook.models.GAN` two optimizers, Adam(``learning_rate``, beta_1=0.5) each.

    ``learning_rate``: a number in (0, 1); ``None`` means :data:`DEFAULT_LEARNING_RATE`
    (a GAN's: 2e-4, as in DCGAN).
    ``steps_per_execution`` gradient steps run inside one call of the compiled training function:
    for models this small, the Python round trip per step costs as much as the step itself.
    ``None`` means :data:`DEFAULT_STEPS_PER_EXECUTION` on one device and 1 for a model built
    under a strategy of several replicas, where Keras 3 (3.15, TensorFlow 2.21) fails with "You
    must feed a value for placeholder tensor" as soon as one call runs several steps
    (keras-team/keras#19246); a number above 1 is refused there, saying so.
    """
    checks.model(model)
    learning_rate = checks.learning_rate(learning_rate, allow_none=True)
    steps_per_execution = checks.positive_int(steps_per_execution, "steps_per_execution",
                                              allow_none=True)
    replicas = model.distribute_strategy.num_replicas_in_sync
    if steps_per_execution is None:
        steps_per_execution = DEFAULT_STEPS_PER_EXECUTION if replicas == 1 else 1
    elif steps_per_execution > 1 and replicas > 1:
        raise ValueError(
            f"steps_per_execution must be 1 (or None) for a model built under a strategy of "
            f"{replicas} replicas, got {steps_per_execution}: Keras 3 cannot run several steps "
            "per call there (keras-team/keras#19246)")
    # A model built under a tf.distribute strategy's scope keeps that strategy: its optimizer's
    # variables (Adam's moments) must be created in the same scope, mirrored like the weights.
    # (For a model built outside any scope this is the default, one-device strategy.)
    with model.distribute_strategy.scope():
        if isinstance(model, GAN):
            rate = GAN_LEARNING_RATE if learning_rate is None else learning_rate
            model.compile(keras.optimizers.Adam(rate, beta_1=GAN_BETA_1),
                          keras.optimizers.Adam(rate, beta_1=GAN_BETA_1),
                          steps_per_execution=steps_per_execution)
            return model
        optimizer = keras.optimizers.Adam(
            learning_rate=DEFAULT_LEARNING_RATE if learning_rate is None else learning_rate)
        if isinstance(model, Classifier):
            model.compile(optimizer=optimizer,
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                          steps_per_execution=steps_per_execution)
            return model
        loss = None if isinstance(model, VAE) else losses.reconstruction_loss  # a VAE has its own
        model.compile(optimizer=optimizer, loss=loss, steps_per_execution=steps_per_execution)
    return model


def set_learning_rate(model: keras.Model, learning_rate: float) -> None:
    """Give a compiled model's optimizer a new learning rate, keeping its state (Adam's moments).

    Raises ``ValueError`` if the optimizer follows a learning-rate schedule, which a single
    number cannot replace. A GAN's two optimizers both get the new rate.
    """
    checks.model(model)
    learning_rate = checks.learning_rate(learning_rate)
    if isinstance(model, GAN):
        if model.d_optimizer is None:
            raise ValueError("model must be compiled before its learning rate can be set "
                             "(training.compile_model)")
        for optimizer in (model.d_optimizer, model.g_optimizer):
            optimizer.learning_rate = learning_rate
        return
    if getattr(model, "optimizer", None) is None:
        raise ValueError("model must be compiled before its learning rate can be set "
                         "(training.compile_model)")
    try:
        model.optimizer.learning_rate = learning_rate
    except TypeError as error:  # Keras: "created with a LearningRateSchedule ... not settable"
        raise ValueError(
            f"learning_rate={learning_rate:g} cannot be used: the model's optimizer follows a "
            "learning-rate schedule, which a number cannot replace; pass learning_rate=None to "
            "keep the schedule, or compile the model again"
        ) from error


def _image_shape(model: keras.Model):
    """The image shape a model takes: its encoder's input shape (MNIST's if it cannot be known)."""
    if isinstance(model, (EncoderDecoder, GAN, Classifier)):
        return model.image_shape
    inputs = getattr(model, "inputs", None)
    if inputs:
        return tuple(int(d) for d in inputs[0].shape[1:])
    return checks.MNIST_IMAGE_SHAPE


def _checked_callbacks(callbacks) -> list:
    if callbacks is None:
        return []
    if isinstance(callbacks, keras.callbacks.Callback):
        raise TypeError(f"callbacks must be a list or tuple of keras.callbacks.Callback, got a "
                        f"single {type(callbacks).__name__} (wrap it in a list)")
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list or tuple of keras.callbacks.Callback, got "
                        f"{checks.describe(callbacks)}")
    for index, callback in enumerate(callbacks):
        if not isinstance(callback, keras.callbacks.Callback):
            raise TypeError(f"callbacks[{index}] must be a keras.callbacks.Callback, got "
                            f"{type(callback).__name__}")
    return list(callbacks)


def _checked_data(model, x, targets, x_name: str, targets_name: str):
    """(inputs, targets) checked: the images the Bernoulli likelihood scores must be binary.

    A GAN's images may be grey levels (no likelihood scores them); a classifier's targets are
    its labels."""
    image_shape = _image_shape(model)
    if isinstance(model, GAN):
        return checks.images(x, x_name, image_shape=image_shape), None
    if isinstance(model, Classifier):
        x = checks.images(x, x_name, image_shape=image_shape)
        if targets is None:
            raise ValueError(f"{targets_name} must be the labels of {x_name}: a Classifier "
                             "learns from labelled images")
        return x, checks.labels(targets, targets_name, count=len(x),
                                num_classes=model.num_classes)
    x = checks.images(x, x_name, image_shape=image_shape, binary=targets is None)
    if targets is None:
        return x, x
    targets = checks.images(targets, targets_name, image_shape=image_shape, binary=True)
    if len(targets) != len(x):
        raise ValueError(f"{targets_name} must hold one target per image of {x_name} "
                         f"({len(x)}), got {len(targets)}")
    return x, targets


def _checked_datasets(model, x_train, x_val, targets_train, targets_val, batch_size):
    """(inputs, None, validation) for ``tf.data.Dataset`` inputs; an autoencoder's batches become
    (image, image) pairs, its targets being its inputs."""
    if batch_size is not None:
        raise ValueError(f"batch_size must be None when x_train is a tf.data.Dataset, got "
                         f"{batch_size}: the dataset is batched already (e.g. "
                         "ImageShards.dataset(batch_size))")
    for name, targets in (("targets_train", targets_train), ("targets_val", targets_val)):
        if targets is not None:
            raise ValueError(f"{name} must be None when x_train is a tf.data.Dataset: a dataset "
                             "of images trains the model to reconstruct those images")
    if x_val is not None and not checks.is_dataset(x_val):
        raise TypeError(f"x_val must be a tf.data.Dataset (or None) when x_train is one, got "
                        f"{checks.describe(x_val)}")
    image_shape = _image_shape(model)
    x_train = checks.image_dataset(x_train, "x_train", image_shape=image_shape, binary=True)
    if x_val is not None:
        x_val = checks.image_dataset(x_val, "x_val", image_shape=image_shape, binary=True)
    replicas = model.distribute_strategy.num_replicas_in_sync
    for name, dataset in (("x_train", x_train), ("x_val", x_val)):
        first = 0 if dataset is None else int(next(iter(dataset.take(1))).shape[0])
        if replicas > 1 and first % replicas:
            # Keras 3 builds a distributed model from the replicas' mean first batch, which
            # fails (AddN of different shapes) when the shares are uneven; later batches may be.
            raise ValueError(
                f"{name} must start with a batch that splits evenly between the {replicas} "
                f"replicas, got a first batch of {first} images: batch it by a multiple of "
                f"{replicas} (ImageShards.dataset(batch_size))")
    if not isinstance(model, VAE):
        x_train = x_train.map(lambda images: (images, images))
        x_val = None if x_val is None else x_val.map(lambda images: (images, images))
    return x_train, None, x_val


def fit(
    model: keras.Model,
    x_train,
    x_val=None,
    *,
    epochs: int,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    targets_train=None,
    targets_val=None,
    lines: int = 4,
    label: str = "",
    select_best: bool = True,
    callbacks: tuple | list | None = (),
    strategy=None,
) -> dict[str, list[float]]:
    """Train ``model`` and return its history: metric name -> one value per epoch.

    Args:
        model: an :class:`~vaebook.models.Autoencoder`, :class:`~vaebook.models.VAE`,
            :class:`~vaebook.models.GAN` or :class:`~vaebook.models.Classifier`.
        x_train, x_val: images (N, *model.image_shape); ``x_val`` adds ``val_*`` metrics. The
            images the Bernoulli likelihood scores (the inputs, or the targets when given) must be
            binary: 0 or 1 in every pixel (a GAN's and a classifier's may be grey levels). Or, for
            data larger than memory, a ``tf.data.Dataset`` of image batches (batch,
            *model.image_shape), already shuffled and batched (e.g.
            :meth:`vaebook.data.ImageShards.dataset`); ``x_val`` is then a dataset too. A dataset
            is checked by its element spec and its first batch (:func:`vaebook.checks.image_dataset`).
        targets_train, targets_val: what an autoencoder should reconstruct (default: the inputs;
            clean images when the inputs are noisy, for a denoising autoencoder); a classifier's
            labels (N,) (required). A VAE and a GAN refuse them: they model their inputs.
        epochs, batch_size: passes over the data and images per gradient step (``None``:
            :data:`DEFAULT_BATCH_SIZE`); a dataset brings its own batches, so ``batch_size``
            must then be ``None``.
        learning_rate: a number in (0, 1), or ``None``. An uncompiled model is compiled here with
            Adam(``learning_rate``), ``None`` meaning :data:`DEFAULT_LEARNING_RATE`. A compiled
            model (every model of :func:`vaebook.zoo.trained_model` is) keeps its optimizer and
            its state; a number sets that optimizer's rate (:func:`set_learning_rate`), so
            fine-tuning uses the rate asked for, and ``None`` keeps the model's rate.
        lines: about how many progress lines to print for the whole run (0: none).
        select_best: with ``x_val``, end with the weights of the epoch of lowest validation loss
            (:class:`BestWeights`); pass validation data held out from training, not the test set.
        callbacks: extra Keras callbacks, a list (or ``None``).
        strategy: a ``tf.distribute.Strategy`` to train data-parallel with (``MirroredStrategy``
            over the GPUs of a machine, ``MultiWorkerMirroredStrategy`` over machines), or
            ``None``: the strategy the model was built under, if any, else one device. The model
            must have been built under ``strategy.scope()`` (checked). ``batch_size`` is the
            *global* batch: each of the N replicas computes the gradient of batch/N images, and
            their average is the gradient one device computes on the whole batch, so the same
            settings train the same model (up to the sampling noise and float rounding).

    The history also holds ``epoch_seconds`` and, with ``x_val``, ``best_epoch`` (1-based, the
    epoch whose weights the model ends with). Raises :class:`TrainingDiverged` if the loss or
    weights become non-finite, ``ValueError``/``TypeError`` for bad images or settings.
    """
    checks.model(model)
    if not isinstance(model, (EncoderDecoder, GAN, Classifier)):
        raise TypeError(f"model must be a vaebook model (Autoencoder, VAE, GAN or Classifier), "
                        f"whose own loss and train_step fit uses; got a plain "
                        f"{type(model).__name__}: for another network, compile it with its loss "
                        f"and call its own fit()")
    epochs = checks.positive_int(epochs, "epochs")
    batch_size = checks.positive_int(batch_size, "batch_size", allow_none=True)
    learning_rate = checks.learning_rate(learning_rate, allow_none=True)
    lines = checks.integer(lines, "lines", minimum=0)
    label = checks.text(label, "label")
    select_best = checks.boolean(select_best, "select_best")
    callbacks = _checked_callbacks(callbacks)
    strategy = checks.strategy(strategy)
    if strategy is not None:
        checks.built_under(model, strategy)
    is_vae = isinstance(model, VAE)
    unsupervised = isinstance(model, (VAE, GAN))
    for name, targets in (("targets_train", targets_train), ("targets_val", targets_val)):
        if unsupervised and targets is not None:
            raise ValueError(f"{name} must be None for a {type(model).__name__}, which models "
                             "its own inputs (targets are for a denoising autoencoder or the "
                             "labels of a classifier)")
    if x_val is None and targets_val is not None:
        raise ValueError("targets_val needs x_val: targets are given for validation images")
    streamed = checks.is_dataset(x_train)
    if streamed:
        x_train, y_train, validation = _checked_datasets(model, x_train, x_val, targets_train,
                                                         targets_val, batch_size)
    else:
        if checks.is_dataset(x_val):
            raise TypeError("x_val must be images (an array) when x_train is, got a "
                            "tf.data.Dataset; pass both as arrays or both as datasets")
        batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
        x_train, y_train = _checked_data(model, x_train, targets_train, "x_train",
                                         "targets_train")
        validation = None
        if x_val is not None:
            x_val, y_val = _checked_data(model, x_val, targets_val, "x_val", "targets_val")
            validation = (x_val,) if unsupervised else (x_val, y_val)
        if unsupervised:
            y_train = None
    if validation is None:  # a callback that watches a validation metric could never act
        for callback in callbacks:
            monitor = getattr(callback, "monitor", None)
            if isinstance(monitor, str) and monitor.startswith("val_"):
                raise ValueError(f"{type(callback).__name__} monitors {monitor!r}, which exists "
                                 f"only with validation data: pass x_val, or monitor a training "
                                 f"metric such as {monitor[4:]!r}")
    if not model.compiled:
        compile_model(model, learning_rate)
    elif learning_rate is not None:
        set_learning_rate(model, learning_rate)
    progress = CompactProgress(epochs, lines=lines, label=label)
    best = BestWeights() if (select_best and validation is not None) else None
    history = model.fit(
        x_train,
        y_train,
        validation_data=validation,
        epochs=epochs,
        batch_size=batch_size,  # None for a dataset, which is batched and shuffled already
        shuffle=not streamed,
        verbose=0,
        callbacks=[DivergenceGuard(), progress, *([best] if best else []), *callbacks],
    )
    result = {name: [float(v) for v in values] for name, values in history.history.items()}
    result["epoch_seconds"] = progress.epoch_seconds
    if validation is not None:
        last = len(result["epoch_seconds"]) - 1
        result["best_epoch"] = 1 + (best.best_epoch if best and best.best_epoch is not None
                                    else last)
    return result
