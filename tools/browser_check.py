#!/usr/bin/env python3
"""Browser check of the built book: open every page in headless Chromium and fail on what a reader
would see broken.

    python tools/browser_check.py SITE_DIR [--screenshots DIR] [--min-font-px 9]

The site is served on 127.0.0.1 (a free port) and every ``.html`` page under ``SITE_DIR`` is opened
at 1280 px and at 390 px (a phone), after MathJax has finished. One line per problem, then a summary
line ``browser check: N pages, M problems``; exit status 1 when there are problems. Kinds:

``dead-link``
    an ``<a href>``, ``<img src>``, ``<link href>``, ``<script src>`` (or any request the page
    makes) pointing inside the site at a file that does not exist;
``dead-anchor``
    a ``#fragment`` of a link to a page of the site (the same page or another) that names no
    ``id`` there;
``broken-image``
    an ``<img>`` that did not load (``naturalWidth`` 0);
``unrendered-math``
    TeX left as text in the article (``$$``, ``\\[``, ``\\begin{``, ``\\frac``, ...), MathJax
    errors (error nodes, undefined commands), or a MathJax that cannot load;
``output-error``
    a traceback, an ``Error:``, a warning or a stderr stream in a cell output;
``raw-role``
    a MyST role or directive left as text (``{glue:text}``, ``{eq}``, ``{cite:p}``, a line starting
    with three backticks and ``{``, ...), in the prose or inside an equation's TeX;
``wide-equation``
    a display equation wider than its column at 1280 px, or one whose box sticks out of the page
    at 390 px;
``distorted-image``
    an image shown with another aspect ratio than its file's (more than 2 % off), at 1280 or at
    390 px: a width limited by the column while a fixed height is kept squashes a figure;
``small-figure-text``
    a figure whose PNG records its smallest text (``vaebook:min_font_px``, in image pixels,
    written by :func:`vaebook.plotting.figure_png`) and that is shown so small at 1280 px that
    this text is under ``--min-font-px`` CSS pixels;
``explorer-inert``
    an interactive explorer of :mod:`vaebook.explorer` (an element with
    ``data-vaebook-explorer``) whose image (its ``data-vaebook-explorer-view``) does not change
    when the reader uses it: the pointer moved to several places of a ``latent-plane`` explorer's
    plane (``data-vaebook-explorer-plane``), or the keys End and Home pressed on a ``traversal``
    explorer's sliders (its script did not run, or failed);
``page-error``
    a page that could not be loaded or checked at all (a timeout, a crashed tab).

Code (``pre``, ``code``, highlighted blocks, library source shown in an output) is not searched for
TeX or MyST syntax, and hidden outputs, dropdowns and solutions are opened before anything is
measured. Not opened: ``genindex``, ``search`` and what lies under ``_static``, ``_sources``,
``_images`` and ``_downloads`` (links into them are checked). Screenshots (``--screenshots``):
full pages, ``<page path with - for />-1280.png`` and ``-390.png``.

Without Chromium (``/usr/bin/chromium`` or ``chromium`` on ``PATH``) or without the ``playwright``
package, the check says that it did not run, and why, and exits 0. It never downloads a browser:
Playwright drives the system's Chromium, and every request outside the site is blocked.

Importable: :func:`check_site` returns the list of :class:`Problem`.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import os
import re
import shutil
import struct
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

WIDE = 1280  # px: the width every check but the phone's runs at
NARROW = 390  # px: a phone
VIEWPORT_HEIGHT = 900
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads"}
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
MATHS_TIMEOUT_S = 20.0  # a page that loads MathJax gets this long to typeset
PAGE_TIMEOUT_S = 60.0
FONT_CHUNK = "vaebook:min_font_px"
EXPLORER_TIMEOUT_MS = 5000  # to scroll to a widget and hover or press a key
# Where the pointer goes over a plane, as fractions of its width and height.
PLANE_POSITIONS = ((0.5, 0.5), (0.15, 0.15), (0.85, 0.85), (0.15, 0.85), (0.85, 0.15))
MAX_SLIDERS_TRIED = 8

# TeX left as text: display delimiters, environments and the commands a chapter uses most.
UNRENDERED_MATHS = re.compile(
    r"\$\$|\\\[|\\\]|\\\(|\\\)|\\(?:begin|end)\{|\\(?:frac|mathbb|mathcal|mathrm|mathbf|left|right|"
    r"sum|prod|log|int|operatorname)\b|\$[^$\n]{0,200}?\\[A-Za-z]+[^$\n]{0,200}?\$")
# MyST syntax left as text: roles, and directive fences at the start of a line.
RAW_ROLE = re.compile(
    r"\{(?:glue|cite)[:}]|\{(?:eq|doc|ref|numref|literalinclude|math|term|download|abbr|sub-ref|"
    r"prf:ref|exercise|solution|numref|any)\}|(?:^|\n)[ \t]*(?:`{3,}|~{3,}|:{3,})[ \t]*\{")
# What a cell output must not show.
OUTPUT_ERROR = re.compile(
    r"Traceback \(most recent call last\)|\bTraceback\b|\b[A-Za-z]*Error:|\b[A-Za-z]*Warning\b|"
    r"\bWARNING\b")


@dataclass(frozen=True)
class Problem:
    page: str  # path of the page relative to the site, e.g. notebooks/01_autoencoder.html
    kind: str  # one of the kinds in the module docstring
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is missing: the check cannot run here."""


