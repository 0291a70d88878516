"""Models of the book: builders for encoder/decoder networks, the autoencoder and the VAE."""

from .autoencoder import Autoencoder
from .builders import ARCHITECTURES, build_decoder, build_encoder
from .vae import VAE, Posterior, Sampling, VAEConfig, capacity_schedule
from ..data import IMAGE_SHAPE

__all__ = ["ARCHITECTURES", "Autoencoder", "VAE", "VAEConfig", "Posterior", "Sampling",
           "build_decoder", "build_encoder", "capacity_schedule"]

MODEL_TYPES = ("autoencoder", "vae")


def build_model(model_type: str, latent_dim: int, architecture: str = "dense",
                beta: float = 1.0, seed: int = 0, image_shape=IMAGE_SHAPE):
    """Rebuild a model from the settings a checkpoint stores beside its weights.

    ``model_type`` is ``"autoencoder"`` (deterministic encoder) or ``"vae"``; ``architecture`` is
    ``"dense"`` or ``"conv"``; ``beta`` and ``seed`` apply to the VAE only; ``image_shape`` is
    MNIST's (28, 28, 1) by default. A VAE with more settings (the capacity objective) is built by
    :class:`VAEConfig`.
    """
    if model_type not in MODEL_TYPES:
        raise ValueError(f"unknown model_type {model_type!r}; expected one of {MODEL_TYPES}")
    if model_type == "autoencoder":
        if beta != 1.0:
            raise ValueError("beta applies to the VAE only; an autoencoder has no KL term")
        return Autoencoder(
            build_encoder(latent_dim, architecture, variational=False, image_shape=image_shape),
            build_decoder(latent_dim, architecture, image_shape=image_shape))
    return VAEConfig(latent_dim, architecture, beta, image_shape=image_shape, seed=seed).build()


__all__ += ["MODEL_TYPES", "build_model"]
