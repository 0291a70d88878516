"""The book's figures. Every function titles its figure, labels its axes (with units), keeps its
legend off the data and returns the ``matplotlib`` figure, so notebooks can show it and tests can
inspect it.

Legibility is measured, not hoped for. :func:`use_book_style` fixes font sizes and makes every
figure a notebook displays a PNG drawn at :data:`RENDER_DPI` but shown at :data:`DISPLAY_DPI`
pixels per inch (sharp on high-density screens, text at its intended size), with two PNG text
chunks: ``Title`` (the figure's title; the book's Sphinx extension uses it as the image's alt text)
and ``vaebook:min_font_px`` (the smallest text in the image, in image pixels; the browser check
turns it into displayed pixels and fails below its threshold). Figures are at most
:data:`MAX_WIDTH_INCHES` wide, the width of the page's text column at :data:`DISPLAY_DPI`.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.patches import Ellipse
from matplotlib.ticker import MaxNLocator, NullFormatter
from scipy.stats import norm

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from . import checks

DIGIT_PALETTE = "tab10"
DISPLAY_DPI = 100  # CSS pixels per figure inch on the page and in JupyterLab
RENDER_DPI = 200  # pixels per inch of the PNG: twice the display density, sharp on HiDPI screens
MAX_WIDTH_INCHES = 8.0  # 800 CSS px: the text column of the page at a 1280 px window
FONT_SIZES = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "xtick.labelsize": 10,
              "ytick.labelsize": 10, "legend.fontsize": 10, "legend.title_fontsize": 10,
              "figure.titlesize": 13}  # points; 10 pt at DISPLAY_DPI is 14 CSS px


def use_book_style() -> None:
    """One look for every chapter: seaborn's white grid, fixed font sizes, and figures displayed
    as PNGs that carry their title and smallest font size (see the module docstring)."""
    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.dpi": DISPLAY_DPI, "savefig.dpi": RENDER_DPI,
                         "axes.titleweight": "bold", "figure.titleweight": "bold", **FONT_SIZES})
    _register_png_formatter()


def _figure(fig, name: str = "fig") -> Figure:
    return checks.instance(fig, name, Figure, "a matplotlib Figure")


def _axis(axis, name: str = "axis") -> Axes:
    return checks.instance(axis, name, Axes, "a matplotlib Axes")


def _image_sets(rows, name: str) -> dict:
    """label -> images (N, H, W, C) in [0, 1]: every label a string, every set checked."""
    rows = checks.mapping(rows, name, what="a dict of label -> images")
    for label, images in rows.items():
        checks.text(label, f"{name} label {label!r}")
        rows[label] = checks.images(images, f"{name}[{label!r}]", image_shape=None)
    return rows


def _series(values, name: str, length: int | None = None) -> np.ndarray:
    """A 1-d array of finite numbers (of ``length`` values if given)."""
    what = f"a 1-d sequence of {length if length is not None else 'N'} finite numbers"
    values = checks.array(values, name, ndim=1, what=what)
    if length is not None and len(values) != length:
        raise ValueError(f"{name} must be {what}, got {len(values)} values")
    return values


def figure_title(fig: Figure) -> str:
    """The figure's title: its suptitle, else the first non-empty axes title, else ''."""
    _figure(fig)
    if fig._suptitle is not None and fig._suptitle.get_text():
        return fig._suptitle.get_text()
    for axis in fig.axes:
        if axis.get_title():
            return axis.get_title()
    return ""


def smallest_font_points(fig: Figure) -> float:
    """Size in points of the smallest visible, non-empty text of the figure (ticks included)."""
    _figure(fig)
    fig.canvas.draw()  # tick labels exist only once the figure is drawn
    sizes = [text.get_fontsize() for text in fig.findobj(Text)
             if text.get_visible() and text.get_text().strip()]
    return min(sizes) if sizes else float("inf")


