"""vaebook: the shared code of the book *Deep generative autoencoders*.

Modules, in the order the book meets them:

- :mod:`vaebook.config`   run profiles (``VAEBOOK_PROFILE``), seeds, cache folder
- :mod:`vaebook.data`     MNIST with an offline fallback, binarisation, corruption
- :mod:`vaebook.shapes`   dSprites-style shapes with known factors, drawn in code
- :mod:`vaebook.losses`   log-likelihoods and the KL divergence, per example, in nats
- :mod:`vaebook.models`   encoder/decoder builders, ``Autoencoder`` and ``VAE``, the ``GAN``, and
  the ``Classifier`` that scores generated images
- :mod:`vaebook.training` ``fit`` with a compact progress line and a divergence guard
- :mod:`vaebook.metrics`  the importance-weighted bound and log-likelihood estimates; rate,
  distortion, KL per dimension, active units and the mutual information gap; sample quality
  (FID, KID, precision and recall, mode coverage) on the classifier's features
- :mod:`vaebook.zoo`      train-or-load cache keyed by config, profile, data and code
- :mod:`vaebook.plotting` the book's figures
- :mod:`vaebook.explorer` latent-space explorers that work on the static page (no kernel):
  point at a 2-D code plane, or move one slider per latent dimension, to see the decoding
- :mod:`vaebook.applications` compression, denoising, inpainting, anomaly scores, and their baselines
- :mod:`vaebook.checks`   the argument checks every public function uses
- :mod:`vaebook.exercises` checkers for the chapters' coding exercises (``check_kl(my_kl)``...)
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hides TensorFlow's INFO/WARNING/ERROR logs
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_tensorflow_quietly():
    """Import TensorFlow with C-level stderr silenced for the duration of the import.

    While its shared libraries load, TensorFlow's CUDA stub writes "Could not find cuda drivers"
    straight to file descriptor 2, before any log level applies, and the line would otherwise land
    on every executed page of a CPU-only build. Python exceptions are unaffected: a failed import
    restores stderr and raises as usual.
    """
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_tensorflow_quietly()

__version__ = "0.1.0"
