"""Benchmark: settings with which Chapter 3's β sweep disentangles the shapes data on 2 CPU cores.

**Question.** With which image size, data size, network, latent size, batch size, learning rate and
epochs does the chapter's full-profile sweep -- β in {1, 2, 4, 8, 16} and one model trained with
the capacity objective on the shapes data, and the same β sweep on MNIST -- train in about 6 minutes
on 2 CPU cores, with a Mutual Information Gap of at least 0.30 on the shapes test split for its
best setting (the goal of the chapter's issue)?

**Method.** Every model is trained the way the chapter trains it, by ``vaebook.zoo.trained_model``
with a ``vaebook.models.VAEConfig`` (10 % of the training images held out, the best validation
epoch kept), in a fresh temporary model cache, so every model is trained here and its wall time,
build and compile included, is measured. Then, on the test split:

- rate R (mean KL, nats) and distortion D (mean -log p(x|z), one sample z ~ q(z|x), seed 0)
  from ``vaebook.metrics.rate_distortion``; test ELBO = -(R + D);
- MIG from the posterior means (``metrics.mutual_information_gap``, 20 equal-width bins per
  latent), with each factor's gap and the latent that captures it;
- active units (``metrics.active_units``, variance of the posterior mean > 0.01) and the KL of
  each latent dimension (``metrics.kl_per_dimension``).

``--extra-seeds 1,2`` trains the capacity model and the β = 16 model again with other seeds, to
show how much the MIG depends on the seed (the x and y positions play symmetric roles, so the
direction in which a model lays them out in its latent space is partly chance).

Timings are wall-clock seconds on a machine shared with other work: the load average at the start
and end of the run is recorded beside them.

Usage (writes beta_vae_results.md and beta_vae_results.json beside this file)::

    python benchmarks/beta_vae_mig.py                     # the chosen settings
    python benchmarks/beta_vae_mig.py --extra-seeds 1,2   # ... and the seed check
    python benchmarks/beta_vae_mig.py --from-json benchmarks/beta_vae_results.json
                                                          # rewrite the tables only
    python benchmarks/beta_vae_mig.py --n-train 512 --n-test 256 --beta-epochs 1 \\
        --capacity-epochs 1 --mnist-epochs 1 --betas 1,4 --out /tmp/smoke   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path


import vaebook  # noqa: F401  (quiet TensorFlow import)
import keras
import tensorflow as tf

from vaebook import config, data, metrics, shapes, training, zoo
from vaebook.models import VAEConfig

HERE = Path(__file__).resolve().parent
GOAL_MIG = 0.30


def evaluate(model, x_test, factors_test=None) -> dict:
    """Test-split numbers of one model: rate, distortion, ELBO, active units, KL per dimension,
    and, given factors, the MIG."""
    rd = metrics.rate_distortion(model, x_test, seed=0)
    result = {
        "rate": rd.rate, "distortion": rd.distortion, "elbo": rd.elbo,
        "active_units": metrics.active_units(model, x_test),
        "kl_per_dimension": [round(float(v), 3) for v in metrics.kl_per_dimension(model, x_test)],
    }
    if factors_test is not None:
        mig = metrics.mutual_information_gap(model.encode(x_test), factors_test)
        result.update(mig=mig.score, gaps=[round(float(g), 3) for g in mig.gaps],
                      latent_per_factor=[int(j) for j in mig.latent_per_factor])
    return result


def train(name, dataset, settings: VAEConfig, epochs, args, profile) -> dict:
    """Train one model through the chapter's own path and evaluate it."""
    start = time.perf_counter()
    model, history = zoo.trained_model(name, dataset, profile, config=settings, epochs=epochs,
                                       batch_size=args.batch_size,
                                       learning_rate=args.learning_rate)
    seconds = time.perf_counter() - start
    epoch_seconds = history["epoch_seconds"]
    # The least-disturbed epoch, times the epochs, plus the time outside epochs (build, compile,
    # loading the weights of the best epoch): what a quiet machine would take.
    quiet_seconds = min(epoch_seconds) * len(epoch_seconds) + seconds - sum(epoch_seconds)
    factors = getattr(dataset, "factors_test", None)
    row = {"name": name, "beta": settings.beta, "capacity": settings.capacity,
           "capacity_steps": settings.capacity_steps if settings.capacity is not None else None,
           "gamma": settings.gamma if settings.capacity is not None else None,
           "seed": settings.seed, "epochs": epochs, "best_epoch": history.get("best_epoch"),
           "steps": int(model.optimizer.iterations), "seconds": seconds,
           "quiet_seconds": quiet_seconds,
           **evaluate(model, dataset.x_test, factors)}
    shown = f"MIG {row['mig']:.3f}, " if "mig" in row else ""
    print(f"{name}: {shown}rate {row['rate']:.2f}, distortion {row['distortion']:.2f}, "
          f"active {row['active_units']}, {seconds:.1f} s ({quiet_seconds:.1f} s quiet)",
          flush=True)
    return row


