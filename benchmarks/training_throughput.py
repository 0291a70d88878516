"""Benchmark: where the book's training time can come from (issue 22's levers, throughput only).

**Question.** The full book spends most of its time training (2,830 of 3,778 notebook seconds at
fea1401: see ``full_profile_times.md``). How many images per second does each model kind of the
book train at, with the book's settings (batch 64, ``steps_per_execution`` 16, no XLA), and how
many with larger batches or with XLA compilation of the train step (``jit_compile=True``, which
Keras leaves off on a CPU-only machine)? This is throughput only: a larger batch takes fewer steps
per epoch, and whether it reaches the same quality in fewer seconds (with a scaled learning rate)
is a second question, for a benchmark that trains to quality over several seeds.

**Method.** For each model kind (the dense and the convolutional VAE on MNIST, the convolutional
VAE on 32 x 32 shapes, the GAN and the evaluation classifier of Chapter 5), each batch size and
XLA off/on: build the model from its config (``training.compile_model`` for the VAEs, the
configs' ``build`` for the GAN and the classifier), train one epoch on ``--n-train`` binary images
(the first epoch: tracing and compilation included, reported apart), then ``--epochs`` epochs on
the clock. Images per second = images x epochs / seconds. Weights and data are the same for every
setting of a kind (seed 0).

Usage (writes training_throughput.json and .md to --out, default beside this file)::

    python benchmarks/training_throughput.py                  # the numbers in the .md
    python benchmarks/training_throughput.py --epochs 1 --n-train 512 --out /tmp/tt  # smoke
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
from vaebook import config, data, shapes, training
from vaebook.models import ClassifierConfig, GANConfig, VAEConfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # provenance.py, beside this script
from provenance import commit, provenance  # noqa: E402

KINDS = ("dense VAE", "conv VAE", "shapes conv VAE", "GAN", "classifier")


def build(kind: str, jit: bool):
    """A fresh model of ``kind``, compiled as the zoo compiles it (XLA on or off)."""
    config.set_seed(0)
    if kind in ("dense VAE", "conv VAE", "shapes conv VAE"):
        settings = {"dense VAE": {"kind": "dense"}, "conv VAE": {"kind": "conv"},
                    "shapes conv VAE": {"kind": "conv", "image_shape": (32, 32, 1)}}[kind]
        model = training.compile_model(VAEConfig(latent_dim=16, **settings).build())
    elif kind == "GAN":
        model = GANConfig().build(steps_per_execution=training.DEFAULT_STEPS_PER_EXECUTION)
    else:
        model = ClassifierConfig().build(steps_per_execution=training.DEFAULT_STEPS_PER_EXECUTION)
    model.jit_compile = jit  # Keras falls back to False (with a warning) where XLA cannot run
    return model


def images_for(kind: str, mnist, shape_images):
    return shape_images if kind == "shapes conv VAE" else mnist.x_train


def run(kind, batch_size, jit, x, y, epochs):
    model = build(kind, jit)
    targets = {"targets_train": y} if kind == "classifier" else {}
    started = time.perf_counter()
    training.fit(model, x, epochs=1, batch_size=batch_size, lines=0, select_best=False, **targets)
    first = time.perf_counter() - started
    started = time.perf_counter()
    training.fit(model, x, epochs=epochs, batch_size=batch_size, lines=0, select_best=False,
                 **targets)
    seconds = time.perf_counter() - started
    # "xla": what ran; "xla_requested": what was asked (Keras runs without XLA where it cannot)
    return {"kind": kind, "batch_size": batch_size, "xla_requested": jit,
            "xla": bool(model.jit_compile),
            "first_epoch_s": round(first, 2),
            "epoch_s": round(seconds / epochs, 3),
            "images_per_s": round(len(x) * epochs / seconds, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per setting")
    parser.add_argument("--n-train", type=int, default=3600,
                        help="training images (3,600: the subset's 4,000 less the validation 10%%)")
    parser.add_argument("--batch-sizes", default="64,128,256")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    started, head, load = time.time(), commit(), list(os.getloadavg())
    mnist = data.load_mnist(n_train=args.n_train, n_test=100, binarize="threshold")
    shape_images = shapes.load_shapes(n_train=args.n_train, n_test=1, image_size=32,
                                      seed=0).x_train
    rows = []
    for kind in args.kinds.split(","):
        x = images_for(kind, mnist, shape_images)
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            for jit in (False, True):
                row = run(kind, batch_size, jit, x, mnist.y_train, args.epochs)
                print(row, flush=True)
                rows.append(row)
    meta = provenance("training_throughput.py", argv, started,
                      load + list(os.getloadavg()), head)
    meta.update(data=mnist.description, n_train=args.n_train, epochs=args.epochs)
    report(meta, rows, args.out)


def report(meta: dict, rows: list[dict], out: Path) -> None:
    """Write training_throughput.json and .md to ``out``: each row's speed against the book's
    setting of its kind (batch 64, XLA not asked for)."""
    base = {row["kind"]: row["images_per_s"] for row in rows
            if row["batch_size"] == 64 and not row["xla_requested"]}
    for row in rows:
        row["speed_vs_book"] = (round(row["images_per_s"] / base[row["kind"]], 2)
                                if row["kind"] in base else None)
    out.mkdir(parents=True, exist_ok=True)
    (out / "training_throughput.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    load = meta["load_average"][:3]
    lines = [f"Generated by `{meta['command']}` at commit {meta['commit']} on {meta['date']}.",
             f"Machine: {meta['machine']}; load average {', '.join(f'{v:.2f}' for v in load)} at "
             f"the start. Data: {meta['data']}. {meta['minutes']} minutes.", "",
             "Images per second over the timed epochs (the first epoch, with tracing and XLA "
             "compilation, apart); 'vs book' divides by the book's setting (batch 64, no XLA). "
             "One run per setting: on a shared 2-core machine, expect differences of 10-20 % "
             "between runs of the same setting.",
             "", "| model | batch | XLA | first epoch s | s per epoch | images/s | vs book |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['kind']} | {r['batch_size']} | {_xla(r)} | "
              f"{r['first_epoch_s']:.1f} | {r['epoch_s']:.2f} | {r['images_per_s']:.0f} | "
              f"{r['speed_vs_book']} |" for r in rows]
    (out / "training_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _xla(row: dict) -> str:
    if row["xla_requested"] and not row["xla"]:
        return "asked, not run (Keras fell back)"
    return "on" if row["xla"] else "off"


if __name__ == "__main__":
    main()
