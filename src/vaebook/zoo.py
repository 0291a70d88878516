"""Train or load: a cache of trained models shared by every chapter.

``train_or_load(name, config, build, train, data)`` looks for a model trained with the same
config, in the same run profile, on the same data, by the same version of this package's code. If
it finds one it loads the weights (and the training history) and says so; otherwise it builds,
trains, checks the weights are finite and saves. The key covers everything that changes the
result, so a model is never reused stale; the folder name starts with ``name`` so a reader can
find it. Delete the folder (``VAEBOOK_CACHE_DIR``, default ``~/.cache/vaebook``) to retrain all.

Each entry holds ``config.json`` (what was trained, and on what), ``model.weights.h5`` and
``history.json``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

from .config import Profile, cache_dir

_PACKAGE_DIR = Path(__file__).resolve().parent


def code_version() -> str:
    """Hash of every source file of the package: any code change invalidates cached models."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cache_key(name: str, config: dict, profile: Profile, data_tag: str) -> str:
    """Folder name for a model: ``name`` followed by a hash of everything that shapes it."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"name must be letters, digits, '-' or '_', got {name!r}")
    payload = json.dumps(
        {"config": config, "profile": profile.as_dict(), "data": data_tag, "code": code_version()},
        sort_keys=True,
    )
    return f"{name}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


def train_or_load(
    name: str,
    config: dict,
    build: Callable[[dict], "object"],
    train: Callable[["object"], dict],
    data_tag: str,
    profile: Profile,
    retrain: bool = False,
):
    """Return ``(model, history, loaded)``.

    Args:
        name: readable prefix of the cache folder, e.g. ``"ch2-vae-latent2"``.
        config: JSON-serialisable settings that ``build`` needs (latent size, architecture, beta,
            epochs, learning rate...). Part of the key.
        build: ``build(config) -> model``, a built (called once) Keras model.
        train: ``train(model) -> history`` dict; called only on a cache miss.
        data_tag: :attr:`vaebook.data.MnistData.tag` of the data the model is trained on.
        profile: the run profile (part of the key).
        retrain: ignore and replace a cached model.
    """
    json.dumps(config)  # fail early, with json's message, if config cannot be stored
    folder = cache_dir() / cache_key(name, config, profile, data_tag)
    weights_path = folder / "model.weights.h5"
    model = build(config)
    if weights_path.exists() and not retrain:
        model.load_weights(weights_path)
        history = json.loads((folder / "history.json").read_text())
        print(f"loaded {name} from cache ({folder.name})")
        return model, history, True
    history = train(model)
    for weight in model.weights:
        if not np.all(np.isfinite(np.asarray(weight.numpy()))):
            raise RuntimeError(f"refusing to cache {name}: weight {weight.path} is not finite")
    # Write into a temporary folder and rename it, so an interrupted save leaves no half entry.
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    model.save_weights(partial / "model.weights.h5")
    (partial / "history.json").write_text(json.dumps(history))
    (partial / "config.json").write_text(
        json.dumps({"name": name, "config": config, "profile": profile.name,
                    "data": data_tag, "code": code_version()}, indent=2)
    )
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return model, history, False
