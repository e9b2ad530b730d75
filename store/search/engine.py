"""Full-text search over records that ignores diacritics and case, the same on PostgreSQL and
SQLite.

Folding happens here, in Python, the same way for the index and for the query, so both
databases see the same tokens and give the same results:

* `fold` turns text into lower case without diacritics (`Quyết Định` → `quyet dinh`,
  `Đ`/`đ` → `d`), one character for one character; combining marks and invisible format
  characters are dropped (`fold_with_offsets` maps positions back, for highlighting).
* A token is a run of letters and digits of the folded text (`251/KH-UBND` → `251 kh ubnd`),
  cut at `MAX_TOKEN_CHARS`.
* A token's *exact* form is its lower case with the diacritics kept (`quyết`). Each document
  stores the exact forms that carry diacritics, so that records having the very words a
  query was typed with rank first.

What one searchable record stores (digitized or needs_review; a failed or queued record has
nothing to search), built by `build_entry`:

* `stream`: the folded tokens in order, at positions 1, 2, …: the metadata fields (number,
  type, subject, issuer, signer, …, file name, dossier) then every page, with one empty
  position between two fields or pages so that a phrase never spans them;
* `meta`: the metadata part of the stream alone (for ranking);
* `tail`: tokens found beyond PostgreSQL's positional limits (16,383 positions, 256 per
  word), which both databases keep as words only (not usable in a phrase);
* `exact`: the exact forms with diacritics.

PostgreSQL keeps them as `tsvector`s typed in as literals (no text-search parser, dictionary
or locale of the server is involved), with a GIN index on the stream; SQLite keeps them in an
FTS5 table with the `ascii` tokenizer, which reads the written streams back token for token.
Neither `unaccent` nor `pg_trgm` is needed.

Query (`parse_query`): every term must be found, in the text or the metadata. A term is a word,
or a phrase: text in double quotes, or a word that punctuation splits (`kh-ubnd`,
`251/KH-UBND`). Nothing the user types is syntax for either database.

Order (`ranked_block`): the matches, newest first (id descending), are cut into blocks of
`RANK_WINDOW` (100), and each block is shown ranked: first the records where every query
word typed with diacritics is found in exactly that form (a word typed without them matches
any form), then the records where every term is found in the metadata, then the newest. This
is how the ranking is bounded: its per-record checks (exact forms, metadata) read only the
records of one block, so 50,000 matches cost what 100 do. Finding a block on PostgreSQL: when
the query's rarest word is common enough for the newest `RECENT_SLICE` records (or ten times
as many) to fill it, those records first, newest first, read with the primary key and the
GIN index together, so that only the slice's matches are read; for what is left, the GIN
index over the older records. The choice (from ANALYZE statistics) only changes the cost,
never the result.
"""

from __future__ import annotations

import html
import itertools
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal_column,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from schemas.record import Status
from store.platform.models import DocumentRow, PageRow
from store.platform.steps import Database, Read, Steps

#: statuses whose records have content to search
SEARCHABLE = (Status.digitized.value, Status.needs_review.value)
#: a longer token is cut to this many characters (index and query alike)
MAX_TOKEN_CHARS = 64
#: a longer query is refused by the API
MAX_QUERY_CHARS = 500
#: tokens of a query beyond this many are ignored
MAX_QUERY_TOKENS = 16
#: PostgreSQL's tsvector limits, applied to both databases
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 256
#: bytes of one record's index entry (a tsvector can hold at most 1 MB)
MAX_ENTRY_BYTES = 900_000
#: metadata fields longer than this are cut before indexing
MAX_FIELD_CHARS = 2000
#: matches ranked together (see the module docstring)
RANK_WINDOW = 100
#: newest records a block is first looked for in, by primary key (PostgreSQL)
RECENT_SLICE = 1000
#: the second slice is this many times as wide as the first
WIDE_SLICE_FACTOR = 10
#: pages and characters read per record to find snippets
SNIPPET_PAGES = 50
SNIPPET_CHARS = 200_000
MAX_SNIPPETS = 3

# --------------------------------------------------------------------------------------------
# Folding


def _lower_char(ch: str) -> str:
    """Lower case of one character, as one character that is alphanumeric exactly when `ch`
    is (else `ch` itself), so that case never moves a token boundary."""
    lower = ch.lower()
    return lower if len(lower) == 1 and lower.isalnum() == ch.isalnum() else ch


def _fold_char(ch: str) -> str | None:
    """The folded form of one character: None to drop it, else exactly one character."""
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):  # combining marks, zero-width, soft hyphen
        return None
    lower = _lower_char(ch)
    base = [c for c in unicodedata.normalize("NFD", lower) if not unicodedata.combining(c)]
    out = _lower_char(base[0]) if len(base) == 1 else lower
    if out in ("đ", "ð"):  # đ has no decomposition; ð is a common stand-in for it
        out = "d"
    if out.isalnum() != lower.isalnum():
        out = lower  # folding must not move token boundaries (see _segment)
    return out


class _FoldTable(dict[int, str | None]):
    """A `str.translate` table filled on first use of each character."""

    def __missing__(self, code: int) -> str | None:
        value = _fold_char(chr(code))
        self[code] = value
        return value


