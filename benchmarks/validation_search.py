"""Benchmark: the settings of the models that Chapters 4-6 rank, chosen on validation images by one
search that every family gets alike.

**Question.** Which learning rate, width and number of epochs should the dense VAE, the
convolutional VAE and the GAN train with, if the choice may look only at images that no reported
score uses, and each family gets the same search?

**Protocol** (written before the run; issue 20):

- Data: the chapters' training split (``load_mnist`` as the chapters call it), cut as
  :func:`vaebook.zoo.trained_model` cuts it: the first 90 % train, the last 10 % (the
  *validation* images) score. The test split is never loaded into a score, so the test numbers of
  the chapters stay honest.
- Space, the same for every family: Adam's learning rate in {3e-4, 1e-3, 3e-3} (both of the GAN's
  optimizers alike) x width in {the book's widths, half of them} (dense VAE: 512/256 or 256/128
  units; conv VAE: 32/64 or 16/32 filters; GAN: G 32/16 and D 16/32 filters, or half), six trials
  per family, one training seed (0) each.
- Budget, the same for every family: the largest of the profile's epochs for these models (full
  profile, offline subset: 40 epochs of 3,600 images, 144,000 images seen), batch 64. A trial is
  scored at four checkpoints (a quarter, half, three quarters and all of the budget), as the book
  would train it with that budget: a VAE with the weights of its best validation-ELBO epoch so far
  (the book's :class:`vaebook.training.BestWeights`), a GAN with its current weights (it has no
  validation loss to select on).
- Score, the same for every family: the FID of as many samples as there are validation images
  (``seed=100``) against the validation images, through the book's evaluation classifier (Chapter
  5's judge, trained on the same 90 %). VAE samples are scored as the decoder's pixel
  probabilities, as Chapter 6's main table shows them. The validation ELBO of the VAEs is recorded
  beside it.
- Choice: per family, the (rate, width, epochs) of lowest validation FID. Settings whose validation
  FID lies within the checkpoint-to-checkpoint noise of the best are reported, not re-ranked.

Usage (writes validation_search.json and validation_search.md to --out, default beside this
file)::

    python benchmarks/validation_search.py --profile full                 # what the chapters cite
    python benchmarks/validation_search.py --profile quick --out /tmp/vs  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import vaebook  # noqa: F401  (quiet TensorFlow import)
import keras
import numpy as np

from vaebook import config, data, metrics, training, zoo
from vaebook.models import ClassifierConfig, GANConfig, VAEConfig
from vaebook.models.builders import CONV_FILTERS, DENSE_HIDDEN_UNITS
from vaebook.models.gan import CONFIG_DISCRIMINATOR_FILTERS, CONFIG_GENERATOR_FILTERS

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # provenance.py, beside this script
from provenance import commit, provenance  # noqa: E402
RATES = (3e-4, 1e-3, 3e-3)
LATENT_DIM = 16  # the VAEs of Chapters 4-6
SEED = 0


def half(widths):
    return tuple(max(1, w // 2) for w in widths)


def families() -> dict:
    """Family -> list of (width label, width settings): the book's widths, then half of them."""
    gan_book = (CONFIG_GENERATOR_FILTERS, CONFIG_DISCRIMINATOR_FILTERS)
    return {
        "dense VAE": [("book", DENSE_HIDDEN_UNITS), ("half", half(DENSE_HIDDEN_UNITS))],
        "conv VAE": [("book", CONV_FILTERS), ("half", half(CONV_FILTERS))],
        "GAN": [("book", gan_book), ("half", (half(gan_book[0]), half(gan_book[1])))],
    }


def build(family: str, widths, rate: float):
    """A new, compiled model of ``family`` (weights from seed 0)."""
    config.set_seed(SEED)
    if family == "GAN":
        return GANConfig(generator_filters=widths[0], discriminator_filters=widths[1],
                         d_learning_rate=rate, g_learning_rate=rate, seed=SEED).build(
            steps_per_execution=training.DEFAULT_STEPS_PER_EXECUTION)
    kind = "dense" if family == "dense VAE" else "conv"
    model = VAEConfig(latent_dim=LATENT_DIM, kind=kind, widths=widths, seed=SEED).build()
    return training.compile_model(model, rate)


