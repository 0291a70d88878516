"""The browser check of the built book (tools/browser_check.py), on tiny fixture sites.

``good/`` must give no problem and ``broken/`` one of every kind. The tests that open a browser
skip, saying why, where Chromium or the playwright package is missing.
"""

import importlib.metadata
import importlib.util
import re
import shutil
import struct
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "browser_site"


def _load_tool():
    path = ROOT / "tools" / "browser_check.py"
    spec = importlib.util.spec_from_file_location("browser_check", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


browser_check = _load_tool()


def _browser_missing() -> str | None:
    if browser_check.find_chromium() is None:
        return "chromium is not installed (no /usr/bin/chromium, no chromium on PATH)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed"
    return None


needs_browser = pytest.mark.skipif(_browser_missing() is not None,
                                   reason=f"browser check cannot run here: {_browser_missing()}")


def make_png(width: int, height: int, text: dict[str, str] | None = None) -> bytes:
    """A grey PNG of ``width`` x ``height`` pixels with tEXt chunks ``text``."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    rows = b"".join(b"\0" + bytes([200]) * width for _ in range(height))  # filter 0, 8-bit grey
    texts = b"".join(chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
                     for key, value in (text or {}).items())
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + texts + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _copy_site(name: str, destination: Path) -> Path:
    site = destination / name
    shutil.copytree(FIXTURES / name, site)
    return site


def blob_decode(z):
    """Codes (N, J) -> (N, 28, 28, 1): a blob that moves with z0 and z1 (other dimensions do
    nothing), as a decoder would."""
    import numpy as np

    z = np.asarray(z, np.float64)
    rows, columns = np.mgrid[0:28, 0:28]
    distance = ((columns - 14 - 3 * z[:, 0, None, None]) ** 2
                + (rows - 14 + 3 * z[:, 1, None, None]) ** 2)
    return np.exp(-distance / 32.0)[..., None].astype(np.float32)


def explorer_widgets(decode=blob_decode, with_script: bool = True) -> dict[str, str]:
    """kind -> the HTML of a small explorer widget of that kind (vaebook.explorer), its script
    removed if not ``with_script``. The traversal's first slider moves a dimension that changes
    nothing, as a collapsed dimension of a real model does."""
    import numpy as np

    from vaebook import explorer

    rng = np.random.default_rng(0)
    widgets = {
        "latent-plane": explorer.latent_plane_explorer(
            decode, rng.normal(size=(200, 2)), rng.integers(0, 10, 200), "A plane",
            grid_size=8).data,
        "traversal": explorer.traversal_explorer(
            decode, np.zeros(3), np.linspace(-2.5, 2.5, 5), "A traversal",
            dimension_labels=["z2: nothing", "z0: x"], dimensions=[2, 0]).data,
    }
    if not with_script:
        widgets = {kind: re.sub(r"<script>.*?</script>", "", html, flags=re.S)
                   for kind, html in widgets.items()}
    return widgets


def write_explorers(page: Path, widgets: dict[str, str]) -> None:
    """Put the widgets where ``page`` has ``<!-- vaebook-explorer: KIND -->``."""
    html = page.read_text(encoding="utf-8")
    for kind, widget in widgets.items():
        html = html.replace(f"<!-- vaebook-explorer: {kind} -->", widget)
    page.write_text(html, encoding="utf-8")


@pytest.fixture(scope="module")
def good_site(tmp_path_factory):
    site = _copy_site("good", tmp_path_factory.mktemp("sites"))
    # 28 px text in an 800 px wide image shown 400 (and 300) px wide: 14 (10.5) CSS px.
    (site / "figure.png").write_bytes(make_png(800, 200, {"Title": "A legible figure",
                                                          "vaebook:min_font_px": "28.0"}))
    (site / "_images").mkdir()
    (site / "_images" / "plain.png").write_bytes(make_png(400, 100))  # no record: not measured
    write_explorers(site / "chapter.html", explorer_widgets())
    return site


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory):
    site = _copy_site("broken", tmp_path_factory.mktemp("sites"))
    # 6 px text shown at the image's natural size: 6 CSS px, under 9.
    (site / "tiny.png").write_bytes(make_png(300, 100, {"vaebook:min_font_px": "6.0"}))
    write_explorers(site / "other.html", explorer_widgets(with_script=False))
    return site


@pytest.fixture(scope="module")
def broken_problems(broken_site, tmp_path_factory):
    return browser_check.check_site(broken_site, tmp_path_factory.mktemp("shots"))


# -- without a browser ------------------------------------------------------------------------


def test_png_text_chunks_reads_what_make_png_writes():
    chunks = browser_check.png_text_chunks(make_png(4, 3, {"vaebook:min_font_px": "27.8",
                                                           "Title": "T"}))
    assert chunks == {"vaebook:min_font_px": "27.8", "Title": "T"}
    assert browser_check.png_text_chunks(b"not a png") == {}


def test_png_text_chunks_reads_what_matplotlib_writes():
    """The figures' record is written as vaebook.plotting.figure_png writes it: savefig metadata
    (Pillow writes Latin-1 text as tEXt and other text as iTXt)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(3, 2))
    axis.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50,
                metadata={"Title": "β and a title", "vaebook:min_font_px": "27.8"})
    plt.close(fig)
    chunks = browser_check.png_text_chunks(buffer.getvalue())
    assert chunks["Title"] == "β and a title"
    assert chunks["vaebook:min_font_px"] == "27.8"


