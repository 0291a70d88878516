"""Models of the book: builders for encoder/decoder networks, the autoencoder and the VAE."""

from .autoencoder import Autoencoder
from .builders import ARCHITECTURES, build_decoder, build_encoder
from .vae import VAE, Sampling

__all__ = ["ARCHITECTURES", "Autoencoder", "VAE", "Sampling", "build_decoder", "build_encoder"]
