"""Benchmark: how Chapters 5-6 can size the GAN and the VAE-versus-GAN comparison on 2 CPU cores.

**Question.** With the library's GAN (``GANConfig()``), evaluation classifier
(``ClassifierConfig()``) and VAEs trained by ``vaebook.zoo``, on the data of a run profile: does
the classifier reach 97 % test accuracy, is the GAN's FID below the VAEs', is every model's FID
above the floor of the data itself (test against training images), and how many seconds does
each model take?

**Method.** Every model is trained the way the chapters train it, by ``zoo.trained_model`` (10 %
of the training images held out), in a fresh temporary model cache, so every one is trained and
timed here. On binarised MNIST (the VAEs' Bernoulli likelihood needs binary pixels, so the GAN
and the classifier see the same images). Then, as many samples as there are test images are
scored against the test images through the classifier's features (``metrics.sample_quality``:
FID, KID over 50 subsets, precision/recall with k = 3, mode coverage). A VAE is scored twice:
its decoder's mean images (pixel probabilities) and binary images drawn from them. The floor
scores training images (as many as the test set) the same way.

Usage (writes gan_vs_vae_results.json and .md to --out, default beside this file)::

    python benchmarks/gan_vs_vae.py --profile quick --gan-epochs 5 --out /tmp/gan   # quick look
    python benchmarks/gan_vs_vae.py --profile full                                  # the sizes
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import vaebook  # noqa: F401  (quiet TensorFlow import)
import numpy as np

from vaebook import config, data, metrics, zoo
from vaebook.models import ClassifierConfig, GANConfig

HERE = Path(__file__).resolve().parent


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick", choices=sorted(config.PROFILES))
    parser.add_argument("--classifier-epochs", type=int, default=15)
    parser.add_argument("--gan-epochs", type=int, default=10)
    parser.add_argument("--vae-epochs", type=int, default=None,
                        help="default: the profile's epochs")
    parser.add_argument("--conv-vae-epochs", type=int, default=0,
                        help="0: no convolutional VAE")
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    profile = config.get_profile(args.profile)
    load_start = os.getloadavg()[0]
    mnist = data.load_mnist(n_train=profile.n_train, n_test=profile.n_test, binarize="threshold")
    with tempfile.TemporaryDirectory() as cache:
        os.environ[config.CACHE_DIR_ENV] = cache
        (classifier, clf_history), clf_seconds = timed(lambda: zoo.trained_model(
            "bench-classifier", mnist, profile, config=ClassifierConfig(),
            epochs=args.classifier_epochs))
        accuracy = classifier.accuracy(mnist.x_test, mnist.y_test)
        print(f"classifier: test accuracy {accuracy:.4f} ({clf_seconds:.0f} s)")
        models = {}
        (gan, gan_history), seconds = timed(lambda: zoo.trained_model(
            "bench-gan", mnist, profile, config=GANConfig(), epochs=args.gan_epochs))
        models["GAN"] = (gan, gan_history, seconds, args.gan_epochs)
        vae_epochs = profile.epochs if args.vae_epochs is None else args.vae_epochs
        (vae, history), seconds = timed(lambda: zoo.trained_model(
            "bench-vae", mnist, profile, model_type="vae", latent_dim=args.latent_dim,
            epochs=vae_epochs))
        models["dense VAE"] = (vae, history, seconds, vae_epochs)
        if args.conv_vae_epochs:
            (conv, history), seconds = timed(lambda: zoo.trained_model(
                "bench-conv-vae", mnist, profile, model_type="vae", latent_dim=args.latent_dim,
                architecture="conv", epochs=args.conv_vae_epochs))
            models["conv VAE"] = (conv, history, seconds, args.conv_vae_epochs)

    n = len(mnist.x_test)
    reference = metrics.features(classifier, mnist.x_test)
    score = lambda images: metrics.sample_quality(  # noqa: E731
        classifier, images, reference_features=reference, kid_subsets=50,
        kid_subset_size=min(1000, n // 2))  # subsets smaller than the sets, so they differ
    rows = [{"model": "data floor (train vs test)", **score(mnist.x_train[:n])}]
    rng = np.random.default_rng(0)
    for name, (model, history, seconds, epochs) in models.items():
        samples = model.sample(n, seed=1)
        timing = {"epochs": epochs, "train_seconds": round(seconds, 1),
                  "seconds_per_epoch": round(float(np.mean(history["epoch_seconds"][1:] or
                                                           history["epoch_seconds"])), 2),
                  "parameters": int(model.count_params())}
        if name == "GAN":
            rows.append({"model": name, **score(samples), **timing})
        else:
            rows.append({"model": f"{name} (mean images)", **score(samples), **timing})
            binary = (rng.random(samples.shape) < samples).astype(np.float32)
            rows.append({"model": f"{name} (Bernoulli draws)", **score(binary), **timing})
    load_end = os.getloadavg()[0]
    result = {"profile": profile.name, "data": mnist.description,
              "classifier": {"test_accuracy": accuracy, "epochs": args.classifier_epochs,
                             "best_epoch": clf_history.get("best_epoch"),
                             "train_seconds": round(clf_seconds, 1)},
              "gan_final": {key: gan_history[key][-1] for key in
                            ("d_loss", "g_loss", "d_accuracy_real", "d_accuracy_fake")},
              "rows": rows, "load_average": [load_start, load_end]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gan_vs_vae_results.json").write_text(json.dumps(result, indent=2))
    columns = ["model", "fid", "kid", "kid_std", "precision", "recall", "coverage_entropy",
               "coverage_tv", "classes_covered", "epochs", "train_seconds", "seconds_per_epoch",
               "parameters"]
    lines = [f"Profile {profile.name}: {mnist.description}; classifier test accuracy "
             f"{accuracy:.4f} ({args.classifier_epochs} epochs, {clf_seconds:.0f} s); load "
             f"average {load_start:.1f} -> {load_end:.1f}", "",
             "| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        cells = [row.get(column, "") for column in columns]
        lines.append("| " + " | ".join(f"{c:.4g}" if isinstance(c, float) else str(c)
                                       for c in cells) + " |")
    (args.out / "gan_vs_vae_results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
