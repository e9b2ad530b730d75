"""parse_hocr's token reader gives exactly what html.parser gives, on Tesseract's hOCR and on
markup it leaves to html.parser."""

from __future__ import annotations

import random

import pytest

from ocr import hocr as hocr_module
from ocr.hocr import parse_hocr

WORD = (
    "      <span class='ocrx_word' id='word_1_{n}' "
    "title='bbox {x} {y} {x1} {y1}; x_wconf {c}'>{t}</span>"
)
TEXTS = ["CỘNG", "HÒA", "Số:", "251/KH-UBND", "A&amp;B", "&lt;x&gt;", "Vie&#x0302;&#x0323;t"]
TEXTS += [" ", "Độc"]


def tesseract_hocr(seed: int = 0, lines: int = 6) -> str:
    """A page as Tesseract 5 writes it (header, blocks, paragraphs, lines, words)."""
    rng = random.Random(seed)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
        '    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
        " <head>",
        "  <title></title>",
        '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
        "  <meta name='ocr-system' content='tesseract 5.3.0' />",
        " </head>",
        " <body>",
        "  <div class='ocr_page' id='page_1' title='image \"page.pgm\"; bbox 0 0 1664 2338; "
        "ppageno 0; scan_res 200 200'>",
        "   <div class='ocr_carea' id='block_1_1' title=\"bbox 10 10 1500 900\">",
        "    <p class='ocr_par' id='par_1_1' lang='vie' title=\"bbox 10 10 1500 900\">",
    ]
    n = 0
    for i in range(lines):
        y = 20 + 60 * i
        out.append(
            f"     <span class='ocr_line' id='line_1_{i}' title=\"bbox 10 {y} 900 {y + 40}; "
            f'baseline -0.004 -10; x_size 40; x_descenders 11; x_ascenders 7">'
        )
        for j in range(rng.randint(1, 6)):
            n += 1
            x = 10 + 120 * j
            out.append(
                WORD.format(n=n, x=x, y=y, x1=x + 100, y1=y + 40, c=rng.randint(0, 100),
                            t=rng.choice(TEXTS))
            )  # fmt: skip
        out.append("     </span>")
        if i == lines // 2:
            out += [
                "    </p>",
                "   </div>",
                "   <div class='ocr_photo' id='block_1_2' title=\"bbox 0 1000 10 1010\"></div>",
                "   <div class='ocr_carea' id='block_1_3' title=\"bbox 10 10 1500 900\">",
                "    <p class='ocr_par' id='par_1_3' lang='vie' title=\"bbox 1 1 2 2\">",
            ]
    out += ["    </p>", "   </div>", "  </div>", " </body>", "</html>", ""]
    return "\n".join(out)


def _by_html_parser(text: str) -> tuple[object, ...]:
    parser = hocr_module._HocrParser()
    parser.feed(text)
    parser.close()
    return parser.page_size, parser.lines, parser.pages_seen


def _by_tokens(text: str) -> tuple[object, ...] | None:
    parser = hocr_module._HocrParser()
    if not hocr_module._feed_plain(parser, text):
        return None
    parser.close()
    return parser.page_size, parser.lines, parser.pages_seen


def variants(text: str) -> list[str]:
    """Changes other producers (and hOCR we rewrite) make: quotes, case, spacing, entities,
    void and self-closed tags, words without confidence, a second page."""
    return [
        text,
        text.replace("x_wconf 9", "x_wconf  9"),
        text.replace("</span>", "</SPAN >", 7),
        text.replace("'ocrx_word'", '"ocrx_word"', 5),
        text.replace("; x_wconf", ";x_wconf", 3),
        text.replace("ocr_line", "ocr_header", 2).replace("ocr_par'", "ocr_par' ", 1),
        text.replace("<span class='ocr_line'", "<br/><span class='ocr_line'", 2),
        text.replace("<p class", "<p/><p class", 1),
        text.replace("x_wconf", "x_conf", 4),
        text.replace(">Độc<", "><strong>Độc</strong><"),
        text.replace("&amp;", "&nbsp;"),
        text + text,
    ]


@pytest.mark.parametrize("seed", range(4))
def test_token_reader_matches_html_parser(seed: int) -> None:
    for text in variants(tesseract_hocr(seed)):
        got = _by_tokens(text)
        assert got is not None
        assert got == _by_html_parser(text)


def test_markup_that_is_not_plain_goes_to_html_parser() -> None:
    page = tesseract_hocr(1)
    rng = random.Random(5)
    odd = ["<", "<![CDATA[x]]>", "<script>var a = '<b>';</script>", "a < b", "<!>"]
    for bit in odd:
        text = page.replace("</title>", f"{bit}</title>", 1)
        assert _by_tokens(text) is None
        assert parse_hocr(text) == parse_hocr(page)
    for _ in range(200):  # cut or spoilt anywhere: the same page either way
        i = rng.randrange(len(page))
        bit = rng.choice(["<", ">", "&", "'", '"', "/", "<!--", "</p>"])
        for text in (page[:i] + page[i + rng.randrange(1, 30) :], page[:i] + bit + page[i:]):
            got = _by_tokens(text)
            assert got is None or got == _by_html_parser(text)


def test_words_read_whole_keep_their_meaning() -> None:
    page = parse_hocr(tesseract_hocr(2))
    words = [w for line in page.lines for w in line.words]
    assert words and all(w.text == w.text.strip() and w.text for w in words)
    assert all(0.0 <= (w.confidence or 0.0) <= 1.0 for w in words)
    assert {"A&B", "<x>"} & {w.text for w in words}
