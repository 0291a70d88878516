"""Benchmark: how far the book's headline comparisons move when the models are trained again
from other seeds (training noise), for Chapters 4 and 6.

**Question.** Chapter 6 ranks the dense VAE, the beta-VAE (beta = 4), the convolutional VAE and the
GAN by sample scores, and Chapter 4 ranks the dense and the convolutional VAE by likelihood, each
from ONE trained model per family. How much of each gap is the family, and how much the seed that
training started from?

**Method.** Every model of Chapter 6's table, and Chapter 4's dense VAE (which keeps the
learning rate of best validation ELBO, where Chapter 6's keeps that of lowest validation FID), is
trained as the chapters train it (the same
``zoo.trained_model`` settings, the run profile's epochs, 10 % of the training images held out,
the best validation epoch kept) from ``--seeds`` seeds each (default 0, 1, 2), in a model cache of
its own. Each trained model is then scored exactly as Chapter 6 scores it: ``n_scored`` samples
(``seed=100``) against the first ``n_scored`` test images through one judge (the evaluation
classifier of Chapter 5, seed 0, the same for every model): FID, KID, precision and recall
(k = 3). A VAE is scored twice, as its decoder's pixel probabilities and as binary images drawn
from them (the data are binary). The VAEs also get Chapter 4's likelihood scores: the test ELBO
(10 samples of z per image, all test images) and the importance-weighted log p(x) with the
profile's largest K on the first ``min(n_eval, 100)`` test images.

For each score the spread over seeds (mean, sample standard deviation) is reported, and each
headline pair is compared with Welch's t-test over the seeds (unequal variances,
Welch-Satterthwaite degrees of freedom): with three seeds a side, "leads" needs p < 0.05 at
about 2 to 4 degrees of freedom, a high bar on purpose.

Usage (writes seed_spread.json and seed_spread.md to --out, default beside this file)::

    python benchmarks/seed_spread.py --profile full                 # what the chapters render
    python benchmarks/seed_spread.py --profile quick --out /tmp/ss  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import vaebook  # noqa: F401  (quiet TensorFlow import)
import numpy as np
from vaebook import config, data, metrics, stats, training, zoo
from vaebook.models import ClassifierConfig, GANConfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # provenance.py, beside this script
from provenance import commit, provenance  # noqa: E402
SAMPLE_SCORES = ("fid", "kid", "precision", "recall")
LIKELIHOOD_SCORES = ("test_elbo", "log_px")
# (first, second, score, form): the comparisons the chapters make
PAIRS = [("GAN", "conv VAE", "fid", "pixel probabilities"),
         ("GAN", "conv VAE", "fid", "binary draws"),
         ("GAN", "dense VAE", "fid", "pixel probabilities"),
         ("conv VAE", "dense VAE", "fid", "pixel probabilities"),
         ("conv VAE", "dense VAE (Chapter 4)", "log_px", None),
         ("conv VAE", "dense VAE (Chapter 4)", "test_elbo", None)]


def contestants(profile, n_train: int) -> dict:
    """The models of Chapters 4 and 6: name -> (cache name prefix, keyword arguments of
    zoo.trained_model without seed). "dense VAE" is Chapter 6's (the learning rate of lowest
    validation FID, for samples), "dense VAE (Chapter 4)" Chapter 4's (the rate of best
    validation ELBO, for likelihoods); benchmarks/validation_search.md chose both."""
    latent = 16
    vae_epochs = profile.epochs_for(n_train, "conv")  # Chapters 4 and 6 train both VAEs this long
    return {
        "dense VAE": ("seeds-dense-samples", dict(
            model_type="vae", latent_dim=latent, epochs=vae_epochs,
            learning_rate=training.DENSE_VAE_SAMPLE_LEARNING_RATE)),
        "dense VAE (Chapter 4)": ("seeds-dense", dict(model_type="vae", latent_dim=latent,
                                                      epochs=vae_epochs)),
        "β-VAE (β = 4)": ("seeds-β-vae", dict(model_type="vae", latent_dim=latent, beta=4.0,
                                              epochs=profile.epochs_for(n_train, "sweep"))),
        "conv VAE": ("seeds-conv", dict(model_type="vae", latent_dim=latent,
                                        architecture="conv", epochs=vae_epochs)),
        "GAN": ("seeds-gan", dict(epochs=profile.epochs_for(n_train, "gan"))),
    }


def welch(first: list[float], second: list[float]) -> dict:
    """Welch's t-test of two lists of per-seed values (vaebook.stats.welch): difference of
    means, t, df, p."""
    t, df, p = stats.welch(first, second)
    return {"difference": float(np.mean(first) - np.mean(second)), "t": t, "df": df, "p": p}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="full", choices=sorted(config.PROFILES))
    parser.add_argument("--seeds", default="0,1,2", help="training seeds, comma-separated")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "vaebook-seeds",
                        help="the benchmark's own model cache")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if len(seeds) < 2:
        parser.error("--seeds needs at least two seeds: a spread needs two values")
    profile = config.get_profile(args.profile)
    os.environ[config.CACHE_DIR_ENV] = str(args.cache)
    started, head = time.time(), commit()  # the code this run imports
    load = [os.getloadavg()[0]]
    mnist = data.load_mnist(n_train=profile.n_train, n_test=profile.n_test, binarize="threshold")
    n_train = len(mnist.x_train)
    classifier, _ = zoo.trained_model("ch5-classifier", mnist, profile,
                                      config=ClassifierConfig(),
                                      epochs=profile.epochs_for(n_train, "classifier"))
    n_scored = min(len(mnist.x_test), profile.n_scored)
    n_ll = min(profile.n_eval, 100)
    k_max = profile.iw_samples[-1]
    reference = metrics.features(classifier, mnist.x_test[:n_scored])

    def score(images):
        result = metrics.sample_quality(classifier, images, reference_features=reference,
                                        kid_subsets=50, kid_subset_size=n_scored // 2, seed=0)
        return {key: float(result[key]) for key in SAMPLE_SCORES}

    runs = []
    for name, (prefix, settings) in contestants(profile, n_train).items():
        for seed in seeds:
            begin = time.perf_counter()
            if name == "GAN":
                model, history = zoo.trained_model(f"{prefix}-seed{seed}", mnist, profile,
                                                   config=GANConfig(seed=seed), **settings)
            else:
                model, history = zoo.trained_model(f"{prefix}-seed{seed}", mnist, profile,
                                                   seed=seed, **settings)
            seconds = float(np.sum(history["epoch_seconds"]))
            samples = model.sample(n_scored, seed=100)
            row = {"model": name, "seed": seed, "epochs": len(history["epoch_seconds"]),
                   "train_seconds": round(seconds, 1)}
            if name == "GAN":
                row["scores"] = {"as sampled": score(samples)}
            else:
                rng = np.random.default_rng(seed)
                binary = (rng.random(samples.shape) < samples).astype(np.float32)
                row["scores"] = {"pixel probabilities": score(samples),
                                 "binary draws": score(binary)}
                row["test_elbo"] = float(np.mean(metrics.elbo_per_image(
                    model, mnist.x_test, num_samples=10, seed=0)))
                row["log_px"] = float(np.mean(metrics.iwae_bound(model, mnist.x_test[:n_ll],
                                                                 k_max, seed=0)))
            runs.append(row)
            print(f"{name}, seed {seed}: {row} ({time.perf_counter() - begin:.0f} s)", flush=True)
    load.append(os.getloadavg()[0])

    def values(name, score_name, form):
        out = []
        for row in runs:
            if row["model"] != name:
                continue
            if score_name in LIKELIHOOD_SCORES:
                out.append(row[score_name])
            else:
                scores = row["scores"]
                out.append(scores.get(form, scores.get("as sampled"))[score_name])
        return out

    summary = []
    for name in contestants(profile, n_train):
        forms = ["as sampled"] if name == "GAN" else ["pixel probabilities", "binary draws"]
        for form in forms:
            entry = {"model": name, "form": form}
            for score_name in SAMPLE_SCORES:
                v = values(name, score_name, form)
                entry[score_name] = {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)),
                                     "values": v}
            if name != "GAN" and form == "pixel probabilities":
                for score_name in LIKELIHOOD_SCORES:
                    v = values(name, score_name, form)
                    entry[score_name] = {"mean": float(np.mean(v)),
                                         "sd": float(np.std(v, ddof=1)), "values": v}
            summary.append(entry)
    tests = []
    for first, second, score_name, form in PAIRS:
        result = welch(values(first, score_name, form), values(second, score_name, form))
        tests.append({"first": first, "second": second, "score": score_name,
                      "form": form, **result})
    result = {
        "meta": {**provenance("seed_spread.py", argv, started, load, head),
                 "profile": profile.name, "data": mnist.description,
                 "data_source": mnist.source, "n_train": n_train, "n_test": len(mnist.x_test),
                 "n_scored": n_scored, "n_ll": n_ll, "k": k_max, "seeds": seeds,
                 "classifier_accuracy": float(classifier.accuracy(mnist.x_test, mnist.y_test))},
        "runs": runs, "summary": summary, "tests": tests}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "seed_spread.json").write_text(json.dumps(result, indent=2, ensure_ascii=False)
                                              + "\n")
    lines = [f"# Training-seed spread (`benchmarks/seed_spread.py`)", "",
             f"Generated by `{result['meta']['command']}` at commit {result['meta']['commit']} on "
             f"{result['meta']['date']}, {result['meta']['minutes']} min. Machine: "
             f"{result['meta']['machine']}. Data: {mnist.description}. Seeds {seeds}; "
             f"{n_scored} samples against {n_scored} test images; log p(x) with K = {k_max} on "
             f"{n_ll} test images. Mean ± sample sd over seeds.", "",
             "| model | form | FID | KID | precision | recall | test ELBO | log p(x) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for entry in summary:
        cell = lambda key, digits: (f"{entry[key]['mean']:.{digits}f} ± "  # noqa: E731
                                    f"{entry[key]['sd']:.{digits}f}" if key in entry else "–")
        lines.append(f"| {entry['model']} | {entry['form']} | {cell('fid', 1)} | "
                     f"{cell('kid', 3)} | {cell('precision', 2)} | {cell('recall', 2)} | "
                     f"{cell('test_elbo', 1)} | {cell('log_px', 1)} |")
    lines += ["", "| comparison | score | form | difference of means | Welch t | df | p |",
              "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for test in tests:
        t = "–" if test["t"] is None else f"{test['t']:.2f}"
        df = "–" if test["df"] is None else f"{test['df']:.1f}"
        lines.append(f"| {test['first']} − {test['second']} | {test['score']} | "
                     f"{test['form'] or '–'} | {test['difference']:.2f} | {t} | {df} | "
                     f"{test['p']:.3f} |")
    (args.out / "seed_spread.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
