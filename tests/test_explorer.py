"""The static latent-space explorers (vaebook.explorer): what their HTML holds, on fake decoders.

Each precomputed frame of a widget's sprite sheet must be the decoding of the code the script
says it is; ids must be unique across widgets; bad arguments must stop with a clear message.
Whether the widgets react in a browser is tested by tests/test_browser_check.py.
"""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pytest
from IPython.display import HTML
from PIL import Image

from vaebook import explorer


def blob_decode(z):
    """Codes (N, J) -> (N, 28, 28, 1) in [0, 1]: a blob at (14 + 3 z0, 14 - 3 z1), its width set by
    z2 (if any), so that every code gives its own image."""
    z = np.asarray(z, np.float64)
    rows, columns = np.mgrid[0:28, 0:28]
    centre_x = 14 + 3 * z[:, 0, None, None]
    centre_y = 14 - 3 * z[:, 1, None, None]
    width = 4 + (np.clip(z[:, 2, None, None], -2, 2) if z.shape[1] > 2 else 0)
    images = np.exp(-((columns - centre_x) ** 2 + (rows - centre_y) ** 2) / (2 * width ** 2))
    return images[..., None].astype(np.float32)


class _Parser(HTMLParser):
    """Every element's attributes, and the text of the scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def parse(widget: HTML) -> _Parser:
    parser = _Parser()
    parser.feed(widget.data)
    return parser


def root_of(parser: _Parser) -> dict:
    roots = [attrs for _, attrs in parser.elements if "data-vaebook-explorer" in attrs]
    assert len(roots) == 1
    return roots[0]


def png_of(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def frames(sprite: Image.Image, n_rows: int, n_columns: int) -> np.ndarray:
    """The sprite sheet cut back into frames (n_rows * n_columns, H, W), row by row."""
    pixels = np.asarray(sprite)
    height, width = pixels.shape[0] // n_rows, pixels.shape[1] // n_columns
    return (pixels.reshape(n_rows, height, n_columns, width).swapaxes(1, 2)
            .reshape(n_rows * n_columns, height, width))


@pytest.fixture(scope="module")
def plane():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(3000, 2)).astype(np.float32)
    labels = rng.integers(0, 10, size=3000)
    return explorer.latent_plane_explorer(blob_decode, codes, labels, "A plane", grid_size=24)


@pytest.fixture(scope="module")
def traversal():
    return explorer.traversal_explorer(blob_decode, np.array([0.5, -0.2, 0.0, 1.0]),
                                       np.linspace(-2.5, 2.5, 9), "A traversal",
                                       dimension_labels=["x", "y", "size"], dimensions=[0, 1, 2])


# -- the latent plane -------------------------------------------------------------------------


def test_plane_holds_one_frame_per_grid_point_each_the_decoding_of_its_code(plane):
    assert isinstance(plane, HTML)
    parser = parse(plane)
    root = root_of(parser)
    assert root["data-vaebook-explorer"] == "latent-plane"
    assert root["data-frames"] == str(24 * 24) and root["data-frame-size"] == "28x28"
    settings = json.loads(root["data-settings"])
    assert settings["grid_size"] == 24 and settings["extent"] == [-3.0, 3.0, -3.0, 3.0]
    view = next(attrs for _, attrs in parser.elements if "data-vaebook-explorer-view" in attrs)
    sprite = png_of(re.search(r"url\((data:[^)]*)\)", view["style"]).group(1))
    assert sprite.size == (24 * 28, 24 * 28)
    assert "background-size:2400% 2400%" in view["style"]
    # Row r, column c: the code at the centre of the cell, z1 growing rightwards, z2 upwards.
    centres = -3.0 + (np.arange(24) + 0.5) * 0.25
    tiles = frames(sprite, 24, 24)
    for row, column in [(0, 0), (0, 23), (23, 0), (5, 17), (12, 12)]:
        code = np.array([[centres[column], centres[::-1][row]]], np.float32)
        expected = np.round((1 - np.round(blob_decode(code)[0, ..., 0] * 63) / 63) * 255)
        np.testing.assert_array_equal(tiles[row * 24 + column], expected.astype(np.uint8))


def test_plane_starts_at_the_grid_point_nearest_the_origin_and_says_so(plane):
    root = root_of(parse(plane))
    assert json.loads(root["data-settings"])["start"] == [11, 11]  # centres -0.125 and 0.125
    assert "z1 = \u22120.12, z2 = 0.12" in plane.data  # -0.125 rounds to even: 0.12


def test_plane_scatter_is_a_legible_png_with_its_axes_box(plane):
    parser = parse(plane)
    image = next(attrs for tag, attrs in parser.elements if tag == "img")
    scatter = png_of(image["src"])
    assert image["alt"] == "A plane"
    assert scatter.info["Title"] == "A plane"
    min_font_px = float(scatter.info["vaebook:min_font_px"])
    shown_width = int(image["width"])
    assert shown_width <= 800 and min_font_px * shown_width / scatter.size[0] >= 9
    plane_box = next(attrs for _, attrs in parser.elements
                     if "data-vaebook-explorer-plane" in attrs)["style"]
    box = dict(re.findall(r"(left|top|width|height):([\d.]+)%", plane_box))
    assert all(0 <= float(value) <= 100 for value in box.values())
    assert float(box["left"]) + float(box["width"]) <= 100


def test_plane_is_self_contained_and_small(plane):
    assert len(plane.data) < 400_000
    parser = parse(plane)
    assert len(parser.scripts) == 1 and "http" not in parser.scripts[0]
    assert not any(tag == "script" and "src" in attrs for tag, attrs in parser.elements)
    assert not re.search(r"""(?:src|href)=["'](?!data:)""", plane.data)


