"""Data-parallel training (tf.distribute.MirroredStrategy) on two logical CPU devices.

The devices must be configured before TensorFlow initialises, which the other test files have
done by the time this one runs, so the checks run once in a fresh interpreter
(``tests/distributed_checks.py``) and the tests below assert on the numbers it writes.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("distributed") / "results.json"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(HERE.parent / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    completed = subprocess.run([sys.executable, str(HERE / "distributed_checks.py"), str(out)],
                               capture_output=True, text=True, timeout=900, env=environment)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(out.read_text())


def _check(results, name):
    result = results[name]
    assert "error" not in result, f"{name}: {result.get('error', '')[:2000]}"
    return result


def test_two_logical_devices(results):
    assert results["logical_devices"] == 2


def test_steps_on_two_replicas_are_the_one_device_steps(results):
    """SGD, noise removed, 22 images in global batches of 16 (the second split unevenly): the
    same loss and the same update. Were each replica's mean loss used as it is, the summed
    gradients would be twice as large."""
    step = _check(results, "gradient_step")
    assert step["loss_2"] == pytest.approx(step["loss_1"], rel=1e-5)
    assert step["update_ratio"] == pytest.approx(1.0, abs=1e-4)
    assert step["relative_update_difference"] < 1e-4


def test_each_replica_draws_its_own_noise(results):
    noise = _check(results, "replica_noise")
    assert noise["max_abs_difference_between_replicas"] > 0.5  # same draws would give 0
    assert 0.5 < noise["noise_std"] < 1.5 and noise["one_device_draw_is_finite"]


def test_training_curves_match_within_the_noise(results):
    """Adam with the book's settings: two replicas follow the one-device ELBO curve (they differ
    by their sampling noise only, a few percent after a few hundred images)."""
    curves = _check(results, "training_curves")
    assert curves["max_relative_elbo_difference"] < 0.05
    assert curves["max_relative_val_elbo_difference"] < 0.05
    for replicas in ("1", "2"):
        elbo = curves["curves"][replicas]["elbo"]
        assert elbo[-1] > elbo[0] + 100  # both learn: a 4-epoch VAE gains > 100 nats


def test_weights_trained_under_a_strategy_save_and_load(results):
    saved = _check(results, "save_and_load")
    assert saved["plain_max_difference"] == 0.0  # loaded on one device
    assert saved["strategy_max_difference"] == 0.0  # loaded under the strategy
    assert saved["keras_file_max_difference"] == 0.0  # the whole model, .keras file


def test_model_cache_with_a_strategy(results):
    cache = _check(results, "model_cache")
    # 2 replicas, then 1 replica and no strategy sharing one entry: two entries in all.
    assert cache["entries"] == 2 and cache["replicas_in_keys"] == [1, 2]
    assert cache["loaded_max_difference"] == 0.0 and cache["loaded_under_strategy"]


def test_a_model_built_outside_the_scope_is_refused(results):
    refused = _check(results, "wrong_scope")
    assert refused["refused"] and "strategy.scope()" in refused["message"]


def test_images_on_disk_train_under_a_strategy(results):
    streamed = _check(results, "shards_under_strategy")
    # 96 images, 10% held out: 86 in batches of 16 (6 steps per epoch), two epochs.
    assert streamed["epochs"] == 2 and streamed["steps"] == 12
    assert streamed["elbo"][1] > streamed["elbo"][0]
