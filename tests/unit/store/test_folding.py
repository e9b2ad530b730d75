"""Folding, tokens, queries and index entries of search (pure functions, no database)."""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from pathlib import Path

import pytest

import store.search.snippets
from store.search.entries import GAP, MAX_POSITION, MAX_POSITIONS_PER_LEXEME, build_entry
from store.search.literals import fts_match, fts_text, tsquery_literal, tsvector_literal
from store.search.query import MAX_QUERY_TOKENS, parse_query
from store.search.snippets import MAX_SNIPPETS, snippets
from store.search.text import (
    MAX_TOKEN_CHARS,
    exact_form,
    fold,
    fold_with_offsets,
    segment,
    tokenize,
)

VIETNAMESE = (
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM. Độc lập - Tự do - Hạnh phúc. Quyết định số "
    "251/QĐ-UBND về việc ban hành Kế hoạch ứng dụng công nghệ thông tin; Đảng ủy phường "
    "Cổ Nhuế 1; Ủy ban nhân dân quận Bắc Từ Liêm; nghiêng ngửa, thuở ấy, khuya khoắt."
)


def test_fold_removes_diacritics_and_case() -> None:
    assert fold("Quyết Định") == "quyet dinh"
    assert fold("QUYẾT ĐỊNH") == "quyet dinh"
    assert fold("Đảng ủy") == "dang uy"
    assert fold("đ Đ ð Ð") == "d d d d"
    assert fold("Ưu tiên ơn") == "uu tien on"
    assert fold("plain ASCII Text") == "plain ascii text"


def test_fold_is_one_character_for_one_on_nfc_text() -> None:
    folded, offsets = fold_with_offsets(VIETNAMESE)
    assert offsets is None
    assert len(folded) == len(VIETNAMESE)
    assert folded.isascii()


def test_decomposed_text_folds_the_same_and_maps_back() -> None:
    nfd = unicodedata.normalize("NFD", "Quyết định")
    folded, offsets = fold_with_offsets(nfd)
    assert folded == "quyet dinh"
    assert offsets is not None and len(offsets) == len(folded)
    assert nfd[offsets[folded.index("dinh")] :].startswith("đ")
    [quyet, dinh] = tokenize(nfd)
    assert (quyet.folded, quyet.exact) == ("quyet", "quyết")  # exact forms are NFC
    assert nfd[dinh.start : dinh.end] == unicodedata.normalize("NFD", "định")


def test_invisible_characters_do_not_split_words() -> None:
    assert fold("quy\u00adết đ\u200bịnh") == "quyet dinh"
    assert [t.folded for t in tokenize("quy\u00adết")] == ["quyet"]
    assert exact_form("Quy\u00adết") == "quyết"


def _bmp() -> list[str]:
    return [
        chr(c)
        for c in range(sys.maxunicode if sys.maxunicode < 0x10000 else 0x10000)
        if not 0xD800 <= c <= 0xDFFF
    ]


def test_folding_is_idempotent_and_keeps_token_boundaries() -> None:
    for ch in _bmp():
        once = fold(ch)
        assert fold(once) == once, repr(ch)
        assert len(once) <= 1
        if once:  # the fast paths of the index and of snippets rely on it
            assert once.isalnum() == ch.isalnum(), repr(ch)


def test_fast_index_tokens_are_the_query_tokens() -> None:
    """The index reads tokens with a fast path; a query with the slow one: same result."""
    rng = random.Random(5)
    alphabet = _bmp()
    samples = [VIETNAMESE, "ǅemal İstanbul ﬁle Ⅻ ①②", "x" * 100 + " ngắn"]
    for _ in range(300):
        samples.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))))
        words = VIETNAMESE.split()
        samples.append(" ".join(rng.choice(words) for _ in range(8)))
    for sample in samples:
        sample = unicodedata.normalize("NFC", sample)
        tokens = tokenize(sample)
        assert segment(sample) == (
            [t.folded for t in tokens],
            [t.exact for t in tokens if t.exact],
        ), repr(sample)


def test_tokens_and_exact_forms() -> None:
    tokens = tokenize("Quyết định 251/KH-UBND của Đảng ủy")
    assert [t.folded for t in tokens] == ["quyet", "dinh", "251", "kh", "ubnd", "cua", "dang", "uy"]
    assert [t.exact for t in tokens] == ["quyết", "định", None, None, None, "của", "đảng", "ủy"]
    long_word = "a" * 200
    assert tokenize(long_word)[0].folded == "a" * MAX_TOKEN_CHARS