# ----------------------------------------------------------------------------------------------
# Files


def find_chromium() -> str | None:
    """The system Chromium: /usr/bin/chromium, else ``chromium`` on PATH."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def site_pages(site_dir: Path) -> list[str]:
    """Every page to open, relative to ``site_dir`` with '/' separators, sorted."""
    pages = []
    for path in sorted(site_dir.rglob("*.html")):
        relative = path.relative_to(site_dir)
        if relative.parts[0] in SKIP_DIRS or relative.as_posix() in SKIP_PAGES:
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        pages.append(relative.as_posix())
    return pages


def screenshot_name(page: str, width: int) -> str:
    """``notebooks/01_autoencoder.html`` -> ``notebooks-01_autoencoder-1280.png``."""
    stem = page[:-5] if page.endswith(".html") else page
    return f"{stem.replace('/', '-')}-{width}.png"


def png_text_chunks(data: bytes) -> dict[str, str]:
    """The tEXt, zTXt and iTXt chunks of a PNG as a dict (empty for anything else)."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return {}
    chunks: dict[str, str] = {}
    position = 8
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        try:
            if kind == b"tEXt":
                key, _, text = body.partition(b"\0")
                chunks[key.decode("latin-1")] = text.decode("latin-1")
            elif kind == b"zTXt":
                key, _, rest = body.partition(b"\0")
                chunks[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
            elif kind == b"iTXt":
                key, _, rest = body.partition(b"\0")
                compressed, rest = rest[0], rest[2:]
                _language, _, rest = rest.partition(b"\0")
                _translated, _, text = rest.partition(b"\0")
                chunks[key.decode("latin-1")] = (zlib.decompress(text) if compressed else
                                                 text).decode("utf-8")
            elif kind == b"IEND":
                break
        except (zlib.error, UnicodeDecodeError, IndexError):
            continue
    return chunks


class _IdParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name == "id" or (name == "name" and tag == "a")):
                self.ids.add(value)


def static_ids(path: Path) -> set[str]:
    """The ids (and ``<a name>``) of an HTML file, read without a browser."""
    parser = _IdParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser.ids


_META_REFRESH = re.compile(
    r"<meta[^>]+http-equiv=[\"']?refresh[\"']?[^>]*content=[\"'][^\"']*url=([^\"'>]+)", re.I)


# ----------------------------------------------------------------------------------------------
# Server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the browser closing a connection early is not a problem of the site


class _Site:
    """SITE_DIR served on 127.0.0.1 at a free port, in a thread."""

    def __init__(self, site_dir: Path):
        handler = functools.partial(_QuietHandler, directory=str(site_dir))
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# ----------------------------------------------------------------------------------------------
# What the page is asked (JavaScript run in the page)

_JS_HELPERS = r"""
const ARTICLE = () => document.querySelector('article.bd-article, main article')
  || document.querySelector('main, [role="main"], .body, .document') || document.body;
const CODE = 'pre, code, script, style, textarea, noscript, svg, .highlight, mjx-container, '
  + 'mjx-assistive-mml, .MathJax, .MathJax_Preview, .MathJax_Display';
function textOf(root, skip) {
  const parts = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode(node) {
    const parent = node.parentElement;
    return parent && !parent.closest(skip) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
  }});
  while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
  return parts.join('\u0000');
}
function shown(el) {
  const r = el.getBoundingClientRect();
  return r.width > 0 || r.height > 0;
}
function texSources() {
  const map = new Map();
  try {
    for (const item of MathJax.startup.document.math) {
      if (!item.typesetRoot) continue;
      let mml = '';
      try { mml = MathJax.startup.toMML(item.root); } catch (e) {}
      map.set(item.typesetRoot, {tex: item.math, display: !!item.display, mml});
    }
  } catch (e) {}
  return map;
}
function describeEquation(container, sources, index) {
  const source = sources.get(container);
  if (source && source.tex) return source.tex.replace(/\s+/g, ' ').trim();
  const mml = container.querySelector('mjx-assistive-mml');
  const text = (mml ? mml.textContent : container.textContent).replace(/\s+/g, ' ').trim();
  return text || `display equation ${index + 1}`;
}
"""