def test_pages_skip_generated_and_static_files():
    assert browser_check.site_pages(FIXTURES / "good") == [
        "chapter.html", "index.html", "intro.html", "sub/deep.html", "sub/index.html"]
    assert browser_check.screenshot_name("notebooks/01_autoencoder.html", 1280) == (
        "notebooks-01_autoencoder-1280.png")


def test_without_chromium_the_check_says_so_and_passes(monkeypatch, capsys):
    monkeypatch.setattr(browser_check, "find_chromium", lambda: None)
    assert browser_check.main([str(FIXTURES / "good")]) == 0
    assert "browser check did not run: chromium is not installed" in capsys.readouterr().out


# -- in the browser ---------------------------------------------------------------------------


@needs_browser
def test_good_site_has_no_problem(good_site, tmp_path):
    shots = tmp_path / "shots"
    problems = browser_check.check_site(good_site, shots)
    assert problems == [], "\n".join(map(str, problems))
    names = sorted(path.name for path in shots.iterdir())
    assert "intro-1280.png" in names and "sub-deep-390.png" in names
    assert "index-1280.png" not in names  # a redirect is checked, not photographed


@needs_browser
def test_broken_site_reports_every_kind(broken_problems):
    kinds = {problem.kind for problem in broken_problems}
    assert kinds == {"dead-link", "dead-anchor", "broken-image", "raw-role", "output-error",
                     "unrendered-math", "wide-equation", "small-figure-text",
                     "distorted-image", "explorer-inert"}, (
        "\n".join(map(str, broken_problems)))


@needs_browser
def test_broken_site_problems_say_where(broken_problems):
    text = "\n".join(map(str, broken_problems))
    for expected in ["index.html: dead-link: <a> missing.html",
                     "dead-link: <img> missing.png",
                     "dead-link: <link> _static/missing.css",
                     "dead-anchor: other.html#nope: no id \"nope\" on other.html",
                     "dead-anchor: #nowhere: no id \"nowhere\" on this page",
                     "broken-image: <img src=\"missing.png\"",
                     "raw-role: MyST syntax shown as text: \"The loss was {glue:text}\"",
                     "output-error: cell output 1: \"Traceback (most recent call last):\"",
                     "output-error: cell output 2: stderr output \"a line on stderr\"",
                     r'unrendered-math: TeX shown as text: "The evidence is $$\log p(x)',
                     "wide-equation: display equation \"a very long equation\" is 2000 px wide in "
                     "a 400 px column at 1280 px",
                     "small-figure-text: figure \"tiny.png\"",
                     "distorted-image: image \"tiny.png\" (\"A squashed figure\")",
                     "other.html: explorer-inert: latent-plane explorer \"A plane\" "
                     "(vaebook-explorer-plane-",
                     "its image did not change after the pointer moved to 5 places of its plane",
                     "other.html: explorer-inert: traversal explorer \"A traversal\" "
                     "(vaebook-explorer-traversal-",
                     "its image did not change after End and Home were pressed on 2 of its "
                     "sliders"]:
        assert expected in text, f"{expected!r} not in:\n{text}"
    assert "other.html#present" not in text


