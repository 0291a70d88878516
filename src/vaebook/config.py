"""Run profiles, seeds and cache locations: the one place the environment is read.

Every notebook calls :func:`get_profile` once and takes its data sizes and epochs from the
returned :class:`Profile`. A profile changes *sizes*, never code paths: ``quick`` runs every cell
of every notebook in about a minute on 2 CPU cores (what CI runs); ``full`` is what the published
book shows.

Environment variables
---------------------
``VAEBOOK_PROFILE``
    ``quick`` or ``full`` (default ``full``).
``VAEBOOK_CACHE_DIR``
    Where trained models are stored by :mod:`vaebook.zoo` (default ``~/.cache/vaebook``).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

PROFILE_ENV = "VAEBOOK_PROFILE"
CACHE_DIR_ENV = "VAEBOOK_CACHE_DIR"
DEFAULT_PROFILE = "full"
DEFAULT_SEED = 42


@dataclass(frozen=True)
class Profile:
    """Sizes and epochs of one run profile."""

    name: str
    n_train: int  # at most this many training images (fewer if the data set is smaller)
    n_test: int  # at most this many test images
    epochs: int  # epochs for a chapter's main models
    sweep_epochs: int  # epochs for each model of a sweep (latent sizes, beta values, ...)
    # epochs for convolutional VAEs and the models compared with them (Chapter 4): a convolutional
    # VAE learns slowly in its first epochs and overtakes a dense one only after about ten
    conv_epochs: int
    iw_samples: tuple[int, ...]  # K values for importance-sampled log-likelihood estimates
    n_eval: int  # test images used for the (costly) importance-sampled estimates
    # Chapter 3: the shapes data and its sweep (sizes chosen by benchmarks/beta_vae_mig.py)
    shapes_n_train: int  # training images of shapes (32 x 32)
    shapes_n_test: int  # test images of shapes: MIG and rate/distortion are computed on them
    shapes_epochs: int  # epochs of each beta-VAE on the shapes
    capacity_epochs: int  # epochs of the capacity-objective model (its target rate rises slowly)
    betas: tuple[float, ...]  # the beta sweep, on the shapes and on MNIST

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        n_train=2000,
        n_test=500,
        epochs=6,  # the fewest at which every claim of every chapter holds (denoising: 5)
        sweep_epochs=3,
        conv_epochs=14,  # here the conv VAE overtakes the dense one after about 11 epochs
        iw_samples=(1, 10, 100),
        n_eval=100,
        # Disentangling takes thousands of steps: the capacity model trains as in "full", on the
        # same draw of images (the training draw depends on n_test), so that the chapter's claims
        # hold here too and its best model is the full profile's; its beta models and MNIST
        # sweep are small.
        shapes_n_train=20000,
        shapes_n_test=4000,
        shapes_epochs=4,
        capacity_epochs=24,
        betas=(1.0, 4.0, 16.0),
    ),
    "full": Profile(
        name="full",
        n_train=60000,
        n_test=10000,
        epochs=40,
        sweep_epochs=20,
        conv_epochs=40,  # as epochs, so Chapter 4's dense VAE is Chapter 2's
        iw_samples=(1, 10, 100, 1000),
        n_eval=1000,
        shapes_n_train=20000,
        shapes_n_test=4000,
        shapes_epochs=10,
        capacity_epochs=24,
        betas=(1.0, 2.0, 4.0, 8.0, 16.0),
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


def cache_dir() -> Path:
    """Folder where :mod:`vaebook.zoo` keeps trained models (created on first use)."""
    path = Path(os.environ.get(CACHE_DIR_ENV, Path.home() / ".cache" / "vaebook")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def set_seed(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and the Keras backend at once; returns the seed (a Python int).

    ``seed`` is an int (NumPy's too) in [0, 2**32 - 1], the range NumPy's global seed accepts.
    """
    import keras

    from . import checks

    seed = checks.seed(seed, maximum=checks.LEGACY_SEED_MAX)
    keras.utils.set_random_seed(seed)
    return seed