_JS_WAIT_FOR_MATHS = r"""
async (timeoutMs) => {
  // Sphinx writes `window.MathJax = {config}` and a <script src=".../tex-chtml.js"> on pages
  // with maths only; without them nothing will typeset, and there is nothing to wait for.
  if (!(window.MathJax || document.querySelector('script[src*="mathjax" i]'))) return 'no MathJax';
  const deadline = Date.now() + timeoutMs;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  while (Date.now() < deadline) {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      const outcome = await Promise.race([
        MathJax.startup.promise.then(() => 'typeset', () => 'typeset with errors'),
        sleep(Math.max(0, deadline - Date.now())).then(() => 'timeout')]);
      if (outcome !== 'timeout') return outcome;
      break;
    }
    await sleep(100);
  }
  // No MathJax (or it never finished): wait for the number of rendered equations to settle.
  let last = -1, stable = 0;
  while (Date.now() < deadline + 3000 && stable < 3) {
    const count = document.querySelectorAll('mjx-container').length;
    stable = count === last ? stable + 1 : 0;
    last = count;
    await sleep(200);
  }
  return 'timeout';
}
"""

_JS_IMAGES = r"""
async () => {
  const images = [...document.images];
  await Promise.all(images.map((img) => {
    if (img.loading === 'lazy') img.loading = 'eager';
    if (img.complete) return null;
    return new Promise((resolve) => {
      img.addEventListener('load', resolve, {once: true});
      img.addEventListener('error', resolve, {once: true});
      setTimeout(resolve, 5000);
    });
  }));
  return Promise.all(images.map(async (img) => {
    let decodes = img.naturalWidth > 0;
    if (!decodes && img.getAttribute('src')) {
      try { await img.decode(); decodes = true; } catch (e) { decodes = false; }
    }
    return {src: img.getAttribute('src') || '', url: img.currentSrc || img.src || '',
            alt: img.getAttribute('alt') || '', naturalWidth: img.naturalWidth,
            naturalHeight: img.naturalHeight, renderedWidth: img.getBoundingClientRect().width,
            renderedHeight: img.getBoundingClientRect().height, decodes};
  }));
}
"""

_JS_EXPAND = r"""
() => {
  // Open what a reader can open (hidden outputs, dropdowns, solutions), so that what is inside is
  // measured too; _JS_COLLAPSE puts it back.
  let opened = 0;
  for (const details of document.querySelectorAll('details:not([open])')) {
    details.setAttribute('open', ''); details.dataset.browserCheckOpened = '1'; opened++;
  }
  for (const el of document.querySelectorAll('.toggle-hidden')) {
    el.classList.remove('toggle-hidden'); el.dataset.browserCheckToggle = '1'; opened++;
  }
  return opened;
}
"""

_JS_COLLAPSE = r"""
() => {
  for (const el of document.querySelectorAll('[data-browser-check-opened]')) {
    el.removeAttribute('open'); delete el.dataset.browserCheckOpened;
  }
  for (const el of document.querySelectorAll('[data-browser-check-toggle]')) {
    el.classList.add('toggle-hidden'); delete el.dataset.browserCheckToggle;
  }
}
"""

