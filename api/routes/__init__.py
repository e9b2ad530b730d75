"""The REST API's routers, one module per domain (records, pages, batches, dossiers,
progress, webhooks, accounts and tokens, health and metadata)."""
