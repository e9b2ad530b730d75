"""Webhook subscriptions and their outbox: an event row per subscriber in the record's own
transaction, delivered later by the worker."""
