"""The book's hand-drawn diagrams (book/figures/*.svg): well-formed, accessible, self-contained,
readable at the column width, and each one shown by a page.

The diagrams are SVG text written by hand, not generated; these tests keep them safe to serve
(no script, no external image or font, nothing fetched from the network) and keep the pages and
the files in step.
"""

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "book" / "figures"
SVGS = sorted(FIGURES.glob("*.svg"))
SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

# A figure read at the book's column width (~720 px) keeps its text at 13 px or more when its
# viewBox is at most 800 units wide and no text is smaller than 14 units.
MAX_VIEWBOX_WIDTH = 800
MIN_FONT_SIZE = 14

FIGURE_DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{(?:figure|image)\}\s+(\S+)", re.MULTILINE)


def _pages():
    """(page path, Markdown text) of every page: book/*.md and the notebooks' Markdown cells."""
    pages = [(path, path.read_text()) for path in sorted((ROOT / "book").glob("*.md"))]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        text = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        pages.append((path, text))
    return pages


def _figure_directives():
    """(page, target path as written, resolved file) of every figure or image directive."""
    found = []
    for page, text in _pages():
        for target in FIGURE_DIRECTIVE.findall(text):
            if "://" in target:
                continue
            resolved = (page.parent / PurePosixPath(target)).resolve()
            found.append((page, target, resolved))
    return found


def test_there_are_diagrams():
    assert SVGS, "book/figures holds no SVG"


@pytest.mark.parametrize("path", SVGS, ids=[p.name for p in SVGS])
def test_svg_is_well_formed_and_accessible(path):
    root = ElementTree.parse(path).getroot()
    assert root.tag == f"{SVG}svg", f"{path.name}: the root element is not an SVG <svg>"
    children = [child.tag for child in root]
    for tag in ("title", "desc"):
        assert f"{SVG}{tag}" in children, f"{path.name}: no <{tag}> for screen readers"
        text = root.find(f"{SVG}{tag}").text or ""
        assert len(text.split()) >= 4, f"{path.name}: the <{tag}> says too little: {text!r}"
    view_box = root.get("viewBox")
    assert view_box, f"{path.name}: no viewBox, so the figure cannot scale to the page"
    width = float(view_box.replace(",", " ").split()[2])
    assert width <= MAX_VIEWBOX_WIDTH, (
        f"{path.name}: a viewBox {width:g} units wide shrinks the text below 13 px at 720 px")


@pytest.mark.parametrize("path", SVGS, ids=[p.name for p in SVGS])
def test_svg_is_self_contained(path):
    """No script, no embedded or linked image, nothing loaded from the network."""
    root = ElementTree.parse(path).getroot()
    tags = {element.tag for element in root.iter()}
    for forbidden in ("script", "image", "foreignObject", "iframe"):
        assert f"{SVG}{forbidden}" not in tags, f"{path.name} has a <{forbidden}>"
    for element in root.iter():
        for name, value in element.attrib.items():
            if name in ("href", XLINK_HREF):
                assert value.startswith("#"), f"{path.name}: {name}={value!r} is not internal"
            assert not re.search(r"(https?:|//|data:)", value), (
                f"{path.name}: {name}={value!r} refers to something outside the file")
            assert "javascript:" not in value.lower()
            assert not name.lower().startswith("on"), f"{path.name}: event handler {name}"
    styles = " ".join(element.text or "" for element in root.iter(f"{SVG}style"))
    styles += " ".join(element.get("style", "") for element in root.iter())
    assert "@import" not in styles and "@font-face" not in styles, f"{path.name} loads fonts or CSS"
    for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", styles):
        assert target.startswith("#"), f"{path.name}: url({target}) is not internal"


@pytest.mark.parametrize("path", SVGS, ids=[p.name for p in SVGS])
def test_svg_text_is_large_enough(path):
    text = path.read_text()
    sizes = [float(size) for size in re.findall(r"font-size\s*[:=]\s*\"?([0-9.]+)", text)]
    assert sizes, f"{path.name} sets no font size"
    assert min(sizes) >= MIN_FONT_SIZE, f"{path.name}: text of {min(sizes):g} units is too small"


@pytest.mark.parametrize("path", SVGS, ids=[p.name for p in SVGS])
def test_every_diagram_is_shown_by_a_page(path):
    shown = {resolved for _, _, resolved in _figure_directives()}
    assert path.resolve() in shown, f"{path.name} is in book/figures but no page shows it"


def test_every_figure_directive_names_a_file_that_exists():
    directives = [d for d in _figure_directives() if "figures/" in d[1]]
    assert directives, "no page shows a diagram of book/figures"
    for page, target, resolved in directives:
        assert resolved.is_file(), f"{page.relative_to(ROOT)}: {target} does not exist"
        assert resolved.parent == FIGURES.resolve(), f"{page.relative_to(ROOT)}: {target}"


def test_every_diagram_directive_has_alt_text():
    pattern = re.compile(r"^\s*(`{3,}|:{3,})\{figure\}\s+\S*figures/\S+\n(.*?)^\s*\1\s*$",
                         re.MULTILINE | re.DOTALL)
    for page, text in _pages():
        for _, body in pattern.findall(text):
            alt = re.search(r"^:alt:\s*(.+)$", body, re.MULTILINE)
            assert alt and len(alt[1].split()) >= 8, (
                f"{page.relative_to(ROOT)}: a diagram without a full-sentence :alt:")
