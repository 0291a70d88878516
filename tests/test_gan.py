"""The GAN and the evaluation classifier: shapes, one training step, the cache, mistakes."""

import dataclasses
import json

import keras
import numpy as np
import pytest

from vaebook import config, training, zoo
from vaebook.models import (GAN, Classifier, ClassifierConfig, GANConfig, build_discriminator,
                            build_generator, discriminator_loss, generator_loss, grid_epochs,
                            sample_grids)

QUICK = config.get_profile("quick")
SMALL = GANConfig(latent_dim=8, generator_filters=(16, 8), discriminator_filters=(8, 16))


def test_shapes_and_ranges(mnist_small, seeded):
    gan = SMALL.build()
    images = gan.sample(5, seed=1)
    assert images.shape == (5, 28, 28, 1)
    assert images.min() >= 0 and images.max() <= 1  # sigmoid output, like the data
    np.testing.assert_array_equal(images, gan.sample(5, seed=1))  # the seed fixes the noise
    probabilities = gan.discriminate(mnist_small.x_test[:7])
    assert probabilities.shape == (7,) and np.all((probabilities > 0) & (probabilities < 1))
    assert gan.latent_dim == 8 and gan.image_shape == (28, 28, 1)


def test_losses_match_their_formulas():
    real, fake = np.array([[2.0], [-1.0]]), np.array([[0.5], [-3.0]])
    sigmoid = lambda logits: 1 / (1 + np.exp(-logits))  # noqa: E731
    expected_d = -np.log(sigmoid(real[:, 0])) - np.log(1 - sigmoid(fake[:, 0]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(discriminator_loss(real, fake)),
                               expected_d, rtol=1e-6)
    # Non-saturating: -log D(G(z)), not log(1 - D(G(z))).
    np.testing.assert_allclose(keras.ops.convert_to_numpy(generator_loss(fake)),
                               -np.log(sigmoid(fake[:, 0])), rtol=1e-6)


def test_a_training_step_moves_both_networks_and_reports_every_metric(mnist_small, seeded):
    # A faster D than G, so that a few steps show who is winning.
    gan = dataclasses.replace(SMALL, d_learning_rate=2e-3).build()
    generator_before = [w.copy() for w in gan.generator.get_weights()]
    discriminator_before = [w.copy() for w in gan.discriminator.get_weights()]
    x = mnist_small.x_train[:64]
    first = gan.train_on_batch(x, return_dict=True)
    assert set(first) == {"d_loss", "g_loss", "d_accuracy_real", "d_accuracy_fake"}
    assert all(np.isfinite(value) for value in first.values())
    # At the start D knows nothing: its loss is about 2 log 2 and G's about log 2.
    assert first["d_loss"] == pytest.approx(2 * np.log(2), abs=0.3)
    assert 0 <= first["d_accuracy_real"] <= 1 and 0 <= first["d_accuracy_fake"] <= 1
    for before, after in ((generator_before, gan.generator.get_weights()),
                          (discriminator_before, gan.discriminator.get_weights())):
        assert any(not np.allclose(b, a) for b, a in zip(before, after))
    # More steps on the same batch: D learns to separate it from G's samples, its loss falls.
    for _ in range(15):  # train_on_batch reports this step's numbers alone
        last = gan.train_on_batch(x, return_dict=True)
    assert last["d_loss"] < first["d_loss"] - 0.1
    assert last["g_loss"] > first["g_loss"]  # D winning means G's loss rises
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 16


def test_fit_trains_a_gan_on_grey_images_and_keeps_sample_grids(mnist_small, seeded):
    from vaebook.models import SampleGrids

    gan = SMALL.build()
    grey = mnist_small.x_train[:64] * 0.5  # grey levels: allowed, no likelihood scores them
    noise = np.zeros((4, 8), np.float32)
    grids = SampleGrids(noise, [1, 2])
    history = training.fit(gan, grey, grey[:16], epochs=2, batch_size=32, lines=0,
                           callbacks=[grids])
    assert len(history["d_loss"]) == 2 and len(history["val_d_accuracy_real"]) == 2
    assert [epoch for epoch, _ in grids.grids] == [1, 2]
    assert grids.grids[0][1].shape == (4, 28, 28, 1)
    assert not np.allclose(grids.grids[0][1], grids.grids[1][1])  # G changed between epochs
    assert history["best_epoch"] == 2  # no val_loss to select on: the last epoch is kept
    stored = sample_grids(json.loads(json.dumps(grids.as_history())))
    np.testing.assert_allclose(stored[1][1], grids.grids[1][1], atol=0.5 / 255 + 1e-6)


def test_divergence_stops_a_gan_with_a_message(mnist_small, seeded):
    gan = SMALL.build()
    gan.generator.layers[1].kernel.assign(np.full(gan.generator.layers[1].kernel.shape, np.nan))
    with pytest.raises(training.TrainingDiverged, match=r"training diverged: \w+ is nan at epoch 1"):
        training.fit(gan, mnist_small.x_train[:64], epochs=1, batch_size=32, lines=0)


def test_zoo_trains_saves_and_reloads_a_gan(mnist_small, cache_dir, seeded, capsys):
    model, history = zoo.trained_model("t-gan", mnist_small, QUICK, config=SMALL, epochs=2,
                                       batch_size=32)
    assert isinstance(model, GAN) and "loaded" not in capsys.readouterr().out
    assert history["sample_epochs"] == grid_epochs(2) == [1, 2]
    loaded, loaded_history = zoo.trained_model("t-gan", mnist_small, QUICK, config=SMALL,
                                               epochs=2, batch_size=32)
    assert "loaded t-gan from cache" in capsys.readouterr().out
    np.testing.assert_array_equal(loaded.sample(6), model.sample(6))
    x = mnist_small.x_test[:6]
    np.testing.assert_array_equal(loaded.discriminate(x), model.discriminate(x))
    assert loaded_history == history and len(sample_grids(loaded_history)) == 2
    # The optimizers' state came back too, so training would go on where it stopped.
    assert int(loaded.g_optimizer.iterations) == int(model.g_optimizer.iterations) > 0
    saved = json.loads(next(cache_dir.glob("t-gan-*/config.json")).read_text())
    assert GANConfig.from_dict(saved["config"]["model"]) == SMALL.__class__(
        **{**SMALL.as_dict(), "image_shape": (28, 28, 1)})


def test_gan_keras_save_round_trip(tmp_path, mnist_small, seeded):
    gan = SMALL.build()
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    assert isinstance(loaded, GAN) and loaded.seed == SMALL.seed
    np.testing.assert_array_equal(loaded.sample(3), gan.sample(3))
    training.compile_model(loaded)  # compiled again by the caller, then it trains
    training.fit(loaded, mnist_small.x_train[:32], epochs=1, batch_size=16, lines=0)


def test_gan_config_round_trip():
    values = SMALL.as_dict()
    json.dumps(values)
    assert GANConfig.from_dict(values).as_dict() == values


def test_classifier_learns_and_is_cached(mnist_small, cache_dir, seeded, capsys):
    small = ClassifierConfig(feature_dim=32, shift=0.0)
    model, history = zoo.trained_model("t-clf", mnist_small, QUICK, config=small, epochs=3,
                                       batch_size=32)
    assert isinstance(model, Classifier)
    assert history["loss"][-1] < history["loss"][0]
    assert model.features(mnist_small.x_test).shape == (64, 32)
    accuracy = model.accuracy(mnist_small.x_test, mnist_small.y_test)
    assert accuracy > 0.3  # three epochs on 230 digits: far above chance (0.1)
    loaded, _ = zoo.trained_model("t-clf", mnist_small, QUICK, config=small, epochs=3,
                                  batch_size=32)
    assert "loaded t-clf" in capsys.readouterr().out
    assert loaded.accuracy(mnist_small.x_test, mnist_small.y_test) == accuracy


@pytest.mark.parametrize("call, error, match", [
    (lambda: build_generator(0), ValueError, r"latent_dim must be a positive int"),
    (lambda: build_generator(8, filters=(8,)), ValueError, r"filters must be two positive ints"),
    (lambda: build_generator(8, image_shape=(30, 30, 1)), ValueError, r"divisible by 4"),
    (lambda: build_discriminator(image_shape=(28, 28)), ValueError, r"image_shape must be"),
    (lambda: GAN(build_generator(8), "d"), TypeError, r"discriminator must be a functional"),
    (lambda: GAN(build_generator(8, image_shape=(32, 32, 1)), build_discriminator()),
     ValueError, r"the generator must make the images the discriminator takes"),
    (lambda: GAN(build_generator(8), build_discriminator(), seed=-1), ValueError, r"seed must"),
    (lambda: GANConfig(latent_dim=0), ValueError, r"latent_dim must be a positive int"),
    (lambda: GANConfig(d_learning_rate=2.0), ValueError, r"d_learning_rate must be"),
    (lambda: GANConfig(beta_1=1.0), ValueError, r"beta_1 must be"),
    (lambda: GANConfig.from_dict({"latent": 3}), TypeError, r"latent"),
    (lambda: SMALL.build().sample(0), ValueError, r"num_samples must be a positive int"),
    (lambda: SMALL.build().generate(np.zeros((2, 5))), ValueError, r"z must be codes of shape \(N, 8\)"),
    (lambda: SMALL.build().discriminate(np.ones((2, 28, 28, 1)) * 255), ValueError, r"x must be images"),
    (lambda: SMALL.build().compile(d_optimizer="adam"), TypeError, r"d_optimizer must be a keras"),
    (lambda: grid_epochs(0), ValueError, r"epochs must be a positive int"),
    (lambda: sample_grids({"loss": [1.0]}), ValueError, r"history must hold 'sample_epochs'"),
    (lambda: Classifier(build_generator(8)), ValueError, r"network must have a layer named 'features'"),
    (lambda: ClassifierConfig(shift=0.9), ValueError, r"shift must be"),
    (lambda: ClassifierConfig().build().accuracy(np.zeros((2, 28, 28, 1)), [1]), ValueError,
     r"labels must be integer labels .* of shape \(2,\)"),
])
def test_mistakes_are_explained(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_fit_and_zoo_refuse_mismatched_settings(mnist_small, cache_dir):
    gan = SMALL.build()
    x = mnist_small.x_train[:8]
    with pytest.raises(ValueError, match="targets_train must be None for a GAN"):
        training.fit(gan, x, epochs=1, targets_train=x, lines=0)
    with pytest.raises(ValueError, match="targets_train must be the labels of x_train"):
        training.fit(ClassifierConfig().build(), x, epochs=1, lines=0)
    with pytest.raises(ValueError, match="learning_rate must be None with a GANConfig"):
        zoo.trained_model("t", mnist_small, QUICK, config=SMALL, epochs=1, learning_rate=1e-3)
    with pytest.raises(ValueError, match="not both"):
        zoo.trained_model("t", mnist_small, QUICK, config=SMALL, epochs=1, latent_dim=3)
    with pytest.raises(TypeError, match="config must be a model config"):
        zoo.trained_model("t", mnist_small, QUICK, config={"latent_dim": 3}, epochs=1)
