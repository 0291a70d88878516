"""A pytest plugin: the notebooks nbval has just run go into Jupyter Book's execution cache.

``make test`` runs every chapter under nbval (a fresh kernel, top to bottom, each cell a test)
and then builds the book with warnings as errors. Without this plugin the build ran every
notebook a second time, for the same outputs: half of the test command's time. With it, each
notebook whose cells all passed is stored, with the outputs nbval received from the kernel, in the
jupyter-cache folder the build reads (``execute_notebooks: cache`` in ``_config.yml``), so the
build renders those outputs instead of executing again. A notebook with a failed or skipped cell
is not stored: the build then executes it itself and fails on it as before.

Usage (the Makefile's ``notebooks`` target)::

    python -m pytest --nbval-lax -p tools.nbval_cache --nbval-cache-dir DIR notebooks

``DIR`` is the build's cache (``<path-output>/_build/.jupyter_cache`` for ``jupyter-book build
--path-output``). The cache key is jupyter-cache's hash of the code cells and kernel spec, the
same one MyST-NB looks up, so a notebook changed after the run is not matched.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser):
    parser.addoption("--nbval-cache-dir", default=None, metavar="DIR",
                     help="store every notebook whose cells all passed in this jupyter-cache")


class _Notebook:
    """What the run of one notebook left: its cells (items), their outcomes, the seconds spent."""

    def __init__(self, file):
        self.file = file
        self.items: list = []
        self.failed = False
        self.seconds = 0.0


def pytest_configure(config):
    if config.getoption("--nbval-cache-dir"):
        config.pluginmanager.register(_CacheWriter(config), "nbval-cache-writer")


class _CacheWriter:
    def __init__(self, config):
        self.directory = Path(config.getoption("--nbval-cache-dir"))
        self.notebooks: dict[str, _Notebook] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if not hasattr(item, "test_outputs"):  # not an nbval cell
            return
        record = self.notebooks.setdefault(str(item.parent.fspath), _Notebook(item.parent))
        if call.when == "call":
            record.items.append(item)
        record.seconds += report.duration  # setup includes the kernel's start, teardown its stop
        if not report.passed:
            record.failed = True

    def pytest_sessionfinish(self, session):
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        cache = get_cache(str(self.directory))
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for path, record in sorted(self.notebooks.items()):
            notebook = executed_notebook(record)
            if notebook is None:
                message = f"not cached (a cell failed or was skipped): {path}"
            else:
                cached = cache.cache_notebook_bundle(
                    CacheBundleIn(notebook, path, data={"execution_seconds": record.seconds}),
                    check_validity=True, overwrite=True)
                message = f"cached for the book build ({record.seconds:.0f} s): {path} -> ID {cached.pk}"
            if reporter is not None:
                reporter.write_line(message)


def executed_notebook(record: _Notebook):
    """The notebook with every code cell's outputs from the run, or None if any cell did not pass."""
    import nbformat

    code_cells = [cell for cell in record.file.nb.cells if cell.cell_type == "code"]
    ran = [item for item in record.items if item.test_outputs is not None]
    if record.failed or len(ran) != len(code_cells):
        return None
    notebook = nbformat.from_dict(record.file.nb)  # a copy: nbval keeps its own
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for count, (cell, item) in enumerate(zip(cells, ran), start=1):
        outputs = []
        for output in item.test_outputs:
            output = nbformat.from_dict(dict(output))
            if output.output_type == "execute_result":
                output.execution_count = count
            outputs.append(output)
        cell.outputs = outputs
        cell.execution_count = count
    return notebook
