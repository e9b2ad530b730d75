"""The page layout of Decree 30/2020/NĐ-CP (Appendix I), in points from the top-left corner.

One layout feeds both renderers (Pillow images and reportlab text PDFs, in `render.py`), so
a scanned page and a born-digital page of the same document carry the same lines in the same
places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.data.specs import MOTTO, DocumentSpec
from tests.data.typeset import Style, header_wrap, text_width, wrap

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM
TOP, BOTTOM, LEFT, RIGHT = 20 * MM, 20 * MM, 30 * MM, 15 * MM
CONTENT_W = PAGE_W - LEFT - RIGHT
LEFT_COL_W = CONTENT_W * 0.42  # the header table: issuer on the left, national name right
RIGHT_COL_X = LEFT + LEFT_COL_W
RIGHT_COL_W = CONTENT_W - LEFT_COL_W
LEFT_CX = LEFT + LEFT_COL_W / 2
RIGHT_CX = RIGHT_COL_X + RIGHT_COL_W / 2

LEADING = 1.15  # "single" line spacing of Times New Roman in Word
ASCENT, DESCENT = 0.89, 0.22  # Liberation Serif, in em
BODY_SIZE = 13.0
INDENT = 10 * MM  # first-line indent of body paragraphs
PARA_GAP = 6.0  # Decree 30: at least 6 pt between paragraphs
SIGNATURE_GAP = 62.0  # room for the signature and the seal


@dataclass(frozen=True)
class Line:
    """One printed line: its exact text, where its baseline starts, and how it looks."""

    text: str
    x: float
    baseline: float
    size: float
    style: Style = "regular"
    word_space: float = 0.0  # extra points added to every space (justified lines)

    @property
    def width(self) -> float:
        """Printed width in points, justification included."""
        return text_width(self.text, self.style, self.size) + self.word_space * self.text.count(" ")

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in points."""
        return (
            self.x,
            self.baseline - ASCENT * self.size,
            self.x + self.width,
            self.baseline + DESCENT * self.size,
        )

    def word_positions(self) -> list[tuple[float, str]]:
        """x of each word as the PDF renderer places it (spaces widened by `word_space`)."""
        out: list[tuple[float, str]] = []
        x = self.x
        space = text_width(" ", self.style, self.size) + self.word_space
        for word in self.text.split(" "):
            out.append((x, word))
            x += text_width(word, self.style, self.size) + space
        return out


@dataclass(frozen=True)
class Rule:
    """A straight stroke (underline, the rule under the issuer) or a box (urgency mark)."""

    x0: float
    y0: float
    x1: float
    y1: float
    width: float = 0.6
    box: bool = False


