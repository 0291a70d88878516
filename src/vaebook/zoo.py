"""Train or load: a cache of trained models shared by every chapter.

``train_or_load(name, config, build, train, data)`` looks for a model trained with the same
config, in the same run profile, on the same data, by the same version of the code that trains it. If
it finds one it loads the weights (and the training history) and says so; otherwise it builds,
trains, checks the weights are finite and saves. The key covers everything that changes the
result, so a model is never reused stale; the folder name starts with ``name`` so a reader can
find it. Delete the folder (``VAEBOOK_CACHE_DIR``, default ``~/.cache/vaebook``) to retrain all.

Each entry holds ``config.json`` (what was trained, and on what), ``model.weights.h5`` and
``history.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

from . import checks
from .config import CACHE_DIR_ENV, Profile, cache_dir
from .training import first_non_finite_weight

_PROFILE_EXPECTED = "a vaebook.config.Profile, e.g. config.get_profile('quick')"

_PACKAGE_DIR = Path(__file__).resolve().parent

GRID_SIZE = 16  # images in each sample grid a GAN keeps through training (a 4 x 4 grid)


# The modules that training runs (a model's networks, loss, optimiser step and data): an edit to one
# of them retrains every model; an edit elsewhere (plotting, metrics, exercises, the page helpers)
# keeps the cache. tests/test_training.py checks that everything these import is in the list.
TRAINING_CODE = ("zoo.py", "training.py", "config.py", "data.py", "shapes.py", "losses.py",
                 "checks.py", "models")


def _training_files(package_dir: Path) -> list[Path]:
    files = []
    for name in TRAINING_CODE:
        path = package_dir / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def code_version(package_dir: Path | None = None) -> str:
    """Hash of the source of the modules training runs (``TRAINING_CODE``): an edit to one of them
    invalidates every cached model, an edit to any other module of the package none."""
    package_dir = _PACKAGE_DIR if package_dir is None else Path(package_dir)
    digest = hashlib.sha256()
    for path in _training_files(package_dir):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def variant_key(model_class: type) -> dict:
    """What identifies a model class written outside this package, for the cache key: its name
    and a hash of the source of everything it defines (methods, properties, class attributes),
    and of the same in each of its base classes that is not the package's own.

    So a notebook's subclass of :class:`vaebook.models.VAE` (Chapter 7's bugs) is retrained when
    its code is edited, as the package's models are when the package is. Code that the class only
    calls (a function defined elsewhere in the notebook) is not covered: write the variant inside
    the class. A method whose source cannot be read is hashed by its bytecode and constants.
    """
    if not isinstance(model_class, type):
        raise TypeError(f"model_class must be a class, got {checks.describe(model_class)}")
    digest = hashlib.sha256()
    for cls in model_class.__mro__:
        if cls.__module__.split(".")[0] in ("vaebook", "keras", "builtins", "tensorflow"):
            continue
        digest.update(f"{cls.__module__}.{cls.__qualname__}".encode())
        for attribute, value in sorted(vars(cls).items()):
            if attribute in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__",
                             "__firstlineno__", "__static_attributes__"):
                continue
            digest.update(attribute.encode())
            digest.update(_definition_text(value).encode())
    return {"class": f"{model_class.__module__}.{model_class.__qualname__}",
            "source": digest.hexdigest()[:16]}


def _definition_text(value) -> str:
    """The source of a function (also behind a staticmethod, classmethod or property), else its
    bytecode and constants; the repr of any other class attribute."""
    import inspect

    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    if isinstance(value, property):
        return "".join(_definition_text(part) for part in (value.fget, value.fset, value.fdel)
                       if part is not None)
    if inspect.isfunction(value):
        try:
            return inspect.getsource(value)
        except (OSError, TypeError):
            code = value.__code__
            return code.co_code.hex() + repr(code.co_consts)
    return repr(value)


def cache_key(name: str, config: dict, profile: Profile, data_tag: str) -> str:
    """Folder name for a model: ``name`` followed by a hash of everything that shapes it."""
    checks.text(name, "name")
    checks.mapping(config, "config", allow_empty=True)
    checks.instance(profile, "profile", Profile, _PROFILE_EXPECTED)
    checks.text(data_tag, "data_tag", allow_empty=False)
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"name must be letters, digits, '-', '_' or '.', got {name!r}")
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

    Faults a classroom meets are reported, never lost work: an entry that cannot be read back (a
    weights file cut short or corrupted: each entry keeps its weights' SHA-256) is named with its
    folder and trained again; a cache that cannot be written (a read-only shared folder) is
    detected before training, and the trained model is returned with a notice instead of being
    lost at the save; two processes that want the same entry train it once (the second waits
    for the first, then loads its entry), and where they cannot coordinate (no ``fcntl``) still
    leave one complete entry.
    """
    checks.mapping(config, "config", allow_empty=True)
    _check_json(config, "config")
    checks.function(build, "build", what="a function build(config) -> model")
    checks.function(train, "train", what="a function train(model) -> history dict")
    retrain = checks.boolean(retrain, "retrain")
    try:
        root = cache_dir()
    except OSError as error:  # the folder cannot even be created
        root = Path(os.environ.get(CACHE_DIR_ENV, "~/.cache/vaebook")).expanduser()
        print(f"Notice: the model cache {root} cannot be created ({error}).")
    folder = root / cache_key(name, config, profile, data_tag)
    with _entry_lock(folder, name):
        return _train_or_load_entry(name, config, build, train, data_tag, profile, retrain,
                                    root, folder)


