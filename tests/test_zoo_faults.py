"""The model cache under the faults a classroom meets: damaged entries, a read-only cache, two
processes saving the same model (vaebook.zoo.train_or_load), with real files."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vaebook import config, zoo
from vaebook.models import build_model
from vaebook import training

QUICK = config.get_profile("quick")
SETTINGS = {"latent_dim": 2}


def build(settings):
    return training.compile_model(build_model("autoencoder", **settings))


def train(model):
    model.set_weights([w + 0.5 for w in model.get_weights()])  # "trained": not the initial weights
    return {"loss": [1.0]}


def entry(cache_dir):
    (folder,) = [p for p in cache_dir.iterdir() if p.is_dir()]
    return folder


def test_saved_entry_loads_with_its_checksum(cache_dir, capsys):
    model, _, loaded = zoo.train_or_load("ae", SETTINGS, build, train, "tag", QUICK)
    assert not loaded
    record = json.loads((entry(cache_dir) / "config.json").read_text())
    assert len(record["weights_sha256"]) == 64
    again, _, loaded = zoo.train_or_load("ae", SETTINGS, build, train, "tag", QUICK)
    assert loaded
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("damage", ["cut", "corrupt", "history", "cut-unchecked"])
def test_a_damaged_entry_is_named_and_trained_again(cache_dir, capsys, damage):
    zoo.train_or_load("ae", SETTINGS, build, train, "tag", QUICK)
    folder = entry(cache_dir)
    weights = folder / "model.weights.h5"
    content = weights.read_bytes()
    if damage.startswith("cut"):  # an interrupted copy
        weights.write_bytes(content[: len(content) // 2])
    if damage == "cut-unchecked":  # an entry written before checksums: the failed load tells
        record = json.loads((folder / "config.json").read_text())
        del record["weights_sha256"]
        (folder / "config.json").write_text(json.dumps(record))
    if damage == "corrupt":  # same size, other bytes: only the checksum sees it
        middle = len(content) // 2
        weights.write_bytes(content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1:])
    if damage == "history":
        (folder / "history.json").write_text("{not json")
    capsys.readouterr()
    model, history, loaded = zoo.train_or_load("ae", SETTINGS, build, train, "tag", QUICK)
    out = capsys.readouterr().out
    assert not loaded and history == {"loss": [1.0]}
    assert "damaged" in out and str(folder) in out and "ae" in out
    # the entry was replaced by a good one
    _, _, loaded = zoo.train_or_load("ae", SETTINGS, build, train, "tag", QUICK)
    assert loaded


def test_a_read_only_cache_returns_the_trained_model(cache_dir, capsys, monkeypatch):
    cache_dir.mkdir(parents=True)
    if os.geteuid() != 0:  # a real read-only folder (root writes through permissions)
        cache_dir.chmod(0o555)
    else:  # as root, a failed write is what a read-only mount gives
        real = Path.write_bytes

        def read_only(self, data):
            if self.parent == cache_dir:
                raise OSError(30, "Read-only file system")
            return real(self, data)

        monkeypatch.setattr(Path, "write_bytes", read_only)
    calls = []
    try:
        model, history, loaded = zoo.train_or_load(
            "ae", SETTINGS, build, lambda m: calls.append(1) or train(m), "tag", QUICK)
    finally:
        cache_dir.chmod(0o755)
    out = capsys.readouterr().out
    assert calls == [1] and not loaded and history == {"loss": [1.0]}
    assert "cannot be written" in out and "VAEBOOK_CACHE_DIR" in out
    assert not [p for p in cache_dir.iterdir() if p.is_dir()]


def test_two_processes_wanting_one_model_train_it_once(tmp_path):
    # Two notebooks side by side (make book): the second waits for the first's entry, then loads it.
    script = textwrap.dedent("""
        import os, sys, time
        os.environ["VAEBOOK_CACHE_DIR"] = sys.argv[1]
        from vaebook import config, training, zoo
        from vaebook.models import build_model
        def build(s):
            return training.compile_model(build_model("autoencoder", **s))
        def train(m):
            print("trained")
            time.sleep(3)  # long enough for the other process to ask for the entry meanwhile
            m.set_weights([w + 0.5 for w in m.get_weights()])
            return {"loss": [1.0]}
        zoo.train_or_load("ae", {"latent_dim": 2}, build, train, "tag", config.get_profile("quick"))
        print("done")
    """)
    outputs = run_twice_at_once(script, tmp_path / "zoo")
    assert sum(out.count("trained") for out in outputs) == 1
    assert sum(out.count("loaded ae from cache") for out in outputs) == 1
    assert_one_complete_entry(tmp_path / "zoo")


def test_without_a_lock_two_processes_saving_one_model_leave_one_entry(tmp_path):
    # Where processes cannot coordinate (no fcntl), both train: their saves must not mix.
    script = textwrap.dedent("""
        import contextlib, os, sys, time
        os.environ["VAEBOOK_CACHE_DIR"] = sys.argv[1]
        from vaebook import config, training, zoo
        from vaebook.models import build_model
        zoo._entry_lock = lambda folder, name: contextlib.nullcontext()  # as without fcntl
        def build(s):
            return training.compile_model(build_model("autoencoder", **s))
        def train(m):
            time.sleep(3)  # both processes are training when either saves
            m.set_weights([w + 0.5 for w in m.get_weights()])
            return {"loss": [1.0]}
        zoo.train_or_load("ae", {"latent_dim": 2}, build, train, "tag", config.get_profile("quick"))
        print("done")
    """)
    outputs = run_twice_at_once(script, tmp_path / "zoo")
    assert_one_complete_entry(tmp_path / "zoo")


def run_twice_at_once(script: str, cache: Path) -> list[str]:
    """Run ``script`` in two Python processes at once with the model cache ``cache``; their
    outputs, once both have exited 0 and printed "done"."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    runs = [subprocess.Popen([sys.executable, "-c", script, str(cache)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, err[-2000:]
        assert "done" in out
    return [out for out, _ in outputs]


def assert_one_complete_entry(cache: Path) -> None:
    entries = [p for p in cache.iterdir() if p.is_dir()]
    assert len(entries) == 1 and not entries[0].name.count(".partial-")
    record = json.loads((entries[0] / "config.json").read_text())
    assert zoo._sha256(entries[0] / "model.weights.h5") == record["weights_sha256"]