_JS_COLLECT = "() => {" + _JS_HELPERS + r"""
return (() => {
  const refs = [];
  const attributes = [['a', 'href'], ['area', 'href'], ['img', 'src'], ['link', 'href'],
                      ['script', 'src'], ['source', 'src'], ['iframe', 'src'], ['video', 'src'],
                      ['audio', 'src'], ['embed', 'src'], ['object', 'data']];
  for (const [tag, attribute] of attributes) {
    for (const el of document.querySelectorAll(`${tag}[${attribute}]`)) {
      refs.push({tag, value: el.getAttribute(attribute)});
    }
  }
  const ids = [...document.querySelectorAll('[id]')].map((el) => el.id)
    .concat([...document.querySelectorAll('a[name]')].map((el) => el.getAttribute('name')));

  const article = ARTICLE();
  const articleText = textOf(article, CODE);
  let mathErrors = [...document.querySelectorAll('mjx-merror, .MathJax_Error, [data-mjx-error]')]
    .map((el) => (el.getAttribute('data-mjx-error') || el.getAttribute('title')
                  || el.textContent || 'MathJax error').replace(/\s+/g, ' ').trim());
  const sources = texSources();
  const tex = [...sources.values()].map((source) => source.tex);
  // TeX's noundefined package (on in MathJax's tex-chtml) shows an unknown command as red text,
  // not as an error node: find it in the MathML.
  for (const source of sources.values()) {
    const unknown = /<mtext[^>]*mathcolor="red"[^>]*>(\\[^<]*)<\/mtext>/.exec(source.mml);
    if (unknown) mathErrors.push(`undefined TeX command ${unknown[1]} in ${source.tex.trim()}`);
  }

  const roots = [...document.querySelectorAll('.cell_output')];
  for (const el of document.querySelectorAll('.output')) {
    if (!el.closest('.cell_output')) roots.push(el);
  }
  const outputs = roots.map((root, index) => {
    const copy = root.cloneNode(true);
    // Code blocks that an output displays (library source shown by book.show_source) are code,
    // not messages: `except ValueError:` in them is no error.
    const code = copy.querySelectorAll('[class*="highlight-"]:not(.output), script, style');
    for (const el of code) el.remove();
    const streams = (selector) => [root, ...root.querySelectorAll(selector)]
      .filter((el) => el.matches(selector))
      .map((el) => el.textContent.trim().split('\n')[0] || '(empty)');
    return {index, text: copy.textContent, stderr: streams('.output.stderr'),
            tracebacks: streams('.output.traceback, .output.error')};
  });

  const equations = [];
  [...document.querySelectorAll('mjx-container[display="true"]')].forEach((container, index) => {
    if (!shown(container)) return;
    const math = container.querySelector('mjx-math');
    const content = Math.max(container.scrollWidth,
                             math ? math.scrollWidth : 0,
                             math ? Math.ceil(math.getBoundingClientRect().width) : 0);
    equations.push({index, content, column: container.clientWidth,
                    description: describeEquation(container, sources, index)});
  });
  return {refs, ids, articleText, mathErrors, tex, outputs, equations};
})();
}"""

_JS_NARROW_EQUATIONS = "() => {" + _JS_HELPERS + r"""
return (() => {
  const sources = texSources();
  const page = document.documentElement.clientWidth;
  return [...document.querySelectorAll('mjx-container[display="true"]')]
    .map((container, index) => ({container, index}))
    .filter(({container}) => shown(container))
    .map(({container, index}) => ({index, right: container.getBoundingClientRect().right, page,
                                   description: describeEquation(container, sources, index)}))
    .filter((equation) => equation.right > page + 1);
})();
}"""

_JS_SETTLE = """() => new Promise((resolve) =>
  requestAnimationFrame(() => requestAnimationFrame(resolve)))"""


# ----------------------------------------------------------------------------------------------
# The check


def _short(text: str, limit: int = 100) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _matching_lines(text: str, pattern: re.Pattern, limit: int = 5, width: int = 40) -> list[str]:
    """Up to ``limit`` text nodes (one a line in ``text``) where ``pattern`` matches, each cut to
    ``width`` characters around its first match."""
    lines = []
    for node in text.split("\x00"):
        match = pattern.search(node)
        if match:
            start = max(0, match.start() - width)
            excerpt = ("…" if start else "") + node[start:match.end() + width]
            lines.append(_short(excerpt, 3 * width))
            if len(lines) == limit:
                break
    return lines