class _LowerTable(dict[int, str]):
    def __missing__(self, code: int) -> str:
        value = _lower_char(chr(code))
        self[code] = value
        return value


_FOLD = _FoldTable()
_LOWER = _LowerTable()


def fold(value: str) -> str:
    """Lower case without diacritics: `Quyết Định` → `quyet dinh`, `Đ` → `d`."""
    if value.isascii():
        return value.lower()
    return value.translate(_FOLD)


def fold_with_offsets(value: str) -> tuple[str, list[int] | None]:
    """`fold(value)`, and for each folded character its index in `value`.

    The offsets are None when folding kept one character for each character (text in NFC
    without stray combining marks, the usual case): then the indexes are the same.
    """
    folded = fold(value)
    if len(folded) == len(value):
        return folded, None
    return folded, [i for i, ch in enumerate(value) if _FOLD[ord(ch)] is not None]


def exact_form(value: str) -> str:
    """Lower case with the diacritics kept (NFC), without invisible characters."""
    lower = value.translate(_LOWER)
    if not lower.isascii():
        lower = "".join(ch for ch in lower if unicodedata.category(ch) != "Cf")
        lower = unicodedata.normalize("NFC", lower)
    return lower[:MAX_TOKEN_CHARS]


# --------------------------------------------------------------------------------------------
# Tokens

#: letters and digits (str.isalnum); everything else separates tokens
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Token:
    folded: str
    #: the exact form when it differs from the folded one (it carries diacritics), else None
    exact: str | None
    #: span in the original text
    start: int
    end: int


def tokenize(value: str) -> list[Token]:
    """Tokens of `value` with their exact forms and their spans in `value`."""
    folded, offsets = fold_with_offsets(value)
    tokens = []
    for match in _WORD.finditer(folded):
        start, end = match.span()
        if offsets is not None:
            start = offsets[start]
            end = offsets[end] if end < len(offsets) else len(value)
        word = match.group()[:MAX_TOKEN_CHARS]
        exact = None
        if not value[start:end].isascii():
            form = exact_form(value[start:end])
            exact = form if form != word else None
        tokens.append(Token(word, exact, start, end))
    return tokens


def _cut(words: list[str]) -> list[str]:
    if words and max(map(len, words)) > MAX_TOKEN_CHARS:
        return [w[:MAX_TOKEN_CHARS] for w in words]
    return words


def _segment(value: str) -> tuple[list[str], list[str]]:
    """(folded tokens, exact forms that differ from them) of one field or page, fast."""
    if value.isascii():
        return _cut(_WORD.findall(value.lower())), []
    folded = value.translate(_FOLD)
    if len(folded) == len(value):
        # one character for one, and folding keeps token boundaries (_fold_char): the tokens
        # of the lower-cased text are the exact forms of the folded tokens, in order
        words = _cut(_WORD.findall(folded))
        lowered = _cut(_WORD.findall(value.translate(_LOWER)))
        if len(lowered) == len(words):
            return words, [e for w, e in zip(words, lowered, strict=True) if e != w]
    tokens = tokenize(value)
    return [t.folded for t in tokens], [t.exact for t in tokens if t.exact]


# --------------------------------------------------------------------------------------------
# Query


@dataclass(frozen=True)
class Term:
    """A word, or a phrase of consecutive words (folded)."""

    tokens: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.tokens) > 1


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...]
    #: exact forms of the query words typed with diacritics (for ranking)
    exact: tuple[str, ...]

    @property
    def words(self) -> set[str]:
        return {t for term in self.terms for t in term.tokens}


def parse_query(q: str) -> SearchQuery | None:
    """The terms of a query, or None when it has no word to look for.

    Text inside double quotes is a phrase; outside, each space-separated chunk is a term
    (a phrase when punctuation splits it, as in `251/KH-UBND`). Operators and quotes of
    FTS5 or tsquery are only separators here. At most `MAX_QUERY_TOKENS` tokens count.
    """
    parts = q[:MAX_QUERY_CHARS].split('"')
    if len(parts) % 2 == 0:  # an odd number of quotes: the last one opens nothing
        last = parts.pop()
        parts[-1] += " " + last
    chunks: list[list[Token]] = []
    for i, part in enumerate(parts):
        if i % 2:
            chunks.append(tokenize(part))
        else:
            chunks.extend(tokenize(chunk) for chunk in part.split())
    terms: list[Term] = []
    exact: list[str] = []
    budget = MAX_QUERY_TOKENS
    for chunk in chunks:
        chunk = chunk[:budget]
        if not chunk:
            continue
        term = Term(tuple(t.folded for t in chunk))
        if term in terms:
            continue
        terms.append(term)
        budget -= len(chunk)
        exact.extend(t.exact for t in chunk if t.exact and t.exact not in exact)
        if budget <= 0:
            break
    if not terms:
        return None
    return SearchQuery(tuple(terms), tuple(exact))


# --------------------------------------------------------------------------------------------
# Index entries

#: in FTS5 columns, an empty position (between fields, or a dropped occurrence): a token
#: character of the `ascii` tokenizer that no text or query ever yields as a token
GAP = "\u00b6"


