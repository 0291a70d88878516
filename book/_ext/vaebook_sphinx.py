"""The book's Sphinx extension: a readable downloaded notebook, figures with real alt text, the
student edition, run times, and the generated tables of the teachers' page.

Loaded by ``_config.yml`` (``sphinx: local_extensions: {vaebook_sphinx: book/_ext}``). Two jobs
run when the HTML build has finished:

1. **The downloaded notebook.** The page's download button links ``_sources/<docname>.ipynb``, which
   Sphinx fills with the *source* notebook: no outputs, raw ``{glue:text}`...``` roles, ``{eq}``
   references, ``{cite:p}`` keys and solutions in plain view. This extension overwrites that file
   with a *reader notebook*: the executed notebook that MyST-NB wrote to
   ``<build>/jupyter_execute/<docname>.ipynb``, outputs included, whose Markdown is what the page
   shows: glued values formatted as on the page, equation numbers ``(1.2)`` (and ``\\tag`` s on
   the labelled equations themselves), citations as ``(Author Year)`` with a reference list at the
   end, cross-references as their titles, exercise and solution directives as bold headings. The
   plumbing cells the page removes stay (the notebook must run top to bottom, and they print the
   numbers) but are collapsed, and solutions stay collapsed.
2. **Alt text.** MyST-NB gives every notebook figure the alt text of its hashed file name. Figures
   drawn through :func:`vaebook.plotting.use_book_style` carry their title in a PNG ``Title`` text
   chunk; every ``<img>`` of the written HTML that shows such a PNG from ``_images/`` and has no
   alt text of its own gets that title.

And three more:

3. **The student edition** (config value ``vaebook_student``, set by ``_config_student.yml`` in
   ``make student``): every solution (the gated ``solution-start`` ... ``solution-end`` with the
   cells between, and ``{solution}`` directives) is removed from the pages by a transform, before
   the search index, the labels or the images see it, and the downloaded notebook is the reader
   notebook of :func:`student_notebook`: solutions gone, exercise stubs and outputs kept. If it
   cannot be made, the download is the source notebook without solutions, never with them.
4. **Run times.** Under the title of every executed page, a line says how long its notebook ran in
   this build and in which profile (:func:`runtime_note`, from MyST-NB's execution data).
5. **The teachers' page.** ``{vaebook-build-profile}`` (this build's profile),
   ``{vaebook-profile-times}`` (the other profile's run times, from the JSON file that
   ``benchmarks/full_profile_times.py`` writes) and ``{vaebook-exercise-table}`` (every chapter's
   exercises with their kinds, minutes and fit in a lab: :func:`exercise_inventory`,
   :func:`lab_plan`) are filled in once every page has been read, and rewritten in every build.

The text transformations are pure functions (:func:`rewrite_markdown`, :func:`reader_notebook`,
:func:`student_notebook`, :func:`exercise_inventory`, :func:`runtime_note`,
:func:`png_text_chunks`, :func:`set_image_alt_text`...), tested without Sphinx in
``tests/test_sphinx_ext.py`` and ``tests/test_student.py``; the Sphinx functions only gather the
lookup tables from the Sphinx environment and write files or nodes.
"""

from __future__ import annotations

import ast
import base64
import copy
import html
import json
import math
import os
import posixpath
import re
import struct
import textwrap
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from docutils import nodes as _nodes

__all__ = [
    "Lookups",
    "format_plain_text",
    "format_citation",
    "author_list",
    "citation_table",
    "rewrite_markdown",
    "reader_notebook",
    "strip_solution_text",
    "student_notebook",
    "Exercise",
    "exercise_inventory",
    "lab_plan",
    "minutes_rule",
    "format_duration",
    "runtime_note",
    "profile_times_rows",
    "png_text_chunks",
    "set_image_alt_text",
    "setup",
]

# --------------------------------------------------------------------------------------------------
# Lookup tables (plain data, filled from the Sphinx environment by the build, by hand in the tests)
# --------------------------------------------------------------------------------------------------


@dataclass
class Lookups:
    """Everything the Markdown of one notebook may refer to, as the built page resolves it.

    Attributes:
        docname: the notebook's Sphinx document name (``notebooks/01_autoencoder``), for relative
            ``{doc}`` paths and cross-document glue keys.
        glue: glued values: name -> MIME bundle (``{"text/plain": "123.4"}``, as MyST-NB stores
            it) or a plain Python value (stored as its ``repr``, as glue does). Keys of other
            notebooks' values are ``"<docname>::<name>"``.
        equations: equation label -> its number as the page shows it, without parentheses
            (``"1.2"``).
        citations: bibtex key -> ``(authors, year)`` with ``authors`` a list of last names.
        doc_titles: docname -> title of the document.
        labels: label -> ``(title, number, figtype)``: ``{ref}`` shows the title, ``{numref}`` the
            number (``"2.1"``, ``""`` when unnumbered) in ``numfig_format[figtype]``.
        exercises: exercise label -> number (``"1.2"``).
        exercise_sequence: the numbers of this notebook's numbered exercises in order, for
            exercises without a label.
        exercise_titles: exercise label -> its title (the directive's argument), for solutions.
        numfig_format: Sphinx's ``numfig_format``.
        eqref_format: Sphinx's ``math_eqref_format`` (``"({number})"`` when unset).
        substitutions: MyST substitutions (``{{ name }}``).
        source_dir: the folder of the notebook's source: the images that its ``{figure}`` and
            ``{image}`` directives name by a relative path are read from there and travel inside
            the reader notebook as ``data:`` URLs (a downloaded notebook or Colab has no
            repository around it). Empty: the path is kept.
        missing: filled by :func:`rewrite_markdown` with the references it could not resolve
            (``"glue:name"``, ``"eq:label"``, ...), so that the build can warn about them.
    """

    docname: str = ""
    glue: Mapping[str, Any] = field(default_factory=dict)
    equations: Mapping[str, str] = field(default_factory=dict)
    citations: Mapping[str, tuple[Sequence[str], str]] = field(default_factory=dict)
    doc_titles: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    exercises: Mapping[str, str] = field(default_factory=dict)
    exercise_sequence: Sequence[str] = ()
    exercise_titles: Mapping[str, str] = field(default_factory=dict)
    numfig_format: Mapping[str, str] = field(default_factory=lambda: {
        "section": "Section %s", "figure": "Fig. %s", "table": "Table %s",
        "code-block": "Listing %s", "exercise": "Exercise %s"})
    eqref_format: str = "({number})"
    substitutions: Mapping[str, str] = field(default_factory=dict)
    source_dir: str = ""
    missing: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)  # keys cited, in order of first use
    _exercise_index: int = 0


# --------------------------------------------------------------------------------------------------
# Glue values
# --------------------------------------------------------------------------------------------------


def _text(value) -> str:
    """A notebook's multi-line string field (a str or a list of lines) as one string."""
    return "".join(value) if isinstance(value, list) else str(value)


def format_plain_text(text: str, fmt_spec: str) -> str:
    """Format a glued ``text/plain`` value exactly as MyST-NB's ``{glue:text}`` role does.

    The text is a ``repr``: it is ``literal_eval``-ed (so strings lose their quotes), converted to
    ``int``/``float``/``str`` by the format's type character, and formatted with ``fmt_spec``.
    """
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if fmt_spec == "":
        return str(value)
    type_char = fmt_spec[-1]
    if type_char == "s":
        value = str(value)
    elif type_char in ("b", "c", "d", "o", "x", "X"):
        value = int(value)
    elif type_char in ("e", "E", "f", "F", "g", "G", "n", "%"):
        value = float(value)
    return format(value, fmt_spec)


def _bundle(value) -> dict:
    """A glued value as a MIME bundle (a plain Python value is glued as its repr)."""
    if isinstance(value, Mapping) and value and all("/" in str(k) for k in value):
        return {k: _text(v) if isinstance(v, list) else v for k, v in value.items()}
    return {"text/plain": repr(value)}


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_$<>\[\]])")


