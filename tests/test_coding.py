"""vaebook.coding: ideal code lengths, classical files, and the two coders that write bytes."""

import io
import math
import zlib

import numpy as np
import pytest
from PIL import Image

from vaebook import applications as apps
from vaebook import coding, metrics, training
from vaebook.models import VAE, build_decoder, build_encoder


# Compression


def test_code_lengths_are_bits_consistent_with_nats():
    log_p = np.array([-math.log(2.0), -100.0, 0.0])
    bits = coding.code_length_bits(log_p)
    np.testing.assert_allclose(bits, [1.0, 100.0 / math.log(2.0), 0.0])
    # Back to nats: bits * ln 2 = -log p.
    np.testing.assert_allclose(bits * math.log(2.0), -log_p)
    # 784 bits for an image of 784 fair coin flips.
    assert coding.code_length_bits(784 * math.log(0.5)) == pytest.approx(784.0)


@pytest.mark.parametrize("bad", [np.array([1.0]), np.array([np.nan]), np.array([-np.inf])])
def test_code_length_refuses_impossible_log_likelihoods(bad):
    with pytest.raises(ValueError, match="log_likelihood_nats must be"):
        coding.code_length_bits(bad)


def test_png_and_zlib_sizes_are_real_file_sizes(mnist_small):
    images = mnist_small.x_test[:5]
    png = coding.png_bits(images)
    assert png.shape == (5,) and np.all(png % 8 == 0)
    # The PNG Pillow writes decodes to the same pixels (lossless), and its size is what we report.
    buffer = io.BytesIO()
    Image.fromarray(images[0, ..., 0] > 0.5).save(buffer, format="PNG", optimize=True)
    assert png[0] == 8 * len(buffer.getvalue())
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    np.testing.assert_array_equal(decoded, images[0, ..., 0] > 0.5)
    packed = np.packbits(images[0, ..., 0] > 0.5).tobytes()
    assert coding.zlib_bits(images)[0] == 8 * len(zlib.compress(packed, 9))
    # One file for all the images pays the fixed overhead once.
    assert coding.png_bits(images, together=True) < png.sum()
    assert coding.zlib_bits(images, together=True) < coding.zlib_bits(images).sum()


def test_compressors_see_structure():
    blank = np.zeros((1, 28, 28, 1), np.float32)
    noise = apps.binary_noise(1, 0.5, seed=0)
    assert coding.zlib_bits(blank)[0] < 200 < 784 < coding.zlib_bits(noise)[0]


def test_lossless_coders_refuse_grey_images():
    with pytest.raises(ValueError, match=r"images must be binary \(every pixel 0 or 1\)"):
        coding.png_bits(np.full((2, 28, 28, 1), 0.5, np.float32))
    with pytest.raises(ValueError, match="level must be an int in"):
        coding.zlib_bits(np.zeros((1, 28, 28, 1), np.float32), level=12)


# The coders written with constriction


@pytest.fixture(scope="module")
def small_vae(mnist_small):
    from vaebook.config import set_seed

    set_seed(5)
    vae = VAE(build_encoder(4, "conv"), build_decoder(4, "conv"), seed=5)
    training.fit(vae, mnist_small.x_train, epochs=3, batch_size=32, lines=0)
    return vae


def test_bits_back_round_trip_is_bit_exact_and_near_the_elbo(small_vae, mnist_small):
    images = mnist_small.x_test[:24]
    message = coding.bits_back_encode(small_vae, images)
    assert isinstance(message, bytes) and len(message) % 4 == 0
    np.testing.assert_array_equal(coding.bits_back_decode(small_vae, message, len(images)), images)
    # The message is a real file: its length per image is the discretised negative ELBO plus the
    # start-up words, so it sits near the ideal -ELBO / ln 2 (a few bits of discretisation and
    # start-up per image), and far below the 784 raw bits.
    ideal = coding.code_length_bits(
        metrics.elbo_per_image(small_vae, images, num_samples=50, seed=0)).mean()
    real = 8 * len(message) / len(images)
    assert abs(real - ideal) < 0.05 * ideal + 10, (real, ideal)
    assert real < 784


def test_bits_back_decoder_needs_the_same_model(small_vae, mnist_small):
    images = mnist_small.x_test[:4]
    message = coding.bits_back_encode(small_vae, images, latent_bits=8)
    # Decoding with other bucket settings reads other symbols: the images do not come back.
    assert not np.array_equal(coding.bits_back_decode(small_vae, message, 4, latent_bits=9),
                              images)