@needs_browser
def test_command_line_fails_with_one_line_per_problem(broken_site, capsys):
    assert browser_check.main([str(broken_site)]) == 1
    out = capsys.readouterr().out.splitlines()
    summary = [line for line in out if line.startswith("browser check: ")]
    problems = [line for line in out if line.startswith(("index.html: ", "other.html: "))]
    assert summary == [f"browser check: 2 pages, {len(problems)} problems"]


def _mathjax_dir() -> Path | None:
    try:
        distribution = importlib.metadata.distribution("sphinx-mathjax-offline")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(distribution.locate_file("sphinx-mathjax-offline/static/mathjax"))
    return path if (path / "tex-chtml.js").is_file() else None


@needs_browser
@pytest.mark.skipif(_mathjax_dir() is None, reason="sphinx-mathjax-offline (MathJax) not installed")
def test_real_mathjax_renders_and_long_equations_are_caught(tmp_path):
    """A page as Sphinx writes it, with the book's MathJax and custom.css: rendered maths passes,
    an equation wider than the column, TeX errors and TeX MathJax never saw fail."""
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "mathjax").symlink_to(_mathjax_dir())
    shutil.copy(ROOT / "_static" / "custom.css", tmp_path / "_static" / "custom.css")
    long_sum = " + ".join(f"x_{{{i}}}" for i in range(1, 121))
    (tmp_path / "maths.html").write_text(f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Maths</title>
<link rel="stylesheet" href="_static/custom.css">
<script>window.MathJax = {{"tex": {{"tags": "ams"}}, "options": {{"processHtmlClass":
  "tex2jax_process|mathjax_process|math|output_area"}}}}</script>
<script defer src="_static/mathjax/tex-chtml.js"></script></head>
<body><main><article class="bd-article" style="max-width: 800px">
<p>Inline <span class="math notranslate nohighlight">\\(\\frac{{a}}{{b}}\\)</span> maths.</p>
<div class="math notranslate nohighlight">\\[\\begin{{aligned}} \\log p(x) &\\ge
  \\mathbb{{E}}_{{q}}[\\log p(x \\mid z)] \\end{{aligned}}\\]</div>
<div class="math notranslate nohighlight" id="equation-long">\\[ s = {long_sum} \\]</div>
<div class="math notranslate nohighlight">\\[ \\frac{{1}}{{2}} \\nosuchcommand \\]</div>
<div class="math notranslate nohighlight">\\[ \\begin{{aligned}} x \\end{{align}} \\]</div>
<div class="math notranslate nohighlight">\\[ \\frac{{1}}{{ \\]</div>
</article></main></body></html>""")
    problems = browser_check.check_site(tmp_path)
    text = "\n".join(map(str, problems))
    assert [p.kind for p in problems].count("wide-equation") == 1, text
    assert '"s = x_{1} + x_{2}' in text and "at 1280 px" in text
    errors = sorted(p.detail for p in problems if p.kind == "unrendered-math")
    assert len(errors) == 3, text
    assert errors[0] == "MathJax error: \\begin{aligned} ended with \\end{align}", text
    assert errors[1].startswith("MathJax error: undefined TeX command \\nosuchcommand in"), text
    assert errors[2] == r'TeX shown as text: "\[ \frac{1}{ \]"', text  # MathJax never saw it
    assert {p.kind for p in problems} == {"wide-equation", "unrendered-math"}, text


@needs_browser
def test_explorers_are_used_and_judged_by_what_they_show(tmp_path):
    """A working explorer passes (the traversal only through its second slider); one whose script
    runs but whose images are all alike (a decoder that ignores its code) is inert too: the check
    compares what is shown, not whether a script is there."""
    import numpy as np

    def constant_decode(z):
        return np.full((len(z), 28, 28, 1), 0.5, np.float32)

    working, constant = explorer_widgets(), explorer_widgets(constant_decode)
    for name, widgets in (("working", working), ("constant", constant)):
        (tmp_path / f"{name}.html").write_text(
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{name}</title></head>'
            f'<body><main><article class="bd-article">{"".join(widgets.values())}</article>'
            f"</main></body></html>", encoding="utf-8")
    problems = browser_check.check_site(tmp_path)
    text = "\n".join(map(str, problems))
    assert [(p.page, p.kind) for p in problems] == [("constant.html", "explorer-inert")] * 2, text
    assert "pressed on 2 of its sliders" in text and "5 places of its plane" in text