def _escape_markdown(text: str) -> str:
    """Glued text is inserted as text: keep Markdown and maths from reading it as markup."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _attachment_name(key: str, mime: str) -> str:
    extension = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg",
                 "image/gif": "gif"}[mime]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key) + "." + extension


_IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


# --------------------------------------------------------------------------------------------------
# Citations
# --------------------------------------------------------------------------------------------------


def author_list(last_names: Sequence[str], full: bool = False) -> str:
    """``"A"``, ``"A and B"``, ``"A et al."`` (3+ authors; all of them, ``"A, B, and C"``, when
    ``full``)."""
    names = [name for name in last_names if name] or ["Anonymous"]
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    if not full:
        return f"{names[0]} et al."
    return ", ".join(names[:-1]) + f", and {names[-1]}"


_CITE_TARGET = re.compile(
    r"^\s*(?:\{(?P<pre>[^{}]*)\})?(?P<key>[^{}]+?)(?:\{(?P<post>[^{}]*)\})?\s*$")


def format_citation(role: str, content: str, citations: Mapping[str, tuple[Sequence[str], str]],
                    missing: list[str] | None = None, cited: list[str] | None = None) -> str:
    """The text of a sphinxcontrib-bibtex citation role in author-year style.

    ``{cite:p}`a,b``` -> ``(Author Year; Author Year)``, ``{cite:t}`k``` -> ``Author (Year)``;
    ``ps``/``ts`` list all authors, ``ct``/``cts`` capitalise, ``alp`` drops the parentheses,
    ``year``/``author`` and their ``par`` forms give one part. Pre- and post-notes
    (``{see}key{p. 3}``) are kept. An unknown key is shown as the key.
    """
    kind = role.split(":", 1)[1] if ":" in role else "p"
    full = kind in ("ps", "ts", "cts", "alps", "authors", "cauthors", "authorpars")
    capitalise = kind in ("ct", "cts", "cauthor", "cauthors")
    parts = []
    for item in content.split(","):
        match = _CITE_TARGET.match(item)
        if not match:
            continue
        key, pre, post = match["key"].strip(), match["pre"] or "", match["post"] or ""
        if cited is not None and key not in cited:
            cited.append(key)
        if key in citations:
            names, year = citations[key]
            authors = author_list(list(names), full=full)
        else:
            if missing is not None:
                missing.append(f"cite:{key}")
            authors, year = key, "n.d."
        if capitalise:
            authors = authors[:1].upper() + authors[1:]
        if kind in ("t", "ts", "ct", "cts"):
            inner = ", ".join(x for x in (pre, year, post) if x)
            text = f"{authors} ({inner})"
        elif kind in ("year", "yearpar"):
            text = year
        elif kind in ("author", "authors", "authorpar", "authorpars", "cauthor", "cauthors"):
            text = authors
        elif kind == "empty":
            text = ""
        else:  # p, ps, alp, alps, label, labelpar
            text = f"{authors} {year}"
        if kind not in ("t", "ts", "ct", "cts"):
            text = " ".join(x for x in (pre, text) if x)
            text = ", ".join(x for x in (text, post) if x)
        parts.append(text)
    joined = "; ".join(part for part in parts if part)
    if kind in ("p", "ps", "yearpar", "authorpar", "authorpars", "labelpar"):
        return f"({joined})"
    return joined


# --------------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------------

_ROLE_OR_CODE = re.compile(
    r"\{(?P<role>[A-Za-z][\w:+.-]*)\}(?P<ticks>`+)(?P<content>.+?)(?<!`)(?P=ticks)(?!`)"
    r"|(?P<cticks>`+)(?P<code>.+?)(?<!`)(?P=cticks)(?!`)",
    re.DOTALL,
)
_EXPLICIT_TITLE = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
_DISPLAY_MATH = re.compile(
    r"(?<![\\$])\$\$(?P<body>.+?)(?<!\\)\$\$(?:[ \t]*\((?P<label>[^()\s]+)\))?", re.DOTALL)
_OWN_NUMBERING = re.compile(
    r"\\tag\b|\\notag\b|\\nonumber\b|\\label\b"
    r"|\\begin\{(?:equation|align|alignat|gather|multline|eqnarray|flalign)\*?\}")
_SUBSTITUTION = re.compile(r"\{\{\s*(?P<name>[\w.-]+)\s*\}\}")
_TARGET_LINE = re.compile(r"^\s*\([^()\s]+\)=\s*$")
_COMMENT_LINE = re.compile(r"^ {0,3}%")
_BLOCK_BREAK = re.compile(r"^\s*\+\+\+")
_FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
_DIRECTIVE_INFO = re.compile(r"^\s*\{(?P<name>[^}\s]+)\}\s*(?P<argument>.*?)\s*$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")

_ADMONITIONS = {
    "note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important", "warning": "Warning",
    "caution": "Caution", "attention": "Attention", "danger": "Danger", "error": "Error",
    "seealso": "See also", "todo": "To do",
}
_DROPPED_DIRECTIVES = {
    "toctree", "tableofcontents", "bibliography", "index", "meta", "highlight", "literalinclude",
    "include", "solution-end", "exercise-end", "footbibliography", "contents", "rubric-end",
}
_VERBATIM_DIRECTIVES = {"code-block", "code", "sourcecode", "code-cell", "eval-rst", "raw"}
_CODE_ROLES = {"code", "literal", "samp", "file", "kbd", "command", "program", "envvar", "option",
               "func", "meth", "class", "mod", "attr", "obj", "data", "exc", "const"}


def _code_span(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _resolve_docname(path: str, current: str) -> str:
    path = path.strip()
    for suffix in (".md", ".ipynb", ".rst", ".myst"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    if path.startswith("/"):
        return posixpath.normpath(path.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(current), path))


def _glue_lookup(key: str, lookups: Lookups) -> dict | None:
    if "::" in key:
        path, name = key.split("::", 1)
        key = f"{_resolve_docname(path, lookups.docname)}::{name.strip()}"
    value = lookups.glue.get(key.strip())
    if value is None:
        lookups.missing.append(f"glue:{key.strip()}")
        return None
    return _bundle(value)


def _glue_text(content: str, lookups: Lookups) -> str:
    """``{glue:text}`[path::]name[:format]```, formatted as MyST-NB does."""
    if "::" in content:
        path, rest = content.split("::", 1)
        prefix = path + "::"
    else:
        prefix, rest = "", content
    name, _, fmt = rest.partition(":")
    bundle = _glue_lookup(prefix + name, lookups)
    if bundle is None:
        return _code_span(name)
    text = _text(bundle.get("text/plain", ""))
    try:
        return _escape_markdown(format_plain_text(text, fmt or "s"))
    except (ValueError, TypeError):
        lookups.missing.append(f"glue format:{content}")
        return _escape_markdown(text)


def _glue_inline(content: str, lookups: Lookups, *, markdown: bool = False) -> str:
    """``{glue}`name``` / ``{glue:any}`` / ``{glue:md}``: the richest inline form of the value."""
    bundle = _glue_lookup(content, lookups)
    if bundle is None:
        return _code_span(content.strip())
    if "text/markdown" in bundle:
        return _text(bundle["text/markdown"]).strip()
    if markdown:
        lookups.missing.append(f"glue markdown:{content}")
    for mime in _IMAGE_MIMES:
        if mime in bundle:
            return f"![{content.strip()}](attachment:{_attachment_name(content.strip(), mime)})"
    if "text/latex" in bundle:
        return _text(bundle["text/latex"]).strip()
    return _escape_markdown(format_plain_text(_text(bundle.get("text/plain", "")), ""))


def _equation_text(content: str, lookups: Lookups) -> str:
    match = _EXPLICIT_TITLE.match(content)
    label = match["target"].strip() if match else content.strip()
    number = lookups.equations.get(label)
    if number is None:
        lookups.missing.append(f"eq:{label}")
        return f"({label})"
    return lookups.eqref_format.format(number=number)


def _reference_text(role: str, content: str, lookups: Lookups) -> str:
    """``{doc}``, ``{ref}``, ``{numref}``, ``{term}``, ``{download}`` and the like: their text."""
    match = _EXPLICIT_TITLE.match(content)
    if match:
        title, target = match["title"].strip(), match["target"].strip()
    else:
        title, target = None, content.strip()
    if role == "doc":
        if title:
            return title
        docname = _resolve_docname(target, lookups.docname)
        if docname in lookups.doc_titles:
            return lookups.doc_titles[docname]
        lookups.missing.append(f"doc:{target}")
        return target
    if role in ("ref", "numref", "std:ref", "std:numref"):
        label = target.lower()
        entry = lookups.labels.get(target) or lookups.labels.get(label)
        if entry is None:
            lookups.missing.append(f"{role}:{target}")
            return title or target
        section_title, number, figtype = entry
        if role.endswith("numref"):
            if title:
                return title.replace("%s", number).replace("{number}", number).replace(
                    "{name}", section_title)
            return lookups.numfig_format.get(figtype, "%s") % number if number else section_title
        return title or section_title
    if title:
        return title
    return target.lstrip("~!")


def _rewrite_role(role: str, content: str, lookups: Lookups) -> str:
    name = role.lower()
    if name == "glue:text":
        return _glue_text(content, lookups)
    if name in ("glue", "glue:any"):
        return _glue_inline(content, lookups)
    if name == "glue:md":
        return _glue_inline(content, lookups, markdown=True)
    if name in ("eq", "math:numref"):
        return _equation_text(content, lookups)
    if name == "cite" or name.startswith("cite:"):
        return format_citation(name, content, lookups.citations, lookups.missing, lookups.cited)
    if name in ("math", "math:math"):
        return f"${content}$"
    short = name.split(":")[-1]
    if short in _CODE_ROLES or name.startswith("py:"):
        match = _EXPLICIT_TITLE.match(content)
        text = match["title"] if match else content
        if text.startswith("~"):
            text = text[1:].split(".")[-1]
        return _code_span(text.lstrip("!"))
    return _reference_text(name, content, lookups)


def _rewrite_inline(text: str, lookups: Lookups) -> str:
    """Roles -> text, outside code spans; MyST substitutions."""

    def replace(match: re.Match) -> str:
        if match["role"] is None:
            return match[0]  # a code span: verbatim
        return _rewrite_role(match["role"], match["content"], lookups)

    text = _ROLE_OR_CODE.sub(replace, text)
    if lookups.substitutions:
        text = _SUBSTITUTION.sub(
            lambda m: str(lookups.substitutions.get(m["name"], m[0])), text)
    return text


def _rewrite_display_math(match: re.Match, lookups: Lookups) -> str:
    body, label = match["body"], match["label"]
    if not label:
        return match[0]
    number = lookups.equations.get(label)
    if number is None:
        lookups.missing.append(f"eq:{label}")
        return f"$${body}$$"
    if _OWN_NUMBERING.search(body):
        return f"$${body}$$"
    if body.endswith("\n"):
        return f"$${body}\\tag{{{number}}}\n$$"
    return f"$${body} \\tag{{{number}}}$$"


def _rewrite_prose(text: str, lookups: Lookups) -> str:
    """Markdown without fences: MyST-only lines go, maths keeps its number, roles -> text."""
    lines = [line for line in text.split("\n")
             if not (_TARGET_LINE.match(line) or _COMMENT_LINE.match(line)
                     or _BLOCK_BREAK.match(line))]
    text = "\n".join(lines)
    pieces, position = [], 0
    for match in _DISPLAY_MATH.finditer(text):
        pieces.append(_rewrite_inline(text[position:match.start()], lookups))
        pieces.append(_rewrite_display_math(match, lookups))
        position = match.end()
    pieces.append(_rewrite_inline(text[position:], lookups))
    return "".join(pieces)


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip("\n").split("\n"))


def _join(*blocks: str) -> str:
    return "\n\n".join(block.strip("\n") for block in blocks if block and block.strip())


def _split_options(body_lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """A directive's options (``:key: value`` lines or a ``---`` YAML block) and its body."""
    options: dict[str, str] = {}
    index = 0
    if body_lines and body_lines[0].strip() == "---":
        end = next((i for i in range(1, len(body_lines)) if body_lines[i].strip() == "---"), None)
        if end is not None:
            for line in body_lines[1:end]:
                key, sep, value = line.partition(":")
                if sep:
                    options[key.strip()] = value.strip()
            index = end + 1
    else:
        while index < len(body_lines):
            match = _OPTION.match(body_lines[index].strip())
            if not match or not body_lines[index].strip().startswith(":"):
                break
            options[match["key"]] = match["value"]
            index += 1
    return options, body_lines[index:]