def test_bits_back_startup_words_are_part_of_the_file(small_vae, mnist_small):
    images = mnist_small.x_test[:3]
    short = coding.bits_back_encode(small_vae, images, startup_words=2)
    long = coding.bits_back_encode(small_vae, images, startup_words=40)
    assert len(long) > len(short)  # the unused start-up bits stay in the message
    np.testing.assert_array_equal(coding.bits_back_decode(small_vae, long, 3), images)


@pytest.mark.parametrize("static", [False, True])
def test_context_coder_round_trip(mnist_small, static):
    images = mnist_small.x_test[:10]
    counts = coding.context_counts(mnist_small.x_train) if static else None
    message = coding.context_encode(images, counts)
    np.testing.assert_array_equal(coding.context_decode(message, 10, counts=counts), images)
    # Digits are mostly background in predictable contexts: far below 1 bit per pixel, and
    # below zlib's stream of the same images.
    assert 8 * len(message) < coding.zlib_bits(images, together=True)


def test_context_counts_count_every_pixel_once(mnist_small):
    counts = coding.context_counts(mnist_small.x_train[:50])
    assert counts.shape == (coding.NUM_CONTEXTS, 2)
    assert counts.sum() == 50 * 28 * 28
    assert counts[:, 1].sum() == mnist_small.x_train[:50].sum()
    # An all-off neighbourhood (context 0) is the background: mostly off.
    assert counts[0, 0] > 10 * counts[0, 1]


def test_contexts_read_only_pixels_coded_before():
    image = np.zeros((1, 5, 5, 1), np.float32)
    image[0, 2, 2, 0] = 1  # one pixel on, in the middle
    context = coding.contexts(image)[0]
    # the pixel itself is not in its own context, nor any pixel after it in raster order
    assert context[2, 2] == 0 and context[1, 1] == 0
    assert context[2, 3] == 1 << coding.TEMPLATE.index((0, -1))
    assert context[4, 1] == 1 << coding.TEMPLATE.index((-2, 1))


def test_adaptive_probabilities_match_a_direct_count(mnist_small):
    """The vectorised counts of the encoder equal a pixel-by-pixel count (the decoder's view)."""
    images = mnist_small.x_test[:2]
    context = coding.contexts(images).reshape(-1)
    pixels = images.reshape(-1)
    message = coding.context_encode(images)
    ones, total, bits = np.zeros(coding.NUM_CONTEXTS), np.zeros(coding.NUM_CONTEXTS), 0.0
    for c, x in zip(context, pixels):
        p = (ones[c] + 0.5) / (total[c] + 1.0)
        bits -= math.log2(p if x else 1 - p)
        ones[c] += x
        total[c] += 1
    # ANS writes within a few 32-bit words of the ideal length of its probabilities
    assert abs(8 * len(message) - bits) < 64


# --- benchmarks/jbig_cross_check.py: its PBM files, and JBIG-KIT where it is installed


def _jbig_script():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "jbig_cross_check.py"
    sys.path.insert(0, str(path.parent))  # its provenance.py
    spec = importlib.util.spec_from_file_location("jbig_cross_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_jbig_cross_check_pbm_files_round_trip(mnist_small, tmp_path):
    import shutil

    script = _jbig_script()
    digit = (mnist_small.x_test[0, ..., 0] > 0.5).astype(np.uint8)
    # jbgtopbm pads the header with spaces; the reader takes either
    for header in (b"P4\n28 28\n", b"P4\n        28\n        28\n"):
        raw = header + script.pbm(digit)[len(b"P4\n28 28\n"):]
        np.testing.assert_array_equal(script.from_pbm(raw), digit)
    with pytest.raises(ValueError, match="P4"):
        script.from_pbm(b"P1\n28 28\n")
    assert script.digits_sha256(mnist_small.x_test[:3]) != script.digits_sha256(
        mnist_small.x_test[1:4])
    if shutil.which("pbmtojbg") and shutil.which("jbgtopbm"):
        bits = script.jbig_bits(digit, tmp_path, "one")  # decodes and compares, or raises
        assert 8 * 20 < bits < 784 + 8 * 20  # a 20-byte header and a compressed digit
