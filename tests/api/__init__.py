"""The JSON API (/api) through the Flask test client, on SQLite and PostgreSQL."""