def _exercise_number(label: str | None, options: Mapping[str, str], lookups: Lookups) -> str:
    if "nonumber" in options:
        return ""
    number = lookups.exercises.get(label) if label else None
    if number is None and lookups._exercise_index < len(lookups.exercise_sequence):
        number = lookups.exercise_sequence[lookups._exercise_index]
    lookups._exercise_index += 1
    if number is None:
        if label:
            lookups.missing.append(f"exercise:{label}")
        return ""
    return number


def _glue_block(name: str, key: str, options: Mapping[str, str], body: str,
                lookups: Lookups) -> str:
    """``{glue}``, ``{glue:figure}``, ``{glue:math}``, ``{glue:md}`` directives."""
    bundle = _glue_lookup(key, lookups)
    caption = body.strip()
    if bundle is None:
        return _join(_code_span(key), caption)
    if name == "glue:math":
        latex = _text(bundle.get("text/latex", bundle.get("text/plain", ""))).strip().strip("$")
        label = options.get("label")
        number = lookups.equations.get(label) if label else None
        tag = f" \\tag{{{number}}}" if number and not _OWN_NUMBERING.search(latex) else ""
        return f"$$\n{latex}{tag}\n$$"
    if "text/markdown" in bundle and name != "glue:figure":
        content = _text(bundle["text/markdown"]).strip()
    else:
        content = None
        for mime in _IMAGE_MIMES:
            if mime in bundle:
                alt = options.get("alt") or caption.split("\n")[0] or key
                alt = alt.replace("[", "(").replace("]", ")")
                content = f"![{alt}](attachment:{_attachment_name(key, mime)})"
                break
        if content is None:
            if "text/markdown" in bundle:
                content = _text(bundle["text/markdown"]).strip()
            elif "text/html" in bundle:
                content = _text(bundle["text/html"]).strip()
            elif "text/latex" in bundle:
                content = _text(bundle["text/latex"]).strip()
            else:
                plain = _text(bundle.get("text/plain", "")).rstrip("\n")
                content = f"```\n{plain}\n```"
    if name == "glue:figure" and caption:
        label = options.get("name")
        entry = lookups.labels.get(label) if label else None
        prefix = ""
        if entry and entry[1]:
            prefix = f"*{lookups.numfig_format.get(entry[2], '%s') % entry[1]}* "
        return _join(content, prefix + caption)
    return content


def _rewrite_directive(name: str, argument: str, options: dict[str, str], body: str,
                       lookups: Lookups) -> str:
    """One directive as the Markdown a notebook can render (body already rewritten)."""
    if name in _DROPPED_DIRECTIVES:
        return ""
    if name in ("exercise", "exercise-start"):
        number = _exercise_number(options.get("label"), options, lookups)
        heading = f"**Exercise {number}**" if number else "**Exercise**"
        if argument:
            heading += f" ({argument})"
        return _join(heading, body)
    if name in ("solution", "solution-start"):
        label = argument.strip()
        number = lookups.exercises.get(label, "")
        if not number and label:
            lookups.missing.append(f"solution:{label}")
        heading = f"**Solution to Exercise {number}**" if number else "**Solution**"
        title = lookups.exercise_titles.get(label)
        if title:
            heading += f" ({title})"
        return _join(heading, body)
    if name == "admonition":
        return _blockquote(_join(f"**{argument}**" if argument else "", body))
    if name in _ADMONITIONS:
        return _blockquote(_join(f"**{_ADMONITIONS[name]}**", argument, body))
    if name == "math":
        label = options.get("label") or options.get("name")
        number = lookups.equations.get(label) if label else None
        tag = f"\n\\tag{{{number}}}" if number and not _OWN_NUMBERING.search(body) else ""
        return f"$$\n{body.strip()}{tag}\n$$"
    if name in ("glue", "glue:any", "glue:figure", "glue:math", "glue:md"):
        return _glue_block(name, argument, options, body, lookups)
    if name in ("code-block", "code", "sourcecode", "code-cell"):
        return f"```{argument}\n{body.rstrip()}\n```"
    if name in ("figure", "image"):
        alt = options.get("alt") or body.strip().split("\n")[0] or argument
        return _join(f"![{alt}]({_image_target(argument.strip(), lookups)})",
                     body if name == "figure" else "")
    if name == "raw":
        return body if argument.strip() == "html" else ""
    if name == "only":
        return body
    if name == "eval-rst":
        return body
    # Anything else (dropdown, margin, sidebar, card, epigraph...): its title and its body.
    return _join(f"**{argument}**" if argument else "", body)


