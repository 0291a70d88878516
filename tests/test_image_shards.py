"""Images on disk (vaebook.data.ImageShards) streamed by tf.data into fit and the model cache.

The images are generated here (random binary blobs), so the test needs no data set.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from vaebook import config, data, training, zoo
from vaebook.models import VAE, Autoencoder, build_decoder, build_encoder


def _images(count, seed=0):
    """Binary (count, 28, 28, 1) images: a random rectangle each, so each image is distinct."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, 28, 28, 1), np.float32)
    for image in images:
        top, left = rng.integers(0, 20, size=2)
        height, width = rng.integers(3, 9, size=2)
        image[top:top + height, left:left + width] = 1.0
    return images


@pytest.fixture()
def shards(tmp_path):
    return data.write_image_shards(_images(50), tmp_path / "shards", images_per_shard=16)


def _all(dataset):
    return np.concatenate([batch.numpy() for batch in dataset])


def test_written_shards_hold_every_image_once(shards, tmp_path):
    assert len(shards.files) == 4 and len(shards) == shards.count == 50  # 16 + 16 + 16 + 2
    assert shards == data.open_image_shards(tmp_path / "shards")
    written = _images(50)
    read = _all(shards.dataset(8, shuffle=False))
    np.testing.assert_array_equal(np.sort(read.reshape(50, -1), axis=0),
                                  np.sort(written.reshape(50, -1), axis=0))
    assert read.dtype == np.float32 and read.shape == (50, 28, 28, 1)
    # The dataset knows its number of batches (fit reports progress as for arrays).
    assert int(shards.dataset(8).cardinality()) == 7


def test_shuffling_is_seeded_and_changes_every_epoch(shards):
    dataset = shards.dataset(50, seed=3)
    first, second = _all(dataset), _all(dataset)  # two epochs of one dataset
    again = _all(shards.dataset(50, seed=3))
    np.testing.assert_array_equal(first, again)  # the same seed, the same order
    assert not np.array_equal(first, second)  # reshuffled for the next epoch
    assert not np.array_equal(first, _all(shards.dataset(50, shuffle=False)))


def test_validation_split_matches_the_array_split(shards):
    train_part, val_part = data.split_validation(shards, 0.2)
    train_images, val_images = data.split_validation(_images(50), 0.2)
    assert (len(train_part), len(val_part)) == (40, 10)
    # Parts are chosen by image index, whatever order the shards are read in.
    np.testing.assert_array_equal(np.sort(_all(val_part.dataset(4)).reshape(10, -1), axis=0),
                                  np.sort(val_images.reshape(10, -1), axis=0))
    assert len(_all(train_part.dataset(7))) == len(train_images)
    assert train_part.tag != val_part.tag != shards.tag


def test_chunks_of_images_make_the_same_shards(tmp_path):
    images = _images(30)
    whole = data.write_image_shards(images, tmp_path / "a", images_per_shard=8)
    chunked = data.write_image_shards(iter([images[:13], images[13:]]), tmp_path / "b",
                                      images_per_shard=8)
    assert whole.digest == chunked.digest and whole.files == chunked.files


def test_fit_trains_on_a_dataset_as_on_arrays(shards, seeded):
    vae = VAE(build_encoder(2), build_decoder(2), seed=0)
    train_part, val_part = data.split_validation(shards, 0.2)
    history = training.fit(vae, train_part.dataset(10), val_part.dataset(10, shuffle=False),
                           epochs=3, lines=0)
    assert len(history["elbo"]) == 3 and np.all(np.isfinite(history["val_elbo"]))
    assert history["elbo"][-1] > history["elbo"][0]
    assert int(vae.optimizer.iterations) == 3 * 4  # 40 images in batches of 10, three epochs
    ae = Autoencoder(build_encoder(2, variational=False), build_decoder(2))
    loss = training.fit(ae, train_part.dataset(10), epochs=1, lines=0)["loss"]
    assert np.isfinite(loss[0])


def test_model_cache_trains_on_shards_and_loads(shards, cache_dir, capsys):
    profile = config.get_profile("quick")
    settings = dict(model_type="vae", latent_dim=2, epochs=2, batch_size=10)
    first, history = zoo.trained_model("shards", shards, profile, **settings)
    second, _ = zoo.trained_model("shards", shards, profile, **settings)
    assert "loaded shards from cache" in capsys.readouterr().out
    x = _images(4, seed=9)
    np.testing.assert_array_equal(first.encode(x), second.encode(x))
    (entry,) = cache_dir.glob("shards-*")
    assert json.loads((entry / "config.json").read_text())["data"] == shards.tag
    assert len(history["val_elbo"]) == 2 and "best_epoch" in history


@pytest.mark.parametrize("make, error, match", [
    (lambda s: training.fit(VAE(build_encoder(2), build_decoder(2)), s.dataset(8), epochs=1,
                            batch_size=8), ValueError, r"batch_size must be None when x_train"),
    (lambda s: training.fit(VAE(build_encoder(2), build_decoder(2)), s.dataset(8).unbatch(),
                            epochs=1), ValueError, r"x_train must be a tf.data.Dataset of image "
                                                   r"batches.*unbatched\?"),
    (lambda s: training.fit(VAE(build_encoder(2), build_decoder(2)),
                            s.dataset(8).map(lambda x: x * 255), epochs=1),
     ValueError, r"x_train \(first batch\) must be images.*divide by 255"),
    (lambda s: training.fit(VAE(build_encoder(2), build_decoder(2)), s.dataset(8),
                            np.zeros((2, 28, 28, 1), np.float32), epochs=1),
     TypeError, r"x_val must be a tf.data.Dataset"),
    (lambda s: training.fit(VAE(build_encoder(2), build_decoder(2)),
                            s.dataset(8).map(lambda x: (x, x)), epochs=1),
     ValueError, r"images only, not pairs"),
    (lambda s: zoo.trained_model("t", s, config.get_profile("quick"), model_type="autoencoder",
                                 latent_dim=2, epochs=1, noise_std=0.3),
     ValueError, r"noise_std must be 0 when data is ImageShards"),
    (lambda s: data.write_image_shards(_images(3), s.folder), ValueError,
     r"folder must be empty or new"),
    (lambda s: data.write_image_shards(_images(3) * 255, s.folder + "-new"), ValueError,
     r"images must be images.*divide by 255"),
    (lambda s: data.open_image_shards(s.folder + "-missing"), ValueError,
     r"folder must hold image shards"),
    (lambda s: data.open_image_shards(3), TypeError, r"folder must be a path"),
    (lambda s: s.dataset(0), ValueError, r"batch_size must be a positive int"),
    (lambda s: s.part(10, 5), ValueError, r"stop must be an int in \[11, 50\]"),
])
def test_mistakes_get_clear_messages(shards, make, error, match, cache_dir):
    with pytest.raises(error, match=match):
        make(shards)