@dataclass
class IndexEntry:
    """What one record contributes to the index (the same for both databases)."""

    #: folded tokens, metadata first; None is an empty position
    stream: list[str | None] = field(default_factory=list)
    #: the metadata part of the stream alone
    meta: list[str | None] = field(default_factory=list)
    #: tokens only found past the positional limits (words, not phrases)
    tail: list[str] = field(default_factory=list)
    #: exact forms with diacritics
    exact: list[str] = field(default_factory=list)


def metadata_fields(
    document: dict[str, Any] | None,
    archive: dict[str, Any] | None,
    filename: str | None,
    dossier: str | None,
) -> list[str]:
    """The metadata search looks at, in a fixed order."""
    info = document or {}
    values: list[Any] = [
        info.get("number"),
        info.get("type_label"),
        info.get("subject"),
        info.get("issuer"),
        info.get("signer"),
        info.get("signer_title"),
        info.get("place"),
        filename,
        dossier,
        *((archive or {}).get("keywords") or []),
    ]
    return [str(v)[:MAX_FIELD_CHARS] for v in values if v]


def build_entry(fields: Sequence[str], pages: Iterable[str]) -> IndexEntry:
    """The index entry of a record with metadata `fields` and page texts `pages`."""
    segments: list[tuple[list[str], list[str]]] = []
    total = 0
    rest = iter(pages)
    for value in itertools.chain(fields, rest):
        segments.append(_segment(value))
        total += len(segments[-1][0]) + 1
        if total > MAX_POSITION:  # a long record: the rest is read page by page
            return _build_bounded(itertools.chain(segments, map(_segment, rest)), len(fields))
    entry = IndexEntry()
    exact: list[str] = []
    for index, (words, forms) in enumerate(segments):
        if not words:
            continue
        if entry.stream:
            entry.stream.append(None)
            if index < len(fields):
                entry.meta.append(None)
        entry.stream.extend(words)
        if index < len(fields):
            entry.meta.extend(words)
        exact.extend(forms)
    entry.exact = list(dict.fromkeys(exact))
    counts = Counter(entry.stream)
    counts.pop(None, None)
    size = 2 * len(entry.stream) + sum(len(w.encode()) + 6 for w in counts if w is not None)
    size += sum(len(e.encode()) + 6 for e in entry.exact)
    if max(counts.values(), default=0) <= MAX_POSITIONS_PER_LEXEME and size <= MAX_ENTRY_BYTES:
        return entry
    return _build_bounded(iter(segments), len(fields))


def _build_bounded(segments: Iterator[tuple[list[str], list[str]]], n_meta: int) -> IndexEntry:
    """`build_entry` for a record past a limit, in the same order: token by token until the
    positions are used up, then only the words and exact forms not seen yet."""
    entry = IndexEntry()
    seen: set[str] = set()
    exact_seen: set[str] = set()
    counts: dict[str, int] = {}
    budget = MAX_ENTRY_BYTES
    for index, (words, forms) in enumerate(segments):
        if budget <= 0:
            break
        is_meta = index < n_meta
        if not words:
            continue
        if len(entry.stream) >= MAX_POSITION:  # words only, in order of first appearance
            for word in dict.fromkeys(words):
                if word not in seen:
                    budget -= len(word.encode()) + 6
                    if budget <= 0:
                        break
                    seen.add(word)
                    entry.tail.append(word)
        else:
            if entry.stream:
                entry.stream.append(None)
                if is_meta:
                    entry.meta.append(None)
            for word in words:
                if word not in seen:
                    budget -= len(word.encode()) + 6
                    if budget <= 0:
                        break
                    seen.add(word)
                    if len(entry.stream) >= MAX_POSITION:
                        entry.tail.append(word)
                if len(entry.stream) < MAX_POSITION:
                    budget -= 2
                    counts[word] = count = counts.get(word, 0) + 1
                    kept = word if count <= MAX_POSITIONS_PER_LEXEME else None
                    entry.stream.append(kept)
                    if is_meta:
                        entry.meta.append(kept)
        for form in dict.fromkeys(forms):
            if form not in exact_seen and budget > 0:
                budget -= len(form.encode()) + 6
                exact_seen.add(form)
                entry.exact.append(form)
    for stream in (entry.stream, entry.meta):
        while stream and stream[-1] is None:
            stream.pop()
    return entry


# --------------------------------------------------------------------------------------------
# Rendering for each database


def _quote(lexeme: str) -> str:
    if "'" in lexeme or "\\" in lexeme:
        lexeme = lexeme.replace("\\", "\\\\").replace("'", "''")
    return "'" + lexeme + "'"


_POSITIONS = [str(i) for i in range(MAX_POSITION + 1)]


def tsvector_literal(stream: Sequence[str | None], extra: Iterable[str] = ()) -> str:
    """A tsvector literal: each token of `stream` at its position (from 1), then `extra`
    lexemes without positions (PostgreSQL never matches those in a phrase)."""
    positions: dict[str, list[str]] = {}
    for i, word in enumerate(stream, start=1):
        if word is not None:
            at = positions.get(word)
            if at is None:
                positions[word] = [_POSITIONS[i]]
            else:
                at.append(_POSITIONS[i])
    words = [w for w in extra if w not in positions]
    parts = [f"'{w}':{','.join(p)}" for w, p in positions.items()]
    parts.extend(f"'{w}'" for w in words)
    literal = " ".join(parts)
    if "\\" in literal or literal.count("'") != 2 * len(parts):  # never from our tokens
        parts = [f"{_quote(w)}:{','.join(p)}" for w, p in positions.items()]
        parts.extend(_quote(w) for w in words)
        literal = " ".join(parts)
    return literal