@dataclass
class PageLayout:
    """Everything printed on one page: text blocks in reading order, rules, signature room."""

    number: int
    blocks: list[list[Line]] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    signature_box: tuple[float, float, float, float] | None = None

    @property
    def text_blocks(self) -> list[list[str]]:
        """The ground truth: the text of every line, block by block."""
        return [[line.text for line in block] for block in self.blocks if block]

    @property
    def text(self) -> str:
        """Lines joined by "\\n", blocks by "\\n\\n"."""
        return "\n\n".join("\n".join(block) for block in self.text_blocks)

    def block_box(self, index: int) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in points of one block."""
        boxes = [line.box for line in self.blocks[index]]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )


def _centred(texts: list[str], style: Style, size: float, cx: float, top: float) -> list[Line]:
    lines = []
    for i, text in enumerate(texts):
        baseline = top + ASCENT * size + i * size * LEADING
        lines.append(Line(text, cx - text_width(text, style, size) / 2, baseline, size, style))
    return lines


def _bottom(lines: list[Line]) -> float:
    return max(line.baseline + DESCENT * line.size for line in lines)


_ROMAN = re.compile(r"^[IVXLC]+\. ")
_ARTICLE = re.compile(r"^Điều \d+[a-z]?\. ")
_NUMBERED = re.compile(r"^\d+\. ")
_CHAPTER = re.compile(r"^(Chương|Mục|Phần) [IVXLC\d]+$")


def paragraph_style(text: str) -> tuple[Style, bool]:
    """(style, centred) of a body paragraph, guessed the way drafters format them."""
    if _ROMAN.match(text) or (_ARTICLE.match(text) and len(text) <= 110):
        return "bold", False
    if _NUMBERED.match(text) and len(text) <= 50 and not text.endswith((".", ";", ":", ",")):
        return "bold", False
    if _CHAPTER.match(text) or (text == text.upper() and len(text) <= 120):
        return "bold", True
    if text.startswith(("Căn cứ ", "Theo đề nghị ")):
        return "italic", False
    return "regular", False


def _paragraph_lines(text: str, size: float) -> list[tuple[str, float, float, Style]]:
    """(text, x, word_space, style) for each line of a body paragraph, before placing."""
    style, centred = paragraph_style(text)
    if centred:
        rows = wrap(text, style, size, CONTENT_W * 0.9)
        return [
            (row, LEFT + (CONTENT_W - text_width(row, style, size)) / 2, 0.0, style) for row in rows
        ]
    rows = wrap(text, style, size, CONTENT_W, CONTENT_W - INDENT)
    out = []
    for i, row in enumerate(rows):
        x = LEFT + (INDENT if i == 0 else 0.0)
        avail = CONTENT_W - (INDENT if i == 0 else 0.0)
        spaces = row.count(" ")
        ws = 0.0
        if i < len(rows) - 1 and spaces:
            ws = max(0.0, (avail - text_width(row, style, size)) / spaces)
        out.append((row, x, ws, style))
    return out


class _Flow:
    """Places lines from top to bottom, opening a new page when one is full."""

    def __init__(self) -> None:
        self.pages: list[PageLayout] = []
        self.y = 0.0
        self.new_page()

    @property
    def page(self) -> PageLayout:
        return self.pages[-1]

    def new_page(self) -> None:
        page = PageLayout(number=len(self.pages) + 1)
        self.pages.append(page)
        self.y = TOP
        if page.number > 1:  # Decree 30: page numbers from page 2, centred in the top margin
            text = str(page.number)
            x = PAGE_W / 2 - text_width(text, "regular", BODY_SIZE) / 2
            page.blocks.append([Line(text, x, TOP * 0.6, BODY_SIZE)])

    def fits(self, height: float) -> bool:
        return self.y + height <= PAGE_H - BOTTOM

    def paragraph(self, text: str, size: float) -> None:
        block: list[Line] = []
        self.y += PARA_GAP
        for row, x, ws, style in _paragraph_lines(text, size):
            if not self.fits(size * LEADING):
                if block:
                    self.page.blocks.append(block)
                block = []
                self.new_page()
            block.append(Line(row, x, self.y + ASCENT * size, size, style, ws))
            self.y += size * LEADING
        self.page.blocks.append(block)


def _header(spec: DocumentSpec, page: PageLayout) -> float:
    """Draw the header table on page 1; return the y where the next part may start."""
    left: list[Line] = []
    y = TOP
    if spec.parent:
        rows = header_wrap(spec.parent, "regular", 12, LEFT_COL_W - 6)
        left += _centred(rows, "regular", 12, LEFT_CX, y)
        y += len(rows) * 12 * LEADING
    issuer_rows = [
        row
        for part in spec.issuer.split("\n")
        for row in header_wrap(part, "bold", 12, LEFT_COL_W - 6)
    ]
    issuer = _centred(issuer_rows, "bold", 12, LEFT_CX, y) if issuer_rows else []
    left += issuer
    y_left = y + len(issuer_rows) * 12 * LEADING
    if issuer and spec.header_rule:  # a typed rule is text, so it is in the truth
        left += _centred([spec.header_rule], "regular", 12, LEFT_CX, y_left + 1.0)
        y_left = _bottom(left) + 4.0
    elif issuer:
        rule_len = max(line.width for line in issuer) * 0.4
        rule_y = _bottom(issuer) + 2.5
        page.rules.append(Rule(LEFT_CX - rule_len / 2, rule_y, LEFT_CX + rule_len / 2, rule_y))
        y_left = rule_y + 6.0

    right = _centred([spec.national_name], "bold", 12, RIGHT_CX, TOP)
    right += _centred([MOTTO], "bold", 13, RIGHT_CX, TOP + 12 * LEADING)
    motto = right[-1]
    under_y = motto.baseline + 3.6
    page.rules.append(Rule(motto.x, under_y, motto.x + motto.width, under_y))
    y_right = under_y + 6.0

    row_top = max(y_left, y_right) + 2.0
    left += _centred([spec.number_line], "regular", 13, LEFT_CX, row_top)
    if spec.date_line:
        right += _centred([spec.date_line], "italic", 13, RIGHT_CX, row_top)
    y = row_top + 13 * LEADING
    if spec.type_title is None:  # công văn: the subject sits under the number
        rows = wrap(spec.subject, "regular", 12, LEFT_COL_W - 4)
        left += _centred(rows, "regular", 12, LEFT_CX, y + 2.0)
        y += 2.0 + len(rows) * 12 * LEADING
    page.blocks += [left, right]
    bottom = max(_bottom(left), _bottom(right))

    marks = [m for m in (spec.secrecy, spec.urgency) if m]
    if marks:
        block = _centred(marks, "bold", 14, LEFT_CX, bottom + 10.0)
        for line in block:
            x0, top, x1, bot = line.box
            page.rules.append(Rule(x0 - 5, top - 3, x1 + 5, bot + 2, 0.8, box=True))
        page.blocks.append(block)
        bottom = _bottom(block) + 3.0
    return bottom


def _title(spec: DocumentSpec, page: PageLayout, y: float) -> float:
    """The centred type name and subject (or the công văn's `Kính gửi:`); return next y."""
    if spec.type_title is not None:
        rows = [spec.type_title, *wrap(spec.subject, "bold", 14, CONTENT_W * 0.82)]
        block = _centred(rows, "bold", 14, LEFT + CONTENT_W / 2, y + 16.0)
        rule_len = max(line.width for line in block[1:]) / 3 if len(block) > 1 else 60.0
        rule_y = _bottom(block) + 4.0
        cx = LEFT + CONTENT_W / 2
        page.rules.append(Rule(cx - rule_len / 2, rule_y, cx + rule_len / 2, rule_y))
        page.blocks.append(block)
        return rule_y + 6.0
    if not spec.salutation:
        return y + 6.0
    size = 14.0
    label = "Kính gửi:"
    if len(spec.salutation) == 1:
        text = f"{label} {spec.salutation[0]}"
        block = _centred([text], "regular", size, LEFT + CONTENT_W / 2, y + 14.0)
    else:
        x = LEFT + CONTENT_W * 0.2
        x_items = x + text_width(label + " ", "regular", size)
        block = []
        for i, item in enumerate(spec.salutation):
            baseline = y + 14.0 + ASCENT * size + i * size * LEADING
            if i == 0:
                block.append(Line(f"{label} {item}", x, baseline, size))
            else:
                block.append(Line(item, x_items, baseline, size))
    page.blocks.append(block)
    return _bottom(block) + 6.0


def _footer_blocks(spec: DocumentSpec, top: float) -> tuple[list[Line], list[Line], tuple]:
    """The recipients (left) and the signature (right), from `top`; and the signature room."""
    recipients: list[Line] = []
    if spec.recipients:
        y = top + ASCENT * 12
        recipients.append(Line("Nơi nhận:", LEFT, y, 12, "bolditalic"))
        y += 12 * LEADING
        hang = text_width("- ", "regular", 11)
        for item in spec.recipients:
            rows = wrap(item, "regular", 11, CONTENT_W * 0.46, CONTENT_W * 0.46)
            for i, row in enumerate(rows):
                recipients.append(Line(row, LEFT + (hang if i else 0.0), y, 11))
                y += 11 * LEADING
    signer: list[Line] = []
    room: tuple = ()
    rows = [*spec.signer_prefix, *([spec.signer_title] if spec.signer_title else [])]
    rows = [r for row in rows for r in wrap(row, "bold", 13, RIGHT_COL_W)]
    if rows or spec.signer_name:
        signer = _centred(rows, "bold", 13, RIGHT_CX, top)
        y = top + len(rows) * 13 * LEADING
        room = (RIGHT_CX - 95.0, y, RIGHT_CX + 95.0, y + SIGNATURE_GAP)
        if spec.signer_name:
            signer += _centred([spec.signer_name], "bold", 13, RIGHT_CX, y + SIGNATURE_GAP)
    return recipients, signer, room


def _layout(spec: DocumentSpec, paragraphs: list[str]) -> tuple[list[PageLayout], list[int]]:
    """Lay out the document; also return the page on which each body paragraph ends."""
    flow = _Flow()
    y = _header(spec, flow.page)
    flow.y = _title(spec, flow.page, y)
    ends: list[int] = []
    for text in paragraphs:
        flow.paragraph(text, BODY_SIZE)
        ends.append(flow.page.number)
    top = flow.y + 14.0
    recipients, signer, room = _footer_blocks(spec, top)
    height = max((_bottom(b) - top for b in (recipients, signer) if b), default=0.0)
    if not flow.fits(height + 14.0):
        flow.new_page()
        top = flow.y + 4.0
        recipients, signer, room = _footer_blocks(spec, top)
    flow.page.blocks += [b for b in (recipients, signer) if b]
    flow.page.signature_box = room or None
    return flow.pages, ends


def layout_document(spec: DocumentSpec, max_pages: int | None = None) -> list[PageLayout]:
    """All pages of `spec`; with `max_pages`, whole paragraphs are dropped until it fits."""
    paragraphs = list(spec.paragraphs)
    while True:
        pages, ends = _layout(spec, paragraphs)
        if max_pages is None or len(pages) <= max_pages or not paragraphs:
            return pages
        kept = sum(1 for page in ends if page <= max_pages)
        paragraphs = paragraphs[: min(len(paragraphs) - 1, kept)]