def rewrite_markdown(text: str, glue: Mapping[str, Any] | None = None,
                     equations: Mapping[str, str] | None = None,
                     citations: Mapping[str, tuple[Sequence[str], str]] | None = None,
                     lookups: Lookups | None = None, **fields) -> str:
    """The Markdown of a notebook cell as a notebook reader should see it (a pure function).

    ``glue``, ``equations`` and ``citations`` are :class:`Lookups` fields; ``lookups`` (or the
    remaining keyword arguments, its other fields) supplies the rest. Fenced code blocks and code
    spans are left as they are; ``$...$`` maths too.
    """
    if lookups is None:
        lookups = Lookups(**fields)
    if glue is not None:
        lookups.glue = glue
    if equations is not None:
        lookups.equations = equations
    if citations is not None:
        lookups.citations = citations
    return _rewrite_lines(text.split("\n"), lookups)


def _rewrite_lines(lines: list[str], lookups: Lookups) -> str:
    out: list[str] = []
    prose: list[str] = []

    def flush():
        if prose:
            out.append(_rewrite_prose("\n".join(prose), lookups))
            prose.clear()

    index = 0
    while index < len(lines):
        line = lines[index]
        match = _FENCE_OPEN.match(line)
        directive = _DIRECTIVE_INFO.match(match["info"]) if match else None
        if not match or (match["fence"][0] == ":" and not directive) or (
                match["fence"][0] == "`" and "`" in match["info"]):
            prose.append(line)
            index += 1
            continue
        flush()
        indent, fence = match["indent"], match["fence"]
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((i for i in range(index + 1, len(lines)) if closing.match(lines[i])),
                   len(lines))
        inner = [l[len(indent):] if l.startswith(indent) else l.lstrip()
                 for l in lines[index + 1:end]]
        if directive is None:  # a fenced code block: verbatim
            out.append("\n".join(lines[index:end + 1]))
        else:
            options, body_lines = _split_options(inner)
            name = directive["name"].lower()
            argument = _rewrite_inline(directive["argument"], lookups)
            if name in _VERBATIM_DIRECTIVES:
                body = "\n".join(body_lines)
            else:
                body = _rewrite_lines(body_lines, lookups) if body_lines else ""
            block = _rewrite_directive(name, argument, options, body, lookups)
            if indent:
                block = textwrap.indent(block, indent)
            out.append(block)
        index = end + 1
    flush()
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _scan_exercises(markdown_cells: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Labels (``""`` for unlabelled) of the numbered exercises of a notebook, in order, and the
    titles of the labelled ones."""
    order: list[str] = []
    titles: dict[str, str] = {}
    for text in markdown_cells:
        lines = text.split("\n")
        for index, line in enumerate(lines):
            match = _FENCE_OPEN.match(line)
            directive = _DIRECTIVE_INFO.match(match["info"]) if match else None
            if not directive or directive["name"] not in ("exercise", "exercise-start"):
                continue
            options, _ = _split_options([l.strip() for l in lines[index + 1:]])
            if "nonumber" in options:
                continue
            label = options.get("label", "")
            order.append(label)
            if label and directive["argument"]:
                titles[label] = directive["argument"]
    return order, titles


# --------------------------------------------------------------------------------------------------
# The reader notebook
# --------------------------------------------------------------------------------------------------

_SOURCE_HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell", "solution"}
_OUTPUTS_HIDDEN_TAGS = {"hide-output", "hide-cell"}


_FILE_MIMES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
               ".jpeg": "image/jpeg", ".gif": "image/gif"}


def _image_target(path: str, lookups: Lookups) -> str:
    """A ``data:`` URL holding a local image file, or the path itself for a URL, an unknown kind
    of file, or when there is no ``source_dir``. (A data URL, not a cell attachment: JupyterLab
    renders attachments only for bitmap types, and the book's diagrams are SVG.)"""
    mime = _FILE_MIMES.get(posixpath.splitext(path)[1].lower())
    if not lookups.source_dir or mime is None or re.match(r"^[a-z]+:", path):
        return path
    file = Path(lookups.source_dir) / path
    if not file.is_file():
        lookups.missing.append(f"image:{path}")
        return path
    return f"data:{mime};base64,{base64.b64encode(file.read_bytes()).decode('ascii')}"


def _cell_attachments(text: str, lookups: Lookups) -> dict:
    """Attachments for the ``attachment:`` images that the rewritten Markdown refers to."""
    attachments = {}
    for key, value in lookups.glue.items():
        bundle = _bundle(value)
        for mime in _IMAGE_MIMES:
            name = _attachment_name(key, mime)
            if mime in bundle and f"(attachment:{name})" in text:
                data = bundle[mime]
                attachments[name] = {mime: _text(data) if isinstance(data, list) else data}
    return attachments


def _merge_stream_run(texts: list[str]) -> str:
    """One text for consecutive chunks of the same stream.

    myst-nb's ``nb_merge_streams`` joins a run of chunks into its first chunk but leaves the later
    chunks in the executed notebook; joining them again would print those lines twice.
    """
    head, tail = texts[0], "".join(texts[1:])
    return head if tail and head.endswith(tail) else head + tail


def _clean_outputs(outputs: list, drop_stderr: bool, merge_streams: bool) -> list:
    cleaned, run = [], []  # run: texts of the current run of same-name stream chunks

    def close_run():
        if run:
            cleaned[-1]["text"] = _merge_stream_run(run)
            run.clear()

    for output in outputs:
        scrapbook = output.get("metadata", {}).get("scrapbook")
        if scrapbook is not None and scrapbook.get("mime_prefix"):
            continue  # a value glued with display=False: only the page uses it
        if output.get("output_type") == "stream" and output.get("name") == "stderr" and drop_stderr:
            continue
        if (merge_streams and run and output.get("output_type") == "stream"
                and cleaned[-1].get("name") == output.get("name")):
            run.append(_text(output["text"]))
            continue
        close_run()
        cleaned.append(copy.deepcopy(output))
        if merge_streams and output.get("output_type") == "stream":
            run.append(_text(output["text"]))
    close_run()
    return cleaned


def reader_notebook(notebook: Mapping, lookups: Lookups,
                    references: Mapping[str, str] | None = None,
                    drop_stderr: bool = False, merge_streams: bool = True) -> dict:
    """The downloadable notebook made from an executed notebook (a JSON dict; a pure function).

    Markdown cells are rewritten by :func:`rewrite_markdown` (and lose empty results); code cells
    keep their outputs except values glued with ``display=False``. Cells the page removes or hides
    are collapsed (``metadata.jupyter.source_hidden``), ``hide-output`` outputs too; ``solution``
    cells are collapsed, outputs included (the answer must not sit under the question). If citations were used and ``references`` (key
    -> Markdown of the entry) is given, a "References" cell lists the cited works.
    """
    result = copy.deepcopy(dict(notebook))
    markdown_sources = [_text(cell.get("source", "")) for cell in notebook.get("cells", [])
                        if cell.get("cell_type") == "markdown"]
    order, titles = _scan_exercises(markdown_sources)
    if not lookups.exercise_titles:
        lookups.exercise_titles = titles
    if not lookups.exercise_sequence:
        lookups.exercise_sequence = [lookups.exercises.get(label, "") for label in order]
    cells = []
    for cell in result.get("cells", []):
        metadata = cell.setdefault("metadata", {})
        tags = set(metadata.get("tags", []))
        if cell.get("cell_type") == "markdown":
            source = _text(cell.get("source", ""))
            rewritten = rewrite_markdown(source, lookups=lookups)
            if source.strip() and not rewritten.strip():
                continue  # only MyST plumbing (a solution-end): nothing for a reader
            cell["source"] = rewritten
            attachments = _cell_attachments(rewritten, lookups)
            if attachments:
                cell["attachments"] = {**cell.get("attachments", {}), **attachments}
        elif cell.get("cell_type") == "code":
            cell["outputs"] = _clean_outputs(cell.get("outputs", []), drop_stderr, merge_streams)
        jupyter = dict(metadata.get("jupyter", {}))
        if tags & _SOURCE_HIDDEN_TAGS:
            jupyter["source_hidden"] = True
        if cell.get("cell_type") == "code":
            if "solution" in tags:
                # Collapsed like the solution's code: the answer does not sit under the question.
                jupyter["outputs_hidden"] = True
            elif tags & _OUTPUTS_HIDDEN_TAGS:
                jupyter["outputs_hidden"] = True
        if jupyter:
            metadata["jupyter"] = jupyter
        cells.append(cell)
    cited = [key for key in lookups.cited if references and key in references]
    if cited:
        entries = sorted(
            cited, key=lambda k: (author_list(list(lookups.citations.get(k, ((k,), ""))[0])),
                                  lookups.citations.get(k, ((), ""))[1]))
        listing = "\n".join(f"- {references[key]}" for key in entries)
        references_cell = {"cell_type": "markdown", "metadata": {},
                           "source": f"## References\n\n{listing}"}
        if result.get("nbformat", 4) > 4 or result.get("nbformat_minor", 0) >= 5:
            references_cell["id"] = "vaebook-references"
        cells.append(references_cell)
    result["cells"] = cells
    return result


# --------------------------------------------------------------------------------------------------
# The student edition: notebooks without solutions
# --------------------------------------------------------------------------------------------------


def _markdown_blocks(text: str) -> Iterable[tuple[list[str], str | None]]:
    """The lines of a Markdown text in pieces: a fenced block with its directive's name (``""``
    for a plain code block), or one prose line (``None``)."""
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        match = _FENCE_OPEN.match(lines[index])
        directive = _DIRECTIVE_INFO.match(match["info"]) if match else None
        if not match or (match["fence"][0] == ":" and not directive) or (
                match["fence"][0] == "`" and "`" in match["info"]):
            yield [lines[index]], None
            index += 1
            continue
        fence = match["fence"]
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((i for i in range(index + 1, len(lines)) if closing.match(lines[i])),
                   len(lines) - 1)
        yield lines[index:end + 1], directive["name"].lower() if directive else ""
        index = end + 1


_GATE_DIRECTIVES = {"solution-start", "solution-end"}


def strip_solution_text(text: str, inside: bool = False) -> tuple[str, bool]:
    """A Markdown cell without its solutions: what lies between ``{solution-start}`` and
    ``{solution-end}`` (both included; ``inside`` says whether a solution is open when the cell
    begins) and every ``{solution}`` directive go. Returns the text left and whether a solution
    is still open at the end of the cell."""
    kept: list[str] = []
    for lines, name in _markdown_blocks(text):
        if name == "solution-start":
            inside = True
        elif name == "solution-end":
            inside = False
        elif name != "solution" and not inside:
            kept.extend(lines)
    return "\n".join(kept).strip("\n"), inside


def student_notebook(notebook: Mapping) -> dict:
    """The notebook without its solutions (a pure function), for the student edition.

    Gone: every cell tagged ``solution`` (code and prose) and every cell between a
    ``{solution-start}`` and its ``{solution-end}``, the gate directives themselves and any
    ``{solution}`` directive. A Markdown cell that holds a solution's end and then other text (the
    next exercise) keeps that text, untagged and no longer collapsed. Everything else, exercise stub
    cells (tag ``exercise``) and outputs included, is kept as it is.
    """
    result = copy.deepcopy(dict(notebook))
    cells, inside = [], False
    for cell in result.get("cells", []):
        metadata = cell.setdefault("metadata", {})
        tags = list(metadata.get("tags", []))
        if cell.get("cell_type") != "markdown":
            if not inside and "solution" not in tags:
                cells.append(cell)
            continue
        source = _text(cell.get("source", ""))
        gated = any(name in _GATE_DIRECTIVES or name == "solution"
                    for _, name in _markdown_blocks(source))
        if not gated:
            if not inside and "solution" not in tags:
                cells.append(cell)
            continue
        text, inside = strip_solution_text(source, inside)
        if not text.strip():
            continue
        cell["source"] = text
        if "solution" in tags:
            metadata["tags"] = [tag for tag in tags if tag != "solution"]
            if not metadata["tags"]:
                del metadata["tags"]
            jupyter = {k: v for k, v in metadata.get("jupyter", {}).items() if k != "source_hidden"}
            if jupyter:
                metadata["jupyter"] = jupyter
            else:
                metadata.pop("jupyter", None)
        cells.append(cell)
    if inside:
        raise ValueError("a {solution-start} has no {solution-end}")
    result["cells"] = cells
    return result


# --------------------------------------------------------------------------------------------------
# Exercises for a lab
# --------------------------------------------------------------------------------------------------

#: Minutes a learner needs for one exercise, by kind: a rule of thumb, stated on the page, not a
#: measurement. An experiment's models train on top (the run times on the page bound them).
EXERCISE_MINUTES = {"question": 10, "coding": 15, "experiment": 25}
EXERCISE_KINDS = {
    "question": "question",
    "coding": "coding (self-checking)",
    "experiment": "experiment",
}
LAB_MINUTES = 90


@dataclass
class Exercise:
    """One exercise of a notebook: its label, title (the directive's argument) and kind.

    ``kind`` is ``"coding"`` when a code cell tagged ``exercise`` (the stub the learner completes,
    with its checker call) follows the exercise, else ``"experiment"`` when its solution runs code
    the page shows (a code cell not tagged ``remove-cell``), else ``"question"``.
    """

    label: str
    title: str = ""
    kind: str = "question"
    minutes: int = 0


def exercise_inventory(notebook: Mapping) -> list[Exercise]:
    """The exercises of a notebook, in order, with their kinds and minutes (a pure function)."""
    exercises: list[Exercise] = []
    by_label: dict[str, int] = {}
    stubs: set[int] = set()  # indices of exercises with a stub cell
    runs_code: set[int] = set()  # indices of exercises whose solution shows code
    solution_of: int | None = None  # index of the exercise whose solution is open
    inside = False  # between a solution-start and its solution-end
    open_for_stub = False  # no solution began since the last exercise
    for cell in notebook.get("cells", []):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.get("cell_type") == "markdown":
            for lines, name in _markdown_blocks(_text(cell.get("source", ""))):
                if not name:
                    continue
                info = _DIRECTIVE_INFO.match(_FENCE_OPEN.match(lines[0])["info"])
                argument = info["argument"].strip()
                if name in ("exercise", "exercise-start"):
                    options, _ = _split_options([line.strip() for line in lines[1:-1]])
                    exercises.append(Exercise(label=options.get("label", ""), title=argument))
                    if options.get("label"):
                        by_label[options["label"]] = len(exercises) - 1
                    open_for_stub = True
                elif name in ("solution-start", "solution"):
                    open_for_stub = False
                    inside = name == "solution-start"
                    solution_of = by_label.get(argument) if inside else None
                elif name == "solution-end":
                    inside, solution_of = False, None
        elif cell.get("cell_type") == "code":
            if inside:
                if solution_of is not None and "remove-cell" not in tags:
                    runs_code.add(solution_of)
            elif "exercise" in tags and open_for_stub and exercises:
                stubs.add(len(exercises) - 1)
    for index, exercise in enumerate(exercises):
        exercise.kind = ("coding" if index in stubs
                         else "experiment" if index in runs_code else "question")
        exercise.minutes = EXERCISE_MINUTES[exercise.kind]
    return exercises


def lab_plan(exercises: Sequence[Exercise], budget: int = LAB_MINUTES,
             start: int = 0) -> list[tuple[int, bool]]:
    """For each exercise of a chapter, in order: the minutes up to and including it (from
    ``start``, the minutes the notebook takes to run), and whether that total fits a lab of
    ``budget`` minutes."""
    plan, total = [], start
    for exercise in exercises:
        total += exercise.minutes
        plan.append((total, total <= budget))
    return plan


def minutes_rule() -> str:
    """The rule behind the minutes of the exercise table, as a sentence."""
    parts = [f"{EXERCISE_KINDS[kind]}, {minutes} min" for kind, minutes in EXERCISE_MINUTES.items()]
    return ("Minutes are a rule of thumb by kind, not a measurement: " + "; ".join(parts)
            + ". A chapter's total starts with the minutes its notebook ran in this build (rounded "
            f"up) and adds its exercises in order; a lab of {LAB_MINUTES} minutes holds those "
            "whose total fits. An experiment's models train on top of its minutes.")


# --------------------------------------------------------------------------------------------------
# Run times
# --------------------------------------------------------------------------------------------------

PROFILE_ENV = "VAEBOOK_PROFILE"  # as in vaebook.config (tests/test_sphinx_ext.py checks it)
DEFAULT_PROFILE = "full"
PROFILE_NAMES = ("quick", "full")


def format_duration(seconds: float) -> str:
    """``"42 s"``, ``"3 min 07 s"``, ``"1 h 05 min"``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _utc(timestamp: float | None) -> str:
    from datetime import datetime, timezone

    if not timestamp:
        return ""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def runtime_note(exec_data: Mapping | None, profile: str) -> str | None:
    """The line a chapter page shows about its notebook's execution in this build (a pure
    function of MyST-NB's execution data for the page; ``None`` when the build did not execute
    it).

    With ``execute_notebooks: cache`` an unchanged notebook is not run again: its run time is the
    one jupyter-cache recorded when it ran, and the date says when that was.
    """
    if not exec_data:
        return None
    runtime = exec_data.get("runtime")
    when = _utc(exec_data.get("mtime"))
    if exec_data.get("succeeded") is False:
        took = f" after {format_duration(runtime)}" if runtime is not None else ""
        return f"Run time: executing this page's notebook failed{took} ({profile} profile)."
    if runtime is None:
        return (f"Run time: this page's notebook ran from the execution cache ({profile} "
                f"profile); no run time was recorded.")
    note = (f"Run time: this page's notebook took {format_duration(runtime)} to execute in the "
            f"{profile} profile")
    return note + (f" (the run of {when}, which this build used)." if when else ".")


def profile_times_rows(payload: Mapping) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a table of ``benchmarks/full_profile_times.py``'s JSON: one row
    per notebook, one column of run times per data set, and a total row."""
    results = payload.get("results", [])
    data_sets = list(dict.fromkeys(row["data"] for row in results))
    chapters = list(dict.fromkeys(row["chapter"] for row in results))
    header = ["notebook"] + [f"{name} data" for name in data_sets]
    rows, totals = [], dict.fromkeys(data_sets, 0.0)
    for chapter in chapters:
        row = [chapter]
        for name in data_sets:
            found = [r for r in results if (r["chapter"], r["data"]) == (chapter, name)]
            if found:
                totals[name] += found[0]["seconds"]
            row.append("not run" if not found else format_duration(found[0]["seconds"])
                       + (" (a cell failed)" if found[0].get("errors") else ""))
        rows.append(row)
    if len(chapters) > 1:
        rows.append(["all"] + [format_duration(totals[name]) for name in data_sets])
    return header, rows


# --------------------------------------------------------------------------------------------------
# Alt text
# --------------------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_text_chunks(data: bytes) -> dict[str, str]:
    """The ``tEXt``, ``zTXt`` and ``iTXt`` chunks of a PNG as ``{keyword: text}`` (first wins);
    ``{}`` for anything that is not a readable PNG."""
    if not data.startswith(_PNG_SIGNATURE):
        return {}
    chunks: dict[str, str] = {}
    position = len(_PNG_SIGNATURE)
    try:
        while position + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[position:position + 8])
            body = data[position + 8:position + 8 + length]
            position += 12 + length  # length, type, data, CRC
            if kind == b"IEND":
                break
            if kind not in (b"tEXt", b"zTXt", b"iTXt"):
                continue
            keyword, _, rest = body.partition(b"\0")
            if kind == b"tEXt":
                text = rest.decode("latin-1")
            elif kind == b"zTXt":
                text = zlib.decompress(rest[1:]).decode("latin-1")
            else:
                compressed = rest[0]
                rest = rest[2:]
                _language, _, rest = rest.partition(b"\0")
                _translated, _, rest = rest.partition(b"\0")
                text = (zlib.decompress(rest) if compressed else rest).decode("utf-8")
            chunks.setdefault(keyword.decode("latin-1"), text)
    except (struct.error, zlib.error, UnicodeDecodeError, IndexError):
        return chunks
    return chunks


