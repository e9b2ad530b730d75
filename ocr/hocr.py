"""Parse Tesseract hOCR into plain dataclasses.

Uses the standard library's tolerant HTML parser rather than an XML parser:
Tesseract writes XHTML, but other hOCR producers write HTML with named
entities (&nbsp;) and unclosed void tags, and html.parser never expands
entity definitions from a document (no entity-expansion attacks).

A page is parsed several times on its way (after OCR, for the searchable PDF, for the
classifier), and html.parser takes ~10 ms for one of Tesseract's pages. Plain markup — tags
with quoted or bare attributes, text, comments, declarations — is therefore cut into tokens
by one regular expression and handed to the same handlers; anything else (a `<script>`, a
stray `<`, CDATA) goes to html.parser whole.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import groupby

Box = tuple[int, int, int, int]

# Span classes that Tesseract (and the hOCR spec) use for a line of text.
LINE_CLASSES = frozenset({"ocr_line", "ocr_caption", "ocr_header", "ocr_textfloat"})
# Containers whose boundaries separate paragraphs in page_text().
_PARAGRAPH_CLASSES = frozenset({"ocr_par", "ocr_carea", "ocr_block", "ocr_page"})
_WORD_CLASS = "ocrx_word"
# HTML elements without an end tag; never pushed on the element stack.
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
     "param", "source", "track", "wbr"}
)  # fmt: skip
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
#: one token of plain markup: a tag (name, attributes, self-closing slash), a comment, a
#: declaration or processing instruction, or text without `<`
_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][^\t\n\r\f />\x00]*)"
    r"((?:[\s/]*(?:(?<=['\"\s/])[^\s/>][^\s/=>]*)(?:\s*=+\s*(?:'[^']*'|\"[^\"]*\"|(?!['\"])[^>\s]*))?)*)"
    r"\s*/?>"
    r"|<!--.*?-->|<![a-zA-Z][^>]*>|<\?[^>]*>|[^<]+",
    re.DOTALL,
)
#: one attribute inside a tag, as html.parser reads it
_ATTRIBUTE = re.compile(
    r"((?<=['\"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*(\'[^\']*\'|\"[^\"]*\"|(?![\'\"])[^>\s]*))?"
)
#: a whole word as Tesseract writes it, read in one step: most of a page's elements
_TESSERACT_WORD = re.compile(
    r"<span class='ocrx_word' id='[^'<>&]*' title='bbox (\d+) (\d+) (\d+) (\d+); "
    r"x_wconf (\d+)'>([^<]*)</span>"
)
#: elements whose content html.parser reads as raw text: left to it
_RAW_TEXT = frozenset({"script", "style"})


@dataclass(frozen=True)
class Word:
    """One recognised word: NFC text, pixel box (x0, y0, x1, y1), confidence 0–1."""

    text: str
    bbox: Box
    confidence: float | None


@dataclass(frozen=True)
class Line:
    """A text line. `baseline` is hOCR's (slope, intercept) relative to the box's
    bottom-left corner, in pixels with y pointing down; `text_angle` is degrees
    counter-clockwise; `paragraph` numbers the enclosing ocr_par (or block)."""

    bbox: Box
    baseline: tuple[float, float] | None
    words: list[Word]
    text_angle: float = 0.0
    paragraph: int = 0


@dataclass(frozen=True)
class HocrPage:
    """The first ocr_page of an hOCR document; sizes are in pixels."""

    width: int
    height: int
    lines: list[Line] = field(default_factory=list)


def _properties(title: str | None) -> dict[str, list[str]]:
    # title="bbox 1 2 3 4; baseline 0.01 -5; x_wconf 93" -> {"bbox": [...], ...}
    props: dict[str, list[str]] = {}
    for part in (title or "").split(";"):
        tokens = part.split()
        if tokens:
            props[tokens[0]] = tokens[1:]
    return props


def _floats(values: list[str] | None) -> list[float] | None:
    if not values:
        return None
    out = []
    for value in values:
        if not _NUMBER.fullmatch(value):
            return None
        out.append(float(value))
    return out


def _bbox(props: dict[str, list[str]]) -> Box | None:
    nums = _floats(props.get("bbox"))
    if nums is None or len(nums) != 4:
        return None
    x0, y0, x1, y1 = (round(n) for n in nums)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


class _Element:
    __slots__ = ("kind", "props", "tag", "text")

    def __init__(self, tag: str, kind: str | None, props: dict[str, list[str]]) -> None:
        self.tag = tag
        self.kind = kind  # "paragraph" (any container), "line", "word" or None
        self.props = props
        self.text: list[str] = []


class _HocrParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Element] = []
        self.page_size: tuple[int, int] | None = None
        self.pages_seen = 0
        self.lines: list[Line] = []
        self._paragraph_ids: list[int] = []
        self._next_paragraph = 0
        self._line: _Element | None = None
        self._line_paragraph = 0
        self._line_words: list[Word] = []
        self._word: _Element | None = None

    # Only the first ocr_page counts; anything after it is ignored.
    def _in_first_page(self) -> bool:
        return self.pages_seen == 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = self._open(tag, dict(attrs))
        if tag in _VOID_TAGS:
            self._close(element)
        else:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._close(self._open(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        # Tolerate sloppy HTML: close everything up to the matching open tag.
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth].tag == tag:
                while len(self.stack) > depth:
                    self._close(self.stack.pop())
                return

    def handle_data(self, data: str) -> None:
        if self._word is not None:
            self._word.text.append(data)

    def _open(self, tag: str, attrs: dict[str, str | None]) -> _Element:
        classes = set((attrs.get("class") or "").split())
        props = _properties(attrs.get("title"))
        kind: str | None = None
        if "ocr_page" in classes:
            self.pages_seen += 1
            if self.pages_seen == 1:
                box = _bbox(props)
                if box is not None:
                    self.page_size = (box[2] - box[0], box[3] - box[1])
        if not self._in_first_page():
            return _Element(tag, None, props)
        if classes & _PARAGRAPH_CLASSES:
            kind = "paragraph"
            self._paragraph_ids.append(self._next_paragraph)
            self._next_paragraph += 1
        elif classes & LINE_CLASSES and self._line is None:
            kind = "line"
            self._flush_orphan_words()
            self._line = _Element(tag, kind, props)
            self._line_paragraph = self._paragraph_ids[-1] if self._paragraph_ids else 0
            self._line_words = []
            return self._line
        elif _WORD_CLASS in classes and self._word is None:
            kind = "word"
            self._word = _Element(tag, kind, props)
            return self._word
        if tag == "br" and self._word is not None:
            self._word.text.append(" ")
        return _Element(tag, kind, props)

    def _close(self, element: _Element) -> None:
        if element.kind == "paragraph":
            self._paragraph_ids.pop()
            self._flush_orphan_words()
        elif element.kind == "word" and element is self._word:
            self._word = None
            word = _make_word(element)
            if word is not None:
                if self._line is None:
                    # Words outside any line: gather them into a synthetic line.
                    self._line_paragraph = self._paragraph_ids[-1] if self._paragraph_ids else 0
                self._line_words.append(word)
        elif element.kind == "line" and element is self._line:
            self._line = None
            self._finish_line(element.props)

    def add_word(self, x0: str, y0: str, x1: str, y1: str, wconf: str, text: str) -> None:
        """A whole word element of the first page, its parts as Tesseract writes them: what
        its start tag, text and end tag together do."""
        text = html.unescape(text) if "&" in text else text
        text = " ".join(unicodedata.normalize("NFC", text).split())
        if not text:
            return
        left, top, right, bottom = int(x0), int(y0), int(x1), int(y1)
        box = (min(left, right), min(top, bottom), max(left, right), max(top, bottom))
        if self._line is None:
            self._line_paragraph = self._paragraph_ids[-1] if self._paragraph_ids else 0
        self._line_words.append(Word(text, box, min(int(wconf) / 100.0, 1.0)))

    def _flush_orphan_words(self) -> None:
        if self._line is None and self._line_words:
            self._finish_line({})

    def _finish_line(self, props: dict[str, list[str]]) -> None:
        words, self._line_words = self._line_words, []
        if not words:
            return
        box = _bbox(props) or _union([w.bbox for w in words])
        baseline_nums = _floats(props.get("baseline"))
        baseline = (
            (baseline_nums[0], baseline_nums[1])
            if baseline_nums is not None and len(baseline_nums) == 2
            else None
        )
        angle_nums = _floats(props.get("textangle"))
        angle = angle_nums[0] % 360.0 if angle_nums else 0.0
        self.lines.append(Line(box, baseline, words, angle, self._line_paragraph))

    def close(self) -> None:
        super().close()
        while self.stack:
            self._close(self.stack.pop())
        self._flush_orphan_words()


def _make_word(element: _Element) -> Word | None:
    # Collapse internal whitespace (&nbsp;, <br>, newlines) to single spaces.
    text = " ".join(unicodedata.normalize("NFC", "".join(element.text)).split())
    box = _bbox(element.props)
    if not text or box is None:
        return None
    confidence = None
    conf = _floats(element.props.get("x_wconf"))
    if conf:
        confidence = min(max(conf[0] / 100.0, 0.0), 1.0)
    return Word(text, box, confidence)


def parse_hocr(hocr: str | bytes) -> HocrPage:
    """Parse an hOCR document; return its first page's lines and words.

    Raises ValueError when there is no ocr_page with a bbox (the page size is
    needed to map pixel boxes onto a PDF page).
    """
    if isinstance(hocr, bytes):
        # hOCR from Tesseract is always UTF-8; a BOM is harmless.
        hocr = hocr.decode("utf-8-sig", errors="replace")
    parser = _HocrParser()
    if not _feed_plain(parser, hocr):
        parser = _HocrParser()
        parser.feed(hocr)
    parser.close()
    if parser.page_size is None or min(parser.page_size) <= 0:
        raise ValueError("hOCR has no ocr_page with a usable bbox")
    width, height = parser.page_size
    return HocrPage(width, height, parser.lines)


def _feed_plain(parser: _HocrParser, hocr: str) -> bool:
    """Hand `hocr` to `parser`'s handlers token by token, as html.parser would; False (and
    `parser` half fed, to be thrown away) when the markup is not plain enough for that."""
    at, end = 0, len(hocr)
    match, word_at = _TOKEN.match, _TESSERACT_WORD.match
    while at < end:
        if parser.pages_seen == 1 and parser._word is None:
            word = word_at(hocr, at)
            if word is not None:
                at = word.end()
                parser.add_word(*word.groups())
                continue
        token = match(hocr, at)
        if token is None:
            return False
        at = token.end()
        name = token.group(2)
        if name is None:
            text = token.group(0)
            if text[0] != "<":
                parser.handle_data(html.unescape(text) if "&" in text else text)
            elif text.startswith("<![CDATA[", 0, 9):
                return False
            continue
        tag = name.lower()
        if token.group(1):
            parser.handle_endtag(tag)
            continue
        if tag in _RAW_TEXT:
            return False
        attrs = [
            (key.lower(), _attribute_value(value, quoted))
            for key, value, quoted in _ATTRIBUTE.findall(token.group(3))
        ]
        if token.group(0).endswith("/>"):  # as html.parser tells them apart
            parser.handle_startendtag(tag, attrs)
        else:
            parser.handle_starttag(tag, attrs)
    return True


def _attribute_value(value: str, quoted: str) -> str | None:
    """An attribute's value as html.parser gives it: None without `=`, unquoted, unescaped."""
    if not value:
        return None
    if quoted[:1] == quoted[-1:] and quoted[:1] in ("'", '"') and len(quoted) >= 2:
        quoted = quoted[1:-1]
    return html.unescape(quoted) if "&" in quoted else quoted


def mean_confidence(page: HocrPage) -> float | None:
    """Mean of the words' confidences (0–1); None when no word has one."""
    values = [w.confidence for line in page.lines for w in line.words if w.confidence is not None]
    return sum(values) / len(values) if values else None


def page_text(page: HocrPage) -> str:
    """The page's text: words joined by spaces, lines by newlines, paragraphs by a
    blank line; NFC."""
    paragraphs = [
        "\n".join(" ".join(w.text for w in line.words) for line in lines)
        for _, lines in groupby(page.lines, key=lambda line: line.paragraph)
    ]
    return unicodedata.normalize("NFC", "\n\n".join(paragraphs))
