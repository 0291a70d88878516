"""The evaluation network of Chapters 5 and 6: a small convolutional MNIST classifier.

Sample-quality scores (FID, KID, precision and recall, :mod:`vaebook.metrics`) compare images
through the features of a trained network. The usual network, Inception v3, was trained on
photographs (and its weights cannot be downloaded here); for digits an in-domain classifier is
the standard choice. Its penultimate layer, ``features`` (128 numbers per image), is what the
scores compare, and its predicted classes give the mode coverage of a generator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np
from keras import layers

from .. import checks
from .base import run_batched
from ..data import IMAGE_SHAPE

NUM_CLASSES = 10
FEATURE_LAYER = "features"


def build_classifier_network(feature_dim: int = 128, num_classes: int = NUM_CLASSES,
                             shift: float = 0.1, dropout: float = 0.3,
                             image_shape=IMAGE_SHAPE) -> keras.Model:
    """Classifier network: images (batch, *image_shape) in [0, 1] -> logits (batch, num_classes).

    Two blocks of two 3 x 3 convolutions and a 2 x 2 max pool ((14, 14, 32), then (7, 7, 64)),
    a dense ``features`` layer of ``feature_dim`` ReLU units, dropout, and the logits. During
    training images are shifted at random by up to ``shift`` of their size (0: off): with a few
    thousand training digits this augmentation is worth about a point of test accuracy.
    """
    feature_dim = checks.positive_int(feature_dim, "feature_dim")
    num_classes = checks.positive_int(num_classes, "num_classes")
    shift = checks.real(shift, "shift", minimum=0.0, maximum=0.5)
    dropout = checks.real(dropout, "dropout", minimum=0.0, maximum=1.0, open_above=True)
    images = keras.Input(shape=tuple(image_shape), name="images")
    hidden = images
    if shift > 0:  # active only in training; identity at inference
        hidden = layers.RandomTranslation(shift, shift, fill_mode="constant")(hidden)
    for filters in (32, 64):  # (batch, 14, 14, 32), then (batch, 7, 7, 64) for MNIST
        hidden = layers.Conv2D(filters, 3, padding="same", activation="relu")(hidden)
        hidden = layers.Conv2D(filters, 3, padding="same", activation="relu")(hidden)
        hidden = layers.MaxPooling2D(2)(hidden)
    hidden = layers.Flatten()(hidden)  # (batch, 3136)
    features = layers.Dense(feature_dim, activation="relu", name=FEATURE_LAYER)(hidden)
    logits = layers.Dense(num_classes, name="logits")(layers.Dropout(dropout)(features))
    return keras.Model(images, logits, name="classifier_network")


@keras.saving.register_keras_serializable(package="vaebook")
class Classifier(keras.Model):
    """``Classifier(network)``: a digit classifier whose penultimate layer is the feature space
    of the sample-quality scores.

    ``network`` maps images to logits (:func:`build_classifier_network`) and has a layer called
    ``"features"``. Trained with ``fit(images, labels)`` (:func:`vaebook.training.fit` with
    ``targets_train=labels``), reporting ``loss`` (cross-entropy, nats per image) and
    ``accuracy``.
    """

    def __init__(self, network, **kwargs):
        if not isinstance(network, keras.Model) or not getattr(network, "inputs", None):
            raise TypeError(f"network must be a functional keras.Model (from "
                            f"vaebook.models.build_classifier_network), got "
                            f"{type(network).__name__}")
        names = [layer.name for layer in network.layers]
        if FEATURE_LAYER not in names:
            raise ValueError(f"network must have a layer named {FEATURE_LAYER!r} (the features "
                             f"the scores compare), got layers {names}")
        super().__init__(**kwargs)
        self.network = network
        self.feature_network = keras.Model(network.inputs[0],
                                           network.get_layer(FEATURE_LAYER).output)
        # Features and logits from one forward pass (the sample scores need both)
        self._features_and_logits = keras.Model(
            network.inputs[0], [network.get_layer(FEATURE_LAYER).output, network.outputs[0]])
        self.built = True

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.network.inputs[0].shape[1:])

    @property
    def num_classes(self) -> int:
        return int(self.network.outputs[0].shape[-1])

    @property
    def feature_dim(self) -> int:
        return int(self.feature_network.outputs[0].shape[-1])

    def call(self, x, training=False):
        """Logits (batch, num_classes) of images x (batch, *image_shape)."""
        values = checks.known_values(x)
        if values is not None:
            checks.images(values, "x", image_shape=self.image_shape)
        return self.network(x, training=training)

    def _run(self, network, x, batch_size):
        x = checks.images(x, "x", image_shape=self.image_shape)
        (outputs,) = run_batched(network, x, batch_size)
        return outputs

    def features(self, x, batch_size: int = 256) -> np.ndarray:
        """Penultimate-layer features of images x (N, *image_shape): (N, feature_dim) float64."""
        return self._run(self.feature_network, x, batch_size).astype(np.float64)

    def predict_classes(self, x, batch_size: int = 256) -> np.ndarray:
        """The most probable class of each image: (N,) int64."""
        return np.argmax(self._run(self.network, x, batch_size), axis=1).astype(np.int64)

    def features_and_classes(self, x, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`features` and :meth:`predict_classes` of images x (N, *image_shape) from one
        forward pass: ((N, feature_dim) float64, (N,) int64)."""
        x = checks.images(x, "x", image_shape=self.image_shape)
        features, logits = run_batched(self._features_and_logits, x, batch_size)
        return features.astype(np.float64), np.argmax(logits, axis=1).astype(np.int64)

    def accuracy(self, x, labels, batch_size: int = 256) -> float:
        """Fraction of images x whose predicted class is their label (N,)."""
        x = checks.images(x, "x", image_shape=self.image_shape)
        labels = checks.labels(labels, "labels", count=len(x), num_classes=self.num_classes)
        return float(np.mean(self.predict_classes(x, batch_size) == labels))

    def get_config(self):
        return {**super().get_config(),
                "network": keras.saving.serialize_keras_object(self.network)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)


