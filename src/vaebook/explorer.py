"""Latent-space explorers that work on the static page: no kernel, no network.

A widget is an :class:`IPython.display.HTML` object: inline HTML, CSS and a small vanilla
JavaScript, with every image a base64 PNG data URI. Everything the reader can see is decoded in
Python when the cell runs; the script only chooses which precomputed image to show. The same
output works on the built page, in JupyterLab (which runs the scripts of HTML outputs in trusted
notebooks, i.e. outputs it produced itself), in Colab and in VS Code. Where its script does not
run (a notebook opened but not trusted) the widget shows its starting image, and a line saying
that it is still and why; the script removes that line.

- :func:`latent_plane_explorer`: a 2-D code space. The codes of test images are drawn as a scatter
  coloured by digit; pointing at the plane (mouse, touch or pen; arrow keys once it has the focus)
  shows the decoding of the nearest point of a ``grid_size`` x ``grid_size`` grid, with its code.
- :func:`traversal_explorer`: a code of any size. One slider per latent dimension sets that
  dimension of a base code to one of ``values``; the decoding of the base code with that one
  change is shown. A decoder is not additive in its inputs, so two changed dimensions are not
  the sum of two single changes: only single changes are precomputed, and moving a slider puts
  the others back to the base code (the widget says so).

Each widget's root element carries ``data-vaebook-explorer`` (``latent-plane`` or ``traversal``)
and its displayed image ``data-vaebook-explorer-view``: the book's browser check
(``tools/browser_check.py``) finds them by these attributes, moves the pointer or a slider, and
fails if the image does not change. Element ids are unique within a page (a counter and a hash of
the content), and the same across runs of the same notebook.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from IPython.display import HTML
from PIL import Image, PngImagePlugin

from . import checks, plotting

VIEW_PX = 192  # CSS pixels: the side of the decoded image shown (an integer multiple of its pixels)
# (width, height) of the scatter, shown at plotting.DISPLAY_DPI: with the decoded image beside it,
# the widget fits the 688 px of a chapter's column at a 1280 px window.
SCATTER_INCHES = (4.6, 4.0)
GREY_LEVELS = 64  # grey levels kept in the PNGs of decoded images: smaller pages, no visible change
_COUNTER = itertools.count(1)
MINUS = "\u2212"  # the minus sign of the numbers the widgets write
FONT_KEY = "vaebook:min_font_px"  # PNG text: smallest text in image pixels, as plotting.figure_png

_CSS = """
.vaebook-explorer{margin:.5em 0 1em;max-width:100%;color:inherit}
.vaebook-explorer .vx-title{font-weight:bold;margin:0 0 .4em}
.vaebook-explorer .vx-body{display:flex;flex-wrap:wrap;gap:12px 16px;align-items:flex-start}
.vaebook-explorer .vx-figure{position:relative;margin:0;flex:0 1 auto;max-width:100%}
.vaebook-explorer .vx-figure img{display:block;width:100%;height:auto;max-width:100%}
.vaebook-explorer .vx-plane{position:absolute;cursor:crosshair;touch-action:none}
.vaebook-explorer .vx-plane:focus-visible{outline:2px solid #1f77b4;outline-offset:2px}
.vaebook-explorer .vx-marker{position:absolute;width:14px;height:14px;margin:-9px 0 0 -9px;
 border:2px solid #000;border-radius:50%;background:rgba(255,255,255,.55);pointer-events:none;
 box-shadow:0 0 0 1px #fff}
.vaebook-explorer .vx-panel{flex:0 0 auto;max-width:100%}
.vaebook-explorer .vx-view{display:block;image-rendering:pixelated;background-repeat:no-repeat;
 border:1px solid #888;background-color:#fff;margin:0}
.vaebook-explorer .vx-caption{font-size:.9em;margin:.2em 0 0}
.vaebook-explorer .vx-readout{font-variant-numeric:tabular-nums;margin:.4em 0 0}
.vaebook-explorer .vx-static{font-size:.9em;margin:.5em 0 0;font-style:italic}
.vaebook-explorer .vx-note{font-size:.9em;margin:.5em 0 0;max-width:44em}
.vaebook-explorer .vx-sliders{flex:1 1 260px;min-width:0;max-width:100%}
.vaebook-explorer .vx-grid{display:grid;grid-template-columns:max-content minmax(5em,1fr)
 minmax(5.5em,max-content);gap:6px 8px;align-items:center}
.vaebook-explorer .vx-slider{display:contents}
.vaebook-explorer .vx-slider input{width:100%;margin:0}
.vaebook-explorer .vx-value{font-variant-numeric:tabular-nums;font-size:.9em}
.vaebook-explorer button{font:inherit;font-size:.9em;margin:.3em 0 0;cursor:pointer}
"""

# One frame for every widget's script: it finds its root by id and reads its settings from data
# attributes. It waits for the root to be in the document (JupyterLab may run an output's
# scripts before it attaches the output). Inside it, the body has root, s (the settings), view
# (the decoded image), readout (the text under it) and fmt (a number as the page shows it).
_SCRIPT_FRAME = """
(function () {
  function start(tries) {
    var root = document.getElementById(%(id)s);
    if (!root) { if (tries < 100) setTimeout(function () { start(tries + 1); }, 100); return; }
    if (root.dataset.vxStarted) return;
    root.dataset.vxStarted = '1';
    root.querySelector('.vx-static').remove();
    var s = JSON.parse(root.dataset.settings);
    var view = root.querySelector('[data-vaebook-explorer-view]');
    var readout = root.querySelector('.vx-readout');
    function fmt(v) { return (v < 0 ? '\\u2212' : '') + Math.abs(v).toFixed(2); }
%(body)s  }
  start(0);
})();
"""


def _script(root_id: str, body: str) -> str:
    return _SCRIPT_FRAME % {"id": json.dumps(root_id), "body": body}


# The latent plane: pointer, touch or arrow keys pick a cell of the precomputed grid.
_PLANE_BODY = """    var n = s.grid_size, plane = root.querySelector('.vx-plane');
    var marker = root.querySelector('.vx-marker');
    var col = s.start[0], row = s.start[1];
    function show(c, r) {
      col = Math.max(0, Math.min(n - 1, c)); row = Math.max(0, Math.min(n - 1, r));
      var step = n > 1 ? 100 / (n - 1) : 0;
      view.style.backgroundPosition = (col * step) + '% ' + (row * step) + '%';
      marker.style.left = ((col + 0.5) * 100 / n) + '%';
      marker.style.top = ((row + 0.5) * 100 / n) + '%';
      var z1 = s.extent[0] + (col + 0.5) * (s.extent[1] - s.extent[0]) / n;
      var z2 = s.extent[3] - (row + 0.5) * (s.extent[3] - s.extent[2]) / n;
      readout.textContent = 'z1 = ' + fmt(z1) + ', z2 = ' + fmt(z2);
      view.setAttribute('aria-label', 'the decoding of the code z1 = ' + fmt(z1)
                        + ', z2 = ' + fmt(z2));
    }
    function point(event) {
      var box = plane.getBoundingClientRect();
      if (!box.width || !box.height) return;
      show(Math.floor((event.clientX - box.left) / box.width * n),
           Math.floor((event.clientY - box.top) / box.height * n));
    }
    plane.addEventListener('pointermove', point);
    plane.addEventListener('pointerdown', function (event) {
      point(event);
      try { plane.setPointerCapture(event.pointerId); } catch (e) {}  // a drag may leave it
    });
    plane.addEventListener('keydown', function (event) {
      var moves = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
      var move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      show(col + move[0], row + move[1]);
    });
    show(col, row);
"""

# The traversal: one slider per dimension; moving one shows its row of the precomputed sprite.
_TRAVERSAL_BODY = """    var sliders = Array.prototype.slice.call(root.querySelectorAll('input[type=range]'));
    var rows = s.dimensions.length, columns = s.values.length;
    function label(i, changed) {
      var text = root.querySelector('#' + sliders[i].id + '-value');
      text.textContent = changed ? fmt(s.values[+sliders[i].value])
                                 : 'base ' + fmt(s.base[i]);
    }
    function base() {
      sliders.forEach(function (slider, i) { slider.value = s.start[i]; label(i, false); });
      view.style.backgroundImage = 'url(' + s.base_src + ')';
      view.style.backgroundSize = '100% 100%';
      view.style.backgroundPosition = '0 0';
      readout.textContent = 'showing the base code';
    }
    function change(i) {
      var k = +sliders[i].value;
      sliders.forEach(function (slider, j) {
        if (j !== i) { slider.value = s.start[j]; label(j, false); }
      });
      label(i, true);
      view.style.backgroundImage = 'url(' + s.sprite_src + ')';
      view.style.backgroundSize = (columns * 100) + '% ' + (rows * 100) + '%';
      view.style.backgroundPosition = (columns > 1 ? k * 100 / (columns - 1) : 0) + '% '
                                       + (rows > 1 ? i * 100 / (rows - 1) : 0) + '%';
      readout.textContent = 'showing the base code with ' + s.labels[i] + ' = '
                            + fmt(s.values[k]);
    }
    sliders.forEach(function (slider, i) {
      slider.addEventListener('input', function () { change(i); });
    });
    root.querySelector('button').addEventListener('click', base);
    base();
"""


def _plane_script(root_id: str) -> str:
    return _script(root_id, _PLANE_BODY)


def _traversal_script(root_id: str) -> str:
    return _script(root_id, _TRAVERSAL_BODY)


# ---------------------------------------------------------------------------------------------
# Images


def _png(pixels: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """A PNG of ``pixels`` (H, W) grey or (H, W, 3) RGB, uint8, with tEXt chunks ``text``."""
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=True, pnginfo=info)
    return buffer.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _pixels(images: np.ndarray) -> np.ndarray:
    """Images (N, H, W, C) in [0, 1] as uint8 for display: one channel as the book's figures draw
    it (``gray_r``: 1 is black), three as RGB; grey levels rounded to GREY_LEVELS steps."""
    levels = np.round(images * (GREY_LEVELS - 1)) / (GREY_LEVELS - 1)
    if images.shape[-1] == 1:
        levels = 1.0 - levels[..., 0]
    return np.round(levels * 255).astype(np.uint8)


def _sprite(pixels: np.ndarray, n_rows: int, n_columns: int) -> np.ndarray:
    """Frames (n_rows * n_columns, H, W[, 3]) tiled row by row into one image."""
    height, width = pixels.shape[1:3]
    grid = pixels.reshape(n_rows, n_columns, height, width, *pixels.shape[3:])
    grid = np.swapaxes(grid, 1, 2)  # (rows, H, columns, W[, 3])
    return grid.reshape(n_rows * height, n_columns * width, *pixels.shape[3:])


def _check_decode(decode) -> None:
    """``decode`` must be a function of codes; a model with a ``decode`` method is a mistake."""
    what = "a function decode(z) -> images, e.g. vae.decode"
    if callable(getattr(decode, "decode", None)):
        raise TypeError(f"decode must be {what}, got the model itself (pass its .decode)")
    checks.function(decode, "decode", what=what)


def _decoded(decode, codes: np.ndarray) -> np.ndarray:
    """``decode(codes)`` checked: (N, H, W, C) in [0, 1] with C 1 or 3, one image per code."""
    images = checks.images(decode(codes), "decode(z)", image_shape=None)
    if len(images) != len(codes) or images.shape[-1] not in (1, 3):
        raise ValueError(f"decode(z) must return one image (H, W, 1) or (H, W, 3) per code: "
                         f"{len(codes)} images, got shape {images.shape}")
    return images


def _number(value: float) -> str:
    """``value`` with two decimals and a true minus sign, as the scripts write numbers."""
    return f"{MINUS if value < 0 else ''}{abs(value):.2f}"


def _code_text(z1: float, z2: float) -> str:
    """``z1 = -0.13, z2 = 0.13`` as the plane's script writes it."""
    return f"z1 = {_number(z1)}, z2 = {_number(z2)}"


def _view_scale(height: int, width: int) -> int:
    """Whole CSS pixels per image pixel so that the larger side is about VIEW_PX."""
    return max(1, round(VIEW_PX / max(height, width)))


def _widget_id(kind: str, *parts: bytes) -> str:
    digest = hashlib.sha1(b"".join(parts)).hexdigest()[:8]
    return f"vaebook-explorer-{kind}-{next(_COUNTER)}-{digest}"


def _extent(extent) -> tuple[float, float, float, float]:
    """``(z1_min, z1_max, z2_min, z2_max)`` from a half-width or four numbers."""
    what = ("a positive number e (the square [-e, e] x [-e, e]) or "
            "(z1_min, z1_max, z2_min, z2_max)")
    if isinstance(extent, (tuple, list, np.ndarray)):
        values = checks.array(extent, "extent", ndim=1, what=what)
        if len(values) != 4 or values[0] >= values[1] or values[2] >= values[3]:
            raise ValueError(f"extent must be {what} with min < max, got "
                             f"{checks.describe(extent)}")
        return tuple(float(v) for v in values)
    half = checks.real(extent, "extent", minimum=0.0, open_below=True, expected=what)
    return (-half, half, -half, half)


def _scatter_png(codes: np.ndarray, labels: np.ndarray, extent, title: str):
    """The codes as a scatter coloured by digit, axes limited to ``extent``: ``(png bytes,
    (width, height) in pixels, axes box)``, the box as (left, top, width, height) in percent of
    the image. Drawn at plotting.RENDER_DPI, with the PNG text of plotting.figure_png."""
    fig, axis = plt.subplots(figsize=SCATTER_INCHES)
    colours = sns.color_palette(plotting.DIGIT_PALETTE, 10)  # a digit has one colour everywhere
    sns.scatterplot(x=codes[:, 0], y=codes[:, 1], hue=labels,
                    palette={digit: colours[digit] for digit in set(labels.tolist())},
                    s=10, alpha=0.7, linewidth=0, legend="full", ax=axis)
    axis.legend(title="digit", loc="center left", bbox_to_anchor=(1.01, 0.5), markerscale=2,
                frameon=False, handletextpad=0.1, borderaxespad=0.2)
    axis.set_xlim(extent[0], extent[1])
    axis.set_ylim(extent[2], extent[3])
    axis.set_aspect("equal")
    axis.set_xlabel("$z_1$")
    axis.set_ylabel("$z_2$")
    fig.tight_layout(pad=0.4)
    fig.canvas.draw()  # applies the equal aspect: the axes box is now final
    box = axis.get_position()
    percent = (100 * box.x0, 100 * (1 - box.y1), 100 * box.width, 100 * box.height)
    min_font_px = plotting.smallest_font_points(fig) * plotting.RENDER_DPI / 72.0
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=plotting.RENDER_DPI)  # not "tight": the box must hold
    plt.close(fig)
    image = Image.open(buffer).convert("RGB").quantize(colors=128, dither=Image.Dither.NONE)
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", title)
    info.add_text(FONT_KEY, f"{min_font_px:.1f}")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, pnginfo=info)
    return out.getvalue(), image.size, percent


# ---------------------------------------------------------------------------------------------
# Widgets


def latent_plane_explorer(decode, codes, labels, title: str, grid_size: int = 24,
                          extent=3.0, max_points: int = 2000) -> HTML:
    """An explorer of a 2-D code space: point at the plane, see the decoding.

    Args:
        decode: ``decode(z) -> images``, codes (N, 2) to images (N, H, W, C) in [0, 1] with C 1
            (drawn as the book's figures draw them: 1 is black) or 3 (RGB), e.g. ``vae.decode``.
        codes: codes of test images (N, 2), e.g. posterior means, in the code's units (prior
            standard deviations for a VAE); drawn as a scatter behind the plane.
        labels: their digits (N,), integers 0-9, which colour the scatter.
        title: the widget's title (also the scatter image's alt text).
        grid_size: positions per axis of the grid of decoded codes: ``grid_size ** 2`` images are
            decoded, one per cell of the plane, at the cell's centre.
        extent: the plane shown: a half-width ``e`` (the square [-e, e] x [-e, e]) or
            ``(z1_min, z1_max, z2_min, z2_max)``, in the code's units. Codes outside are not drawn.
        max_points: at most this many codes are drawn (the first ones), to keep the page small.

    Returns:
        an :class:`IPython.display.HTML` holding the widget (about 150-250 kB for 24 x 24 MNIST
        images). The pointer (mouse, touch, pen) or the arrow keys, once the plane has the
        focus, move a marker to the nearest grid point; its decoding and its code are shown.
    """
    _check_decode(decode)
    codes = checks.codes(codes, "codes", latent_dim=2)
    labels = checks.labels(labels, "labels", count=len(codes))
    title = checks.text(title, "title", allow_empty=False)
    grid_size = checks.integer(grid_size, "grid_size", minimum=2, maximum=64)
    extent = _extent(extent)
    max_points = checks.positive_int(max_points, "max_points")

    n = grid_size
    step1 = (extent[1] - extent[0]) / n
    step2 = (extent[3] - extent[2]) / n
    z1 = extent[0] + (np.arange(n) + 0.5) * step1  # columns, left to right
    z2 = extent[3] - (np.arange(n) + 0.5) * step2  # rows, top to bottom
    grid = np.stack(np.meshgrid(z1, z2), axis=-1).reshape(-1, 2).astype(np.float32)
    images = _decoded(decode, grid)
    height, width = images.shape[1:3]
    sprite = _png(_sprite(_pixels(images), n, n))

    shown_codes, shown_labels = codes[:max_points], labels[:max_points]
    scatter, (scatter_w, scatter_h), box = _scatter_png(shown_codes, shown_labels, extent, title)
    start = [int(np.argmin(np.abs(z1))), int(np.argmin(np.abs(z2)))]
    root_id = _widget_id("plane", sprite, scatter, title.encode())
    scale = _view_scale(height, width)
    settings = {"grid_size": n, "extent": list(extent), "start": start}
    step = 100 / (n - 1)
    outside = int(np.sum((shown_codes[:, 0] < extent[0]) | (shown_codes[:, 0] > extent[1])
                         | (shown_codes[:, 1] < extent[2]) | (shown_codes[:, 1] > extent[3])))
    drawn = (f"{len(shown_codes) - outside} codes of test images drawn"
             + (f" ({outside} outside the plane are not)" if outside else "")
             + f"; each cell of a {n} x {n} grid is decoded at its centre.")
    display_w = round(scatter_w * plotting.DISPLAY_DPI / plotting.RENDER_DPI)  # CSS pixels
    display_h = round(scatter_h * plotting.DISPLAY_DPI / plotting.RENDER_DPI)
    plane_style = f"left:{box[0]:.3f}%;top:{box[1]:.3f}%;width:{box[2]:.3f}%;height:{box[3]:.3f}%"
    marker_style = f"left:{(start[0] + 0.5) * 100 / n:.3f}%;top:{(start[1] + 0.5) * 100 / n:.3f}%"
    view_style = (f"width:{scale * width}px;height:{scale * height}px;"
                  f"background-image:url({_data_uri(sprite)});"
                  f"background-size:{n * 100}% {n * 100}%;"
                  f"background-position:{start[0] * step:.4f}% {start[1] * step:.4f}%")
    esc = html.escape
    markup = f"""<div class="vaebook-explorer" id="{root_id}" data-vaebook-explorer="latent-plane"
 role="group" aria-label="{esc(title)}" data-frames="{n * n}" data-frame-size="{height}x{width}"
 data-settings="{esc(json.dumps(settings))}">
<style>{_CSS}</style>
<div class="vx-title">{esc(title)}</div>
<div class="vx-body">
<figure class="vx-figure" style="width:{display_w}px">
<img src="{_data_uri(scatter)}" alt="{esc(title)}" width="{display_w}" height="{display_h}">
<div class="vx-plane" id="{root_id}-plane" data-vaebook-explorer-plane tabindex="0"
 role="application" aria-label="the code plane: point at it, or use the arrow keys"
 style="{plane_style}"><div class="vx-marker" style="{marker_style}"></div></div>
</figure>
<div class="vx-panel" style="width:{scale * width + 2}px">
<div class="vx-caption">decoded at the marker</div>
<div class="vx-view" id="{root_id}-view" data-vaebook-explorer-view role="img"
 aria-label="the decoding of the marked code" style="{view_style}"></div>
<div class="vx-readout" id="{root_id}-readout"
 aria-live="polite">{_code_text(z1[start[0]], z2[start[1]])}</div>
</div>
</div>
<div class="vx-static">This explorer is still: its script has not run here (in Jupyter, run the
cell, or trust the notebook).</div>
<div class="vx-note">Move the pointer over the plane, touch it, or click it and use the arrow keys:
the image is the decoding of the marked code. {esc(drawn)}</div>
<script>{_plane_script(root_id)}</script>
</div>"""
    return HTML(markup)


def traversal_explorer(decode, base_code, values, title: str, dimension_labels=None,
                       dimensions=None) -> HTML:
    """An explorer of latent traversals: one slider per latent dimension.

    Args:
        decode: ``decode(z) -> images``, codes (N, J) to images (N, H, W, C) in [0, 1], C 1 or 3.
        base_code: the code traversed from, (J,) (or (1, J)), in the code's units, e.g. the
            posterior mean of one test image.
        values: the values each dimension is set to, one per slider position, increasing, in the
            code's units (e.g. ``np.linspace(-2.5, 2.5, 9)``).
        title: the widget's title.
        dimension_labels: one label per slider (e.g. ``"z3: x"``), default ``"z<j>"``.
        dimensions: the latent dimensions given sliders (indices into the code, e.g. the active
            ones), default all J.

    Returns:
        an :class:`IPython.display.HTML` holding the widget. ``len(dimensions) * len(values)``
        codes are decoded, plus the base code: each is the base code with one dimension changed.
        Moving one slider shows its decoding and puts the other sliders back to the base code;
        a button shows the base code again.
    """
    _check_decode(decode)
    base = checks.array(base_code, "base_code", what="a code (J,) of finite numbers")
    if base.ndim == 2 and len(base) == 1:
        base = base[0]
    if base.ndim != 1:
        raise ValueError(f"base_code must be a code (J,) of finite numbers, got shape "
                         f"{np.shape(base_code)}")
    values = checks.array(values, "values", ndim=1, min_size=2,
                          what="a 1-d sequence of at least 2 increasing finite numbers")
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"values must be increasing, e.g. np.linspace(-2.5, 2.5, 9), got "
                         f"{checks.describe(values)}")
    title = checks.text(title, "title", allow_empty=False)
    latent_dim = len(base)
    if dimensions is None:
        dimensions = list(range(latent_dim))
    else:
        if isinstance(dimensions, (str, bytes)) or not hasattr(dimensions, "__len__"):
            raise TypeError(f"dimensions must be a list of latent dimensions (ints in "
                            f"[0, {latent_dim - 1}]) or None, got {checks.describe(dimensions)}")
        dimensions = [checks.integer(j, f"dimensions[{i}]", minimum=0, maximum=latent_dim - 1)
                      for i, j in enumerate(dimensions)]
        if not dimensions or len(set(dimensions)) != len(dimensions):
            raise ValueError(f"dimensions must be distinct latent dimensions, at least one, got "
                             f"{dimensions}")
    if dimension_labels is None:
        dimension_labels = [f"z{j}" for j in dimensions]
    else:
        dimension_labels = checks.names(dimension_labels, "dimension_labels")
        if len(dimension_labels) != len(dimensions):
            raise ValueError(f"dimension_labels must have one label per slider "
                             f"({len(dimensions)}), got {len(dimension_labels)}")

    codes = np.repeat(base[None], len(dimensions) * len(values), axis=0)
    for row, j in enumerate(dimensions):
        codes[row * len(values):(row + 1) * len(values), j] = values
    images = _decoded(decode, np.concatenate([codes, base[None]]).astype(np.float32))
    pixels = _pixels(images)
    height, width = images.shape[1:3]
    sprite = _png(_sprite(pixels[:-1], len(dimensions), len(values)))
    base_png = _png(pixels[-1])
    root_id = _widget_id("traversal", sprite, base_png, title.encode())
    scale = _view_scale(height, width)
    start = [int(np.argmin(np.abs(values - base[j]))) for j in dimensions]
    settings = {"dimensions": dimensions, "values": [float(v) for v in values],
                "base": [float(base[j]) for j in dimensions], "start": start,
                "labels": dimension_labels, "sprite_src": _data_uri(sprite),
                "base_src": _data_uri(base_png)}
    esc = html.escape
    rows = []
    for i, (j, label) in enumerate(zip(dimensions, dimension_labels)):
        slider_id = f"{root_id}-z{j}"
        rows.append(
            f'<div class="vx-slider"><label for="{slider_id}">{esc(label)}</label>'
            f'<input type="range" id="{slider_id}" min="0" max="{len(values) - 1}" step="1" '
            f'value="{start[i]}" data-dimension="{j}">'
            f'<span class="vx-value" id="{slider_id}-value">base {_number(base[j])}</span></div>')
    value_text = f"{_number(values[0])} to {_number(values[-1])} in {len(values)} steps"
    view_style = (f"width:{scale * width}px;height:{scale * height}px;"
                  f"background-image:url({settings['base_src']});background-size:100% 100%")
    markup = f"""<div class="vaebook-explorer" id="{root_id}" data-vaebook-explorer="traversal"
 role="group" aria-label="{esc(title)}" data-frames="{len(dimensions) * len(values) + 1}"
 data-frame-size="{height}x{width}"
 data-settings="{esc(json.dumps(settings))}">
<style>{_CSS}</style>
<div class="vx-title">{esc(title)}</div>
<div class="vx-body">
<div class="vx-panel" style="width:{scale * width + 2}px">
<div class="vx-view" id="{root_id}-view" data-vaebook-explorer-view role="img"
 aria-label="the decoding of the code set by the sliders" style="{view_style}"></div>
<div class="vx-readout" id="{root_id}-readout" aria-live="polite">showing the base code</div>
</div>
<div class="vx-sliders">
<div class="vx-grid">
{chr(10).join(rows)}
</div>
<button type="button">Back to the base code</button>
</div>
</div>
<div class="vx-static">This explorer is still: its script has not run here (in Jupyter, run the
cell, or trust the notebook).</div>
<div class="vx-note">Each slider sets one dimension of the base code ({esc(value_text)});
moving one puts the others back to the base code, since only single changes are decoded in
advance.</div>
<script>{_traversal_script(root_id)}</script>
</div>"""
    return HTML(markup)