def fts_text(stream: Sequence[str | None]) -> str:
    """An FTS5 column value: one token per position, `GAP` for an empty one."""
    return " ".join(GAP if w is None else w for w in stream)


def tsquery_literal(query: SearchQuery) -> str:
    """Every term of the query, as a tsquery literal (a phrase with `<->`)."""
    parts = []
    for term in query.terms:
        if term.is_phrase:
            parts.append("(" + " <-> ".join(_quote(t) for t in term.tokens) + ")")
        else:
            parts.append(_quote(term.tokens[0]))
    return " & ".join(parts)


def exact_tsquery_literal(query: SearchQuery) -> str:
    return " & ".join(_quote(e) for e in query.exact)


def fts_match(query: SearchQuery, *, meta: bool = False) -> str:
    """Every term of the query as an FTS5 expression: in the whole record (words also in the
    tail, phrases only in the positional stream), or with `meta` in the metadata. Every
    token is quoted, so nothing of the user's text is FTS5 syntax."""
    parts = []
    for term in query.terms:
        columns = "meta" if meta else "stream" if term.is_phrase else "{stream tail}"
        parts.append(f'{columns} : "{" ".join(term.tokens)}"')
    return " AND ".join(parts)


def fts_exact_match(query: SearchQuery) -> str:
    return " AND ".join(f'exact : "{e}"' for e in query.exact)


def _ts_match(tsvector: ColumnElement[Any], parameter: str) -> ColumnElement[bool]:
    """`tsvector @@ CAST(:parameter AS tsquery)`: the query (a tsquery literal) a value."""
    return tsvector.op("@@", return_type=Boolean)(cast(bindparam(parameter, type_=String), TSQUERY))


# --------------------------------------------------------------------------------------------
# The index in the database

_PG = table(
    "search_docs",
    column("document_id", String),
    column("tsv", TSVECTOR),
    column("meta", TSVECTOR),
    column("exact", TSVECTOR),
)
_LITE = table("search_docs", column("id", Integer), column("document_id", String))

#: the GIN index of the stream: no pending list, so a search never scans unmerged entries
PG_STREAM_INDEX = (
    "CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv) WITH (fastupdate = off)"
)

_PG_UPSERT = text(
    "INSERT INTO search_docs (document_id, tsv, meta, exact) VALUES (:id, CAST(:tsv AS "
    "tsvector), CAST(:meta AS tsvector), CAST(:exact AS tsvector)) ON CONFLICT (document_id) "
    "DO UPDATE SET tsv = EXCLUDED.tsv, meta = EXCLUDED.meta, exact = EXCLUDED.exact"
)
_FTS_INSERT = text(
    "INSERT INTO search_fts (rowid, meta, stream, tail, exact) "
    "VALUES (:rowid, :meta, :stream, :tail, :exact)"
)


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def index_document(session: Session, document_id: str) -> None:
    """Bring the index entry of one record up to date, in the caller's transaction.

    Called by `store.records.events.record_changed` on every change of a record; a record that
    is not digitized or needs_review (any more) leaves the index.
    """
    doc = session.get(DocumentRow, document_id)
    if doc is None or doc.status not in SEARCHABLE:
        _remove(session, document_id)
        return
    pages = session.scalars(
        select(PageRow.text).where(PageRow.document_id == document_id).order_by(PageRow.number)
    ).all()
    fields = metadata_fields(doc.document, doc.archive, doc.filename, doc.dossier)
    _write(session, [(document_id, build_entry(fields, pages))], fresh=False)


def _remove(session: Session, document_id: str) -> None:
    if _is_pg(session):
        session.execute(delete(_PG).where(_PG.c.document_id == document_id))
        return
    rowid = session.scalar(select(_LITE.c.id).where(_LITE.c.document_id == document_id))
    if rowid is not None:
        session.execute(text("DELETE FROM search_fts WHERE rowid = :r"), {"r": rowid})
        session.execute(delete(_LITE).where(_LITE.c.id == rowid))


def _write(session: Session, entries: list[tuple[str, IndexEntry]], *, fresh: bool) -> None:
    """Store entries; `fresh` when none of them is in the index yet (a rebuild)."""
    if not entries:
        return
    if _is_pg(session):
        session.execute(
            _PG_UPSERT,
            [
                {
                    "id": doc_id,
                    "tsv": tsvector_literal(e.stream, e.tail),
                    "meta": tsvector_literal(e.meta),
                    "exact": tsvector_literal((), e.exact),
                }
                for doc_id, e in entries
            ],
        )
        return
    rows = []
    for doc_id, entry in entries:
        rowid = None
        if not fresh:
            rowid = session.scalar(select(_LITE.c.id).where(_LITE.c.document_id == doc_id))
        if rowid is None:
            rowid = session.execute(
                text("INSERT INTO search_docs (document_id) VALUES (:d) RETURNING id"),
                {"d": doc_id},
            ).scalar_one()
        if not fresh:  # also an entry left behind by a record deleted with its row
            session.execute(text("DELETE FROM search_fts WHERE rowid = :r"), {"r": rowid})
        rows.append(
            {
                "rowid": rowid,
                "meta": fts_text(entry.meta),
                "stream": fts_text(entry.stream),
                "tail": " ".join(entry.tail),
                "exact": " ".join(entry.exact),
            }
        )
    session.execute(_FTS_INSERT, rows)


