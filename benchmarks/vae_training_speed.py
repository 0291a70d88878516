"""Benchmark: the book's VAE training defaults against the TensorFlow CVAE tutorial's loop.

The reference is written the way the official tutorial (tensorflow.org/tutorials/generative/cvae)
writes it: a ``tf.function``-compiled ``GradientTape`` step, batches of 32 from
``tf.data.Dataset.from_tensor_slices(...).shuffle(...).batch(32)``, Adam with learning rate 1e-4,
and a single-sample Monte Carlo ELBO (log p(x|z) + log p(z) - log q(z|x)). Both sides train the
*same* networks (``vaebook.models.build_encoder/build_decoder``, latent 16) on the same data, so the
comparison measures the training procedure, not the model family.

Measured, per architecture (dense and conv):

(a) training throughput, images per second (training time only; evaluation is not timed);
(b) training time until the test ELBO reaches the reference's test ELBO after its 60 epochs;
(c) test log-likelihood (importance-weighted bound, K samples) when both have trained for the same
    time: the reference's 60 epochs.

Both test ELBOs are computed by the same function, ``vaebook.metrics.elbo_per_image`` (closed-form
KL, one sample, fixed seed), after every epoch.

Usage (writes results.json and results.md beside this file)::

    python benchmarks/vae_training_speed.py               # 60 reference epochs, as specified
    python benchmarks/vae_training_speed.py --epochs 2 --n-ll 20 --k 10 --no-update-readme
                                                          # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import vaebook  # noqa: F401  (quiet TensorFlow import)
import keras
import tensorflow as tf

from vaebook import config, data, metrics, training
from vaebook.models import VAE, build_decoder, build_encoder

HERE = Path(__file__).resolve().parent
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"
LIBRARY_SETTINGS = (f"batch {training.DEFAULT_BATCH_SIZE}, Adam {training.DEFAULT_LEARNING_RATE:g}, "
                    f"{training.DEFAULT_STEPS_PER_EXECUTION} steps/call, best val. epoch")


def test_elbo(encoder, decoder, x_test):
    """Mean test ELBO, nats per image, same estimator for both sides."""
    elbo = metrics.elbo_per_image(VAE(encoder, decoder), x_test, num_samples=1, seed=0)
    return float(elbo.mean())


def train_reference(architecture, latent_dim, mnist, epochs, seed):
    """The TensorFlow CVAE tutorial's training loop, on the book's networks."""
    config.set_seed(seed)
    encoder = build_encoder(latent_dim, architecture)
    decoder = build_decoder(latent_dim, architecture)
    optimizer = keras.optimizers.Adam(1e-4)
    variables = encoder.trainable_variables + decoder.trainable_variables

    def log_normal_pdf(sample, mean, logvar, raxis=1):
        log2pi = tf.math.log(2.0 * np.pi)
        return tf.reduce_sum(
            -0.5 * ((sample - mean) ** 2.0 * tf.exp(-logvar) + logvar + log2pi), axis=raxis)

    def compute_loss(x):
        mean, logvar = encoder(x, training=True)
        eps = tf.random.normal(shape=tf.shape(mean))
        z = eps * tf.exp(logvar * 0.5) + mean
        x_logit = decoder(z, training=True)
        cross_ent = tf.nn.sigmoid_cross_entropy_with_logits(logits=x_logit, labels=x)
        logpx_z = -tf.reduce_sum(cross_ent, axis=[1, 2, 3])
        logpz = log_normal_pdf(z, 0.0, 0.0)
        logqz_x = log_normal_pdf(z, mean, logvar)
        return -tf.reduce_mean(logpx_z + logpz - logqz_x)

    @tf.function
    def train_step(x):
        with tf.GradientTape() as tape:
            loss = compute_loss(x)
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))

    dataset = (tf.data.Dataset.from_tensor_slices(mnist.x_train)
               .shuffle(len(mnist.x_train), seed=seed).batch(32))
    curve, elapsed = [], 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        for x in dataset:
            train_step(x)
        elapsed += time.perf_counter() - start
        curve.append((elapsed, test_elbo(encoder, decoder, mnist.x_test)))
        print(f"  reference {architecture} epoch {epoch + 1}: {elapsed:7.1f} s, "
              f"test ELBO {curve[-1][1]:.2f}", flush=True)
    return encoder, decoder, curve


class _TimedEvaluation(keras.callbacks.Callback):
    """Accumulates training time per epoch, evaluates the test ELBO off the clock, and stops
    before the next epoch would end past the time budget."""

    def __init__(self, x_test, budget_seconds, architecture):
        super().__init__()
        self.x_test, self.budget, self.architecture = x_test, budget_seconds, architecture
        self.elapsed, self.curve = 0.0, []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.elapsed += time.perf_counter() - self._start
        self.curve.append((self.elapsed, test_elbo(self.model.encoder, self.model.decoder,
                                                   self.x_test)))
        print(f"  vaebook   {self.architecture} epoch {epoch + 1}: {self.elapsed:7.1f} s, "
              f"test ELBO {self.curve[-1][1]:.2f}", flush=True)
        mean_epoch = self.elapsed / (epoch + 1)
        if self.elapsed + mean_epoch > self.budget:
            self.model.stop_training = True


def train_library(architecture, latent_dim, mnist, budget_seconds, seed):
    """The book's defaults, as ``zoo.trained_model`` uses them: ``training.fit`` with Adam 1e-3,
    batches of 64, 16 steps per compiled call, 10% of the training images held out for validation,
    and the best validation epoch kept."""
    config.set_seed(seed)
    vae = VAE(build_encoder(latent_dim, architecture), build_decoder(latent_dim, architecture),
              seed=seed)
    x_train, x_val = data.split_validation(mnist.x_train)
    timer = _TimedEvaluation(mnist.x_test, budget_seconds, architecture)
    history = training.fit(vae, x_train, x_val, epochs=10_000, lines=0, callbacks=[timer])
    return vae, timer.curve, history["best_epoch"]


def time_to_reach(curve, target):
    """First training time at which the test ELBO is at least ``target`` (None if never)."""
    return next((seconds for seconds, elbo in curve if elbo >= target), None)


def run(architecture, args, mnist):
    print(f"{architecture}: reference loop, {args.epochs} epochs", flush=True)
    ref_encoder, ref_decoder, ref_curve = train_reference(
        architecture, args.latent_dim, mnist, args.epochs, args.seed)
    ref_time, ref_elbo = ref_curve[-1]
    print(f"{architecture}: vaebook defaults, same training time ({ref_time:.0f} s)", flush=True)
    vae, lib_curve, best_epoch = train_library(architecture, args.latent_dim, mnist, ref_time,
                                               args.seed)
    lib_time, lib_elbo = lib_curve[-1]
    lib_reach = time_to_reach(lib_curve, ref_elbo)
    x_ll = mnist.x_test[:args.n_ll]
    ref_ll = float(metrics.iwae_bound(VAE(ref_encoder, ref_decoder), x_ll, args.k, seed=0).mean())
    lib_ll = float(metrics.iwae_bound(vae, x_ll, args.k, seed=0).mean())
    n_train = len(mnist.x_train)
    n_fit = len(data.split_validation(mnist.x_train)[0])  # the library trains on 90%
    return {
        "architecture": architecture,
        "reference": {"epochs": len(ref_curve), "train_seconds": ref_time, "test_elbo": ref_elbo,
                      "images_per_second": n_train * len(ref_curve) / ref_time,
                      "test_log_likelihood": ref_ll, "curve": ref_curve},
        "vaebook": {"epochs": len(lib_curve), "train_seconds": lib_time, "test_elbo": lib_elbo,
                    "images_per_second": n_fit * len(lib_curve) / lib_time,
                    "seconds_to_reference_elbo": lib_reach, "best_epoch": best_epoch,
                    "test_elbo_kept": test_elbo(vae.encoder, vae.decoder, mnist.x_test),
                    "test_log_likelihood": lib_ll, "curve": lib_curve},
        "time_ratio": None if lib_reach is None else lib_reach / ref_time,
        "throughput_ratio": (n_fit * len(lib_curve) / lib_time)
        / (n_train * len(ref_curve) / ref_time),
        "log_likelihood_gain": lib_ll - ref_ll,
    }


def write_markdown(results, meta, path):
    lines = [
        "# Results: vaebook defaults vs the TensorFlow CVAE tutorial loop",
        "",
        f"Generated by `{meta['command']}` on {meta['date']}.",
        f"Machine: {meta['machine']}. TensorFlow {meta['tensorflow']}, Keras {meta['keras']}.",
        f"Data: {meta['data']}. Latent size {meta['latent_dim']}; test log-likelihood is the "
        f"importance-weighted bound with K = {meta['k']} on the first {meta['n_ll']} test images.",
        "",
        "| architecture | side | epochs | train s | images/s | test ELBO, last epoch "
        "| s to reference ELBO | epoch kept | test ELBO, kept | test log p(x), kept |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        ref, lib = r["reference"], r["vaebook"]
        reach = "n/a" if lib["seconds_to_reference_elbo"] is None else \
            f"{lib['seconds_to_reference_elbo']:.1f}"
        lines.append(f"| {r['architecture']} | reference (batch 32, Adam 1e-4) | {ref['epochs']} | "
                     f"{ref['train_seconds']:.1f} | {ref['images_per_second']:.0f} | "
                     f"{ref['test_elbo']:.2f} | {ref['train_seconds']:.1f} | {ref['epochs']} | "
                     f"{ref['test_elbo']:.2f} | {ref['test_log_likelihood']:.2f} |")
        lines.append(f"| {r['architecture']} | vaebook ({LIBRARY_SETTINGS}) | {lib['epochs']} | "
                     f"{lib['train_seconds']:.1f} | {lib['images_per_second']:.0f} | "
                     f"{lib['test_elbo']:.2f} | {reach} | {lib['best_epoch']} | "
                     f"{lib['test_elbo_kept']:.2f} | {lib['test_log_likelihood']:.2f} |")
    lines += ["", "| architecture | (a) throughput ratio | (b) time to reference ELBO, ratio "
              "(goal <= 0.33) | (c) log-likelihood gain at equal time, nats |",
              "| --- | --- | --- | --- |"]
    for r in results:
        ratio = "never reached" if r["time_ratio"] is None else f"{r['time_ratio']:.3f}"
        lines.append(f"| {r['architecture']} | {r['throughput_ratio']:.2f} | {ratio} | "
                     f"{r['log_likelihood_gain']:+.2f} |")
    path.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=60, help="reference epochs (default 60)")
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--k", type=int, default=1000, help="importance samples for log p(x)")
    parser.add_argument("--n-ll", type=int, default=500, help="test images for log p(x)")
    parser.add_argument("--architectures", default="dense,conv")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--update-readme", action=argparse.BooleanOptionalAction, default=True,
                        help="replace the results block of benchmarks/README.md")
    args = parser.parse_args()
    mnist = data.load_mnist(binarize="threshold")
    results = [run(a, args, mnist) for a in args.architectures.split(",")]
    meta = {
        "command": "python benchmarks/vae_training_speed.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
            if k not in ("out", "update_readme")),
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, "
        f"{os.cpu_count()} CPU cores, {platform.processor() or platform.platform()}",
        "tensorflow": tf.__version__, "keras": keras.__version__,
        "data": mnist.description, "latent_dim": args.latent_dim, "k": args.k, "n_ll": args.n_ll,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "results": results},
                                                      indent=2))
    write_markdown(results, meta, args.out / "results.md")
    table = (args.out / "results.md").read_text()
    if args.update_readme:
        readme = HERE / "README.md"
        text = readme.read_text()
        head, rest = text.split(README_START, 1)
        _, tail = rest.split(README_END, 1)
        body = table.split("\n", 2)[2]  # drop the results page's own title
        readme.write_text(f"{head}{README_START}\n{body}{README_END}{tail}")
    print(table)


if __name__ == "__main__":
    main()