def test_parse_query_words_phrases_and_exact_forms() -> None:
    query = parse_query('Quyết định "ke hoach" 251/KH-UBND')
    assert query is not None
    assert [t.tokens for t in query.terms] == [
        ("quyet",), ("dinh",), ("ke", "hoach"), ("251", "kh", "ubnd"),
    ]  # fmt: skip
    assert query.exact == ("quyết", "định")
    assert tsquery_literal(query) == (
        "'quyet' & 'dinh' & ('ke' <-> 'hoach') & ('251' <-> 'kh' <-> 'ubnd')"
    )
    assert fts_match(query) == (
        '{stream tail} : "quyet" AND {stream tail} : "dinh" AND stream : "ke hoach" AND '
        'stream : "251 kh ubnd"'
    )
    assert parse_query("quyet dinh").exact == ()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "q", ["", "   ", "!!!", '"', '""', "- * : ' ( ) { } ^ + ~", "NEAR(", "\\", "…–—“”"]
)
def test_queries_without_words(q: str) -> None:
    if any(ch.isalnum() for ch in q):
        assert parse_query(q) is not None
    else:
        assert parse_query(q) is None


@pytest.mark.parametrize(
    "q",
    ['"quyết định', 'a"b', "NEAR(a b)", "a OR b NOT c", "col:word", "x* -y", "it's", "a AND"],
)
def test_syntax_of_the_databases_is_just_text(q: str) -> None:
    query = parse_query(q)
    assert query is not None
    for token in query.words:
        assert token.isalnum()  # nothing but letters and digits reaches the database
    assert tsquery_literal(query).count("'") % 2 == 0


def test_unbalanced_quote_is_not_a_phrase() -> None:
    query = parse_query('"quyết định')
    assert query is not None
    assert [t.tokens for t in query.terms] == [("quyet",), ("dinh",)]


def test_query_is_bounded() -> None:
    query = parse_query(" ".join(f"w{i}" for i in range(100)))
    assert query is not None
    assert sum(len(t.tokens) for t in query.terms) == MAX_QUERY_TOKENS
    query = parse_query("a a a b a")
    assert query is not None and [t.tokens for t in query.terms] == [("a",), ("b",)]


def test_entry_puts_metadata_first_with_gaps() -> None:
    entry = build_entry(["251/KH-UBND", "Kế hoạch"], ["Trang một", "", "Trang hai"])
    assert entry.meta == ["251", "kh", "ubnd", None, "ke", "hoach"]
    assert entry.stream == [*entry.meta, None, "trang", "mot", None, "trang", "hai"]
    assert entry.exact == ["kế", "hoạch", "một"]
    assert fts_text(entry.meta) == f"251 kh ubnd {GAP} ke hoach"
    assert tsvector_literal(entry.stream[:3], ["x"]) == "'251':1 'kh':2 'ubnd':3 'x'"
    assert tsvector_literal([], entry.exact) == "'kế' 'hoạch' 'một'"


def test_entry_of_a_huge_record_keeps_the_positional_limits() -> None:
    words = [f"w{i}" for i in range(MAX_POSITION + 100)]
    entry = build_entry(["Tiêu đề"], [" ".join(words), "cuối cùng"])
    assert len(entry.stream) == MAX_POSITION
    assert "cuoi" in entry.tail and "w16383" in entry.tail
    assert "w100" not in entry.tail  # already in the stream
    assert "cuối" in entry.exact  # exact forms are kept past the limit

    repeated = build_entry([], ["ban " * 300])
    assert repeated.stream.count("ban") == MAX_POSITIONS_PER_LEXEME
    assert len(repeated.stream) == MAX_POSITIONS_PER_LEXEME  # dropped ones at the end trimmed

    again = build_entry([], ["ban " * 300 + "cuối"])
    assert again.stream[MAX_POSITIONS_PER_LEXEME] is None  # same position, no token
    assert again.stream[-1] == "cuoi" and len(again.stream) == 301


def test_snippets_mark_escape_and_give_the_page() -> None:
    query = parse_query("quyết định")
    assert query is not None
    pages = [
        (1, "Trang đầu không có gì."),
        (2, 'Lời mở đầu <b>đậm</b> & "trích"\n\nQUYẾT   ĐỊNH số 12 về quyet dinh khác'),
    ]
    [snippet] = snippets(pages, query)
    assert snippet.page == 2
    assert "<mark>QUYẾT ĐỊNH</mark>" in snippet.html  # spaces collapsed, one mark
    assert "<mark>quyet dinh</mark>" in snippet.html
    assert "&lt;b&gt;đậm&lt;/b&gt; &amp; &quot;trích&quot;" in snippet.html
    assert "<b>" not in snippet.html


