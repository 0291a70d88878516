"""Write every chapter notebook's Colab install cell from `_config.yml`.

The first code cell of each notebook listed in `_toc.yml` installs the `vaebook` package from the
book's repository when, and only when, the notebook runs inside Colab (see CONTRIBUTING.md). The
repository's URL is set in one place, `repository.url` in `_config.yml`; this tool regenerates the
cell from it, so the cell is identical in every notebook.

    python tools/sync_notebooks.py           # rewrite the notebooks whose cell differs
    python tools/sync_notebooks.py --check   # exit 1, naming the notebooks, if any cell differs

A notebook whose first code cell is not a Colab install cell gets one inserted before it. Only the
notebooks that change are written, in nbformat's layout (one-space indent, sorted keys, UTF-8,
trailing newline), so everything outside the cell stays byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "remove-cell"
# The first line of the cell: how the tool recognises a Colab install cell it wrote before.
MARKER = "# Colab only: install the book's library from its repository (does nothing elsewhere)."


def repository_url(root: Path) -> str:
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    url = (config.get("repository") or {}).get("url")
    if not url:
        raise SystemExit("_config.yml has no repository.url")
    return url.rstrip("/")


def colab_source(url: str) -> str:
    """The text of the install cell for a repository URL."""
    return (
        f"{MARKER}\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",\n'
        f'                    "vaebook @ git+{url}"], check=True)'
    )


def _toc_files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        for value in node.values():
            yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def toc_notebooks(root: Path) -> list[Path]:
    """The notebooks of the table of contents, in its order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    notebooks = []
    for entry in _toc_files(toc):
        path = root / entry
        if path.suffix != ".ipynb":
            path = path.with_name(path.name + ".ipynb")
        if path.exists() and path not in notebooks:
            notebooks.append(path)
    return notebooks


def _source_lines(text: str) -> list[str]:
    # nbformat's multiline-string convention: lines keep their "\n", the last one has none.
    return text.splitlines(keepends=True)


def _is_colab_cell(cell: dict) -> bool:
    return "".join(cell.get("source", "")).startswith(MARKER)


def synced(notebook: dict, source: str, name: str) -> dict:
    """The notebook with its Colab cell regenerated (a new dict; the input is not modified)."""
    notebook = json.loads(json.dumps(notebook))
    cells = notebook["cells"]
    first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    if first_code < len(cells) and _is_colab_cell(cells[first_code]):
        cell = cells[first_code]
    else:
        cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
        if (notebook.get("nbformat"), notebook.get("nbformat_minor", 0)) >= (4, 5):
            cell["id"] = hashlib.sha1(f"colab-install:{name}".encode()).hexdigest()[:8]
        cells.insert(first_code, cell)
    cell["source"] = _source_lines(source)
    cell["outputs"] = []
    cell["execution_count"] = None
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if TAG not in tags:
        tags.append(TAG)
    return notebook


def dumps(notebook: dict) -> str:
    """nbformat's on-disk layout."""
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if any notebook's Colab cell differs")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the book's root folder (default: the one holding tools/)")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    source = colab_source(repository_url(root))
    notebooks = toc_notebooks(root)
    if not notebooks:
        print("no notebooks in _toc.yml", file=sys.stderr)
        return 1
    stale = []
    for path in notebooks:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        new = synced(notebook, source, path.stem)
        if new == notebook:
            continue
        rel = path.relative_to(root).as_posix()
        stale.append(rel)
        if not args.check:
            path.write_text(dumps(new), encoding="utf-8", newline="\n")
            print(f"{rel}: Colab cell rewritten")
    if args.check and stale:
        for rel in stale:
            print(f"{rel}: the Colab install cell differs from the one _config.yml's repository.url "
                  "gives; run: python tools/sync_notebooks.py", file=sys.stderr)
        return 1
    if not stale:
        print(f"{len(notebooks)} notebooks: Colab cells up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