_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = r'(\s{name}\s*=\s*)"([^"]*)"'
_GENERATED_ALT = re.compile(r"(^|/)[^/\s]+\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)


def set_image_alt_text(page: str, title_for_src) -> str:
    """``page`` with the alt text of each ``<img>`` set to ``title_for_src(src)``, where that gives
    a title and the image has no alt text of its own (none, empty, or a file name as MyST-NB
    writes it)."""

    def replace(match: re.Match) -> str:
        tag = match[0]
        src = re.search(_ATTRIBUTE.format(name="src"), tag, re.IGNORECASE)
        if not src:
            return tag
        title = title_for_src(html.unescape(src[2]))
        if not title:
            return tag
        alt = re.search(_ATTRIBUTE.format(name="alt"), tag, re.IGNORECASE)
        escaped = html.escape(title, quote=True)
        if alt is None:
            return re.sub(r"^<img\b", lambda _: f'<img alt="{escaped}"', tag, flags=re.IGNORECASE)
        current = html.unescape(alt[2]).strip()
        if current and not _GENERATED_ALT.search(current):
            return tag
        return tag[:alt.start()] + f'{alt[1]}"{escaped}"' + tag[alt.end():]

    return _IMG_TAG.sub(replace, page)


# --------------------------------------------------------------------------------------------------
# Sphinx
# --------------------------------------------------------------------------------------------------


def _logger():
    from sphinx.util import logging

    return logging.getLogger(__name__)


def _warn(message: str, docname: str | None = None) -> None:
    _logger().warning(f"[vaebook_sphinx] {message}", type="vaebook", subtype="reader_notebook",
                      location=docname)


def _executed_folder(app) -> Path:
    config = getattr(app.env, "mystnb_config", None)
    folder = getattr(config, "output_folder", None)
    return Path(folder) if folder else Path(app.outdir).parent / "jupyter_execute"


def _read_glue(folder: Path, docname: str, notebook: Mapping | None) -> dict[str, dict]:
    """A notebook's glued values: MyST-NB's ``<docname>.glue.json``, else its outputs."""
    path = folder.joinpath(*docname.split("/")).with_name(docname.split("/")[-1] + ".glue.json")
    values: dict[str, dict] = {}
    if path.exists():
        for key, output in json.loads(path.read_text(encoding="utf8")).items():
            values[key] = output.get("data", {})
    for cell in (notebook or {}).get("cells", []):
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook")
            if scrapbook and scrapbook.get("name") not in values:
                prefix = len(scrapbook.get("mime_prefix", ""))
                values[scrapbook["name"]] = {k[prefix:]: v for k, v in output["data"].items()}
    return values


def _plain_latex(latex: str) -> str:
    from pybtex.richtext import Text

    try:
        return Text.from_latex(latex).render_as("text")
    except Exception:  # noqa: BLE001 - a name pybtex cannot parse is shown as written
        return latex.replace("{", "").replace("}", "")


def citation_table(entries: Mapping) -> dict[str, tuple[list[str], str]]:
    """Pybtex entries (key -> Entry) as key -> (authors' last names, year), LaTeX decoded."""
    table = {}
    for key, entry in entries.items():
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_plain_latex(" ".join(p.prelast_names + p.last_names)) for p in persons]
        table[key] = (names, entry.fields.get("year", "n.d."))
    return table


