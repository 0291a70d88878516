"""The book's figures. Every function titles its figure, labels its axes (with units) and returns
the ``matplotlib`` figure, so notebooks can show it and tests can inspect it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.patches import Ellipse
from matplotlib.ticker import MaxNLocator, NullFormatter
from scipy.stats import norm

DIGIT_PALETTE = "tab10"


def use_book_style() -> None:
    """One look for every chapter: seaborn's white grid, readable fonts, fixed figure dpi."""
    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "axes.titleweight": "bold"})


def plot_image_rows(rows: dict[str, np.ndarray], title: str, max_columns: int = 10):
    """Rows of images, one labelled row per entry of ``rows`` (label -> (N, 28, 28, 1) array)."""
    n_columns = min(max_columns, min(len(images) for images in rows.values()))
    fig, axes = plt.subplots(
        len(rows), n_columns, figsize=(1.1 * n_columns, 1.2 * len(rows) + 0.5), squeeze=False
    )
    for row, (label, images) in enumerate(rows.items()):
        for column in range(n_columns):
            axis = axes[row, column]
            axis.imshow(np.squeeze(images[column]), cmap="gray_r", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            axis.grid(False)
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_image_grid(images: np.ndarray, title: str, n_columns: int = 10):
    """A square-ish grid of images (N, 28, 28, 1) without labels (samples, for instance)."""
    n_rows = int(np.ceil(len(images) / n_columns))
    canvas = np.ones((n_rows * 28, n_columns * 28))
    for index, image in enumerate(images):
        row, column = divmod(index, n_columns)
        canvas[row * 28:(row + 1) * 28, column * 28:(column + 1) * 28] = np.squeeze(image)
    fig, axis = plt.subplots(figsize=(0.6 * n_columns, 0.6 * n_rows + 0.6))
    axis.imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
    axis.set_axis_off()
    axis.set_title(title)
    fig.tight_layout()
    return fig


def plot_history(history: dict, metrics: list[str], title: str,
                 ylabel: str = "nats per image", axes=None):
    """Training (solid) and validation (dashed) curves of ``metrics``, one panel each, with the
    epoch whose weights the model kept (``history["best_epoch"]``) marked."""
    if axes is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
        axes = axes[0]
    else:
        fig = axes[0].figure
    for axis, metric in zip(axes, metrics):
        epochs = np.arange(1, len(history[metric]) + 1)
        axis.plot(epochs, history[metric], marker="o", markersize=3, label="train")
        if f"val_{metric}" in history:
            axis.plot(epochs, history[f"val_{metric}"], "--", marker="o", markersize=3,
                      label="validation")
        if "best_epoch" in history:
            axis.axvline(history["best_epoch"], color="grey", linestyle=":",
                         label="best validation epoch")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(ylabel)
        axis.set_title(metric)
        axis.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_latent_scatter(codes: np.ndarray, labels: np.ndarray, title: str, axis=None,
                        xlabel: str = "$z_1$", ylabel: str = "$z_2$"):
    """2-D codes (N, 2) coloured by digit label."""
    if axis is None:
        fig, axis = plt.subplots(figsize=(5.6, 4.8))
    else:
        fig = axis.figure
    sns.scatterplot(
        x=codes[:, 0], y=codes[:, 1], hue=labels, palette=DIGIT_PALETTE, s=8, alpha=0.7,
        linewidth=0, legend="full", ax=axis,
    )
    axis.legend(title="digit", loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=2)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    fig.tight_layout()
    return fig


def plot_decoded_grid(decode, grid_1d: np.ndarray, title: str,
                      xlabel: str = "$z_1$", ylabel: str = "$z_2$"):
    """Decode a grid of 2-D codes ``(z1, z2)`` with ``decode(z) -> (N, 28, 28, 1)`` and tile them
    so that each image sits at its code (z2 grows upwards)."""
    n = len(grid_1d)
    z1, z2 = np.meshgrid(grid_1d, grid_1d[::-1])
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)
    images = decode(codes).reshape(n, n, 28, 28)
    canvas = images.transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    fig, axis = plt.subplots(figsize=(6, 6))
    half_step = (grid_1d[1] - grid_1d[0]) / 2 if n > 1 else 0.5
    extent = [grid_1d[0] - half_step, grid_1d[-1] + half_step,
              grid_1d[0] - half_step, grid_1d[-1] + half_step]
    axis.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, extent=extent)
    axis.grid(False)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    fig.tight_layout()
    return fig


def standard_normal_grid(n: int, tail: float = 0.05) -> np.ndarray:
    """n codes evenly spaced in *probability* under N(0, 1): the quantiles from tail to 1-tail."""
    return norm.ppf(np.linspace(tail, 1.0 - tail, n))


def plot_posterior_ellipses(z_mean: np.ndarray, z_log_var: np.ndarray, labels: np.ndarray,
                            title: str, n_std: float = 2.0):
    """Posterior means of 2-D codes with ellipses of ``n_std`` standard deviations."""
    fig, axis = plt.subplots(figsize=(5.6, 4.8))
    colours = sns.color_palette(DIGIT_PALETTE, 10)
    std = np.exp(0.5 * z_log_var)
    for mean, sigma, label in zip(z_mean, std, labels):
        axis.add_patch(Ellipse(mean, 2 * n_std * sigma[0], 2 * n_std * sigma[1],
                               facecolor=colours[label], alpha=0.15, edgecolor=colours[label]))
    sns.scatterplot(x=z_mean[:, 0], y=z_mean[:, 1], hue=labels, palette=DIGIT_PALETTE, s=12,
                    linewidth=0, legend="full", ax=axis)
    axis.legend(title="digit", loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=2)
    axis.set_xlabel("$z_1$ (posterior mean)")
    axis.set_ylabel("$z_2$ (posterior mean)")
    axis.set_title(title)
    axis.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    return fig


def plot_curve(x, ys: dict[str, np.ndarray], title: str, xlabel: str, ylabel: str,
               logx: bool = False):
    """One or more curves y(x) with markers and a legend (sweeps, K of an estimate...)."""
    fig, axis = plt.subplots(figsize=(5.6, 3.8))
    for label, y in ys.items():
        axis.plot(x, y, marker="o", label=label)
    if logx:
        axis.set_xscale("log")
        # Label the measured x values themselves; log-scale minor labels would overlap.
        axis.set_xticks(list(x), labels=[f"{value:g}" for value in x])
        axis.xaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.legend()
    fig.tight_layout()
    return fig