@pytest.mark.parametrize("name", ["plane", "traversal"])
def test_a_widget_whose_script_does_not_run_says_so(name, request):
    widget = request.getfixturevalue(name)
    assert "This explorer is still: its script has not run here" in widget.data
    assert "root.querySelector('.vx-static').remove()" in parse(widget).scripts[0]


def test_plane_counts_the_codes_outside_it():
    codes = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, -4.0], [1.0, 1.0]])
    widget = explorer.latent_plane_explorer(blob_decode, codes, np.array([0, 1, 2, 3]), "t",
                                            grid_size=4, extent=(-2, 2, -3, 3))
    assert "2 codes of test images drawn (2 outside the plane are not)" in widget.data
    settings = json.loads(root_of(parse(widget))["data-settings"])
    assert settings["extent"] == [-2.0, 2.0, -3.0, 3.0] and settings["start"] == [1, 1]


def test_plane_draws_at_most_max_points_codes():
    codes = np.zeros((50, 2))
    widget = explorer.latent_plane_explorer(blob_decode, codes, np.zeros(50, int), "t",
                                            grid_size=3, max_points=7)
    assert "7 codes of test images drawn;" in widget.data


# -- traversals -------------------------------------------------------------------------------


def test_traversal_holds_one_frame_per_dimension_and_value_each_one_change_of_the_base(traversal):
    parser = parse(traversal)
    root = root_of(parser)
    assert root["data-vaebook-explorer"] == "traversal"
    assert root["data-frames"] == str(3 * 9 + 1) and root["data-frame-size"] == "28x28"
    settings = json.loads(root["data-settings"])
    assert settings["labels"] == ["x", "y", "size"] and settings["dimensions"] == [0, 1, 2]
    sprite = png_of(settings["sprite_src"])
    assert sprite.size == (9 * 28, 3 * 28)
    base = np.array([0.5, -0.2, 0.0, 1.0], np.float32)
    values = np.linspace(-2.5, 2.5, 9)
    tiles = frames(sprite, 3, 9)
    for row in range(3):
        for column in range(9):
            code = base.copy()
            code[row] = values[column]
            expected = np.round((1 - np.round(blob_decode(code[None])[0, ..., 0] * 63) / 63) * 255)
            np.testing.assert_array_equal(tiles[row * 9 + column], expected.astype(np.uint8))
    base_image = np.asarray(png_of(settings["base_src"]))
    expected = np.round((1 - np.round(blob_decode(base[None])[0, ..., 0] * 63) / 63) * 255)
    np.testing.assert_array_equal(base_image, expected.astype(np.uint8))
    # Each slider starts at the value nearest the base code's, and says it shows the base.
    sliders = [attrs for tag, attrs in parser.elements
               if tag == "input" and attrs.get("type") == "range"]
    assert [slider["value"] for slider in sliders] == ["5", "4", "4"]
    assert all(slider["max"] == "8" for slider in sliders)
    assert settings["start"] == [5, 4, 4]
    assert "only single changes are decoded" in traversal.data


def test_traversal_defaults_to_every_dimension_labelled_z_j():
    widget = explorer.traversal_explorer(blob_decode, np.zeros((1, 3)), [-1.0, 1.0], "t")
    settings = json.loads(root_of(parse(widget))["data-settings"])
    assert settings["dimensions"] == [0, 1, 2] and settings["labels"] == ["z0", "z1", "z2"]
    assert root_of(parse(widget))["data-frames"] == str(3 * 2 + 1)


def test_rgb_images_are_kept_in_colour():
    def red(z):
        images = np.zeros((len(z), 8, 8, 3), np.float32)
        images[..., 0] = 1.0
        return images

    widget = explorer.traversal_explorer(red, np.zeros(2), [-1.0, 1.0], "t")
    sprite = png_of(json.loads(root_of(parse(widget))["data-settings"])["sprite_src"])
    assert sprite.mode == "RGB" and sprite.getpixel((0, 0)) == (255, 0, 0)


# -- several widgets on a page ----------------------------------------------------------------


