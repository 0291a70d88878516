"""Models of the book: builders for encoder/decoder networks, the autoencoder and the VAE, the
GAN, and the classifier that scores generated images."""

from .autoencoder import Autoencoder
from .builders import ARCHITECTURES, build_decoder, build_encoder
from .classifier import Classifier, ClassifierConfig, build_classifier_network
from .gan import (GAN, GANConfig, SampleGrids, build_discriminator, build_generator,
                  discriminator_loss, generator_loss, grid_epochs, sample_grids)
from .vae import VAE, Posterior, Sampling, VAEConfig, capacity_schedule
from ..data import IMAGE_SHAPE

__all__ = ["ARCHITECTURES", "Autoencoder", "VAE", "VAEConfig", "Posterior", "Sampling",
           "build_decoder", "build_encoder", "capacity_schedule", "GAN", "GANConfig",
           "SampleGrids", "build_discriminator", "build_generator", "discriminator_loss",
           "generator_loss", "grid_epochs", "sample_grids", "Classifier", "ClassifierConfig",
           "build_classifier_network", "CONFIG_TYPES"]

# Every config dataclass the model cache (vaebook.zoo) can train and load.
CONFIG_TYPES = (VAEConfig, GANConfig, ClassifierConfig)

MODEL_TYPES = ("autoencoder", "vae")


def build_model(model_type: str, latent_dim: int, architecture: str = "dense",
                beta: float = 1.0, seed: int = 0, image_shape=IMAGE_SHAPE):
    """Rebuild a model from the settings a checkpoint stores beside its weights.

    ``model_type`` is ``"autoencoder"`` (deterministic encoder) or ``"vae"``; ``architecture`` is
    ``"dense"`` or ``"conv"``; ``beta`` and ``seed`` apply to the VAE only; ``image_shape`` is
    MNIST's (28, 28, 1) by default. A VAE with more settings (the capacity objective) is built by
    :class:`VAEConfig`.
    """
    from .. import checks

    model_type = checks.one_of(model_type, "model_type", MODEL_TYPES)
    latent_dim = checks.positive_int(latent_dim, "latent_dim")
    architecture = checks.one_of(architecture, "architecture", ARCHITECTURES)
    beta = checks.real(beta, "beta", minimum=0.0)
    seed = checks.seed(seed, allow_none=True)
    if model_type == "autoencoder":
        if beta != 1.0:
            raise ValueError(f"beta must be 1.0 for model_type='autoencoder', got {beta:g}: beta "
                             "weights a VAE's KL term, and an autoencoder has none")
        return Autoencoder(
            build_encoder(latent_dim, architecture, variational=False, image_shape=image_shape),
            build_decoder(latent_dim, architecture, image_shape=image_shape))
    return VAEConfig(latent_dim, architecture, beta, image_shape=image_shape, seed=seed).build()


__all__ += ["MODEL_TYPES", "build_model"]
