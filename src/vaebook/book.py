"""What a chapter needs beyond the models: numbers for the prose, library code on the page, tables.

A chapter is read as a built page, as a downloaded notebook, in Colab or Binder, and in a local
JupyterLab. These helpers make the same cell work on every route:

- :func:`record` glues values for the prose (``{glue:text}`name:.1f```) *and* prints them, so a
  reader of the plain notebook sees the numbers as outputs. Chapters call it in cells that the page
  hides (tag ``remove-cell``), next to the assertions that test the prose.
- :func:`show_source` shows a library function as a highlighted code block. On the page and in
  every notebook route it is the same output: no ``literalinclude`` that only the page resolves.
- :func:`table` shows a DataFrame without its index column.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np


def _plain(value):
    """NumPy scalars and 0-d arrays as Python numbers: glue stores their ``repr``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    return value


def record(**values) -> dict:
    """Glue each ``name=value`` for the prose and print one ``name = value`` line per value.

    Numbers are stored as Python ``int``/``float`` so that ``{glue:text}`name:.2f``` formats them.
    Outside a Jupyter Book build (Colab, a plain JupyterLab, a script) gluing is a no-op and the
    printed lines are what the reader sees. Returns the values, converted.
    """
    try:
        from myst_nb import glue
    except ImportError:  # Colab and plain Jupyter need not have the book's build tools
        glue = None
    converted = {name: _plain(value) for name, value in values.items()}
    for name, value in converted.items():
        if glue is not None:
            glue(name, value, display=False)
        shown = f"{value:.4g}" if isinstance(value, numbers.Real) and not isinstance(
            value, (bool, numbers.Integral)) else f"{value}"
        print(f"{name} = {shown}")
    return converted


def show_source(*objects):
    """Display the source code of library functions or classes as one highlighted block.

    Returns an ``IPython.display.Markdown`` object holding a fenced ``python`` code block: the page
    renders it with the theme's highlighting and copy button, JupyterLab and Colab render it as
    Markdown.
    """
    from IPython.display import Markdown

    if not objects:
        raise ValueError("show_source needs at least one function or class")
    blocks = []
    for obj in objects:
        if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
            raise TypeError(f"show_source takes functions or classes, got {type(obj).__name__}")
        module = inspect.getmodule(obj).__name__
        blocks.append(f"# {module}\n{inspect.getsource(obj).rstrip()}")
    return Markdown("```python\n" + "\n\n\n".join(blocks) + "\n```")


def table(frame, precision: int = 2):
    """A DataFrame as the page shows tables: no index column, floats to ``precision`` decimals."""
    return frame.style.hide(axis="index").format(precision=precision)
