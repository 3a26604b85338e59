"""mdBook preprocessor: `$…$` / `$$…$$` math → delimiters MathJax sees, offline.

mdBook's own ``mathjax-support`` loads MathJax from a CDN and wants authors to write
``\\(…\\)``; the notebooks use Jupyter's ``$…$``. This preprocessor (wired up in ``book.toml``
as ``[preprocessor.nlsmath]``) rewrites each chapter before mdBook renders it:

- ``$x$`` → ``\\(x\\)`` and ``$$x$$`` → ``\\[x\\]`` *in the rendered HTML*. Markdown would eat
  backslashes and underscores inside the formula (``\\,`` → ``,``, ``a_1 b_2`` → emphasis), so
  every ASCII punctuation character of the formula and of its delimiters is backslash-escaped;
  CommonMark turns each escape back into the literal character, so MathJax gets the TeX verbatim.
- Code spans, fenced code blocks and ``<pre>``/``<script>``/``<style>`` blocks are left alone.
- ``\\$`` stays ``\\$`` (a literal dollar). A ``$`` opens inline math only when the next character
  is not a space, and closes it only when the previous one is not a space and the next is not a
  digit (pandoc's rule), so "costs $5 and $10" stays text.

The protocol (mdBook ≥ 0.4): ``<cmd> supports <renderer>`` exits 0 if supported; otherwise
stdin holds ``[context, book]`` as JSON and stdout must hold the processed ``book``.

Defined for the static book (issue 8); used by ``nls_lessons.publish.book``
(``book.toml`` runs it as ``python -m nls_lessons.publish.book_math``).
"""
from __future__ import annotations

import json
import re
import sys

__all__ = ["convert_math", "process_book", "main"]

_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

# Blocks copied verbatim: fenced code (``` or ~~~, any length >= 3) and raw HTML that holds code.
_FENCE_RE = re.compile(r"^( {0,3})(`{3,}|~{3,})")
_RAW_BLOCK_RE = re.compile(r"<(pre|script|style)\b.*?</\1\s*>", re.S | re.I)


def _escape_md(text: str) -> str:
    """Backslash-escape every ASCII punctuation character, so CommonMark renders it literally."""
    return "".join("\\" + ch if ch in _PUNCT else ch for ch in text)


def _inline(tex: str) -> str:
    return _escape_md("\\(" + tex + "\\)")


def _display(tex: str) -> str:
    # A blank line would end the paragraph, so join the lines of a display formula.
    tex = " ".join(line.strip() for line in tex.strip().splitlines() if line.strip())
    return _escape_md("\\[" + tex + "\\]")


def _convert_text(text: str, inline=None, display=None) -> str:
    """Convert math in a stretch of markdown that holds no fenced code blocks."""
    inline, display = inline or _inline, display or _display
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            out.append(text[i:i + 2])          # an escape such as \$ or \` is kept as written
            i += 2
            continue
        if ch == "`":                          # code span: copy up to the matching run of backticks
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            close = text.find("`" * run, i + run)
            while close != -1 and text[close + run:close + run + 1] == "`":
                close = text.find("`" * run, close + run + 1)
            if close == -1:
                out.append(text[i:i + run])
                i += run
            else:
                out.append(text[i:close + run])
                i = close + run
            continue
        if ch == "<":                          # raw <pre>/<script>/<style>: verbatim
            m = _RAW_BLOCK_RE.match(text, i)
            if m:
                out.append(m.group(0))
                i = m.end()
                continue
        if ch == "$":
            if text.startswith("$$", i):
                close = text.find("$$", i + 2)
                if close != -1 and text[i + 2:close].strip():
                    out.append(display(text[i + 2:close]))
                    i = close + 2
                    continue
                out.append("$$")
                i += 2
                continue
            close = _inline_close(text, i)
            if close is not None:
                out.append(inline(text[i + 1:close]))
                i = close + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _inline_close(text: str, start: int) -> int | None:
    """Index of the `$` closing inline math opened at `start`, or None when it is not math."""
    n = len(text)
    if start + 1 >= n or text[start + 1] in " \t\n$":
        return None
    j = start + 1
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "\n" and text[j + 1:j + 2] == "\n":
            return None                        # math does not run across paragraphs
        if c == "$":
            if text[j - 1] in " \t\n" or (j + 1 < n and text[j + 1].isdigit()):
                return None
            return j
        j += 1
    return None


# CommonMark HTML blocks: types 1 (verbatim until the closing tag) and 6 (until a blank line).
_HTML_VERBATIM_RE = re.compile(r"^ {0,3}<(pre|script|style|textarea)(\s|>|$)", re.I)
_HTML_BLOCK_RE = re.compile(
    r"^ {0,3}(<!--|</?(address|article|aside|blockquote|body|caption|center|col|colgroup|dd|details|"
    r"dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|"
    r"hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|"
    r"section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul)(\s|/?>|$))", re.I)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _convert_html(text: str) -> str:
    """Math inside a raw HTML block: markdown escapes do not apply there, so write plain delimiters."""
    return _convert_text(text, inline=lambda tex: _html_escape("\\(" + tex + "\\)"),
                         display=lambda tex: _html_escape("\\[" + " ".join(tex.split()) + "\\]"))


def convert_math(markdown: str) -> str:
    """Rewrite `$…$` and `$$…$$` in one chapter's markdown for MathJax, leaving code alone."""
    out: list[str] = []
    chunk: list[str] = []
    mode = "md"                 # md | fence | verbatim | html
    fence: tuple[str, int] = ("`", 3)
    closing = ""

    def flush(convert=_convert_text):
        if chunk:
            out.append(convert("\n".join(chunk)))
            chunk.clear()

    for line in markdown.split("\n"):
        if mode == "fence":
            out.append(line)
            stripped = line.strip()
            if stripped.startswith(fence[0] * fence[1]) and set(stripped) == {fence[0]}:
                mode = "md"
            continue
        if mode == "verbatim":
            out.append(line)
            if closing in line.lower():
                mode = "md"
            continue
        if mode == "html":
            if line.strip():
                chunk.append(line)
                continue
            flush(_convert_html)
            mode = "md"
        m = _FENCE_RE.match(line)
        if m:
            flush()
            fence = (m.group(2)[0], len(m.group(2)))
            mode = "fence"
            out.append(line)
            continue
        m = _HTML_VERBATIM_RE.match(line)
        if m:
            flush()
            closing = f"</{m.group(1).lower()}>"
            out.append(line)
            if closing not in line.lower():
                mode = "verbatim"
            continue
        if _HTML_BLOCK_RE.match(line):
            flush()
            mode = "html"
            chunk.append(line)
            continue
        chunk.append(line)
    flush(_convert_html if mode == "html" else _convert_text)
    return "\n".join(out)


def _walk(items):
    for item in items:
        chapter = item.get("Chapter") if isinstance(item, dict) else None
        if chapter is not None:
            yield chapter
            yield from _walk(chapter.get("sub_items", []))


def process_book(book: dict) -> dict:
    """Apply :func:`convert_math` to every chapter of an mdBook ``book`` JSON object."""
    items = book.get("items", book.get("sections", []))   # 0.5 says "items", 0.4 "sections"
    for chapter in _walk(items):
        chapter["content"] = convert_math(chapter.get("content", ""))
    return book


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["supports"]:
        return 0 if (argv[1:2] or ["html"])[0] == "html" else 1
    context, book = json.load(sys.stdin)
    json.dump(process_book(book), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