def test_ids_are_unique_within_and_across_widgets(plane, traversal):
    again = explorer.traversal_explorer(blob_decode, np.array([0.5, -0.2, 0.0, 1.0]),
                                        np.linspace(-2.5, 2.5, 9), "A traversal",
                                        dimension_labels=["x", "y", "size"], dimensions=[0, 1, 2])
    ids = [attrs["id"] for widget in (plane, traversal, again)
           for _, attrs in parse(widget).elements if "id" in attrs]
    assert len(ids) == len(set(ids)) and len(ids) > 10
    labels = [attrs["for"] for widget in (traversal, again)
              for tag, attrs in parse(widget).elements if tag == "label"]
    assert set(labels) <= set(ids)
    # Each script looks up its own root.
    for widget in (plane, traversal, again):
        parser = parse(widget)
        assert json.dumps(root_of(parser)["id"]) in parser.scripts[0]


# -- mistakes ---------------------------------------------------------------------------------


CODES = np.zeros((5, 2), np.float32)
LABELS = np.arange(5)


@pytest.mark.parametrize("call, error, match", [
    (lambda: explorer.latent_plane_explorer("decode", CODES, LABELS, "t"), TypeError,
     r"decode must be a function decode\(z\) -> images"),
    (lambda: explorer.latent_plane_explorer(SimpleNamespace(decode=blob_decode), CODES, LABELS,
                                            "t"),
     TypeError, r"decode must be .*, got the model itself \(pass its .decode\)"),
    (lambda: explorer.latent_plane_explorer(blob_decode, np.zeros((5, 3)), LABELS, "t"),
     ValueError, r"codes must be codes of shape \(N, 2\)"),
    (lambda: explorer.latent_plane_explorer(blob_decode, CODES, LABELS * 1.0, "t"), TypeError,
     r"labels must be integer labels"),
    (lambda: explorer.latent_plane_explorer(blob_decode, CODES, LABELS[:3], "t"), ValueError,
     r"labels must be integer labels .* of shape \(5,\)"),
    (lambda: explorer.latent_plane_explorer(blob_decode, CODES, LABELS, None), TypeError,
     r"title must be a string"),
    (lambda: explorer.latent_plane_explorer(blob_decode, CODES, LABELS, "t", grid_size=1),
     ValueError, r"grid_size must be an int in \[2, 64\]"),
    (lambda: explorer.latent_plane_explorer(blob_decode, CODES, LABELS, "t", grid_size=2.5),
     ValueError, r"grid_size must be an int"),
    (lambda: explorer.latent_plane_explorer(blob_decode, CODES, LABELS, "t", extent=-1),
     ValueError, r"extent must be a positive number e"),
    (lambda: explorer.latent_plane_explorer(blob_decode, CODES, LABELS, "t", extent="3"),
     TypeError, r"extent must be a positive number e"),
    (lambda: explorer.latent_plane_explorer(blob_decode, CODES, LABELS, "t", extent=(1, -1, 0, 1)),
     ValueError, r"extent must be .* with min < max"),
    (lambda: explorer.latent_plane_explorer(blob_decode, CODES, LABELS, "t", max_points=0),
     ValueError, r"max_points must be a positive int"),
    (lambda: explorer.latent_plane_explorer(lambda z: blob_decode(z) * 255, CODES, LABELS, "t"),
     ValueError, r"decode\(z\) must be images .* in \[0, 1\]"),
    (lambda: explorer.latent_plane_explorer(lambda z: blob_decode(z)[:3], CODES, LABELS, "t",
                                            grid_size=2),
     ValueError, r"decode\(z\) must return one image .* per code: 4 images"),
    (lambda: explorer.traversal_explorer(blob_decode, np.zeros((2, 3)), [0.0, 1.0], "t"),
     ValueError, r"base_code must be a code \(J,\)"),
    (lambda: explorer.traversal_explorer(blob_decode, np.zeros(3), [1.0, 0.0], "t"), ValueError,
     r"values must be increasing"),
    (lambda: explorer.traversal_explorer(blob_decode, np.zeros(3), [1.0], "t"), ValueError,
     r"values must be a 1-d sequence of at least 2"),
    (lambda: explorer.traversal_explorer(blob_decode, np.zeros(3), [0.0, 1.0], "t",
                                         dimension_labels=["a"]),
     ValueError, r"dimension_labels must have one label per slider \(3\), got 1"),
    (lambda: explorer.traversal_explorer(blob_decode, np.zeros(3), [0.0, 1.0], "t",
                                         dimensions=[0, 3]),
     ValueError, r"dimensions\[1\] must be an int in \[0, 2\]"),
    (lambda: explorer.traversal_explorer(blob_decode, np.zeros(3), [0.0, 1.0], "t",
                                         dimensions=[1, 1]),
     ValueError, r"dimensions must be distinct latent dimensions"),
    (lambda: explorer.traversal_explorer(blob_decode, np.zeros(3), [0.0, 1.0], "t",
                                         dimensions=2),
     TypeError, r"dimensions must be a list of latent dimensions"),
    (lambda: explorer.traversal_explorer(blob_decode, np.zeros(3), [0.0, 1.0], ""),
     ValueError, r"title must be a non-empty string"),
])
def test_mistakes_get_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()
