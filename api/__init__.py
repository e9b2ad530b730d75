"""The REST API and web pages."""