def figure_png(fig: Figure) -> tuple[bytes, dict]:
    """``(png_bytes, metadata)`` for IPython: the PNG at RENDER_DPI, shown DISPLAY_DPI wide."""
    _figure(fig)
    min_font_px = smallest_font_points(fig) * RENDER_DPI / 72.0
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=RENDER_DPI, bbox_inches="tight",
                metadata={"Title": figure_title(fig) or "Figure",
                          "vaebook:min_font_px": f"{min_font_px:.1f}"})
    png = buffer.getvalue()
    width_px = int.from_bytes(png[16:20], "big")  # the IHDR chunk: width, then height
    height_px = int.from_bytes(png[20:24], "big")
    scale = DISPLAY_DPI / RENDER_DPI
    return png, {"width": round(width_px * scale), "height": round(height_px * scale)}


def _register_png_formatter() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    # The inline backend registers its own PNG formatter when it is first loaded; load it now so
    # that ours, registered after it, is the one used.
    plt.switch_backend(plt.get_backend())
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)


def _panel_width(n_panels: int, preferred: float) -> float:
    """Width of one panel so that ``n_panels`` side by side fit in MAX_WIDTH_INCHES."""
    return min(preferred, MAX_WIDTH_INCHES / n_panels)


def legend_below(fig: Figure, axis, ncol: int = 3) -> None:
    """One legend for the figure, centred under the panels, off the data."""
    _figure(fig)
    _axis(axis)
    ncol = checks.positive_int(ncol, "ncol")
    handles, labels = axis.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    fig.legend(unique.values(), unique.keys(), loc="upper center", ncol=min(ncol, len(unique)),
               bbox_to_anchor=(0.5, 0.0), frameon=False)