@contextlib.contextmanager
def _entry_lock(folder: Path, name: str):
    """Hold one cache entry for this process while it is looked up, trained and saved.

    Two notebooks run side by side (``make book`` runs two at once) may want the same model: the
    second to ask waits for the first to finish it, then loads it, so every model is trained once.
    The lock is an ``flock`` on a small file beside the entry, released when the process ends
    however it ends. Without ``fcntl`` (Windows) or a writable cache there is no lock: two
    processes may then both train the model, and ``_save`` still leaves one complete entry."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        yield
        return
    try:
        handle = open(folder.with_name(f".{folder.name}.lock"), "a")
    except OSError:  # a read-only cache: nothing is saved, so there is nothing to share
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            print(f"waiting for another process, which is training {name} ...", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _train_or_load_entry(name, config, build, train, data_tag, profile, retrain, root, folder):
    """train_or_load's work on one entry, under its lock."""
    weights_path = folder / "model.weights.h5"
    model = checks.model(build(config), "build(config)")
    if weights_path.exists() and not retrain:
        try:
            return (*_load(model, folder), True)
        except _DamagedEntry as error:
            # An interrupted copy of a cache leaves a file cut short: say which entry, and
            # train the model again on fresh weights rather than on half-loaded ones.
            print(f"Notice: the cached {name} in {folder} is damaged ({error}); training it "
                  f"again (delete the folder to discard it yourself).")
            model = checks.model(build(config), "build(config)")
    writable = _writable(root)
    if writable is not True:
        print(f"Notice: the model cache {root} cannot be written ({writable}): {name} will be "
              f"trained and returned but not kept. Set {CACHE_DIR_ENV} to a folder you can "
              f"write to keep it.")
    history = checks.mapping(train(model), "train(model)", allow_empty=True,
                             what="a history dict (metric name -> values)")
    _check_json(history, "train(model)")
    bad = first_non_finite_weight(model)
    if bad is not None:
        raise RuntimeError(f"refusing to cache {name}: weight {bad} is not finite")
    if writable is True:
        try:
            _save(model, history, folder, {"name": name, "config": config,
                                           "profile": profile.name, "data": data_tag,
                                           "code": code_version()})
        except OSError as error:  # a disk that fills up or turns read-only mid-run
            print(f"Notice: {name} was trained but could not be saved in {folder} ({error}); "
                  f"it is returned, not kept.")
    return model, history, False


