"""Benchmark: Chapter 4's context-model coder against JBIG-KIT, the reference implementation of
JBIG (ITU-T T.82), the standard for bi-level images, on the same digits.

**Question.** Chapter 4 writes its own JBIG-style coder (``vaebook.coding.context_encode``:
the three-line, 10-pixel template of JBIG, Krichevsky-Trofimov counts, an ANS coder) because
JBIG-KIT cannot be installed from PyPI. Is that coder as good as the standard's own, so that the
chapter's "context model" row stands for what JBIG achieves?

**Method.** The first ``--n`` binarised test digits of the data the library loads (the offline
5,000-digit subset here, Keras' MNIST online; ``VAEBOOK_DATA``) are written as PBM files and
compressed by ``pbmtojbg -q`` (JBIG-KIT 2.1, Debian's ``jbigkit-bin``: sequential coding, one
layer, its default three-line template with an adaptive pixel and typical prediction), once as
one file per digit and once as one file of all the digits stacked into one image, as the
chapter's coder codes them in one stream. Every file is decoded by ``jbgtopbm`` and compared
with the digits bit for bit. The chapter's coder codes the same digits, adaptive (no training
data), and the file sizes are compared in bits per digit (a JBIG file's 20-byte header included).

Usage (writes jbig_cross_check.json and .md to --out, default beside this file)::

    python benchmarks/jbig_cross_check.py            # needs pbmtojbg (apt-get install jbigkit-bin)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import vaebook  # noqa: F401  (quiet TensorFlow import)
import numpy as np
from vaebook import coding, data

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # provenance.py, beside this script
from provenance import commit, provenance  # noqa: E402


def pbm(pixels: np.ndarray) -> bytes:
    """A binary PBM (P4) file of a 0/1 image (H, W): 1 is black, rows padded to whole bytes."""
    height, width = pixels.shape
    return f"P4\n{width} {height}\n".encode() + np.packbits(pixels.astype(bool), axis=1).tobytes()


def from_pbm(raw: bytes) -> np.ndarray:
    """The 0/1 image (H, W) uint8 of a P4 file (jbgtopbm pads its header with spaces)."""
    header = re.match(rb"P4\s+(\d+)\s+(\d+)\s", raw)
    if header is None:
        raise ValueError(f"expected a binary PBM (P4) file, got {raw[:16]!r}")
    width, height = int(header[1]), int(header[2])
    rows = np.frombuffer(raw[header.end():], np.uint8).reshape(height, -1)
    return np.unpackbits(rows, axis=1)[:, :width]


def digits_sha256(images) -> str:
    """SHA-256 of binary images (N, 28, 28, 1), packed 8 pixels to a byte: which digits."""
    return hashlib.sha256(np.packbits(np.asarray(images) > 0.5).tobytes()).hexdigest()


def jbig_bits(pixels: np.ndarray, folder: Path, name: str) -> int:
    """Size in bits of the JBIG file of a 0/1 image (H, W), checked by decoding it."""
    source, target, back = folder / f"{name}.pbm", folder / f"{name}.jbg", folder / f"{name}.out"
    source.write_bytes(pbm(pixels))
    subprocess.run(["pbmtojbg", "-q", str(source), str(target)], check=True)
    subprocess.run(["jbgtopbm", str(target), str(back)], check=True)
    if not np.array_equal(from_pbm(back.read_bytes()), pixels):
        raise RuntimeError(f"JBIG-KIT's round trip of {name} did not give the image back")
    return 8 * target.stat().st_size


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="test digits coded (the chapter's 100)")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    for tool in ("pbmtojbg", "jbgtopbm"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: install JBIG-KIT (Debian: apt-get install jbigkit-bin)")
    started, head = time.time(), commit()
    load = [round(value, 2) for value in __import__("os").getloadavg()]
    mnist = data.load_mnist(n_train=4000, n_test=1000, binarize="threshold")
    images = mnist.x_test[:args.n]
    digits = images[..., 0].astype(np.uint8)  # (n, 28, 28) 0/1
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        per_image = [jbig_bits(digit, folder, f"digit{i}") for i, digit in enumerate(digits)]
        together = jbig_bits(digits.reshape(-1, digits.shape[2]), folder, "all")
    message = coding.context_encode(images)  # adaptive, one stream
    if not np.array_equal(coding.context_decode(message, len(images)), images):
        raise RuntimeError("the chapter's context coder did not give the digits back")
    usage = subprocess.run(["pbmtojbg", "-h"], capture_output=True, text=True)
    version = (usage.stdout + usage.stderr).strip()
    rows = {"JBIG-KIT pbmtojbg -q, one file per digit": float(np.mean(per_image)),
            "JBIG-KIT pbmtojbg -q, one file for all": together / args.n,
            "vaebook context model, adaptive (Chapter 4)": 8 * len(message) / args.n}
    ours, theirs = rows["vaebook context model, adaptive (Chapter 4)"], rows[
        "JBIG-KIT pbmtojbg -q, one file for all"]
    result = {"meta": {**provenance("jbig_cross_check.py", argv, started, load
                                    + [round(v, 2) for v in __import__("os").getloadavg()], head),
                       "data": mnist.description, "data_source": mnist.source,
                       "n_images": args.n,
                       # which digits: a chapter compares its own with this (digits_sha256)
                       "digits_sha256": digits_sha256(images),
                       "jbigkit": version.splitlines()[0].split(" -- ")[0] if version else "unknown"},
              "bits_per_digit": rows, "ours_over_jbigkit": ours / theirs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "jbig_cross_check.json").write_text(json.dumps(result, indent=2,
                                                               ensure_ascii=False) + "\n")
    meta = result["meta"]
    lines = [f"Generated by `{meta['command']}` at commit {meta['commit']} on {meta['date']}. "
             f"Machine: {meta['machine']}. Data: {meta['data']}; the first {args.n} test digits. "
             f"{meta['jbigkit']}.", "",
             "| coder | bits per digit |", "| --- | ---: |"]
    lines += [f"| {name} | {value:.1f} |" for name, value in rows.items()]
    lines += ["", f"Every file decoded to the digits bit for bit. The chapter's adaptive coder "
              f"needs {ours / theirs:.3f} times the bits of JBIG-KIT's file of all the digits."]
    (args.out / "jbig_cross_check.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