def reindex_all(session: Session, batch: int = 500) -> int:
    """Rebuild the whole index from the records (in the caller's transaction); the number of
    records indexed. Searches wait for it to commit: on PostgreSQL the table is truncated
    and its GIN index built again after the rows are in, which is much faster than keeping
    it up to date row by row."""
    pg = _is_pg(session)
    if pg:
        session.execute(text("TRUNCATE search_docs"))
        session.execute(text("DROP INDEX IF EXISTS ix_search_docs_tsv"))
    else:
        session.execute(text("DELETE FROM search_fts"))
        session.execute(delete(_LITE))
    total = 0
    after = ""
    while True:
        docs = session.execute(
            select(
                DocumentRow.id,
                DocumentRow.document,
                DocumentRow.archive,
                DocumentRow.filename,
                DocumentRow.dossier,
            )
            .where(DocumentRow.status.in_(SEARCHABLE), DocumentRow.id > after)
            .order_by(DocumentRow.id)
            .limit(batch)
        ).all()
        if not docs:
            break
        pages: dict[str, list[str]] = {d.id: [] for d in docs}
        for doc_id, page_text in session.execute(
            select(PageRow.document_id, PageRow.text)
            .where(PageRow.document_id.in_(list(pages)))
            .order_by(PageRow.document_id, PageRow.number)
        ):
            pages[doc_id].append(page_text)
        entries = [(d.id, build_entry(metadata_fields(*d[1:]), pages[d.id])) for d in docs]
        _write(session, entries, fresh=True)
        total += len(docs)
        after = docs[-1].id
    if pg:
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        session.execute(text(PG_STREAM_INDEX))
        session.execute(text("ANALYZE search_docs"))
    return total


# --------------------------------------------------------------------------------------------
# Finding and ranking
#
# A search reads in several statements, each chosen from what the last returned: written as
# steps (`store.platform.steps`), run in a thread on a session's connection or from the event loop.
# Statements are built once per shape (which clauses, which bounds) and take their values as
# parameters, so SQLAlchemy, psycopg and PostgreSQL each reuse their compiled forms.

#: settings a search's statements run with on PostgreSQL: in the transaction of a threaded
#: search, or as the settings of the event loop's search connections. Sequential scans off:
#: PostgreSQL's estimates leave out reading each tsvector, and a sequential scan over them is
#: ruinous always; what a search runs besides (ranking bits, rows and pages by id) is read
#: by index either way.
SEARCH_SETTINGS = {"enable_seqscan": "off"}


@dataclass(frozen=True, eq=False)
class Where:
    """What a search keeps to, as clauses on `documents` (the visibility rule, the filters)
    made once per shape, with the values of their parameters."""

    clauses: tuple[ColumnElement[bool], ...]
    values: dict[str, Any]


@dataclass(frozen=True)
class Ranked:
    id: str
    #: 0 exact and in the metadata, 1 exact, 2 in the metadata, 3 the rest
    tier: int


@dataclass(frozen=True)
class Block:
    """Up to `RANK_WINDOW` matches, in the order they are shown."""

    members: list[Ranked]
    #: where the next block starts (an inclusive upper bound of ids), None after the last
    next_hi: str | None


def ranked_block(db: Database, query: SearchQuery, where: Where, hi: str | None) -> Steps[Block]:
    """The newest `RANK_WINDOW` records matching `query` and `where` with ids up to `hi`, in
    ranked order. On PostgreSQL, run with `SEARCH_SETTINGS`."""
    ids = yield from _candidates(db, query, where, hi, RANK_WINDOW + 1)
    next_hi = ids[RANK_WINDOW] if len(ids) > RANK_WINDOW else None
    ids = ids[:RANK_WINDOW]
    exact, meta = yield from _bits(db, query, ids)
    members = [Ranked(i, (0 if i in exact else 2) + (0 if i in meta else 1)) for i in ids]
    members.sort(key=lambda m: m.tier)  # stable: newest first within a tier
    return Block(members, next_hi)


def ids_in(postgres: bool, key: ColumnElement[str]) -> ColumnElement[bool]:
    """`key IN :ids`, the parameter's value from `id_values`. On PostgreSQL one parameter,
    so the statement's text does not change with the number of ids and the compiled forms
    (SQLAlchemy's, psycopg's, the server's prepared plan) are reused instead of made again
    per search: the ids in one string, split by the server (psycopg formats a list of
    strings as an array in Python, ~3 µs an id: a tenth of a search's CPU)."""
    if postgres:
        return key == any_(func.string_to_array(bindparam("ids", type_=String), " "))
    return key.in_(bindparam("ids", expanding=True))


def id_values(postgres: bool, ids: Sequence[str]) -> str | list[str]:
    """The value of `ids_in`'s parameter for `ids` (record ids: letters and digits)."""
    if not postgres:
        return list(ids)
    joined = " ".join(ids)
    if joined.count(" ") != max(len(ids) - 1, 0):
        raise ValueError("a record id with a space")
    return joined


