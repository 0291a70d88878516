r"""Lossless compression of binary images, measured in bits of real files (Chapter 4).

Ideal lengths
    :func:`code_length_bits` turns a log-likelihood in nats into the length of an ideal lossless
    code, -log2 p(x) bits: a bound that a coder can approach, not a file.
Classical files
    :func:`png_bits`, :func:`zlib_bits` and :func:`lzma_bits` measure what PNG (Pillow), DEFLATE
    (zlib) and LZMA (the .xz format) write for the same binary images.
Coders written here
    :func:`bits_back_encode` (a VAE) and :func:`context_encode` (a context model) both drive the
    ANS entropy coder of ``constriction`` (Bamler's library; ANS is a stack: the last symbol
    pushed is the first popped) with a probability for every symbol, and both return the message
    as ``bytes``; their decoders rebuild the images from those bytes alone (and the model), so a
    round trip that gives back the same images shows the length is that of a real file.

Bits-back ANS (Townsend, Bird and Barber, 2019)
    The code z of each image is discretised into ``2 ** latent_bits`` buckets per dimension of
    equal probability under the prior N(0, 1), so the prior costs exactly ``latent_bits`` bits per
    dimension and q(z | x) becomes a categorical over the buckets. To send an image x the encoder
    *pops* a bucket index z from the message with q(z | x) (it takes about -log2 q(z | x) bits back
    out of what is already there), then *pushes* x with p(x | z) and z with p(z). The decoder runs
    the same steps backwards: pop z with p(z), pop x with p(x | z), then push z back with
    q(z | x), which it can compute now that it has x. Per image the message grows by

        -log2 p(x | z) - log2 p(z) + log2 q(z | x)  bits,

    on average the negative ELBO of the discretised model in bits. The first pop needs bits that
    are already there: the message starts with ``startup_words`` 32-bit words of random bits, and
    their length is part of the file (the *start-up cost*, repaid only over many images).
Context model (the idea of JBIG, ITU-T T.82)
    Each pixel is coded with the probability that it is on given the 10 pixels of JBIG's
    three-line template above and to its left (1,024 contexts). ``counts=None`` learns the counts
    while coding (adaptive: Krichevsky-Trofimov estimate (n1 + 1/2) / (n + 1) from the pixels
    coded so far, no training data); :func:`context_counts` fits them on training images instead
    (static: both ends know them).

Images are binary float arrays (N, H, W, 1), values 0 and 1.
"""

from __future__ import annotations

import io
import lzma
import math
import zlib

import numpy as np

from . import checks

DEFAULT_LATENT_BITS = 10
# JBIG's three-line template: (row offset, column offset) of the causal neighbours of a pixel.
TEMPLATE = ((-2, -1), (-2, 0), (-2, 1),
            (-1, -2), (-1, -1), (-1, 0), (-1, 1), (-1, 2),
            (0, -2), (0, -1))
NUM_CONTEXTS = 2 ** len(TEMPLATE)
_PAD = 2  # rows above and columns either side that the template reaches


def _constriction():
    try:
        import constriction
    except ImportError as error:  # pragma: no cover - the book's requirements install it
        raise ImportError("the coders need the constriction package: pip install constriction "
                          "(it is in the book's requirements.txt)") from error
    return constriction


def _binary(images, name: str = "images") -> np.ndarray:
    """Binary images (N, H, W, 1) as a uint8 array (N, H, W), for the lossless coders."""
    images = checks.images(images, name, image_shape=None)
    if not np.all((images == 0) | (images == 1)):
        raise ValueError(f"{name} must be binary (every pixel 0 or 1) to be coded losslessly as "
                         "bits; binarise them first, e.g. data.load_mnist(binarize='threshold')")
    if images.shape[-1] != 1:
        raise ValueError(f"{name} must have one channel (binary pictures, channels last), got "
                         f"shape {images.shape}")
    return (images[..., 0] > 0.5).astype(np.uint8)


def _to_bytes(words: np.ndarray) -> bytes:
    return np.asarray(words, dtype="<u4").tobytes()  # little-endian, whatever the machine


def _from_bytes(message, name: str = "message") -> np.ndarray:
    if not isinstance(message, (bytes, bytearray)):
        raise TypeError(f"{name} must be the bytes an encoder returned, got "
                        f"{checks.describe(message)}")
    if len(message) % 4:
        raise ValueError(f"{name} must be a whole number of 32-bit words (its length a multiple "
                         f"of 4 bytes), got {len(message)} bytes: was it cut short?")
    return np.frombuffer(bytes(message), dtype="<u4").astype(np.uint32)


