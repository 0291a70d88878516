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

from . import losses
from .data import check_images, check_positive_int
from .models import VAE

DEFAULT_LEARNING_RATE = 1e-3
# Chosen by benchmarks/vae_training_speed.py on 2 CPU cores: with batches of 64 and 16 steps per
# compiled call, both the dense and the convolutional VAE reach a given test ELBO in the least
# wall time (larger learning rates were unstable for the dense VAE, larger batches slower to learn).
DEFAULT_BATCH_SIZE = 64
DEFAULT_STEPS_PER_EXECUTION = 16


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or infinite during training."""


def first_non_finite_weight(model: keras.Model) -> str | None:
    """Path of the first weight of ``model`` holding a NaN or infinity, or None if all are finite."""
    for weight in model.weights:
        if not np.all(np.isfinite(keras.ops.convert_to_numpy(weight))):
            return weight.path
    return None


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training by raising :class:`TrainingDiverged` as soon as the loss is not finite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingDiverged(
                f"training diverged: loss is {float(loss)} at epoch {self._epoch + 1}, "
                f"batch {batch + 1}; lower the learning rate or check the inputs"
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        bad = first_non_finite_weight(self.model)
        if bad is not None:
            raise TrainingDiverged(
                f"training diverged: weight {bad} is not finite after epoch {epoch + 1}"
            )


class CompactProgress(keras.callbacks.Callback):
    """Prints about ``lines`` lines for a whole run, with every logged metric and seconds/epoch."""

    def __init__(self, epochs: int, lines: int = 4, label: str = ""):
        super().__init__()
        self.every = max(1, math.ceil(epochs / max(1, lines)))
        self.epochs = epochs
        self.label = f"{label}: " if label else ""
        self.epoch_seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._start)
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


def compile_model(model: keras.Model, learning_rate: float = DEFAULT_LEARNING_RATE,
                  steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION) -> keras.Model:
    """Compile with its own Adam optimizer; an autoencoder also gets the reconstruction loss.

    ``steps_per_execution`` gradient steps run inside one call of the compiled training function:
    for models this small, the Python round trip per step costs as much as the step itself.
    """
    if not (isinstance(learning_rate, (int, float)) and 0 < learning_rate < 1):
        raise ValueError(f"learning_rate must be a number in (0, 1), got {learning_rate!r}")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    loss = None if isinstance(model, VAE) else losses.reconstruction_loss  # a VAE has its own
    model.compile(optimizer=optimizer, loss=loss, steps_per_execution=steps_per_execution)
    return model


def fit(
    model: keras.Model,
    x_train,
    x_val=None,
    *,
    epochs: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    targets_train=None,
    targets_val=None,
    lines: int = 4,
    label: str = "",
    select_best: bool = True,
    callbacks: tuple = (),
) -> dict[str, list[float]]:
    """Train ``model`` and return its history: metric name -> one value per epoch.

    Args:
        model: an :class:`~vaebook.models.Autoencoder` or :class:`~vaebook.models.VAE`; compiled
            here with Adam(``learning_rate``) unless it is compiled already.
        x_train, x_val: images (N, *model.image_shape) in [0, 1]; ``x_val`` adds ``val_*`` metrics.
        targets_train, targets_val: what an autoencoder should reconstruct (default: the inputs;
            clean images when the inputs are noisy, for a denoising autoencoder).
        epochs, batch_size: passes over the data and images per gradient step.
        lines: about how many progress lines to print for the whole run.
        select_best: with ``x_val``, end with the weights of the epoch of lowest validation loss
            (:class:`BestWeights`); pass validation data held out from training, not the test set.
        callbacks: extra Keras callbacks.

    The history also holds ``epoch_seconds`` and, with ``x_val``, ``best_epoch`` (1-based, the
    epoch whose weights the model ends with). Raises :class:`TrainingDiverged` if the loss or
    weights become non-finite, ``ValueError`` for bad images or settings.
    """
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    image_shape = model.image_shape  # (28, 28, 1) for MNIST
    x_train = check_images(x_train, "x_train", image_shape=image_shape)
    is_vae = isinstance(model, VAE)
    if is_vae:
        y_train = None
    else:
        y_train = x_train if targets_train is None else check_images(
            targets_train, "targets_train", image_shape=image_shape)
    validation = None
    if x_val is not None:
        x_val = check_images(x_val, "x_val", image_shape=image_shape)
        if is_vae:
            validation = (x_val,)
        else:
            y_val = x_val if targets_val is None else check_images(
                targets_val, "targets_val", image_shape=image_shape)
            validation = (x_val, y_val)
    if not model.compiled:
        compile_model(model, learning_rate)
    progress = CompactProgress(epochs, lines=lines, label=label)
    best = BestWeights() if (select_best and validation is not None) else None
    history = model.fit(
        x_train,
        y_train,
        validation_data=validation,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
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