class _DamagedEntry(Exception):
    """A cache entry that cannot be read back: a file cut short, corrupted or missing."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load(model, folder: Path):
    """Weights and history of a cache entry into ``model``: ``(model, history)``, or
    :class:`_DamagedEntry` saying what is wrong with the entry."""
    weights_path = folder / "model.weights.h5"
    try:
        record = json.loads((folder / "config.json").read_text())
        history = json.loads((folder / "history.json").read_text())
        expected = record.get("weights_sha256")  # entries written before it have none
        if expected is not None and _sha256(weights_path) != expected:
            raise _DamagedEntry("its weights file does not match the checksum saved with it")
        if getattr(model, "optimizer", None) is not None:
            # The file holds the optimizer's state too; give it slots to load into, so a loaded
            # model can go on training exactly where the saved one stopped.
            model.optimizer.build(model.trainable_variables)
        model.load_weights(weights_path)
    except _DamagedEntry:
        raise
    except (OSError, ValueError, KeyError, AttributeError) as error:
        raise _DamagedEntry(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}") \
            from None
    print(f"loaded {record.get('name', folder.name)} from cache ({folder.name})")
    return model, history


def _writable(root: Path):
    """True if a file can be created in ``root``, else the reason (a string)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError as error:
        return f"{type(error).__name__}: {error.strerror or error}"


