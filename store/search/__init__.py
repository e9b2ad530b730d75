"""Full-text search over records: Vietnamese folding and tokens, the index kept in the same
transaction as the record, queries ranked on PostgreSQL or SQLite, and snippets."""