def _candidates(
    db: Database, query: SearchQuery, where: Where, hi: str | None, n: int
) -> Steps[list[str]]:
    """Ids of the newest `n` matches up to `hi`, newest first."""
    clauses = tuple(c for c in where.clauses if not isinstance(c, True_))
    if not db.postgres:
        values = {**where.values, "m": fts_match(query), "n": n}
        if hi is not None:
            values["top"] = hi
        rows = yield Read(_lite_candidates(clauses, hi is not None), values)
        return [r[0] for r in rows]
    # PostgreSQL's estimates leave out reading each tsvector, which is most of the cost:
    # walking the primary key (newest first) is cheap while matches are dense and ruinous
    # when they are rare. So the plan is chosen here (`_slices`): slices of the newest
    # records first, the rest (or everything, for rare words) by the GIN index, sorted on an
    # expression the primary key cannot serve. Which way is taken never changes the result,
    # only its cost.
    values = {**where.values, "tsq": tsquery_literal(query)}
    ids: list[str] = []
    top = hi  # inclusive upper bound of what is left to look at
    for size, walk in (yield from _slices(db, query, n)):
        floor = yield from _floor(db, hi, size)
        if floor is not None and top is not None and floor >= top:
            continue  # (floors a few seconds apart in age) nothing new in this slice
        # dense: down the primary key until the block is full; sparse: the slice's
        # matches from the GIN index and the key's range together, then sorted
        stmt = _pg_slice(clauses, top is not None, floor is not None, walk)
        rows = yield Read(stmt, {**values, "top": top, "floor": floor, "n": n - len(ids)})
        ids.extend(r[0] for r in rows)
        if floor is None or len(ids) >= n:  # the slice held every record, or enough
            return ids
        top = floor
    if len(ids) < n:
        rows = yield Read(
            _pg_rest(clauses, top is not None), {**values, "top": top, "n": n - len(ids)}
        )
        ids.extend(r[0] for r in rows)
    return ids


#: the key as an expression the primary key's index cannot serve (see `_candidates`)
_unordered = literal_column("(search_docs.document_id || '')", String)


def _pg_matches(clauses: tuple[ColumnElement[bool], ...]) -> Select[Any]:
    key = _PG.c.document_id
    stmt = select(key).where(_ts_match(_PG.c.tsv, "tsq"))
    if clauses:  # the visibility rule and the filters; nothing to join for an unlimited caller
        stmt = stmt.join(DocumentRow, DocumentRow.id == key).where(*clauses)
    return stmt


@cache
def _pg_slice(
    clauses: tuple[ColumnElement[bool], ...], below_top: bool, above_floor: bool, walk: bool
) -> Select[Any]:
    key = _PG.c.document_id
    stmt = _pg_matches(clauses)
    if below_top:
        stmt = stmt.where(key <= bindparam("top", type_=String))
    if above_floor:
        stmt = stmt.where(key > bindparam("floor", type_=String))
    order = key.desc() if walk else _unordered.desc()
    return stmt.order_by(order).limit(bindparam("n", type_=Integer))


@cache
def _pg_rest(clauses: tuple[ColumnElement[bool], ...], below_top: bool) -> Select[Any]:
    stmt = _pg_matches(clauses)
    if below_top:
        stmt = stmt.where(_unordered <= bindparam("top", type_=String))
    return stmt.order_by(_unordered.desc()).limit(bindparam("n", type_=Integer))


@cache
def _lite_candidates(clauses: tuple[ColumnElement[bool], ...], below_top: bool) -> Select[Any]:
    fts = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :m")
    stmt = (
        select(DocumentRow.id)
        .join(_LITE, _LITE.c.document_id == DocumentRow.id)
        .where(_LITE.c.id.in_(fts.columns(column("rowid", Integer))), *clauses)
    )
    if below_top:
        stmt = stmt.where(DocumentRow.id <= bindparam("top", type_=String))
    return stmt.order_by(DocumentRow.id.desc()).limit(bindparam("n", type_=Integer))


def _slices(db: Database, query: SearchQuery, n: int) -> Steps[list[tuple[int, bool]]]:
    """How many of the newest records (below the bound) to look at before the GIN index
    takes the rest, and whether to walk them by primary key.

    The newest `RECENT_SLICE` records are walked when the query's words are common enough
    to fill the block there (the walk stops once it is full); the next, ten times as wide,
    when they are common enough to fill it there, or when the first slice fell short: not
    walked (a walk reads the tsvector of every record it passes, 3,000 of them for a rare
    phrase like `kh-ubnd`) but read through the GIN index within the slice's key range, so
    only the slice's matches are read."""
    density = yield from _density(db, query)
    wide = RECENT_SLICE * WIDE_SLICE_FACTOR
    if density * RECENT_SLICE >= n:
        return [(RECENT_SLICE, True), (wide, False)]
    if density * wide >= n:
        return [(wide, False)]
    return []


#: per database: (when read, frequency of the most common lexemes, frequency of the others)
_FREQUENCIES: dict[str, tuple[float, dict[str, float], float]] = {}
#: per database and slice size: (when read, the id below the newest records of that many)
_FLOORS: dict[tuple[str, int], tuple[float, str | None]] = {}
_STATS_SECONDS = 300.0
_FLOOR_SECONDS = 10.0

