"""Models of the book: builders for encoder/decoder networks, the autoencoder and the VAE."""

from .autoencoder import Autoencoder
from .builders import ARCHITECTURES, build_decoder, build_encoder
from .vae import VAE, Posterior, Sampling

__all__ = ["ARCHITECTURES", "Autoencoder", "VAE", "Posterior", "Sampling", "build_decoder", "build_encoder"]

MODEL_TYPES = ("autoencoder", "vae")


def build_model(model_type: str, latent_dim: int, architecture: str = "dense",
                beta: float = 1.0, seed: int = 0):
    """Rebuild a model from the settings a checkpoint stores beside its weights.

    ``model_type`` is ``"autoencoder"`` (deterministic encoder) or ``"vae"``; ``architecture`` is
    ``"dense"`` or ``"conv"``; ``beta`` and ``seed`` apply to the VAE only (an autoencoder refuses
    a ``beta`` other than 1; it has no sampling noise for ``seed`` to fix).
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
        return Autoencoder(build_encoder(latent_dim, architecture, variational=False),
                           build_decoder(latent_dim, architecture))
    return VAE(build_encoder(latent_dim, architecture), build_decoder(latent_dim, architecture),
               beta=beta, seed=seed)


__all__ += ["MODEL_TYPES", "build_model"]
