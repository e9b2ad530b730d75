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