# Ideal lengths and classical files ------------------------------------------------------------


def code_length_bits(log_likelihood_nats) -> np.ndarray:
    """Length in bits of an ideal lossless code for images of log-likelihood ``log p(x)`` (nats):

        length(x) = -log2 p(x) = -log p(x) / ln 2

    An arithmetic coder driven by p gets within 2 bits of it for a whole message. For a latent
    variable model, bits-back coding with q(z | x) approaches the negative ELBO in bits
    (:func:`bits_back_encode` writes such a message), and its importance-sampled variants
    approach -log2 p(x). Raises ``ValueError`` for a positive log-likelihood, which no
    probability of a binary image can have.
    """
    values = checks.array(log_likelihood_nats, "log_likelihood_nats", min_size=1,
                          what="log-likelihoods: finite numbers of nats")
    if np.any(values > 0):
        raise ValueError(
            f"log_likelihood_nats must be log p(x) <= 0 (a log-probability of a binary image), got "
            f"values up to {values.max():.3g}: pass log p(x), not -log p(x)"
        )
    return -values / math.log(2.0)


def _png_size(pixels: np.ndarray) -> int:
    from PIL import Image

    buffer = io.BytesIO()
    # A bool array becomes a 1-bit image (mode "1"), the smallest PNG of a binary picture.
    Image.fromarray(pixels.astype(bool)).save(buffer, format="PNG", optimize=True)
    return len(buffer.getvalue())


def _file_bits(pixels: np.ndarray, together: bool, size):
    """Bits of one file per image (N,), or with ``together`` of one file of all (an int)."""
    if checks.boolean(together, "together"):
        return 8 * size(pixels.reshape(-1, pixels.shape[2]))
    return np.array([8 * size(image) for image in pixels], dtype=np.int64)


def png_bits(images, together: bool = False):
    """Size in bits of binary images written as 1-bit PNG files by Pillow (``optimize=True``).

    Returns (N,) bits, one file per image; with ``together``, the bits of one file holding all the
    images stacked into one tall picture (an int): the fixed overhead of a PNG file (signature and
    chunk headers, about 60 bytes) is then paid once, and DEFLATE can use repeats across images.
    """
    return _file_bits(_binary(images), together, _png_size)


def zlib_bits(images, together: bool = False, level: int = 9):
    """Size in bits of binary images packed 8 pixels to a byte (28 x 28: 98 bytes) and compressed
    by zlib's DEFLATE at ``level`` (9 = smallest). gzip writes the same DEFLATE stream with a header
    12 bytes longer.

    Returns (N,) bits, one stream per image, or with ``together`` the bits of one stream of all the
    images (an int).
    """
    pixels = _binary(images)
    level = checks.integer(level, "level", minimum=0, maximum=9)
    return _file_bits(pixels, together,
                      lambda part: len(zlib.compress(np.packbits(part).tobytes(), level)))


def lzma_bits(images, together: bool = False):
    """Size in bits of binary images packed 8 pixels to a byte and written as .xz files by LZMA
    at its strongest preset (9, extreme). (N,) bits, one file per image, or with ``together``
    the bits of one file of all the images (an int). The .xz container adds about 60 bytes."""
    preset = 9 | lzma.PRESET_EXTREME
    return _file_bits(_binary(images), together,
                      lambda part: len(lzma.compress(np.packbits(part).tobytes(), preset=preset)))


# Bits-back ANS with a VAE -----------------------------------------------------------------------


def latent_buckets(latent_bits: int = DEFAULT_LATENT_BITS) -> tuple[np.ndarray, np.ndarray]:
    """Edges (2**bits + 1,) and centres (2**bits,) of buckets of equal mass under N(0, 1).

    Bucket i holds the codes between the prior's quantiles i / 2**bits and (i + 1) / 2**bits;
    its centre, the quantile (i + 1/2) / 2**bits, is the code the decoder network is given.
    """
    from scipy.special import ndtri

    latent_bits = checks.integer(latent_bits, "latent_bits", minimum=1, maximum=16)
    count = 2 ** latent_bits
    edges = ndtri(np.arange(count + 1) / count)  # -inf ... +inf
    centres = ndtri((np.arange(count) + 0.5) / count)
    return edges, centres


