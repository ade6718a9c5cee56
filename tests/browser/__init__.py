"""Real Chromium (Playwright) against gunicorn on PostgreSQL: htmx, the CSP, screenshots."""
