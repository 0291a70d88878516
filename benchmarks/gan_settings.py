"""Benchmark: which GAN settings beat the dense VAE's FID within Chapter 5's budget (2 CPU cores)?

**Question.** ``benchmarks/gan_vs_vae.py`` found the library's first GAN (``GANConfig()`` of the
time: G (64, 32), D (32, 64), Adam 2e-4 both, batch 64) at FID 223 after 20 epochs (11 s/epoch,
still improving) against the dense VAE's 158. Which settings (network width, learning rates,
batch size, epochs) bring the GAN below the VAE in at most about four minutes of training?

**Method.** The data and the evaluation classifier are the chapters' (``zoo.trained_model`` with
``ClassifierConfig()``, 20 epochs, cached in ``--cache``); each GAN is built by ``GANConfig`` and
trained by ``training.fit`` on the same 90 % of the training images as ``zoo`` uses, with a callback
that, every ``--every`` epochs, draws 1,000 samples (fixed noise) and scores them against the
test images' features (FID, precision/recall, coverage). The scoring time is not counted in the
epoch seconds. Every run is niced and shares 2 cores with other work, so seconds are upper bounds.

Usage::

    python benchmarks/gan_settings.py --runs base small small-lr --epochs 40 --out /tmp/gan
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import vaebook  # noqa: F401
import keras
import numpy as np

from vaebook import config, data, metrics, training, zoo
from vaebook.data import split_validation
from vaebook.models import ClassifierConfig, GANConfig

RUNS = {
    "base": (GANConfig(generator_filters=(64, 32), discriminator_filters=(32, 64),
                       d_learning_rate=2e-4, g_learning_rate=2e-4), 64),
    "small": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                        d_learning_rate=2e-4, g_learning_rate=2e-4), 64),
    "small-lr5": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                            d_learning_rate=5e-4, g_learning_rate=5e-4), 64),
    "base-lr5": (GANConfig(generator_filters=(64, 32), discriminator_filters=(32, 64),
                           d_learning_rate=5e-4, g_learning_rate=5e-4), 64),
    "small-lr10": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                             d_learning_rate=1e-3, g_learning_rate=1e-3), 64),
    "small-lr20": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                             d_learning_rate=2e-3, g_learning_rate=2e-3), 64),
    "base-lr20": (GANConfig(generator_filters=(64, 32), discriminator_filters=(32, 64),
                            d_learning_rate=2e-3, g_learning_rate=2e-3), 64),
    "small-lr30": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                             d_learning_rate=3e-3, g_learning_rate=3e-3), 64),
    "collapse-g1e2": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                                d_learning_rate=2e-3, g_learning_rate=2e-2), 64),
    "small-ttur": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                             d_learning_rate=4e-4, g_learning_rate=1e-4), 64),
    "small-b32": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                            d_learning_rate=2e-4, g_learning_rate=2e-4), 32),
    "small-b32-lr4": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                                d_learning_rate=4e-4, g_learning_rate=4e-4), 32),
    "mid-b32": (GANConfig(generator_filters=(48, 24), discriminator_filters=(24, 48),
                          d_learning_rate=2e-4, g_learning_rate=2e-4), 32),
    "collapse-d1e2": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                                d_learning_rate=1e-2, g_learning_rate=2e-4), 64),
    "collapse-lr3e3": (GANConfig(generator_filters=(32, 16), discriminator_filters=(16, 32),
                                 d_learning_rate=3e-3, g_learning_rate=3e-3), 64),
}


class Scorer(keras.callbacks.Callback):
    def __init__(self, classifier, reference, every, noise):
        super().__init__()
        self.classifier, self.reference, self.every, self.noise = classifier, reference, every, noise
        self.scores = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        samples = self.model.generate(self.noise)
        fake = metrics.features(self.classifier, samples)
        pr = metrics.precision_recall(self.reference, fake)
        coverage = metrics.mode_coverage(self.classifier.predict_classes(samples))
        row = {"epoch": epoch + 1, "fid": metrics.fid(self.reference, fake),
               "precision": pr.precision, "recall": pr.recall,
               "coverage_entropy": coverage.entropy, "coverage_tv": coverage.tv_to_uniform,
               "classes_covered": coverage.classes_covered,
               "d_accuracy_real": logs.get("d_accuracy_real"),
               "d_accuracy_fake": logs.get("d_accuracy_fake")}
        self.scores.append(row)
        print("SCORE", json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="full", choices=sorted(config.PROFILES))
    parser.add_argument("--runs", nargs="+", default=["small"], choices=sorted(RUNS))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--cache", default="/tmp/ch5_bench_cache")
    parser.add_argument("--out", type=Path, default=Path("/tmp/gan_settings"))
    args = parser.parse_args()
    os.environ[config.CACHE_DIR_ENV] = args.cache
    profile = config.get_profile(args.profile)
    mnist = data.load_mnist(n_train=profile.n_train, n_test=profile.n_test, binarize="threshold")
    # Trained once by the zoo, then kept here: the zoo's key holds the package's code version,
    # which every edit of the library changes.
    kept = Path(args.cache) / f"classifier-{profile.name}.weights.h5"
    if kept.exists():
        classifier = ClassifierConfig(image_shape=(28, 28, 1)).build()
        classifier.optimizer.build(classifier.trainable_variables)  # as zoo.train_or_load
        classifier.load_weights(kept)
    else:
        classifier, _ = zoo.trained_model("bench-classifier", mnist, profile,
                                          config=ClassifierConfig(), epochs=20)
        classifier.save_weights(kept)
    print("classifier accuracy", classifier.accuracy(mnist.x_test, mnist.y_test))
    reference = metrics.features(classifier, mnist.x_test)
    x_train, x_val = split_validation(mnist.x_train, 0.1)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.runs:
        gan_config, batch_size = RUNS[name]
        config.set_seed(gan_config.seed)
        gan = dataclasses.replace(gan_config, image_shape=(28, 28, 1)).build(
            steps_per_execution=training.DEFAULT_STEPS_PER_EXECUTION)
        noise = np.random.default_rng(1).standard_normal(
            (len(mnist.x_test), gan.latent_dim)).astype(np.float32)
        scorer = Scorer(classifier, reference, args.every, noise)
        start = time.perf_counter()
        history = training.fit(gan, x_train, x_val, epochs=args.epochs, batch_size=batch_size,
                               label=name, callbacks=[scorer])
        wall = time.perf_counter() - start
        result = {"run": name, "config": gan_config.as_dict(), "batch_size": batch_size,
                  "parameters": int(gan.count_params()), "wall_seconds": round(wall, 1),
                  "epoch_seconds": history["epoch_seconds"], "scores": scorer.scores,
                  "load_average": os.getloadavg()}
        (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
        print("RESULT", name, "params", result["parameters"], "median s/epoch",
              round(float(np.median(history["epoch_seconds"])), 2),
              "fids", [round(s["fid"], 1) for s in scorer.scores], flush=True)


if __name__ == "__main__":
    main()