_LEXEME_STATS = text(
    "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats"
    " WHERE schemaname = current_schema() AND tablename = 'search_docs' AND attname = 'tsv'"
)
_FLOOR_ANY = (
    select(_PG.c.document_id)
    .order_by(_PG.c.document_id.desc())
    .offset(bindparam("size", type_=Integer))
    .limit(bindparam("one", type_=Integer))
)
_FLOOR_BELOW = _FLOOR_ANY.where(_PG.c.document_id <= bindparam("hi", type_=String))


def _density(db: Database, query: SearchQuery) -> Steps[float]:
    """At most how many records in one match `query`: as many as contain its rarest word
    (ANALYZE statistics; 1 when unknown)."""
    cached = _FREQUENCIES.get(db.key)
    if cached is None or time.monotonic() - cached[0] > _STATS_SECONDS:
        rows = yield Read(_LEXEME_STATS, {})
        if not rows or not rows[0][0]:
            cached = (time.monotonic(), {}, 1.0)
        else:
            freqs = dict(zip(rows[0][0], rows[0][1], strict=False))
            cached = (time.monotonic(), freqs, min(freqs.values()))
        _FREQUENCIES[db.key] = cached
    _, freqs, others = cached
    return min(freqs.get(w, others) for w in query.words)


def _floor(db: Database, hi: str | None, size: int) -> Steps[str | None]:
    """The id just below the newest `size` records up to `hi` (None: fewer records).

    Only where the work is split depends on it, so for the first block (`hi` None) a value a
    few seconds old does as well."""
    if hi is not None:
        rows = yield Read(_FLOOR_BELOW, {"hi": hi, "size": size, "one": 1})
        return rows[0][0] if rows else None
    key = (db.key, size)
    cached = _FLOORS.get(key)
    if cached is None or time.monotonic() - cached[0] > _FLOOR_SECONDS:
        rows = yield Read(_FLOOR_ANY, {"size": size, "one": 1})
        cached = (time.monotonic(), rows[0][0] if rows else None)
        _FLOORS[key] = cached
    return cached[1]


@cache
def _pg_bits(exact: bool) -> Select[Any]:
    exact_sql = _ts_match(_PG.c.exact, "exact_tsq") if exact else true()
    meta_sql = _ts_match(_PG.c.meta, "tsq")
    return select(_PG.c.document_id, exact_sql, meta_sql).where(ids_in(True, _PG.c.document_id))


_LITE_BITS = text(
    "SELECT s.document_id FROM search_docs s WHERE s.document_id IN :ids AND s.id IN "
    "(SELECT rowid FROM search_fts WHERE search_fts MATCH :m)"
).bindparams(bindparam("ids", expanding=True))


def _bits(db: Database, query: SearchQuery, ids: list[str]) -> Steps[tuple[set[str], set[str]]]:
    """(ids matching the exact forms, ids matching every term in the metadata)."""
    if not ids:
        return set(), set()
    if db.postgres:
        values = {"ids": id_values(True, ids), "tsq": tsquery_literal(query)}
        if query.exact:
            values["exact_tsq"] = exact_tsquery_literal(query)
        rows = yield Read(_pg_bits(bool(query.exact)), values)
        return {r[0] for r in rows if r[1]}, {r[0] for r in rows if r[2]}
    exact = set(ids)
    if query.exact:
        rows = yield Read(_LITE_BITS, {"ids": ids, "m": fts_exact_match(query)})
        exact = {r[0] for r in rows}
    rows = yield Read(_LITE_BITS, {"ids": ids, "m": fts_match(query, meta=True)})
    return exact, {r[0] for r in rows}


# --------------------------------------------------------------------------------------------
# Snippets


@dataclass(frozen=True)
class Snippet:
    page: int
    #: HTML: the text escaped, the matches in <mark>
    html: str


@lru_cache(maxsize=256)
def _highlighter(query: SearchQuery) -> re.Pattern[str]:
    """The query's words in folded text, not followed by a letter or digit (see
    `_whole_words` for the start)."""
    words = sorted(query.words, key=len, reverse=True)
    return re.compile(r"(?:" + "|".join(map(re.escape, words)) + r")(?![^\W_])")


