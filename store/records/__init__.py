"""Records: a document's life from queued to digitized (claims, leases, attempts, pages),
what follows each change (filter columns, search index, webhook outbox), corrections and
review, who may see which record, and the reads and lists the API serves."""