def objective(row) -> str:
    if row["capacity"] is not None:
        return (f"capacity C = {row['capacity']:g} nats over {row['capacity_steps']} steps, "
                f"γ = {row['gamma']:g}")
    return f"β = {row['beta']:g}"


def write_markdown(results, meta, path):
    lines = [
        "# Results: β-VAE sweep settings for Chapter 3 (MIG on the shapes data)", "",
        f"Generated by `{meta['command']}` on {meta['date']}.",
        f"Machine: {meta['machine']}. TensorFlow {meta['tensorflow']}, Keras {meta['keras']}. "
        f"Load average (1 min) {meta['load_start']:.1f} at the start, {meta['load_end']:.1f} at "
        "the end: the machine is shared with other work, so the measured seconds are noisy and "
        "high; the quiet-s column estimates them for a machine nobody else uses (an upper "
        "bound: even the fastest epoch shared the CPU).",
        "",
        f"Shapes: {meta['shapes_data']}. Networks: {meta['kind']}, latent size "
        f"{meta['latent_dim']}, batch {meta['batch_size']}, Adam {meta['learning_rate']:g}; "
        "10 % of the training images held out for validation, best validation epoch kept.",
        f"MNIST: {meta['mnist_data']}; latent size {meta['mnist_latent_dim']}." if meta.get(
            "mnist_data") else "MNIST: not run.",
        "",
        "Test split. Rate = mean KL, distortion = mean -log p(x|z) (one sample, seed 0), "
        "ELBO = -(rate + distortion), all in nats per image; MIG from posterior means with 20 "
        "equal-width bins per latent; active units: variance of the posterior mean > 0.01; "
        "seconds: wall time of `zoo.trained_model` (build, compile, training); quiet s: the "
        "fastest epoch times the epochs, plus the time outside epochs, an estimate of the wall "
        "time on a machine nobody else uses.",
        "",
        "## Shapes", "",
        "| objective | seed | epochs | steps | rate | distortion | test ELBO | MIG | gaps (shape, "
        "scale, orientation, x, y) | active units | seconds | quiet s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["shapes"]:
        gaps = ", ".join(f"{g:.2f}" for g in row["gaps"])
        lines.append(f"| {objective(row)} | {row['seed']} | {row['epochs']} | {row['steps']} | "
                     f"{row['rate']:.2f} | {row['distortion']:.2f} | {row['elbo']:.2f} | "
                     f"{row['mig']:.3f} | {gaps} | {row['active_units']} | "
                     f"{row['seconds']:.1f} | {row['quiet_seconds']:.1f} |")
    if results["mnist"]:
        lines += ["", "## MNIST", "",
                  "| objective | epochs | steps | rate | distortion | test ELBO | active units | "
                  "seconds | quiet s |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for row in results["mnist"]:
            lines.append(f"| {objective(row)} | {row['epochs']} | {row['steps']} | "
                         f"{row['rate']:.2f} | {row['distortion']:.2f} | {row['elbo']:.2f} | "
                         f"{row['active_units']} | {row['seconds']:.1f} | "
                         f"{row['quiet_seconds']:.1f} |")
    if results["extra_seeds"]:
        lines += ["", "## Other seeds", "",
                  "| objective | seed | epochs | MIG | gaps (shape, scale, orientation, x, y) | "
                  "seconds | quiet s |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for row in results["extra_seeds"]:
            gaps = ", ".join(f"{g:.2f}" for g in row["gaps"])
            lines.append(f"| {objective(row)} | {row['seed']} | {row['epochs']} | "
                         f"{row['mig']:.3f} | {gaps} | {row['seconds']:.1f} | "
                         f"{row['quiet_seconds']:.1f} |")
    summary = results["summary"]
    lines += ["", "## Summary", "",
              f"- Training time of the chapter's sweep: shapes {summary['shapes_seconds']:.0f} s "
              f"(β models {summary['beta_seconds']:.0f} s, capacity model "
              f"{summary['capacity_seconds']:.0f} s), MNIST {summary['mnist_seconds']:.0f} s; "
              f"in all {summary['total_seconds']:.0f} s ({summary['total_seconds'] / 60:.1f} "
              f"min) as measured, {summary['quiet_seconds']:.0f} s "
              f"({summary['quiet_seconds'] / 60:.1f} min) on a quiet machine (estimate).",
              f"- Best MIG: {summary['best_mig']:.3f} ({summary['best']}); β = 1: "
              f"{summary['beta1_mig']:.3f}. Goal (MIG >= {GOAL_MIG:.2f}): "
              f"{'met' if summary['best_mig'] >= GOAL_MIG else 'not met'}."]
    if results["extra_seeds"]:
        lines.append(f"- MIG over seeds {summary['seed_spread']}.")
    path.write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--n-train", type=int, default=20000, help="shapes training images")
    parser.add_argument("--n-test", type=int, default=4000, help="shapes test images")
    parser.add_argument("--kind", default="dense")
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--betas", default="1,2,4,8,16")
    parser.add_argument("--beta-epochs", type=int, default=10)
    parser.add_argument("--capacity", type=float, default=8.0, help="C_max, nats")
    parser.add_argument("--capacity-steps", type=int, default=6400)
    parser.add_argument("--gamma", type=float, default=100.0)
    parser.add_argument("--capacity-epochs", type=int, default=24)
    parser.add_argument("--mnist-epochs", type=int, default=40, help="0: no MNIST sweep")
    parser.add_argument("--mnist-latent-dim", type=int, default=16)
    parser.add_argument("--mnist-n-train", type=int, default=None, help="default: all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extra-seeds", default="", help="e.g. 1,2: seed check")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--from-json", type=Path, default=None,
                        help="only rewrite the tables from this beta_vae_results.json")
    args = parser.parse_args(argv)
    if args.from_json is not None:
        payload = json.loads(args.from_json.read_text())
        write_markdown(payload["results"], payload["meta"], args.out / "beta_vae_results.md")
        return payload["results"]

    # A fresh model cache, so every model is trained here; removed at the end.
    with tempfile.TemporaryDirectory(prefix="vaebook-bench-") as cache:
        previous = os.environ.get("VAEBOOK_CACHE_DIR")
        os.environ["VAEBOOK_CACHE_DIR"] = cache
        try:
            return run(args)
        finally:
            if previous is None:
                os.environ.pop("VAEBOOK_CACHE_DIR", None)
            else:
                os.environ["VAEBOOK_CACHE_DIR"] = previous


def run(args):
    """Train and evaluate the sweep, write the tables; returns the results."""
    profile = config.get_profile("full")
    load_start = os.getloadavg()[0]
    betas = [float(b) for b in args.betas.split(",") if b]
    shapes_data = shapes.load_shapes(args.n_train, args.n_test, image_size=args.image_size,
                                     seed=args.seed)

    def shapes_config(seed, **objective_settings):
        return VAEConfig(latent_dim=args.latent_dim, kind=args.kind, seed=seed,
                         **objective_settings)

    capacity_settings = {"capacity": args.capacity, "capacity_steps": args.capacity_steps,
                         "gamma": args.gamma}
    results = {"shapes": [], "mnist": [], "extra_seeds": []}
    for beta in betas:
        results["shapes"].append(train(f"bench-shapes-beta{beta:g}", shapes_data,
                                       shapes_config(args.seed, beta=beta), args.beta_epochs,
                                       args, profile))
    results["shapes"].append(train(f"bench-shapes-capacity{args.capacity:g}", shapes_data,
                                   shapes_config(args.seed, **capacity_settings),
                                   args.capacity_epochs, args, profile))
    mnist = None
    if args.mnist_epochs:
        mnist = data.load_mnist(n_train=args.mnist_n_train, binarize="threshold")
        for beta in betas:
            results["mnist"].append(train(
                f"bench-mnist-beta{beta:g}", mnist,
                VAEConfig(latent_dim=args.mnist_latent_dim, kind=args.kind, beta=beta,
                          seed=args.seed), args.mnist_epochs, args, profile))
    for seed in [int(s) for s in args.extra_seeds.split(",") if s]:
        results["extra_seeds"].append(train(f"bench-shapes-capacity{args.capacity:g}-seed{seed}",
                                            shapes_data, shapes_config(seed, **capacity_settings),
                                            args.capacity_epochs, args, profile))
        if betas:
            results["extra_seeds"].append(train(
                f"bench-shapes-beta{max(betas):g}-seed{seed}", shapes_data,
                shapes_config(seed, beta=max(betas)), args.beta_epochs, args, profile))

    shapes_rows = results["shapes"]
    best = max(shapes_rows, key=lambda row: row["mig"])
    beta_seconds = sum(row["seconds"] for row in shapes_rows if row["capacity"] is None)
    capacity_seconds = sum(row["seconds"] for row in shapes_rows if row["capacity"] is not None)
    mnist_seconds = sum(row["seconds"] for row in results["mnist"])
    spread = {}
    for row in [r for r in shapes_rows if r["capacity"] is not None or r["beta"] == max(betas)] \
            + results["extra_seeds"]:
        spread.setdefault(objective(row), []).append(round(row["mig"], 3))
    results["summary"] = {
        "beta_seconds": beta_seconds, "capacity_seconds": capacity_seconds,
        "shapes_seconds": beta_seconds + capacity_seconds, "mnist_seconds": mnist_seconds,
        "total_seconds": beta_seconds + capacity_seconds + mnist_seconds,
        "quiet_seconds": sum(row["quiet_seconds"] for row in shapes_rows + results["mnist"]),
        "best_mig": best["mig"], "best": objective(best),
        "beta1_mig": next((row["mig"] for row in shapes_rows if row["beta"] == 1.0
                           and row["capacity"] is None), float("nan")),
        "seed_spread": "; ".join(f"{name}: {values}" for name, values in spread.items()),
    }
    command = "python benchmarks/beta_vae_mig.py " + " ".join(
        f"--{key.replace('_', '-')} {value}" for key, value in vars(args).items()
        if key not in ("out", "from_json") and value not in (None, ""))
    meta = {
        "command": command, "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.platform()}",
        "tensorflow": tf.__version__, "keras": keras.__version__,
        "load_start": load_start, "load_end": os.getloadavg()[0],
        "shapes_data": shapes_data.description, "mnist_data": mnist.description if mnist else None,
        "kind": args.kind, "latent_dim": args.latent_dim, "mnist_latent_dim": args.mnist_latent_dim,
        "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "default_batch_size": training.DEFAULT_BATCH_SIZE,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "beta_vae_results.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2, default=float))
    write_markdown(results, meta, args.out / "beta_vae_results.md")
    print((args.out / "beta_vae_results.md").read_text())
    return results


if __name__ == "__main__":
    main()