class _Checker:
    def __init__(self, site_dir: Path, origin: str, screenshot_dir: Path | None,
                 min_font_px: float):
        self.site_dir = site_dir
        self.origin = origin
        self.screenshot_dir = screenshot_dir
        self.min_font_px = min_font_px
        self.problems: list[Problem] = []
        self.page_ids: dict[str, set[str]] = {}  # ids seen in the browser, per page
        self.anchors: list[tuple[str, str, str, str]] = []  # page, target page, fragment, href
        self.missing: dict[str, set[str]] = {}  # site-relative paths reported missing, per page
        self._seen: set[Problem] = set()

    def report(self, page: str, kind: str, detail: str) -> None:
        problem = Problem(page, kind, detail)
        if problem not in self._seen:
            self._seen.add(problem)
            self.problems.append(problem)

    # -- paths ---------------------------------------------------------------------------------

    def local_path(self, page: str, value: str) -> tuple[str, str] | None:
        """``(site-relative path, fragment)`` of a reference inside the site; None if outside."""
        value = value.strip()
        if not value or value.startswith(("data:", "mailto:", "javascript:", "tel:", "blob:")):
            return None
        url = urljoin(f"{self.origin}/{page}", value)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None
        return unquote(parts.path).lstrip("/"), unquote(parts.fragment)

    def file_for(self, relative: str) -> Path | None:
        """The file a site-relative path is served from (a folder serves its index.html)."""
        relative = os.path.normpath(relative) if relative else "."
        if relative.startswith(("..", "/")):
            return None  # outside the site: the server refuses it too
        path = self.site_dir / relative
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_file() else None

    # -- one page --------------------------------------------------------------------------

    def check_redirect(self, page: str, html: str) -> bool:
        """A page that only redirects (the book's root index.html): check its target exists."""
        match = _META_REFRESH.search(html)
        if not match:
            return False
        target = self.local_path(page, match.group(1))
        if target is not None and self.file_for(target[0]) is None:
            self.report(page, "dead-link", f"redirect to {match.group(1)}: no such file")
        return True

    def check_page(self, browser_page, page: str) -> None:
        failed: list[tuple[str, int]] = []

        def on_response(response):
            if response.status >= 400 and response.url.startswith(self.origin + "/"):
                failed.append((response.url, response.status))

        browser_page.on("response", on_response)
        try:
            self._check_page(browser_page, page, failed)
        finally:
            browser_page.remove_listener("response", on_response)

    def _check_page(self, browser_page, page: str, failed: list) -> None:
        browser_page.set_viewport_size({"width": WIDE, "height": VIEWPORT_HEIGHT})
        response = browser_page.goto(f"{self.origin}/{page}", wait_until="load",
                                     timeout=PAGE_TIMEOUT_S * 1000)
        if response is None or not response.ok:
            status = response.status if response is not None else "no response"
            self.report(page, "dead-link", f"the page itself could not be loaded ({status})")
            return
        maths = self.wait_for_maths(browser_page, failed)
        browser_page.evaluate("() => document.fonts.ready.then(() => true)")
        browser_page.evaluate(_JS_IMAGES)  # every image loaded (or failed) before the screenshot
        browser_page.evaluate(_JS_SETTLE)
        self.screenshot(browser_page, page, WIDE)

        browser_page.evaluate(_JS_EXPAND)
        browser_page.evaluate(_JS_SETTLE)
        images = browser_page.evaluate(_JS_IMAGES)  # widths with hidden outputs opened
        data = browser_page.evaluate(_JS_COLLECT)
        self.check_explorers(browser_page, page)
        browser_page.evaluate(_JS_COLLAPSE)

        self.page_ids[page] = set(data["ids"])
        self.check_refs(page, data["refs"])
        for url, status in failed:
            relative = unquote(urlsplit(url).path).lstrip("/")
            if relative != "favicon.ico" and relative not in self.missing.get(page, set()):
                self.report(page, "dead-link", f"request for /{relative} failed ({status})")
        self.check_images(page, images)
        self.check_maths(page, data, maths)
        self.check_roles(page, data)
        self.check_outputs(page, data["outputs"])
        for equation in data["equations"]:
            if equation["content"] > equation["column"] + 1:
                self.report(page, "wide-equation",
                            f"display equation \"{_short(equation['description'], 80)}\" is "
                            f"{equation['content']} px wide in a {equation['column']} px column "
                            f"at {WIDE} px")

        browser_page.set_viewport_size({"width": NARROW, "height": VIEWPORT_HEIGHT})
        browser_page.evaluate(_JS_SETTLE)
        time.sleep(0.2)  # the theme's layout transitions at the narrow breakpoint
        self.check_aspect(page, browser_page.evaluate(_JS_IMAGES), NARROW)
        for equation in browser_page.evaluate(_JS_NARROW_EQUATIONS):
            self.report(page, "wide-equation",
                        f"display equation \"{_short(equation['description'], 80)}\" reaches "
                        f"{equation['right']:.0f} px on a {equation['page']} px wide page at "
                        f"{NARROW} px: the page scrolls sideways")
        self.screenshot(browser_page, page, NARROW)

    def wait_for_maths(self, browser_page, failed: list) -> str:
        """Wait for MathJax to typeset the page; how it went ('typeset', 'no MathJax', 'timeout',
        or why MathJax cannot load: then there is nothing to wait for)."""
        scripts = browser_page.evaluate(
            "() => [...document.querySelectorAll('script[src]')].map((s) => s.src)"
            ".filter((src) => /mathjax/i.test(src))")
        failed_urls = {url for url, _status in failed}
        unavailable = [src for src in scripts
                       if not src.startswith(self.origin + "/") or src in failed_urls]
        if scripts and len(unavailable) == len(scripts):
            src = unavailable[0]
            if src.startswith(self.origin + "/"):
                return f"MathJax did not load: its script {src} is missing"
            return (f"MathJax did not load: its script {src} is outside the site (blocked here, "
                    f"and the book's maths must render offline)")
        return browser_page.evaluate(_JS_WAIT_FOR_MATHS, MATHS_TIMEOUT_S * 1000)

    def screenshot(self, browser_page, page: str, width: int) -> None:
        if self.screenshot_dir is None:
            return
        browser_page.screenshot(path=str(self.screenshot_dir / screenshot_name(page, width)),
                                full_page=True, animations="disabled", caret="hide")

    # -- the checks ------------------------------------------------------------------------

    def check_refs(self, page: str, refs: list[dict]) -> None:
        for ref in refs:
            target = self.local_path(page, ref["value"])
            if target is None:
                continue
            relative, fragment = target
            if self.file_for(relative) is None:
                self.missing.setdefault(page, set()).add(relative)
                self.report(page, "dead-link",
                            f"<{ref['tag']}> {ref['value']} -> /{relative}: no such file")
                continue
            if fragment and ref["tag"] in ("a", "area"):
                file = self.file_for(relative)
                target_page = file.relative_to(self.site_dir).as_posix()
                if target_page.endswith((".html", ".htm")):
                    self.anchors.append((page, target_page, fragment, ref["value"]))

    def check_anchors(self) -> None:
        """Run once every page has been opened: fragments against the ids of their pages."""
        static: dict[str, set[str]] = {}
        for page, target, fragment, href in self.anchors:
            ids = self.page_ids.get(target)
            if ids is None:
                if target not in static:
                    static[target] = static_ids(self.site_dir / target)
                ids = static[target]
            if fragment not in ids:
                where = "this page" if target == page else target
                self.report(page, "dead-anchor", f"{href}: no id \"{fragment}\" on {where}")

    def check_aspect(self, page: str, images: list[dict], width: int) -> None:
        for image in images:
            natural_w, natural_h = image.get("naturalWidth"), image.get("naturalHeight")
            shown_w, shown_h = image.get("renderedWidth"), image.get("renderedHeight")
            if not (image["decodes"] and natural_w and natural_h and shown_w and shown_h):
                continue  # not loaded, or hidden (nothing is shown, so nothing is distorted)
            ratio = (shown_w / shown_h) / (natural_w / natural_h)
            if abs(ratio - 1) > 0.02:
                label = image["src"] or "(no src)"
                if label.startswith("data:"):
                    label = f"{label[:30]}..."
                self.report(page, "distorted-image",
                            f"image \"{label}\" (\"{_short(image['alt'], 50)}\") is "
                            f"{natural_w} x {natural_h} px but shown {shown_w:.0f} x "
                            f"{shown_h:.0f} px at {width} px: its aspect ratio is "
                            f"{abs(ratio - 1):.0%} off")

    def check_images(self, page: str, images: list[dict]) -> None:
        self.check_aspect(page, images, WIDE)
        for image in images:
            label = image["src"] or "(no src)"
            if not image["decodes"]:
                self.report(page, "broken-image",
                            f"<img src=\"{label}\" alt=\"{_short(image['alt'], 40)}\"> "
                            f"did not load")
                continue
            min_font = self.figure_min_font(page, image["src"])
            if min_font is None or not image["naturalWidth"] or image["renderedWidth"] <= 0:
                continue
            shown = min_font * image["renderedWidth"] / image["naturalWidth"]
            if shown < self.min_font_px:
                self.report(page, "small-figure-text",
                            f"figure \"{label}\" (\"{_short(image['alt'], 50)}\"): its "
                            f"smallest text is {min_font:g} px in the {image['naturalWidth']} px "
                            f"wide image, shown {image['renderedWidth']:.0f} px wide at {WIDE} px: "
                            f"{shown:.1f} CSS px, under {self.min_font_px:g}")

    def figure_min_font(self, page: str, src: str) -> float | None:
        data = None
        if src.startswith("data:image/png;base64,"):
            try:
                data = base64.b64decode(src.split(",", 1)[1])
            except ValueError:
                return None
        else:
            target = self.local_path(page, src)
            file = self.file_for(target[0]) if target else None
            if file is None or file.suffix.lower() != ".png":
                return None
            data = file.read_bytes()
        value = png_text_chunks(data).get(FONT_CHUNK)
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    def check_explorers(self, browser_page, page: str) -> None:
        """Use every explorer widget of the page as a reader would; report those whose image
        does not change (screenshots of the image before and after, compared)."""
        from playwright.sync_api import Error as PlaywrightError

        widgets = browser_page.locator("[data-vaebook-explorer]")
        for index in range(widgets.count()):
            widget = widgets.nth(index)
            kind = widget.get_attribute("data-vaebook-explorer") or ""
            name = (f"{kind} explorer \"{_short(widget.get_attribute('aria-label') or '', 60)}\""
                    f" ({widget.get_attribute('id') or f'number {index + 1} on the page'})")
            view = widget.locator("[data-vaebook-explorer-view]").first
            if view.count() == 0:
                self.report(page, "explorer-inert",
                            f"{name} has no image (no data-vaebook-explorer-view element)")
                continue
            if view.bounding_box() is None:
                continue  # not shown (in an output the reader cannot open): nothing to use
            try:
                # In the middle of the window, so that a sticky header covers none of it and
                # hovering scrolls nothing: what is screenshotted is the widget alone.
                widget.evaluate("(el) => el.scrollIntoView({block: 'center', inline: 'nearest'})")
                before = view.screenshot(timeout=EXPLORER_TIMEOUT_MS, animations="disabled")
                if kind == "latent-plane":
                    changed, how = self._use_plane(widget, view, before)
                elif kind == "traversal":
                    changed, how = self._use_sliders(widget, view, before)
                else:
                    changed, how = False, "nothing: the check does not know this kind of explorer"
            except PlaywrightError as error:  # a timeout: hidden behind something, or detached
                message = str(error).strip().splitlines()[0] if str(error).strip() else "?"
                changed, how = False, f"a reader's action, which failed ({_short(message, 80)})"
            if not changed:
                self.report(page, "explorer-inert",
                            f"{name}: its image did not change after {how}")

    def _use_plane(self, widget, view, before: bytes) -> tuple[bool, str]:
        plane = widget.locator("[data-vaebook-explorer-plane]").first
        if plane.count() == 0:
            return False, "nothing: it has no data-vaebook-explorer-plane element to point at"
        box = plane.bounding_box()
        if box is None or box["width"] < 2 or box["height"] < 2:
            return False, "nothing: its plane is not shown"
        for fraction_x, fraction_y in PLANE_POSITIONS:
            plane.hover(position={"x": fraction_x * box["width"], "y": fraction_y * box["height"]},
                        timeout=EXPLORER_TIMEOUT_MS)
            if view.screenshot(timeout=EXPLORER_TIMEOUT_MS, animations="disabled") != before:
                return True, ""
        return False, f"the pointer moved to {len(PLANE_POSITIONS)} places of its plane"

    def _use_sliders(self, widget, view, before: bytes) -> tuple[bool, str]:
        sliders = widget.locator("input[type=range]")
        count = min(sliders.count(), MAX_SLIDERS_TRIED)
        if count == 0:
            return False, "nothing: it has no slider"
        for index in range(count):
            slider = sliders.nth(index)
            slider.focus(timeout=EXPLORER_TIMEOUT_MS)
            for key in ("End", "Home"):
                slider.press(key, timeout=EXPLORER_TIMEOUT_MS)
                if view.screenshot(timeout=EXPLORER_TIMEOUT_MS, animations="disabled") != before:
                    return True, ""
        return False, f"End and Home were pressed on {count} of its sliders"

    def check_maths(self, page: str, data: dict, maths: str) -> None:
        for message in dict.fromkeys(data["mathErrors"]):
            self.report(page, "unrendered-math", f"MathJax error: {_short(message)}")
        lines = _matching_lines(data["articleText"], UNRENDERED_MATHS)
        if lines and maths == "timeout":
            self.report(page, "unrendered-math",
                        f"MathJax did not finish within {MATHS_TIMEOUT_S:g} s")
        elif lines and maths.startswith("MathJax did not load"):
            self.report(page, "unrendered-math", maths)
        for line in lines:
            self.report(page, "unrendered-math", f"TeX shown as text: \"{line}\"")

    def check_roles(self, page: str, data: dict) -> None:
        for line in _matching_lines(data["articleText"], RAW_ROLE):
            self.report(page, "raw-role", f"MyST syntax shown as text: \"{line}\"")
        for tex in data["tex"]:
            if re.search(r"\{glue|\{eq\}|\{cite|\{ref\}|\{numref\}", tex or ""):
                self.report(page, "raw-role",
                            f"MyST role inside an equation: \"{_short(tex, 80)}\"")

    def check_outputs(self, page: str, outputs: list[dict]) -> None:
        for output in outputs:
            where = f"cell output {output['index'] + 1}"
            for line in output["tracebacks"]:
                self.report(page, "output-error", f"{where}: error output \"{_short(line)}\"")
            for line in output["stderr"]:
                self.report(page, "output-error", f"{where}: stderr output \"{_short(line)}\"")
            matching = [line for line in output["text"].splitlines() if OUTPUT_ERROR.search(line)]
            if matching:
                more = f" (and {len(matching) - 1} more such lines)" if len(matching) > 1 else ""
                self.report(page, "output-error", f"{where}: \"{_short(matching[0])}\"{more}")


