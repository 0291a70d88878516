"""The shapes data of Chapter 3: deterministic, on the dSprites grid, factors do what they say."""

import math

import numpy as np
import pytest

from vaebook import book, shapes


@pytest.fixture(scope="module")
def small():
    return shapes.load_shapes(300, 100, image_size=32, seed=3, verbose=False)


def _one(shape=0, scale=5, orientation=0, x=16, y=16):
    return np.array([[shape, scale, orientation, x, y]])


def _centre_of_mass(image):
    rows, cols = np.nonzero(image[..., 0])
    return cols.mean(), rows.mean()


def test_deterministic_and_binary(small):
    again = shapes.load_shapes(300, 100, image_size=32, seed=3, verbose=False)
    np.testing.assert_array_equal(small.x_train, again.x_train)
    np.testing.assert_array_equal(small.factors_test, again.factors_test)
    other = shapes.load_shapes(300, 100, image_size=32, seed=4, verbose=False)
    assert not np.array_equal(small.factors_train, other.factors_train)
    assert small.x_train.shape == (300, 32, 32, 1) and small.x_train.dtype == np.float32
    assert set(np.unique(small.x_train)) == {0.0, 1.0}
    np.testing.assert_array_equal(shapes.render(small.factors_train[:20], 32), small.x_train[:20])
    assert small.image_shape == (32, 32, 1)


def test_train_and_test_are_disjoint_and_test_ignores_n_train(small):
    def keys(factors):
        return {tuple(row) for row in factors}

    assert not keys(small.factors_train) & keys(small.factors_test)
    assert len(keys(small.factors_train)) == 300  # drawn without replacement
    bigger = shapes.load_shapes(500, 100, image_size=32, seed=3, verbose=False)
    np.testing.assert_array_equal(bigger.factors_test, small.factors_test)


def test_factors_span_the_documented_grid():
    data = shapes.load_shapes(4000, 10, image_size=32, seed=0, verbose=False)
    assert data.factor_names == ("shape", "scale", "orientation", "x", "y")
    assert data.factor_sizes == (3, 6, 40, 32, 32)
    for k, size in enumerate(data.factor_sizes):
        assert data.factors_train[:, k].min() == 0 and data.factors_train[:, k].max() == size - 1
    values = data.values_train
    assert values[:, 1].min() == 0.5 and values[:, 1].max() == 1.0
    assert values[:, 2].min() == 0.0 and values[:, 2].max() == pytest.approx(2 * math.pi)
    for column in (3, 4):
        assert values[:, column].min() == 0.0 and values[:, column].max() == 1.0
    # Every shape stays inside the image: no image is empty, at x = 0 or 1 as elsewhere.
    assert data.x_train.sum(axis=(1, 2, 3)).min() > 0


def test_x_moves_right_y_moves_down_scale_grows():
    for shape in range(3):
        left, right = shapes.render(np.concatenate([_one(shape, x=0), _one(shape, x=31)]), 64)
        assert _centre_of_mass(right)[0] - _centre_of_mass(left)[0] == pytest.approx(
            64 * (1 - 2 * shapes.SHAPE_RADIUS), abs=1.0)
        top, bottom = shapes.render(np.concatenate([_one(shape, y=0), _one(shape, y=31)]), 64)
        assert _centre_of_mass(bottom)[1] > _centre_of_mass(top)[1] + 30
        areas = shapes.render(np.concatenate([_one(shape, scale=s) for s in range(6)]), 64).sum(
            axis=(1, 2, 3))
        assert np.all(np.diff(areas) > 0)
        assert areas[-1] / areas[0] == pytest.approx(4.0, rel=0.15)  # scale 0.5 -> 1: area x4
    # Orientation turns the ellipse: wide at 0, tall at about a quarter turn (index 10 of 0..39).
    flat, upright = shapes.render(np.concatenate([_one(1, orientation=0),
                                                  _one(1, orientation=10)]), 64)
    assert np.ptp(np.nonzero(flat[..., 0])[1]) > 1.5 * np.ptp(np.nonzero(flat[..., 0])[0])
    assert np.ptp(np.nonzero(upright[..., 0])[0]) > 1.5 * np.ptp(np.nonzero(upright[..., 0])[1])