def _citation_tables(app) -> tuple[dict, dict]:
    """Bibtex key -> (last names, year), and key -> Markdown of the entry as the page lists it."""
    if "cite" not in app.env.domains:
        return {}, {}  # sphinxcontrib-bibtex not loaded: no citations to resolve
    domain = app.env.get_domain("cite")
    references = {}
    for citation in domain.citations:
        if citation.key not in references:
            text = citation.formatted_entry.text.render_as("markdown")
            references[citation.key] = " ".join(text.split())
    return citation_table(domain.bibdata.data.entries), references


def _label_table(env) -> dict[str, tuple[str, str, str]]:
    std = env.get_domain("std")
    numbers = getattr(env, "toc_fignumbers", {})
    sections = getattr(env, "toc_secnumbers", {})
    labels = {}
    for label, (docname, labelid, title) in std.labels.items():
        number, figtype = "", "section"
        for kind, ids in numbers.get(docname, {}).items():
            if labelid in ids:
                number, figtype = ".".join(map(str, ids[labelid])), kind
                break
        else:
            section = sections.get(docname, {}).get("#" + labelid)
            if section:
                number = ".".join(map(str, section))
        labels[label] = (title, number, figtype)
    return labels


def _equation_table(app) -> dict[str, str]:
    """Equation label -> number, as Sphinx's math domain numbers ``{eq}`` references."""
    from docutils.nodes import make_id

    env, config = app.env, app.config
    numbered_by_toc = config.math_numfig and config.numfig
    table = {}
    for label, (docname, number) in env.get_domain("math").equations.items():
        eqno = ""
        if numbered_by_toc:
            ids = env.toc_fignumbers.get(docname, {}).get("displaymath", {})
            eqno = ".".join(map(str, ids.get(make_id(f"equation-{label}"), ())))
        table[label] = eqno or str(number)
    return table