def check_site(site_dir, screenshot_dir=None, min_font_px: float = 9.0) -> list[Problem]:
    """Open every page of ``site_dir`` in headless Chromium; the problems found (see the module
    docstring), in page order. Raises :class:`BrowserUnavailable` without Chromium or Playwright,
    and ``FileNotFoundError`` if ``site_dir`` is not a folder."""
    site_dir = Path(site_dir).resolve()
    if not site_dir.is_dir():
        raise FileNotFoundError(f"{site_dir} is not a folder")
    executable = find_chromium()
    if executable is None:
        raise BrowserUnavailable("chromium is not installed (no /usr/bin/chromium, no chromium "
                                 "on PATH)")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise BrowserUnavailable(f"the playwright package is not importable ({error})") from error
    if screenshot_dir is not None:
        screenshot_dir = Path(screenshot_dir)
        screenshot_dir.mkdir(parents=True, exist_ok=True)
        for old in screenshot_dir.glob("*.png"):
            if old.name.endswith((f"-{WIDE}.png", f"-{NARROW}.png")):
                old.unlink()

    pages = site_pages(site_dir)
    with _Site(site_dir) as site, sync_playwright() as playwright:
        checker = _Checker(site_dir, site.origin, screenshot_dir, float(min_font_px))
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": WIDE, "height": VIEWPORT_HEIGHT},
                                          device_scale_factor=1, service_workers="block")
            # Hermetic: nothing outside the site is fetched (fonts, analytics, launch buttons).
            origin = re.escape(site.origin)
            context.route(re.compile(rf"^(?!{origin}/)(?:https?|wss?)://"),
                          lambda route: route.abort())
            browser_page = context.new_page()
            for page in pages:
                html = (site_dir / page).read_text(encoding="utf-8", errors="replace")
                if checker.check_redirect(page, html):
                    continue
                try:
                    checker.check_page(browser_page, page)
                except PlaywrightError as error:  # a page that hangs or crashes the tab
                    message = str(error).strip().splitlines()[0] if str(error).strip() else "?"
                    checker.report(page, "page-error", f"the page could not be checked: {message}")
                    browser_page.close()
                    browser_page = context.new_page()
            checker.check_anchors()
        finally:
            browser.close()
    order = {page: index for index, page in enumerate(pages)}
    return sorted(checker.problems, key=lambda problem: order.get(problem.page, len(order)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site_dir", type=Path, help="the built HTML site (e.g. _build/html)")
    parser.add_argument("--screenshots", type=Path, default=None, metavar="DIR",
                        help="write full-page screenshots of every page at 1280 and 390 px here")
    parser.add_argument("--min-font-px", type=float, default=9.0, metavar="PX",
                        help="smallest legible figure text, in CSS px at 1280 px (default 9)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        problems = check_site(args.site_dir, args.screenshots, args.min_font_px)
    except BrowserUnavailable as reason:
        print(f"browser check did not run: {reason}")
        return 0
    except FileNotFoundError as error:
        print(f"browser check: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    print(f"browser check: {len(site_pages(args.site_dir))} pages, {len(problems)} problems")
    print(f"browser check took {time.monotonic() - started:.0f} s")
    if args.screenshots is not None:
        print(f"screenshots: {args.screenshots}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