def plot_image_rows(rows: dict[str, np.ndarray], title: str, max_columns: int = 10):
    """Rows of images, one labelled row per entry of ``rows`` (label -> (N, H, W, 1) array)."""
    rows = _image_sets(rows, "rows")
    checks.text(title, "title")
    max_columns = checks.positive_int(max_columns, "max_columns")
    n_columns = min(max_columns, min(len(images) for images in rows.values()))
    label_inches = 1.4  # room for the row labels left of the images
    size = min(0.75, (MAX_WIDTH_INCHES - label_inches) / n_columns)  # inches per image
    fig, axes = plt.subplots(
        len(rows), n_columns, figsize=(label_inches + size * n_columns, size * len(rows) + 0.6),
        squeeze=False, gridspec_kw={"wspace": 0.05, "hspace": 0.08},
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
    return fig


def plot_image_grid(images: np.ndarray, title: str, n_columns: int = 10):
    """A grid of images (N, H, W, 1) without labels (samples, for instance)."""
    images = checks.images(images, "images", image_shape=None)
    checks.text(title, "title")
    n_columns = checks.positive_int(n_columns, "n_columns")
    n_rows = int(np.ceil(len(images) / n_columns))
    height, width = images.shape[1:3]
    canvas = np.zeros((n_rows * height, n_columns * width))  # 0 = white with the gray_r map
    for index, image in enumerate(images):
        row, column = divmod(index, n_columns)
        canvas[row * height:(row + 1) * height, column * width:(column + 1) * width] = (
            np.squeeze(image))
    inches = min(0.6, MAX_WIDTH_INCHES / n_columns)
    fig, axis = plt.subplots(figsize=(inches * n_columns, inches * n_rows + 0.5))
    axis.imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
    axis.set_axis_off()
    axis.set_title(title)
    fig.tight_layout()
    return fig


def _history(history, name: str) -> dict:
    return checks.mapping(history, name, what="a training history dict (metric -> values)")


def _curve_of(history: dict, metric: str, name: str) -> None:
    """``history[metric]`` (and ``val_<metric>``, if there) must be sequences of numbers."""
    if metric not in history:
        raise ValueError(f"{name} has no curve {metric!r}; it has {sorted(history)}")
    length = len(_series(history[metric], f"{name}[{metric!r}]"))
    if f"val_{metric}" in history:
        _series(history[f"val_{metric}"], f"{name}['val_{metric}']", length)
    if "best_epoch" in history:
        checks.integer(history["best_epoch"], f"{name}['best_epoch']", minimum=1, maximum=length)


def plot_history(history: dict, metrics: list[str], title: str,
                 ylabel: str = "nats per image", axes=None):
    """Training (solid) and validation (dashed) curves of ``metrics``, one panel each, with the
    epoch whose weights the model kept (``history["best_epoch"]``) marked."""
    history = _history(history, "history")
    metrics = checks.names(metrics, "metrics")
    for metric in metrics:
        _curve_of(history, metric, "history")
    checks.text(title, "title")
    checks.text(ylabel, "ylabel")
    if axes is not None:
        if isinstance(axes, Axes):
            axes = [axes]
        if not isinstance(axes, (list, tuple, np.ndarray)) or len(axes) < len(metrics):
            raise TypeError(f"axes must be a list of {len(metrics)} matplotlib Axes (one per "
                            f"metric) or None, got {checks.describe(axes)}")
        for index, axis in enumerate(axes):
            _axis(axis, f"axes[{index}]")
    own_figure = axes is None
    if own_figure:
        fig, axes = plt.subplots(1, len(metrics), squeeze=False,
                                 figsize=(_panel_width(len(metrics), 4.0) * len(metrics), 3.2))
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
    fig.suptitle(title)
    fig.tight_layout()
    if own_figure:
        legend_below(fig, axes[0])
    return fig


def plot_histories(histories: dict[str, dict], metric: str, title: str,
                   ylabel: str = "nats per image"):
    """One panel per model (label -> history) of one metric, training vs validation."""
    histories = checks.mapping(histories, "histories", what="a dict of label -> history")
    metric = checks.text(metric, "metric")
    for label, history in histories.items():
        checks.text(label, f"histories label {label!r}")
        _curve_of(_history(history, f"histories[{label!r}]"), metric, f"histories[{label!r}]")
    checks.text(title, "title")
    checks.text(ylabel, "ylabel")
    n = len(histories)
    fig, axes = plt.subplots(1, n, squeeze=False, figsize=(_panel_width(n, 4.0) * n, 3.2))
    for axis, (label, history) in zip(axes[0], histories.items()):
        plot_history(history, [metric], title="", ylabel=ylabel, axes=[axis])
        axis.set_title(label)
    fig.suptitle(title)
    fig.tight_layout()
    legend_below(fig, axes[0, 0])
    return fig


def plot_latent_scatter(codes: np.ndarray, labels: np.ndarray, title: str, axis=None,
                        xlabel: str = "$z_1$", ylabel: str = "$z_2$"):
    """2-D codes (N, 2) coloured by digit label (integers 0-9)."""
    codes = checks.codes(codes, "codes", latent_dim=2)
    labels = checks.labels(labels, "labels", count=len(codes))
    for text_name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        checks.text(value, text_name)
    if axis is not None:
        _axis(axis)
    if axis is None:
        fig, axis = plt.subplots(figsize=(6.4, 5.0))
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
    so that each image sits at its code (z2 grows upwards). ``grid_1d``: increasing numbers."""
    checks.function(decode, "decode", what="a function decode(z) -> images, e.g. vae.decode")
    import keras

    if isinstance(decode, keras.Model):  # callable, but it takes images, not codes
        raise TypeError(f"decode must be a function decode(z) -> images, such as vae.decode, got "
                        f"the model itself ({type(decode).__name__}): pass its decode method")
    grid_1d = _series(grid_1d, "grid_1d")
    if np.any(np.diff(grid_1d) <= 0):
        raise ValueError("grid_1d must be increasing, e.g. plotting.standard_normal_grid(15)")
    for text_name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        checks.text(value, text_name)
    n = len(grid_1d)
    z1, z2 = np.meshgrid(grid_1d, grid_1d[::-1])
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)
    images = checks.images(decode(codes), "decode(z)", image_shape=None)
    if images.shape[-1] != 1 or len(images) != n * n:
        raise ValueError(f"decode(z) must return {n * n} one-channel images, got shape "
                         f"{images.shape}")
    height, width = images.shape[1:3]
    images = images.reshape(n, n, height, width)
    canvas = images.transpose(0, 2, 1, 3).reshape(n * height, n * width)
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
    n = checks.positive_int(n, "n")
    tail = checks.real(tail, "tail", minimum=0.0, maximum=0.5, open_below=True, open_above=True)
    return norm.ppf(np.linspace(tail, 1.0 - tail, n))


def plot_posterior_ellipses(z_mean: np.ndarray, z_log_var: np.ndarray, labels: np.ndarray,
                            title: str, n_std: float = 2.0):
    """Posterior means of 2-D codes with ellipses of ``n_std`` standard deviations."""
    z_mean = checks.codes(z_mean, "z_mean", latent_dim=2)
    z_log_var = checks.codes(z_log_var, "z_log_var", latent_dim=2)
    if len(z_log_var) != len(z_mean):
        raise ValueError(f"z_log_var must have one row per row of z_mean ({len(z_mean)}), got "
                         f"{len(z_log_var)}")
    labels = checks.labels(labels, "labels", count=len(z_mean))
    checks.text(title, "title")
    n_std = checks.real(n_std, "n_std", minimum=0.0, open_below=True)
    fig, axis = plt.subplots(figsize=(6.4, 5.0))
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
               logx: bool = False, reference_lines: dict[str, float] | None = None):
    """One or more curves y(x) with markers (sweeps, K of an estimate...), horizontal
    ``reference_lines`` (label -> y) dotted in the colour of the curve of the same position, and a
    legend right of the axes."""
    x = _series(x, "x")
    ys = checks.mapping(ys, "ys", what="a dict of label -> y values")
    for label, y in ys.items():
        checks.text(label, f"ys label {label!r}")
        ys[label] = _series(y, f"ys[{label!r}]", len(x))
    for text_name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        checks.text(value, text_name)
    logx = checks.boolean(logx, "logx")
    if logx and np.any(x <= 0):
        raise ValueError("x must be > 0 everywhere for logx=True (a log scale)")
    if reference_lines is not None:
        reference_lines = checks.mapping(reference_lines, "reference_lines", allow_empty=True,
                                         what="a dict of label -> y value")
        for label, y in reference_lines.items():
            checks.text(label, f"reference_lines label {label!r}")
            reference_lines[label] = checks.real(y, f"reference_lines[{label!r}]")
    fig, axis = plt.subplots(figsize=(7.6, 3.8))
    for index, (label, y) in enumerate(ys.items()):
        axis.plot(x, y, marker="o", label=label, color=f"C{index}")
    for index, (label, y) in enumerate((reference_lines or {}).items()):
        axis.axhline(y, color=f"C{index}", linestyle=":", label=label)
    if logx:
        axis.set_xscale("log")
        # Label the measured x values themselves; log-scale minor labels would overlap.
        axis.set_xticks(list(x), labels=[f"{value:g}" for value in x])
        axis.xaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def plot_histograms(samples: dict[str, np.ndarray], title: str, xlabel: str,
                    ylabel: str = "count", bins: int = 40, upper_percentile: float = 99.0):
    """Overlaid histograms of one quantity (label -> values) on shared bins, legend below."""
    samples = checks.mapping(samples, "samples", what="a dict of label -> values")
    for label, values in samples.items():
        checks.text(label, f"samples label {label!r}")
        samples[label] = checks.array(values, f"samples[{label!r}]")
    for text_name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        checks.text(value, text_name)
    bins = checks.positive_int(bins, "bins")
    upper_percentile = checks.real(upper_percentile, "upper_percentile", minimum=0.0,
                                   maximum=100.0, open_below=True)
    values = np.concatenate([np.ravel(v) for v in samples.values()])
    edges = np.linspace(np.min(values), np.percentile(values, upper_percentile), bins + 1)
    fig, axis = plt.subplots(figsize=(6.4, 3.6))
    for label, v in samples.items():
        axis.hist(np.ravel(v), bins=edges, alpha=0.6, label=label)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    fig.tight_layout()
    legend_below(fig, axis, ncol=2)
    return fig


def plot_labelled_points(points: dict[str, tuple[float, float]], title: str, xlabel: str,
                         ylabel: str, connect: bool = True):
    """Points (label -> (x, y)), each annotated with its label beside it: a trade-off curve.

    With ``connect`` the points are joined in the order given (a sweep, for instance).
    """
    if not points:
        raise ValueError("points must hold at least one label -> (x, y) entry")
    labels = list(points)
    xy = np.asarray([points[label] for label in labels], dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or not np.all(np.isfinite(xy)):
        raise ValueError("points must map labels to finite (x, y) pairs")
    fig, axis = plt.subplots(figsize=(7.6, 4.2))
    axis.plot(xy[:, 0], xy[:, 1], marker="o", linestyle="-" if connect else "none", color="C0")
    for label, (x, y) in zip(labels, xy):
        # Offset in points, so the label sits beside its marker whatever the axis scales.
        axis.annotate(label, (x, y), xytext=(6, 6), textcoords="offset points")
    axis.margins(0.15)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    fig.tight_layout()
    return fig


def plot_heatmap(values, row_labels: list[str], column_labels: list[str], title: str,
                 xlabel: str, ylabel: str, colorbar_label: str, number_format: str = ".1f"):
    """A matrix (rows x columns) as coloured cells with each value written in its cell."""
    row_labels = checks.names(row_labels, "row_labels")
    column_labels = checks.names(column_labels, "column_labels")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape != (len(row_labels), len(column_labels)):
        raise ValueError(
            f"values must have shape (len(row_labels), len(column_labels)) = "
            f"({len(row_labels)}, {len(column_labels)}), got {values.shape}"
        )
    width = min(MAX_WIDTH_INCHES, 2.0 + 0.62 * len(column_labels))
    fig, axis = plt.subplots(figsize=(width, 1.2 + 0.42 * len(row_labels)))
    image = axis.imshow(values, cmap="viridis", aspect="auto")
    axis.set_xticks(range(len(column_labels)), labels=column_labels)
    axis.set_yticks(range(len(row_labels)), labels=row_labels)
    axis.grid(False)
    threshold = values.min() + 0.6 * (values.max() - values.min())
    for (row, column), value in np.ndenumerate(values):
        axis.text(column, row, format(value, number_format), ha="center", va="center",
                  fontsize=FONT_SIZES["xtick.labelsize"],
                  color="black" if value > threshold else "white")
    fig.colorbar(image, ax=axis, label=colorbar_label, pad=0.02)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    fig.tight_layout()
    return fig


def plot_roc_curves(curves: dict[str, tuple], title: str, axis=None):
    """ROC curves (label -> ``(false_positive_rate, true_positive_rate, auc)``, e.g. a
    :class:`vaebook.applications.ROC`), each labelled with its AUC, and the chance diagonal."""
    curves = checks.mapping(curves, "curves", what="a dict of label -> (fpr, tpr, auc)")
    for label, curve in curves.items():
        checks.text(label, f"curves label {label!r}")
        if not isinstance(curve, (tuple, list)) or len(curve) != 3:
            raise TypeError(f"curves[{label!r}] must be a tuple (fpr, tpr, auc), got "
                            f"{checks.describe(curve)}")
        fpr = _series(curve[0], f"curves[{label!r}] false positive rates")
        tpr = _series(curve[1], f"curves[{label!r}] true positive rates", len(fpr))
        auc = checks.probability(curve[2], f"curves[{label!r}] AUC")
        curves[label] = (fpr, tpr, auc)
    checks.text(title, "title")
    if axis is None:
        fig, axis = plt.subplots(figsize=(6.8, 4.4))
    else:
        fig = _axis(axis).figure
    for index, (label, (fpr, tpr, auc)) in enumerate(curves.items()):
        axis.plot(fpr, tpr, color=f"C{index}", label=f"{label} (AUC {auc:.3f})")
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance (AUC 0.5)")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.01)
    axis.set_aspect("equal")
    axis.set_xlabel("false positive rate (typical images flagged)")
    axis.set_ylabel("true positive rate (anomalies flagged)")
    axis.set_title(title)
    axis.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def plot_score_bars(scores: dict[str, dict[str, np.ndarray]], panels: dict[str, str], title: str,
                    reference: dict[str, float] | None = None,
                    reference_label: str = "data floor", n_columns: int = 2):
    """Scores of several models as horizontal bars with error bars, one panel per score.

    ``scores`` maps a model's name to its scores, each an array of repeated measurements (one per
    draw of samples, or per seed): a bar is their mean and its error bar their standard deviation
    (ddof 1; none for a single value). ``panels`` maps a score's key to its panel's axis label
    (with units), in the order of the panels. ``reference`` (score key -> value) draws a dashed
    line at that value in the panel, labelled ``reference_label`` in the legend below.
    """
    scores = checks.mapping(scores, "scores", what="a dict of model name -> {score: values}")
    panels = checks.mapping(panels, "panels", what="a dict of score key -> axis label")
    checks.text(title, "title")
    checks.text(reference_label, "reference_label")
    n_columns = checks.positive_int(n_columns, "n_columns")
    reference = checks.mapping(reference or {}, "reference", allow_empty=True,
                               what="a dict of score key -> value")
    values = {}
    for name, model_scores in scores.items():
        checks.text(name, f"scores name {name!r}")
        model_scores = checks.mapping(model_scores, f"scores[{name!r}]",
                                      what="a dict of score key -> values")
        for key in panels:
            if key not in model_scores:
                raise ValueError(f"scores[{name!r}] has no {key!r}: every model needs every "
                                 f"score of panels ({sorted(panels)})")
            values[name, key] = checks.array(np.ravel(model_scores[key]),
                                             f"scores[{name!r}][{key!r}]", ndim=1)
    for key, value in reference.items():
        if key not in panels:
            raise ValueError(f"reference has {key!r}, which is not a panel ({sorted(panels)})")
        reference[key] = checks.real(value, f"reference[{key!r}]")
    names = list(scores)
    n_rows = int(np.ceil(len(panels) / n_columns))
    height = 0.45 * len(names) + 1.0  # inches per row of panels
    fig, axes = plt.subplots(n_rows, n_columns, figsize=(MAX_WIDTH_INCHES, height * n_rows + 0.5),
                             squeeze=False, sharey=True)
    positions = np.arange(len(names))[::-1]  # the first model on top
    for axis, (key, label) in zip(axes.flat, panels.items()):
        means = [float(np.mean(values[name, key])) for name in names]
        errors = [float(np.std(values[name, key], ddof=1)) if len(values[name, key]) > 1 else 0.0
                  for name in names]
        axis.barh(positions, means, xerr=errors, color=[f"C{i}" for i in range(len(names))],
                  capsize=3, height=0.6)
        if key in reference:
            axis.axvline(reference[key], color="black", linestyle="--", label=reference_label)
        axis.set_yticks(positions, labels=names)
        axis.set_xlabel(label)
        axis.grid(axis="y", visible=False)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    if reference:
        legend_below(fig, next(a for a, key in zip(axes.flat, panels) if key in reference))
    return fig