def _exercise_table(env) -> dict[str, str]:
    table = {}
    for ids in getattr(env, "toc_fignumbers", {}).values():
        for label, number in ids.get("exercise", {}).items():
            table[label] = ".".join(map(str, number))
    return table


def _write_student_fallback(source: Path, target: Path, docname: str, reason: str) -> None:
    """Student edition: the download must never fall back to the source notebook, which holds
    the solutions. Serve the source without its solutions (no outputs), or nothing."""
    import nbformat

    try:
        notebook = student_notebook(json.loads(source.read_text(encoding="utf8")))
        node = nbformat.from_dict(notebook)
        nbformat.validate(node)
    except Exception as error:  # noqa: BLE001
        target.unlink(missing_ok=True)
        _warn(f"{reason}, and the source without solutions failed too ({type(error).__name__}: "
              f"{error}): the page has no notebook to download", docname)
        return
    _warn(f"{reason}: the download is the source notebook without its solutions", docname)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nbformat.writes(node) + "\n", encoding="utf8")


def write_reader_notebooks(app, exception) -> None:
    """``build-finished``: replace each notebook page's ``_sources`` copy by its reader notebook."""
    if exception is not None or app.builder.format != "html" or not app.config.html_copy_source:
        return
    import nbformat

    env = app.env
    student = bool(app.config.vaebook_student)
    folder = _executed_folder(app)
    pages = {}  # docname -> (executed notebook path, download path)
    for docname in sorted(env.found_docs):
        source = Path(env.doc2path(docname))
        executed = folder.joinpath(*docname.split("/")).with_suffix("")
        executed = executed.with_name(executed.name + ".ipynb")
        if source.suffix == ".ipynb":
            target = Path(app.outdir, "_sources", docname + ".ipynb"
                          + (app.config.html_sourcelink_suffix or ""))
            if not executed.exists():
                if student:
                    _write_student_fallback(source, target, docname,
                                            f"no executed notebook at {executed}")
                else:
                    _warn(f"no executed notebook at {executed}: the download keeps the source "
                          f"notebook", docname)
                continue
        elif executed.exists():  # a MyST Markdown notebook: the theme serves <docname>.ipynb
            target = Path(app.outdir, "_sources", docname + ".ipynb")
        else:
            continue
        pages[docname] = (executed, target)
    if not pages:
        return

    notebooks = {docname: json.loads(path.read_text(encoding="utf8"))
                 for docname, (path, _) in pages.items()}
    glue_by_doc = {docname: _read_glue(folder, docname, notebooks[docname]) for docname in pages}
    citations, references = _citation_tables(app)
    common = dict(
        equations=_equation_table(app),
        citations=citations,
        doc_titles={docname: title.astext() for docname, title in env.titles.items()},
        labels=_label_table(env),
        exercises=_exercise_table(env),
        numfig_format=dict(app.config.numfig_format or {}),
        eqref_format=app.config.math_eqref_format or "({number})",
        substitutions=dict(getattr(app.config, "myst_substitutions", None) or {}),
    )
    nb_config = getattr(env, "mystnb_config", None)
    drop_stderr = getattr(nb_config, "output_stderr", "show") in ("remove", "remove-warn")
    merge_streams = bool(getattr(nb_config, "merge_streams", False))
    for docname, (_, target) in pages.items():
        glue = dict(glue_by_doc[docname])
        for other, values in glue_by_doc.items():
            glue.update({f"{other}::{key}": value for key, value in values.items()})
        sequence = env.toc_fignumbers.get(docname, {}).get("exercise", {}).values()
        lookups = Lookups(docname=docname, glue=glue, **common,
                          exercise_sequence=[".".join(map(str, n)) for n in sequence],
                          source_dir=str(Path(env.doc2path(docname)).parent))
        try:
            executed = notebooks[docname]
            notebook = reader_notebook(student_notebook(executed) if student else executed,
                                       lookups, references,
                                       drop_stderr=drop_stderr, merge_streams=merge_streams)
            node = nbformat.from_dict(notebook)
            nbformat.validate(node)
        except Exception as error:  # noqa: BLE001 - a broken page must not break the build
            reason = f"could not make the reader notebook ({type(error).__name__}: {error})"
            if student:
                _write_student_fallback(Path(env.doc2path(docname)), target, docname, reason)
            else:
                _warn(f"{reason}: the download keeps the source notebook", docname)
            continue
        for reference in dict.fromkeys(lookups.missing):
            _warn(f"the downloaded notebook could not resolve {reference!r}", docname)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(node) + "\n", encoding="utf8")


def set_figure_alt_text(app, exception) -> None:
    """``build-finished``: alt text of ``_images/*.png`` figures from their PNG ``Title`` chunk."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir).resolve()
    images = outdir / "_images"
    if not images.is_dir():
        return
    titles: dict[Path, str] = {}

    def title_for(page: Path):
        def lookup(src: str) -> str:
            if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.IGNORECASE) or src.startswith("/"):
                return ""
            from urllib.parse import unquote

            path = (page.parent / unquote(src.split("#")[0].split("?")[0])).resolve()
            if path.parent != images or path.suffix.lower() != ".png" or not path.is_file():
                return ""
            if path not in titles:
                titles[path] = png_text_chunks(path.read_bytes()).get("Title", "").strip()
            return titles[path]
        return lookup

    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf8")
        if "<img" not in text:
            continue
        updated = set_image_alt_text(text, title_for(page))
        if updated != text:
            page.write_text(updated, encoding="utf8")


# The student edition, run times, and the generated parts of the teachers' page ------------------


def _build_profile(app) -> str:
    """The run profile this build executes notebooks in: ``vaebook_profile``, else
    ``$VAEBOOK_PROFILE`` as :func:`vaebook.config.get_profile` reads it."""
    name = app.config.vaebook_profile or os.environ.get(PROFILE_ENV, "").strip()
    return name or DEFAULT_PROFILE


def _is_solution_node(node) -> bool:
    return type(node).__name__ in ("solution_node", "solution_start_node", "solution_end_node")


class vaebook_generated(_nodes.General, _nodes.Element):  # noqa: N801 - docutils' node naming
    """A placeholder for text made once every page has been read (``kind``: ``"profile"``,
    ``"profile-times"`` or ``"exercises"``)."""


_GENERATED_DIRECTIVES = {
    "vaebook-build-profile": "profile",
    "vaebook-profile-times": "profile-times",
    "vaebook-exercise-table": "exercises",
}


def _paragraph(*parts) -> "_nodes.paragraph":
    """A paragraph of text pieces and nodes; a piece in backticks is shown as code."""
    paragraph = _nodes.paragraph()
    for part in parts:
        if isinstance(part, _nodes.Node):
            paragraph += part
        elif part.startswith("`") and part.endswith("`"):
            paragraph += _nodes.literal(text=part.strip("`"))
        else:
            paragraph += _nodes.Text(part)
    return paragraph


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> "_nodes.table":
    """A docutils table; a cell is text or a node."""
    table = _nodes.table(classes=["colwidths-auto"])
    group = _nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += _nodes.colspec(colwidth=1)
    head = _nodes.thead()
    group += head
    row = _nodes.row()
    head += row
    for name in header:
        row += _nodes.entry("", _nodes.paragraph(text=name))
    body = _nodes.tbody()
    group += body
    for cells in rows:
        row = _nodes.row()
        body += row
        for cell in cells:
            content = cell if isinstance(cell, _nodes.Node) else _nodes.Text(str(cell))
            paragraph = _nodes.paragraph()
            paragraph += content
            row += _nodes.entry("", paragraph)
    return table


def _profile_times(app, profile: str) -> list:
    """The measured run times of every profile but this build's, from the committed JSON files
    (``vaebook_profile_times``) that ``benchmarks/full_profile_times.py`` writes."""
    out = []
    for other in PROFILE_NAMES:
        if other == profile:
            continue
        relative = app.config.vaebook_profile_times.format(profile=other)
        path = Path(app.srcdir, relative)
        command = f"`python benchmarks/full_profile_times.py --profile {other}`"
        if not path.is_file():
            out.append(_paragraph(f"The {other} profile has not been measured in this checkout: ",
                                  command, " writes ", f"`{relative}`", ", which this page shows."))
            continue
        payload = json.loads(path.read_text(encoding="utf8"))
        header, rows = profile_times_rows(payload)
        machine = ", ".join(x for x in (f"{payload.get('cpu_count', '?')} CPU cores",
                                        payload.get("machine", "")) if x)
        out.append(_paragraph(
            f"The {payload.get('profile', other)} profile, measured by ",
            f"`{payload.get('command') or command.strip('`')}`",
            f" ({payload.get('date', 'date not recorded')}; {machine}; file ", f"`{relative}`",
            "). Each notebook ran top to bottom in a fresh kernel, in the book's order; each data "
            "set started from an empty model cache that its chapters shared, as in make book, so "
            "every model trained once" + (f". {payload['note']}" if payload.get("note") else "")
            + ":"))
        out.append(_table(header, rows))
    return out


def _toc_order(env, root: str) -> list[str]:
    """Every document in the order of the table of contents (depth first from ``root``)."""
    order, seen = [], set()

    def visit(docname):
        if docname in seen:
            return
        seen.add(docname)
        order.append(docname)
        for child in env.toctree_includes.get(docname, []):
            visit(child)

    visit(root)
    return order + sorted(set(env.found_docs) - seen)


def _exercise_rows(app, docname: str) -> list:
    """The rows of the exercise table: every notebook's exercises, kinds, minutes and lab fit."""
    from sphinx.addnodes import pending_xref

    env = app.env
    numbers = _exercise_table(env)
    rows = []
    for chapter in _toc_order(env, app.config.root_doc):
        source = Path(env.doc2path(chapter))
        if source.suffix != ".ipynb" or chapter not in env.titles:
            continue
        exercises = exercise_inventory(json.loads(source.read_text(encoding="utf8")))
        section = env.toc_secnumbers.get(chapter, {}).get("", ())
        title = env.titles[chapter].astext()
        if section:
            title = ".".join(map(str, section)) + ". " + title
        metadata = getattr(env, "nb_metadata", None) or {}
        runtime = ((metadata.get(chapter) or {}).get("exec_data") or {}).get("runtime")
        start = math.ceil(runtime / 60) if runtime is not None else 0
        title += (f" (notebook: {format_duration(runtime)})" if runtime is not None
                  else " (notebook: run time not recorded)")
        plan = lab_plan(exercises, start=start)
        for index, (exercise, (total, fits)) in enumerate(zip(exercises, plan)):
            number = numbers.get(exercise.label, "")
            text = f"Exercise {number}".strip() + (f" ({exercise.title})" if exercise.title else "")
            if exercise.label:
                cell = pending_xref("", refdomain="std", reftype="ref", reftarget=exercise.label,
                                    refexplicit=True, refwarn=True, refdoc=docname)
                cell += _nodes.inline(text=text)
            else:
                cell = _nodes.Text(text)
            rows.append([title if index == 0 else "", cell, EXERCISE_KINDS[exercise.kind],
                         str(exercise.minutes), str(total), "yes" if fits else "no"])
    return rows