def _save(model, history: dict, folder: Path, record: dict) -> None:
    """Write an entry atomically: into a temporary folder, renamed into place at the end, so an
    interrupted save leaves no half entry; one temporary folder per process, so two runs saving
    the same model cannot mix their files. If another process saved the same entry meanwhile,
    its entry is kept (the two are trained from the same settings) and this one is dropped."""
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        model.save_weights(partial / "model.weights.h5")
        (partial / "history.json").write_text(json.dumps(history))
        record = {**record, "weights_sha256": _sha256(partial / "model.weights.h5")}
        (partial / "config.json").write_text(json.dumps(record, indent=2))
        if folder.exists():  # a damaged entry being replaced, or a retrain
            shutil.rmtree(folder, ignore_errors=True)
        try:
            partial.rename(folder)
        except OSError:
            if not (folder / "config.json").exists():  # not another process's complete entry
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _check_json(value, name: str) -> None:
    """Fail early, naming the argument, if ``value`` cannot be written as JSON."""
    try:
        json.dumps(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be JSON-serialisable (plain numbers, strings, lists, "
                        f"dicts), got one that is not: {error}") from None


def _check_data_set(data):
    """A data set with training images and a tag (MnistData, or another loader's data), or
    images on disk (:class:`vaebook.data.ImageShards`)."""
    from .data import ImageShards

    if isinstance(data, ImageShards):
        return data
    if not (hasattr(data, "x_train") and hasattr(data, "tag")):
        raise TypeError("data must be a data set with x_train and tag, such as the "
                        "vaebook.data.MnistData that load_mnist returns, or "
                        f"vaebook.data.ImageShards, got {type(data).__name__}")
    return data


def trained_model(
    name: str,
    data,
    profile: Profile,
    *,
    epochs: int,
    config=None,
    model_type: str | None = None,
    latent_dim: int | None = None,
    architecture: str | None = None,
    beta: float | None = None,
    seed: int | None = None,
    noise_std: float = 0.0,
    learning_rate: float | None = None,
    batch_size: int | None = None,
    validation_fraction: float = 0.1,
    retrain: bool = False,
    strategy=None,
    model_class=None,
):
    """Train (or load) a model of the book on ``data`` (:class:`vaebook.data.MnistData` or
    :class:`vaebook.shapes.ShapesData`), or on training images stored on disk
    (:class:`vaebook.data.ImageShards`, streamed by ``tf.data``, so they may exceed memory:
    shuffled from the model's seed, split into training and validation by image index like
    arrays; denoising, which corrupts arrays, is not offered for them).

    The model is given either as a config dataclass (``config=``): a
    :class:`vaebook.models.VAEConfig` (every VAE setting, the capacity objective included), a
    :class:`~vaebook.models.GANConfig` or a :class:`~vaebook.models.ClassifierConfig` (trained
    on ``data.y_train``, its labels); or by the keywords of
    :func:`vaebook.models.build_model` (``model_type``, ``latent_dim``, ``architecture`` (default
    ``"dense"``), ``beta`` (default 1), ``seed`` (default 0)), not both. The image shape is the
    data's: a config with ``image_shape=None`` gets it, one with another shape is refused. The
    training settings are those of :func:`vaebook.training.fit`; ``noise_std > 0`` trains a
    denoising autoencoder (inputs corrupted with :func:`vaebook.data.add_gaussian_noise`, clean
    targets). Training starts from ``config.set_seed(seed)``, so a model is the same whether it is
    trained first or tenth. The last ``validation_fraction`` of the training images is held out for
    validation (the ``val_*`` curves of the history) and the model ends with the weights of its
    best validation epoch (:class:`vaebook.training.BestWeights`), except a model trained with the
    capacity objective, whose target moves during training: it keeps its last epoch. The test
    split is never looked at, so test numbers computed afterwards are honest.

    ``$VAEBOOK_SEED_OFFSET`` (:func:`vaebook.config.seed_offset`) shifts the seed of every model
    trained here, a config's included, with a notice: a run along other training paths, which
    stands in for another machine. The shifted seed is part of the model's settings and its key.

    The cache entry's ``config.json`` holds the model's settings under ``config.model``
    (``VAEConfig.from_dict`` rebuilds a VAE from them) beside the training settings.

    A GAN keeps its sample grids through training (:class:`vaebook.models.SampleGrids`: 16
    images of fixed noise at four stages) in the history, ``vaebook.models.sample_grids(history)``
    gives them back, whether the model was trained now or loaded.

    ``learning_rate=None`` and ``batch_size=None`` mean the defaults of
    :mod:`vaebook.training`; any other value is used as given (0 is refused, never replaced).
    A GANConfig and a ClassifierConfig hold their own learning rates: ``learning_rate`` must
    then be None.
    Settings are checked before anything is built or loaded, and stored in the cache key as
    plain Python numbers (NumPy scalars are accepted).

    ``strategy``: a ``tf.distribute.Strategy`` (or ``None``, one device): the model is built,
    compiled, trained or loaded under ``strategy.scope()``, and trained data-parallel by
    :func:`vaebook.training.fit` with the same global ``batch_size``. The cache key holds the
    number of replicas when it is above 1, and nothing when it is 1, so a one-device model is
    found with or without a strategy of one replica. Why the key has it: with N replicas each
    share of the batch draws its own sampling noise and the gradients are summed in another order,
    so a model trained on 2 devices is as good as, but not bit-for-bit the same as, one trained on
    one (tests/distributed_checks.py measures how close); the cache never serves one for the other.
    The kind of strategy (mirrored on one machine or across several) is not part of the key: for
    the same number of replicas it computes the same steps.

    ``model_class``: for a VAE, a subclass of :class:`vaebook.models.VAE` to build instead of
    VAE from the same config (a variant written in a notebook: Chapter 7 trains its bugs this
    way), or None. The class's name and the source of what it defines are part of the cache key
    (:func:`variant_key`), so a variant never shares an entry with the VAE, and editing its code
    retrains it.

    Returns ``(model, history)``.
    """
    import contextlib
    import dataclasses

    from . import training
    from .config import SEED_OFFSET_ENV, seed_offset, set_seed
    from .data import ImageShards, add_gaussian_noise, split_validation
    from .models import (ARCHITECTURES, CONFIG_TYPES, MODEL_TYPES, VAE, SampleGrids, VAEConfig,
                         build_model, grid_epochs)
    from .models.vae import check_model_class

    name = checks.text(name, "name", allow_empty=False)
    data = _check_data_set(data)
    checks.instance(profile, "profile", Profile, _PROFILE_EXPECTED)
    epochs = checks.positive_int(epochs, "epochs")
    noise_std = checks.real(noise_std, "noise_std", minimum=0.0)
    rate_given = learning_rate is not None
    learning_rate = (training.DEFAULT_LEARNING_RATE if learning_rate is None
                     else checks.learning_rate(learning_rate))
    batch_size = (training.DEFAULT_BATCH_SIZE if batch_size is None
                  else checks.positive_int(batch_size, "batch_size"))
    validation_fraction = checks.probability(validation_fraction, "validation_fraction",
                                             open_interval=True)
    retrain = checks.boolean(retrain, "retrain")
    strategy = checks.strategy(strategy)
    on_disk = isinstance(data, ImageShards)
    if on_disk and config is not None and not isinstance(config, VAEConfig):
        raise ValueError(f"data must be arrays (a data set with x_train) to train a "
                         f"{type(config).__name__}: ImageShards streams VAE and autoencoder "
                         f"training only")
    if on_disk and noise_std > 0:
        raise ValueError("noise_std must be 0 when data is ImageShards: denoising corrupts "
                         "images held in memory; pass a data set of arrays")
    image_shape = (tuple(data.image_shape) if on_disk  # (28, 28, 1) for MNIST
                   else tuple(int(size) for size in data.x_train.shape[1:]))
    if config is not None:
        given = {key: value for key, value in [("model_type", model_type),
                 ("latent_dim", latent_dim), ("architecture", architecture), ("beta", beta),
                 ("seed", seed)] if value is not None}
        checks.instance(config, "config", CONFIG_TYPES, "a model config: vaebook.models."
                        "VAEConfig, GANConfig or ClassifierConfig")
        config_type = getattr(type(config), "MODEL_TYPE", "vae")
        if set(given) - {"model_type"} or given.get("model_type", config_type) != config_type:
            raise ValueError(f"pass the model either as config= or as keywords, not both: "
                             f"the config already sets {sorted(given)}")
        if config.image_shape is None:
            config = dataclasses.replace(config, image_shape=image_shape)
        elif tuple(config.image_shape) != image_shape:
            raise ValueError(f"config.image_shape {config.image_shape} does not match the data's "
                             f"images {image_shape}; leave it None to take the data's")
        model_type, model_settings = config_type, config.as_dict()
        if config_type != "vae":
            if rate_given:
                raise ValueError(f"learning_rate must be None with a {type(config).__name__}, "
                                 f"which holds its own learning rate(s): set them in the config")
            learning_rate = None  # the config's, part of model_settings
        if config_type == "classifier" and not hasattr(data, "y_train"):
            raise TypeError(f"data must have labels (y_train) to train a classifier, got "
                            f"{type(data).__name__}")
    else:
        if model_type is None or latent_dim is None:
            raise ValueError(f"pass config=VAEConfig(...), or model_type (one of {MODEL_TYPES}) "
                             f"and latent_dim; got model_type={model_type!r}, "
                             f"latent_dim={latent_dim!r}")
        model_type = checks.one_of(model_type, "model_type", MODEL_TYPES)
        latent_dim = checks.positive_int(latent_dim, "latent_dim")
        architecture = checks.one_of("dense" if architecture is None else architecture,
                                     "architecture", ARCHITECTURES)
        beta = checks.real(1.0 if beta is None else beta, "beta", minimum=0.0)
        seed = checks.seed(0 if seed is None else seed, maximum=checks.LEGACY_SEED_MAX)
        if model_type == "autoencoder" and beta != 1.0:
            raise ValueError(f"beta must be 1.0 for model_type='autoencoder', got {beta:g}: beta "
                             "weights a VAE's KL term, and an autoencoder has none")
        model_settings = {"latent_dim": latent_dim, "architecture": architecture,
                          "beta": beta, "seed": seed, "image_shape": list(image_shape)}
        if model_type == "vae":  # the same record as config= gives, so both share cache entries
            model_settings = VAEConfig(latent_dim, architecture, beta, image_shape=image_shape,
                                       seed=seed).as_dict()
    if model_class is not None and model_type != "vae":
        raise ValueError(f"model_class must be None for model_type={model_type!r}: it names a "
                         f"variant of the VAE, got {checks.describe(model_class)}")
    model_class = check_model_class(model_class)
    if noise_std > 0 and model_type != "autoencoder":
        raise ValueError("noise_std must be 0 for model_type='vae': noise_std > 0 (denoising) is "
                         "defined for model_type='autoencoder' only")
    offset = seed_offset()
    if offset:  # another training path for the whole run (config.SEED_OFFSET_ENV)
        model_settings = {**model_settings, "seed": model_settings["seed"] + offset}
        print(f"Notice: {name} trains from seed {model_settings['seed']}, its seed shifted by "
              f"{offset} ({SEED_OFFSET_ENV}).")
    settings = {
        "model_type": model_type, "model": model_settings, "epochs": epochs,
        "noise_std": noise_std, "learning_rate": learning_rate, "batch_size": batch_size,
        "validation_fraction": validation_fraction,
    }
    if model_class is not VAE:  # a variant: its code is part of the key, as the package's is
        settings["model_class"] = variant_key(model_class)
    replicas = 1 if strategy is None else int(strategy.num_replicas_in_sync)
    if replicas > 1:
        settings["replicas"] = replicas
        if batch_size % replicas:
            raise ValueError(f"batch_size must be a multiple of the {replicas} replicas of the "
                             f"strategy (each takes an equal share of the global batch), got "
                             f"{batch_size}")
    model_seed = model_settings["seed"]

    config_types = {getattr(kind, "MODEL_TYPE", "vae"): kind for kind in CONFIG_TYPES}

    def build(settings):
        set_seed(model_seed)
        if settings["model_type"] not in ("vae", "autoencoder"):
            # Compiled by the config itself, with its own optimizer settings.
            return config_types[settings["model_type"]].from_dict(settings["model"]).build(
                steps_per_execution=training.DEFAULT_STEPS_PER_EXECUTION if replicas == 1 else 1)
        model = (VAEConfig.from_dict(settings["model"]).build(model_class)
                 if settings["model_type"] == "vae"
                 else build_model("autoencoder", **settings["model"]))
        # Compiled whether it is then trained or loaded, so evaluate() works on either.
        return training.compile_model(model, settings["learning_rate"])

    def train(model):
        if on_disk:
            part_train, part_val = split_validation(data, validation_fraction)
            # Validation numbers do not depend on the batch; under N replicas its first batch
            # must split evenly (training.fit says why), so a small validation part gets one
            # batch of a multiple of N images, then the rest.
            val_batch = min(settings["batch_size"], len(part_val))
            val_batch = max(replicas, val_batch - val_batch % replicas)
            return training.fit(
                model, part_train.dataset(settings["batch_size"], seed=model_seed),
                part_val.dataset(val_batch, shuffle=False), epochs=epochs,
                learning_rate=settings["learning_rate"], label=name, strategy=strategy,
                select_best=settings["model"].get("capacity") is None)
        if settings["model_type"] == "classifier":
            x_train, x_val = split_validation(data.x_train, validation_fraction)
            y_train, y_val = split_validation(data.y_train, validation_fraction)
            return training.fit(model, x_train, x_val, epochs=epochs,
                                batch_size=settings["batch_size"], label=name,
                                targets_train=y_train, targets_val=y_val, strategy=strategy)
        if settings["model_type"] == "gan":
            x_train, x_val = split_validation(data.x_train, validation_fraction)
            noise = np.random.default_rng(model_seed).standard_normal(
                (GRID_SIZE, settings["model"]["latent_dim"])).astype(np.float32)
            grids = SampleGrids(noise, grid_epochs(epochs))
            history = training.fit(model, x_train, x_val, epochs=epochs,
                                   batch_size=settings["batch_size"], label=name,
                                   callbacks=[grids], strategy=strategy)
            return {**history, **grids.as_history()}
        clean_train, clean_val = split_validation(data.x_train, validation_fraction)
        x_train, x_val = clean_train, clean_val
        if noise_std > 0:
            x_train = add_gaussian_noise(clean_train, noise_std, seed=model_seed + 1)
            x_val = add_gaussian_noise(clean_val, noise_std, seed=model_seed + 2)
        return training.fit(
            model, x_train, x_val, epochs=epochs, batch_size=settings["batch_size"],
            learning_rate=settings["learning_rate"], label=name,
            targets_train=clean_train if noise_std > 0 else None,
            targets_val=clean_val if noise_std > 0 else None,
            # The capacity objective moves its target C while training, so its validation losses
            # of different epochs are not comparable: keep the last epoch, at the end of the ramp.
            select_best=settings["model"].get("capacity") is None,
            strategy=strategy,
        )

    # Weights, optimizer slots (built on load) and metrics all live in the strategy's scope.
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model, history, _ = train_or_load(name, settings, build, train, data.tag, profile,
                                          retrain)
    return model, history