def _posterior_buckets(vae, image: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """q(bucket | x) for one image (1, H, W, 1): (J, 2**bits) probabilities, float64."""
    from scipy.special import ndtr

    mean, log_var = (np.asarray(t, dtype=np.float64) for t in vae.encoder(image, training=False))
    std = np.exp(0.5 * log_var[0])
    cdf = ndtr((edges[None, :] - mean[0, :, None]) / std[:, None])  # (J, 2**bits + 1)
    return np.diff(cdf, axis=1)


def _pixel_probabilities(vae, bucket: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """p(x_d = 1 | z) of every pixel for the code at bucket indices ``bucket`` (J,): (H*W,)."""
    z = centres[bucket][None, :].astype(np.float32)
    logits = np.asarray(vae.decoder(z, training=False), dtype=np.float64).reshape(-1)
    return 1.0 / (1.0 + np.exp(-logits))


def bits_back_encode(vae, images, latent_bits: int = DEFAULT_LATENT_BITS,
                     startup_words: int | None = None, seed: int = 0) -> bytes:
    """The binary ``images`` (N, H, W, 1), coded by bits-back ANS with ``vae``: the message bytes.

    ``startup_words``: 32-bit words of random bits (from ``seed``) the message starts with, for
    the first image's pop; ``None`` gives enough for any posterior, ceil(J * latent_bits / 32).
    Decode with :func:`bits_back_decode` and the same ``vae`` and ``latent_bits``.
    """
    constriction = _constriction()
    vae = checks.vae(vae)
    pixels = _binary(images)
    if pixels.shape[1:] != vae.image_shape[:2]:
        raise ValueError(f"images must have the VAE's image shape {vae.image_shape}, got "
                         f"{np.shape(images)[1:]}")
    edges, centres = latent_buckets(latent_bits)
    latent_dim = vae.latent_dim
    if startup_words is None:
        startup_words = math.ceil(latent_dim * latent_bits / 32)
    startup_words = checks.integer(startup_words, "startup_words", minimum=0)
    startup = np.random.default_rng(checks.seed(seed)).integers(
        0, 2 ** 32, size=startup_words, dtype=np.uint64).astype(np.uint32)
    coder = constriction.stream.stack.AnsCoder(startup) if startup_words else \
        constriction.stream.stack.AnsCoder()
    categorical = constriction.stream.model.Categorical(perfect=False)
    bernoulli = constriction.stream.model.Bernoulli(perfect=False)
    prior = np.full((latent_dim, len(centres)), 1.0 / len(centres))
    for image in pixels:
        x = image[None, :, :, None].astype(np.float32)
        bucket = coder.decode(categorical, _posterior_buckets(vae, x, edges))  # bits back
        coder.encode_reverse(image.reshape(-1).astype(np.int32), bernoulli,
                             _pixel_probabilities(vae, bucket, centres))
        coder.encode_reverse(bucket.astype(np.int32), categorical, prior)
    return _to_bytes(coder.get_compressed())


def bits_back_decode(vae, message, num_images: int,
                     latent_bits: int = DEFAULT_LATENT_BITS) -> np.ndarray:
    """The ``num_images`` images of a :func:`bits_back_encode` message: (N, H, W, 1) float32.

    Images come off the stack last first; they are returned in the order they were encoded.
    """
    constriction = _constriction()
    vae = checks.vae(vae)
    num_images = checks.positive_int(num_images, "num_images")
    coder = constriction.stream.stack.AnsCoder(_from_bytes(message))
    edges, centres = latent_buckets(latent_bits)
    height, width = vae.image_shape[:2]
    categorical = constriction.stream.model.Categorical(perfect=False)
    bernoulli = constriction.stream.model.Bernoulli(perfect=False)
    prior = np.full((vae.latent_dim, len(centres)), 1.0 / len(centres))
    decoded = []
    for _ in range(num_images):
        bucket = coder.decode(categorical, prior)
        image = coder.decode(bernoulli, _pixel_probabilities(vae, bucket, centres))
        x = image.reshape(1, height, width, 1).astype(np.float32)
        coder.encode_reverse(bucket.astype(np.int32), categorical,
                             _posterior_buckets(vae, x, edges))  # give the bits back
        decoded.append(x[0])
    return np.stack(decoded[::-1])


# A context-model coder (JBIG's idea) ----------------------------------------------------------


def contexts(images) -> np.ndarray:
    """The context of every pixel: (N, H, W) ints in [0, 1024), the bits of its 10 template
    neighbours (pixels outside the image count as off)."""
    pixels = _binary(images)
    padded = np.pad(pixels, ((0, 0), (_PAD, 0), (_PAD, _PAD)))
    height, width = pixels.shape[1:]
    context = np.zeros(pixels.shape, dtype=np.int64)
    for bit, (dy, dx) in enumerate(TEMPLATE):
        context |= padded[:, _PAD + dy:_PAD + dy + height,
                          _PAD + dx:_PAD + dx + width].astype(np.int64) << bit
    return context


def context_counts(train_images) -> np.ndarray:
    """Counts of (off, on) pixels in each of the 1,024 contexts of ``train_images``: (1024, 2)."""
    pixels = _binary(train_images, "train_images").reshape(-1)
    context = contexts(train_images).reshape(-1)
    return np.stack([np.bincount(context[pixels == value], minlength=NUM_CONTEXTS)
                     for value in (0, 1)], axis=1)


def _check_counts(counts):
    if counts is None:
        return None
    counts = checks.array(counts, "counts", ndim=2, what="context_counts(train_images): (1024, 2)")
    if counts.shape != (NUM_CONTEXTS, 2) or np.any(counts < 0):
        raise ValueError(f"counts must be context_counts(train_images): non-negative, shape "
                         f"({NUM_CONTEXTS}, 2), got shape {counts.shape}")
    return counts.astype(np.float64)


def _on_probability(ones, total):
    """Krichevsky-Trofimov: (n1 + 1/2) / (n + 1), never 0 or 1."""
    return (ones + 0.5) / (total + 1.0)


def context_encode(images, counts=None) -> bytes:
    """The binary ``images`` (N, H, W, 1) in raster order, coded pixel by pixel with the
    probability of their context: adaptive counts (``counts=None``) or static ``counts`` from
    :func:`context_counts`. Returns the message bytes (:func:`context_decode` reads them)."""
    constriction = _constriction()
    pixels = _binary(images).reshape(-1)
    context = contexts(images).reshape(-1)
    counts = _check_counts(counts)
    if counts is not None:
        on = _on_probability(counts[context, 1], counts[context].sum(axis=1))
    else:
        # Counts of the pixels coded *before* each one in its context: a stable sort groups each
        # context's pixels in coding order, and exclusive cumulative sums count what came before.
        order = np.argsort(context, kind="stable")
        grouped_context, grouped_bits = context[order], pixels[order].astype(np.int64)
        start = np.searchsorted(grouped_context, grouped_context)  # first index of each group
        seen = np.arange(len(order)) - start
        before = np.cumsum(grouped_bits) - grouped_bits  # ones before each pixel, all contexts
        ones = before - before[start]
        on = np.empty(len(order))
        on[order] = _on_probability(ones.astype(np.float64), seen.astype(np.float64))
    coder = constriction.stream.stack.AnsCoder()
    bernoulli = constriction.stream.model.Bernoulli(perfect=False)
    coder.encode_reverse(pixels.astype(np.int32), bernoulli, on)
    return _to_bytes(coder.get_compressed())


def context_decode(message, num_images: int, image_shape=(28, 28, 1), counts=None) -> np.ndarray:
    """The ``num_images`` images (N, *image_shape) of a :func:`context_encode` message, decoded
    pixel by pixel: each context is computed from the pixels already decoded."""
    constriction = _constriction()
    num_images = checks.positive_int(num_images, "num_images")
    height, width, channels = checks.image_shape(image_shape)
    if channels != 1:
        raise ValueError(f"image_shape must have one channel (binary pictures), got {image_shape}")
    counts = _check_counts(counts)
    coder = constriction.stream.stack.AnsCoder(_from_bytes(message))
    bernoulli = constriction.stream.model.Bernoulli(perfect=False)
    ones = np.zeros(NUM_CONTEXTS) if counts is None else counts[:, 1]
    total = np.zeros(NUM_CONTEXTS) if counts is None else counts.sum(axis=1)
    padded = np.zeros((num_images, height + _PAD, width + 2 * _PAD), dtype=np.int64)
    for index in range(num_images):
        image = padded[index]
        for row in range(_PAD, height + _PAD):
            for column in range(_PAD, width + _PAD):
                context = 0
                for bit, (dy, dx) in enumerate(TEMPLATE):
                    context |= int(image[row + dy, column + dx]) << bit
                on = _on_probability(ones[context], total[context])
                value = int(coder.decode(bernoulli, np.array([on]))[0])
                image[row, column] = value
                if counts is None:  # adaptive: the decoder learns what the encoder learnt
                    ones[context] += value
                    total[context] += 1
    return padded[:, _PAD:, _PAD:width + _PAD, None].astype(np.float32)