def _whole_words(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    r"""Matches of `pattern` (words: letters and digits only) that start a word.

    The same as a `(?<![^\W_])` look-behind in the pattern, which would be tried at every
    position of the text and keep the regex engine from skipping ahead to the characters a
    word can start with (most of the cost of snippets). Nothing is missed: a match that does
    not start a word lies inside one, and no word starts before its end."""
    for match in pattern.finditer(text):
        start = match.start()
        if start == 0 or not text[start - 1].isalnum():
            yield match


#: folded character → every character that folds to it
_VARIANTS: dict[str, str] = {}
_DROPPED: re.Pattern[str] | None = None


@lru_cache(maxsize=256)
def _unfolding(query: SearchQuery) -> re.Pattern[str]:
    """The query's words in *unfolded* text (as `_highlighter`): each character stands for every
    character that folds to it (`d` for `[dDđĐðÐ]`). Right on text where folding keeps one
    character for one, which `_DROPPED` tells; it spares folding every page."""
    global _DROPPED
    if _DROPPED is None:
        variants: dict[str, list[str]] = {}
        dropped = []
        for code in range(0x10000):
            if 0xD800 <= code <= 0xDFFF:
                continue
            folded = _FOLD[code]
            if folded is None:
                dropped.append(chr(code))
            else:
                variants.setdefault(folded, []).append(chr(code))
        _VARIANTS.update({k: "".join(v) for k, v in variants.items()})
        _DROPPED = re.compile("[" + "".join(map(re.escape, dropped)) + "]")

    def one_of(variants: str) -> str:
        return "[" + "".join(map(re.escape, variants)) + "]"

    def chars(w: str) -> str:
        return "".join(one_of(_VARIANTS.get(c, c)) for c in w)

    # Written as [any first character](?:(?<=[first of word 1])rest of word 1|…): a pattern
    # that starts with one character class lets the regex engine skip ahead to the
    # characters a word can start with, where a choice of words, each starting with its own
    # class, is tried at every position of the page (measured: most of the cost of snippets)
    words = sorted(query.words, key=len, reverse=True)
    first = one_of("".join(sorted({c for w in words for c in _VARIANTS.get(w[0], w[0])})))
    alternatives = "|".join(f"(?<={chars(w[0])}){chars(w[1:])}" for w in words)
    return re.compile(f"{first}(?:{alternatives})(?![^\\W_])")


_JOIN_MARKS = re.compile(r"\s{1,10}|\s?[-/.]\s?")
_SPACES = re.compile(r"\s+")


#: stop reading pages once the best snippets are certain (off: read up to SNIPPET_CHARS)
_STOP_EARLY = True


def snippets(pages: Iterable[tuple[int, str]], query: SearchQuery) -> list[Snippet]:
    """Up to `MAX_SNIPPETS` pieces of the pages where the query's words are, best first:
    pages with more of the words (and their exact forms) before others."""
    pattern = _highlighter(query)
    unfolding = _unfolding(query)
    assert _DROPPED is not None
    # Pages come in order and ties go to the lower page number: once MAX_SNIPPETS pages have
    # every word and every exact form, no later page can take their place.
    best = (len(query.words), len(set(query.exact)))
    complete = 0
    found = []
    read = 0
    for number, page in pages:
        if read >= SNIPPET_CHARS:
            break
        page = page[: SNIPPET_CHARS - read]
        read += len(page)
        spans = []
        if _DROPPED.search(page) is None:  # one character for one: no need to fold
            for match in _whole_words(unfolding, page):
                spans.append((match.start(), match.end(), fold(match.group())))
        else:
            folded, offsets = fold_with_offsets(page)
            for match in _whole_words(pattern, folded):
                start, end = match.span()
                if offsets is not None:
                    start = offsets[start]
                    end = offsets[end] if end < len(offsets) else len(page)
                spans.append((start, end, match.group()))
        if not spans:
            continue
        exact = []
        forms = set()
        if query.exact:
            for span in spans:
                word = page[span[0] : span[1]]
                if not word.isascii():  # (the exact forms of a query carry diacritics)
                    form = exact_form(word)
                    if form in query.exact:
                        exact.append(span)
                        forms.add(form)
        score = (len({s[2] for s in spans}), len(forms))
        found.append((score, number, page, spans, exact))
        complete += score == best
        if complete == MAX_SNIPPETS and _STOP_EARLY:
            break
    found.sort(key=lambda f: (-f[0][0], -f[0][1], f[1]))
    return [
        Snippet(number, _render(page, spans, (exact or spans)[0][0]))
        for _, number, page, spans, exact in found[:MAX_SNIPPETS]
    ]


#: private-use characters standing for <mark> and </mark> while a snippet is made
_OPEN, _CLOSE = "\ue000", "\ue001"


def _render(page: str, spans: list[tuple[int, int, str]], anchor: int, width: int = 240) -> str:
    start = max(0, anchor - width // 3)
    if start:
        space = page.find(" ", start, anchor)
        start = space + 1 if space != -1 else start
    end = min(len(page), start + width)
    if end < len(page):
        space = page.rfind(" ", anchor, end)
        end = space if space > anchor else end
    marks: list[list[int]] = []
    for s, e, _ in spans:
        if s < start or e > end:
            continue
        if marks and _JOIN_MARKS.fullmatch(page[marks[-1][1] : s]):
            marks[-1][1] = e
        else:
            marks.append([s, e])
    parts = []
    at = start
    for s, e in marks:
        parts += (page[at:s], _OPEN, page[s:e], _CLOSE)
        at = e
    parts.append(page[at:end])
    window = "".join(parts)
    if window.count(_OPEN) == len(marks) and window.count(_CLOSE) == len(marks):
        # spaces squeezed and the text escaped in one pass (marks start and end on letters
        # or digits: no run of spaces crosses one)
        body = _plain(window).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
    else:  # the page itself holds those characters
        body = "".join(
            _plain(part) if i % 4 != 2 else "<mark>" + _plain(part) + "</mark>"
            for i, part in enumerate(parts)
            if i % 4 in (0, 2)
        )
    return (("…" if start else "") + body + ("…" if end < len(page) else "")).strip()


def _plain(value: str) -> str:
    return html.escape(_SPACES.sub(" ", value))
