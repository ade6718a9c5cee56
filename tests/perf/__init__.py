"""Statements per request: counts, bounds, reads once per request, autocommit on the hot paths."""
