"""The staff and public pages (desk, lobby, reports, settings, staff, audit, sign-in) through
the Flask test client, on SQLite and PostgreSQL: full pages, htmx fragments and security."""