def test_snippets_of_a_page_holding_the_characters_marks_stand_in_for() -> None:
    """Snippets are made with two private-use characters standing for the marks; a page
    that has them itself (a font without a Unicode map) gets the same snippet as without."""
    query = parse_query("quyết định")
    assert query is not None
    plain = "Lời mở đầu <b>đậm</b>\n\nQUYẾT   ĐỊNH số 12 về  quyet dinh khác"
    for odd in ("\ue000", "\ue001", "\ue000\ue001"):
        [snippet] = snippets([(1, plain.replace("số", "số" + odd))], query)
        [expected] = snippets([(1, plain.replace("số", "số" + "x" * len(odd)))], query)
        assert snippet.html == expected.html.replace("x" * len(odd), odd)
        assert snippet.html.count("<mark>") == 2 and odd in snippet.html


def test_snippet_is_a_window_with_ellipses() -> None:
    query = parse_query("kh-ubnd")
    assert query is not None
    text = "mở đầu " * 100 + "Kế hoạch 251/KH-UBND ngày 29/5/2023 " + "kết thúc " * 100
    [snippet] = snippets([(3, text)], query)
    assert snippet.html.startswith("…") and snippet.html.endswith("…")
    assert "251/<mark>KH-UBND</mark>" in snippet.html
    assert len(snippet.html) < 400


def test_snippets_prefer_pages_with_more_words() -> None:
    query = parse_query("ngân sách năm")
    assert query is not None
    pages = [(1, "ngân hàng"), (2, "ngân sách và năm tài chính"), (3, "sách"), (4, "không")]
    found = snippets(pages, query)
    assert [s.page for s in found] == [2, 1, 3]


def test_snippets_read_unfolded_text_as_folded_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snippets look for the words in the page as it is when folding keeps one character
    for one; the result must be what folding the page first gives."""
    rng = random.Random(8)
    words = [*VIETNAMESE.split(), "Ðảng", "ĐẢNG", "đang", "dang", "Dâng", "ǅ", "İ"]
    pages = [(n, " ".join(rng.choice(words) for _ in range(60))) for n in range(1, 6)]
    queries = ["dang", "Đảng ủy", "quyet dinh", "cong nghe thong tin", "i", "251/qđ-ubnd"]
    queries += ["dân dang d đ", "i in ich", "251 25 1"]  # words sharing a first character
    fast = [snippets(pages, parse_query(q)) for q in queries]  # type: ignore[arg-type]
    assert any(fast)
    monkeypatch.setattr(store.search.snippets, "_DROPPED", re.compile(r"[\s\S]"))  # always fold
    assert [snippets(pages, parse_query(q)) for q in queries] == fast  # type: ignore[arg-type]
    with_marks = [(1, unicodedata.normalize("NFD", "Quyết định") + " cua Đảng\u00ad ủy")]
    [snippet] = snippets(with_marks, parse_query("quyết định đảng ủy"))  # type: ignore[arg-type]
    assert snippet.html.count("<mark>") == 2


def test_snippets_stop_reading_once_the_best_pages_are_certain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reading stops after MAX_SNIPPETS pages with every word and exact form; the snippets
    are those of reading every page, on real administrative texts."""
    texts = [
        "\n".join(json.loads(line)["paragraphs"])
        for line in (Path(__file__).parents[2] / "data" / "corpus_sample.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()[:60]
    ]
    documents = [
        [(n + 1, text[i : i + 1500]) for n, i in enumerate(range(0, len(text), 1500))]
        for text in texts
    ]
    queries = ["quyết định", "ủy ban nhân dân", "dat dai", "ke hoach", "Điều", "năm", "ubnd"]
    early = [[snippets(doc, parse_query(q)) for doc in documents] for q in queries]  # type: ignore[arg-type]
    assert sum(len(s) == MAX_SNIPPETS for per_query in early for s in per_query) > 10
    monkeypatch.setattr(store.search.snippets, "_STOP_EARLY", False)
    every = [[snippets(doc, parse_query(q)) for doc in documents] for q in queries]  # type: ignore[arg-type]
    assert early == every
