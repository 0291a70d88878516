"""vaebook: the shared code of the book *Deep generative autoencoders*.

Modules, in the order the book meets them:

- :mod:`vaebook.config`   run profiles (``VAEBOOK_PROFILE``), seeds, cache folder
- :mod:`vaebook.data`     MNIST with an offline fallback, binarisation, corruption
- :mod:`vaebook.losses`   log-likelihoods and the KL divergence, per example, in nats
- :mod:`vaebook.models`   encoder/decoder builders, ``Autoencoder`` and ``VAE``
- :mod:`vaebook.training` ``fit`` with a compact progress line and a divergence guard
- :mod:`vaebook.metrics`  the importance-weighted bound and log-likelihood estimates
- :mod:`vaebook.zoo`      train-or-load cache keyed by config, profile, data and code
- :mod:`vaebook.plotting` the book's figures
"""

import os

# TensorFlow's C++ start-up chatter would otherwise land on every executed page.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