def test_render_in_chunks_on_several_threads_draws_what_one_image_at_a_time_draws():
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, size, 3 * shapes._RENDER_CHUNK + 5)
                        for size in shapes.FACTOR_SIZES], axis=1)
    together = shapes.render(factors, 32)  # several chunks per shape, drawn on a thread pool
    for index in rng.choice(len(factors), 40, replace=False):
        np.testing.assert_array_equal(together[index], shapes.render(factors[index:index + 1], 32)[0])


def test_draw_shape_matches_the_grid():
    image = shapes.draw_shape("heart", scale=0.5, orientation=0.0, x=1.0, y=0.0, image_size=32)
    np.testing.assert_array_equal(image, shapes.render(_one(2, 0, 0, 31, 0), 32)[0])


def test_subset_of_shapes_and_descriptions(small):
    hearts = shapes.load_shapes(50, 10, shapes=("heart",), verbose=False)
    assert set(hearts.factors_train[:, 0]) == {2}
    assert "heart only" in hearts.description and hearts.tag.endswith("-heart")
    assert small.tag == "generated-shapes-32px-300-100-seed3"
    assert "300 train / 100 test" in small.description
    caveat = book.data_caveat(small)
    assert "drawn by vaebook.shapes" in caveat and "not the dSprites images" in caveat


def test_reads_and_downsamples_a_dsprites_file(tmp_path):
    """A tiny file in the original layout: our own 64-pixel images with their factor classes."""
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, size, 40) for size in shapes.FACTOR_SIZES], axis=1)
    images = shapes.render(factors, 64)[..., 0].astype(np.uint8)
    classes = np.concatenate([np.zeros((40, 1), np.int64), factors], axis=1)  # colour column first
    path = tmp_path / "dsprites_tiny.npz"
    np.savez(path, imgs=images, latents_classes=classes,
             latents_values=shapes.factor_values_of(factors))
    full = shapes.load_shapes(30, 10, image_size=64, path=path, seed=1, verbose=False)
    assert full.source == "dsprites-npz" and full.file_name == "dsprites_tiny.npz"
    order = [next(i for i in range(40) if np.array_equal(factors[i], row))
             for row in full.factors_train]
    np.testing.assert_array_equal(full.x_train[..., 0], images[order])
    small = shapes.load_shapes(30, 10, image_size=32, path=path, seed=1, verbose=False)
    np.testing.assert_array_equal(small.factors_train, full.factors_train)
    assert small.x_train.shape == (30, 32, 32, 1)
    # Downsampled by 2x2 blocks: the shapes stay where they were, at half the size.
    for big, little in zip(full.x_train[:5], small.x_train[:5]):
        assert np.allclose(np.array(_centre_of_mass(little)) * 2 + 0.5, _centre_of_mass(big),
                           atol=1.0)
    assert "downsampled from 64x64" in book.data_caveat(small)
    np.savez(tmp_path / "wrong.npz", images=images)
    with pytest.raises(ValueError, match="lacks"):
        shapes.load_shapes(3, 1, path=tmp_path / "wrong.npz", verbose=False)
    with pytest.raises(ValueError, match="at most"):
        shapes.load_shapes(35, 10, path=path, verbose=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"shapes": ("square", "star")}, r"shapes must be distinct names from \('square'"),
    ({"image_size": 28}, r"image_size must be one of \(32, 64\), got 28"),
    ({"n_train": 0}, "n_train must be a positive int"),
    ({"n_test": 1.5}, "n_test must be a positive int"),
    ({"n_train": 737_000, "n_test": 1_000}, "at most the 737,280 factor combinations"),
    ({"seed": -1}, "seed must be a non-negative int"),
    ({"path": "/no/such/file.npz"}, "does not exist"),
])
def test_bad_arguments(kwargs, message):
    arguments = {"n_train": 10, "n_test": 5, "verbose": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        shapes.load_shapes(**arguments)


@pytest.mark.parametrize("call, message", [
    (lambda: shapes.draw_shape("star"), r"unknown shape 'star'; expected one of"),
    (lambda: shapes.draw_shape("heart", scale=2.0), r"scale must be a number in \[0.5, 1.0\]"),
    (lambda: shapes.render(np.array([[3, 0, 0, 0, 0]])), r"'shape' indices must lie in 0..2"),
    (lambda: shapes.render(np.zeros((2, 4), int)), r"shape \(N, 5\)"),
])
def test_bad_factors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