def _generated(app, kind: str, docname: str) -> list:
    profile = _build_profile(app)
    if kind == "profile":
        edition = "the student edition (no solutions), " if app.config.vaebook_student else ""
        return [_paragraph(f"This site is {edition}built in the {profile} profile.")]
    if kind == "profile-times":
        return _profile_times(app, profile)
    rows = _exercise_rows(app, docname)
    if not rows:
        return [_paragraph("No notebook of this book has exercises.")]
    header = ["chapter", "exercise", "kind", "minutes", "chapter total",
              f"fits a {LAB_MINUTES}-minute lab"]
    return [_paragraph(minutes_rule()), _table(header, rows)]


def add_runtime_note(app, doctree, docname: str) -> None:
    """``doctree-resolved``: under a notebook page's title, how long the notebook ran in this
    build and in which profile (MyST-NB's execution data for the page)."""
    if app.builder.format != "html":
        return
    metadata = getattr(app.env, "nb_metadata", None) or {}
    note = runtime_note((metadata.get(docname) or {}).get("exec_data"), _build_profile(app))
    if not note:
        return
    paragraph = _nodes.paragraph(classes=["vaebook-runtime"])
    paragraph += _nodes.emphasis(text=note)
    section = next(iter(doctree.findall(_nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], _nodes.title):
        section.insert(1, paragraph)
    else:
        doctree.insert(0, paragraph)


def _sphinx_classes():
    """The directive and transforms (made here: they need Sphinx, which the tests need not)."""
    from sphinx.transforms import SphinxTransform
    from sphinx.transforms.post_transforms import SphinxPostTransform
    from sphinx.util.docutils import SphinxDirective

    class GeneratedDirective(SphinxDirective):
        """``{vaebook-build-profile}``, ``{vaebook-profile-times}`` and
        ``{vaebook-exercise-table}``: a placeholder, filled in by ``FillGenerated``."""

        has_content = False

        def run(self):
            docs = getattr(self.env, "vaebook_generated_docs", set())
            docs.add(self.env.docname)
            self.env.vaebook_generated_docs = docs
            return [vaebook_generated(kind=_GENERATED_DIRECTIVES[self.name])]

    class FillGenerated(SphinxPostTransform):
        default_priority = 8  # before the references are resolved (10)

        def run(self, **kwargs) -> None:
            for node in list(self.document.findall(vaebook_generated)):
                node.replace_self(_generated(self.app, node["kind"], self.env.docname))

    class RemoveSolutions(SphinxTransform):
        """Student edition: every solution goes, before anything (search index, labels, images)
        sees it. sphinx-exercise's own ``hide_solutions`` cannot do it for gated solutions: its
        ``solution-start`` then makes no node, the code cells after it stay, and the build stops
        on the ``solution-end`` node (executablebooks/sphinx-exercise#89, open in 1.2.1). So the
        gated solutions are merged as usual (MergeGatedSolutions, priority 10) and removed here."""

        default_priority = 11

        def apply(self, **kwargs) -> None:
            if not self.config.vaebook_student:
                return
            for node in list(self.document.findall(_is_solution_node)):
                node.parent.remove(node)

    return GeneratedDirective, FillGenerated, RemoveSolutions


def _purge_generated(app, env, docname) -> None:
    getattr(env, "vaebook_generated_docs", set()).discard(docname)


def _merge_generated(app, env, docnames, other) -> None:
    docs = getattr(env, "vaebook_generated_docs", set())
    docs |= getattr(other, "vaebook_generated_docs", set()) & set(docnames)
    env.vaebook_generated_docs = docs


def _rewrite_generated(app, env) -> list[str]:
    """``env-updated``: pages with generated tables are written again in every build (their
    content depends on every notebook and on this build's executions)."""
    return sorted(getattr(env, "vaebook_generated_docs", set()) & set(env.found_docs))


def _student_title(app, config) -> None:
    if config.vaebook_student and config.html_title and "student edition" not in config.html_title:
        config.html_title = f"{config.html_title} (student edition)"


def setup(app):
    # Student edition: solutions leave the pages and the downloaded notebooks. `make student`
    # sets it through the overlay _config_student.yml.
    app.add_config_value("vaebook_student", False, "env", types=[bool])
    # The profile the notebooks run in (default: $VAEBOOK_PROFILE, as the library reads it).
    app.add_config_value("vaebook_profile", "", "env", types=[str])
    # Where the teachers' page finds each profile's measured run times (relative to the source).
    app.add_config_value("vaebook_profile_times", "benchmarks/{profile}_profile_times.json",
                         "env", types=[str])
    generated_directive, fill_generated, remove_solutions = _sphinx_classes()
    app.add_node(vaebook_generated)
    for name in _GENERATED_DIRECTIVES:
        app.add_directive(name, generated_directive)
    app.add_post_transform(fill_generated)
    app.add_transform(remove_solutions)
    app.connect("config-inited", _student_title)
    app.connect("env-purge-doc", _purge_generated)
    app.connect("env-merge-info", _merge_generated)
    app.connect("env-updated", _rewrite_generated)
    app.connect("doctree-resolved", add_runtime_note)
    app.connect("build-finished", write_reader_notebooks)
    app.connect("build-finished", set_figure_alt_text)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