class Checkpoints(keras.callbacks.Callback):
    """Scores the model as the book would train it with a budget of each checkpoint's epochs."""

    def __init__(self, checkpoints, score, select_best: bool):
        super().__init__()
        self.checkpoints, self.score, self.select_best = set(checkpoints), score, select_best
        self.best_loss, self.best_weights, self.best_epoch = np.inf, None, None
        self.rows = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        loss = logs.get("val_loss")
        if self.select_best and loss is not None and loss < self.best_loss:
            self.best_loss, self.best_epoch = float(loss), epoch + 1
            self.best_weights = self.model.get_weights()
        if epoch + 1 not in self.checkpoints:
            return
        row = {"epochs": epoch + 1}
        if self.select_best and self.best_weights is not None:
            current = self.model.get_weights()
            self.model.set_weights(self.best_weights)
            row.update(self.score(self.model), best_epoch=self.best_epoch,
                       val_elbo=-self.best_loss)
            self.model.set_weights(current)
        else:
            row.update(self.score(self.model))
        self.rows.append(row)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="full", choices=sorted(config.PROFILES))
    parser.add_argument("--families", default=",".join(families()),
                        help="comma-separated subset of the families (default: all)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "vaebook",
                        help="model cache of the judge (the book's, so it is trained once)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="budget in epochs (default: the profile's largest for these models; "
                             "a smaller one only to try the script)")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    chosen_families = [name.strip() for name in args.families.split(",")]
    unknown = sorted(set(chosen_families) - set(families()))
    if unknown:
        parser.error(f"unknown families {unknown}; expected some of {list(families())}")
    profile = config.get_profile(args.profile)
    os.environ[config.CACHE_DIR_ENV] = str(args.cache)
    started, head = time.time(), commit()  # the code this run imports
    load = [os.getloadavg()[0]]
    mnist = data.load_mnist(n_train=profile.n_train, n_test=profile.n_test, binarize="threshold")
    n_train = len(mnist.x_train)
    x_fit, x_val = data.split_validation(mnist.x_train, 0.1)  # as zoo.trained_model splits
    judge, _ = zoo.trained_model("ch5-classifier", mnist, profile, config=ClassifierConfig(),
                                 epochs=profile.epochs_for(n_train, "classifier"))
    reference = metrics.features(judge, x_val)
    budget = args.epochs or max(profile.epochs_for(n_train, kind)
                                for kind in ("main", "conv", "gan"))
    checkpoints = sorted({max(1, round(budget * q / 4)) for q in (1, 2, 3, 4)})

    def score(model):
        samples = model.sample(len(x_val), seed=100)
        return {"val_fid": float(metrics.fid(reference, metrics.features(judge, samples)))}

    trials = []
    for family in chosen_families:
        for width_label, widths in families()[family]:
            for rate in RATES:
                begin = time.perf_counter()
                model = build(family, widths, rate)
                keeper = Checkpoints(checkpoints, score, select_best=family != "GAN")
                try:
                    history = training.fit(model, x_fit, x_val, epochs=budget,
                                           select_best=False, callbacks=[keeper], lines=0,
                                           label=f"{family} {width_label} {rate:g}")
                    seconds = float(np.sum(history["epoch_seconds"]))
                    failed = None
                except training.TrainingDiverged as error:  # a diverged trial is a result
                    seconds, failed = time.perf_counter() - begin, str(error).splitlines()[0]
                trial = {"family": family, "width": width_label,
                         "widths": json.loads(json.dumps(widths)), "learning_rate": rate,
                         "parameters": int(model.count_params()) if family != "GAN" else int(
                             model.generator.count_params() + model.discriminator.count_params()),
                         "train_seconds": round(seconds, 1), "diverged": failed,
                         "checkpoints": keeper.rows}
                trials.append(trial)
                print(f"{family} {width_label} lr={rate:g}: "
                      + ", ".join(f"{r['epochs']}: {r['val_fid']:.1f}" for r in keeper.rows)
                      + f" ({time.perf_counter() - begin:.0f} s)", flush=True)
    load.append(os.getloadavg()[0])

    choices = {}
    for family in chosen_families:
        rows = [(row["val_fid"], trial, row) for trial in trials if trial["family"] == family
                for row in trial["checkpoints"] if np.isfinite(row["val_fid"])]
        best_fid, trial, row = min(rows, key=lambda item: item[0])
        choices[family] = {"width": trial["width"], "widths": trial["widths"],
                           "learning_rate": trial["learning_rate"], "epochs": row["epochs"],
                           "images_seen": row["epochs"] * len(x_fit), "val_fid": best_fid}
    result = {
        "meta": {**provenance("validation_search.py", argv, started, load, head),
                 "profile": profile.name, "data": mnist.description,
                 "data_source": mnist.source, "n_fit": len(x_fit), "n_val": len(x_val),
                 "budget_epochs": budget, "checkpoints": checkpoints, "rates": list(RATES),
                 "seed": SEED, "batch_size": training.DEFAULT_BATCH_SIZE},
        "trials": trials, "choices": choices}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "validation_search.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    meta = result["meta"]
    lines = ["# Validation search (`benchmarks/validation_search.py`)", "",
             f"Generated by `{meta['command']}` at commit {meta['commit']} on {meta['date']}, "
             f"{meta['minutes']} min. Machine: {meta['machine']}. Data: {mnist.description}; "
             f"{len(x_fit)} training images, scored on the {len(x_val)} validation images (the "
             f"last 10 % of the training split; the test split is not scored). Seed {SEED}, "
             f"batch {training.DEFAULT_BATCH_SIZE}, a budget of {budget} epochs "
             f"({budget * len(x_fit):,} images seen) for every family, scored at epochs "
             f"{checkpoints}. The protocol is the docstring of the script.", "",
             "Validation FID (lower is better; VAEs: pixel probabilities, the weights of the "
             "best validation-ELBO epoch so far; GAN: its weights at that epoch):", "",
             "| family | width | widths | parameters | learning rate | "
             + " | ".join(f"FID at {e}" for e in checkpoints) + " | val ELBO at "
             f"{checkpoints[-1]} | seconds |",
             "| --- | --- | --- | ---: | ---: | " + " | ".join("---:" for _ in checkpoints)
             + " | ---: | ---: |"]
    for trial in trials:
        by_epoch = {row["epochs"]: row for row in trial["checkpoints"]}
        cells = [f"{by_epoch[e]['val_fid']:.1f}" if e in by_epoch else "–" for e in checkpoints]
        last = by_epoch.get(checkpoints[-1], {})
        elbo = f"{last['val_elbo']:.1f}" if "val_elbo" in last else "–"
        note = f" (diverged: {trial['diverged']})" if trial["diverged"] else ""
        lines.append(f"| {trial['family']} | {trial['width']} | {trial['widths']} | "
                     f"{trial['parameters']:,} | {trial['learning_rate']:g} | "
                     + " | ".join(cells) + f" | {elbo} | {trial['train_seconds']:.0f}{note} |")
    lines += ["", "The choice (lowest validation FID of each family):", "",
              "| family | width | learning rate | epochs | images seen | validation FID |",
              "| --- | --- | ---: | ---: | ---: | ---: |"]
    for family, choice in choices.items():
        lines.append(f"| {family} | {choice['width']} {choice['widths']} | "
                     f"{choice['learning_rate']:g} | {choice['epochs']} | "
                     f"{choice['images_seen']:,} | {choice['val_fid']:.1f} |")
    (args.out / "validation_search.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