@dataclass(frozen=True)
class ClassifierConfig:
    """Every setting of the evaluation classifier; ``build()`` makes it, compiled."""

    MODEL_TYPE = "classifier"  # the zoo's name for this kind of model (a class attribute)

    feature_dim: int = 128  # width of the penultimate layer: the feature space of FID and KID
    shift: float = 0.1  # random translation during training, fraction of the image size
    dropout: float = 0.3  # dropout rate on the features during training
    learning_rate: float = 1e-3  # Adam's learning rate
    image_shape: tuple[int, int, int] | None = None  # (height, width, channels); None: MNIST's
    num_classes: int = NUM_CLASSES
    seed: int = 0  # seed of the initial weights and of the augmentation (via the zoo)

    def __post_init__(self):
        # Checked, and stored as plain Python numbers (NumPy's are accepted), so as_dict() is JSON.
        checked = {
            "feature_dim": checks.positive_int(self.feature_dim, "feature_dim"),
            "shift": checks.real(self.shift, "shift", minimum=0.0, maximum=0.5),
            "dropout": checks.real(self.dropout, "dropout", minimum=0.0, maximum=1.0,
                                   open_above=True),
            "learning_rate": checks.learning_rate(self.learning_rate),
            "num_classes": checks.positive_int(self.num_classes, "num_classes"),
            "seed": checks.seed(self.seed, maximum=checks.LEGACY_SEED_MAX)}
        if self.image_shape is not None:
            checked["image_shape"] = checks.image_shape(self.image_shape, min_size=4)
        for field, value in checked.items():
            object.__setattr__(self, field, value)

    @property
    def resolved_image_shape(self) -> tuple[int, int, int]:
        return IMAGE_SHAPE if self.image_shape is None else self.image_shape

    def build(self, steps_per_execution: int = 1) -> Classifier:
        """A new, untrained classifier, compiled with Adam and the cross-entropy of logits
        (``steps_per_execution`` training steps per compiled call)."""
        classifier = Classifier(build_classifier_network(
            self.feature_dim, self.num_classes, self.shift, self.dropout,
            self.resolved_image_shape))
        classifier.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            steps_per_execution=checks.positive_int(steps_per_execution, "steps_per_execution"),
        )
        return classifier

    def as_dict(self) -> dict:
        values = asdict(self)
        values["image_shape"] = list(self.resolved_image_shape)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "ClassifierConfig":
        return cls(**values)
