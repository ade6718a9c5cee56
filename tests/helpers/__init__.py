"""Shared code for the tests (fixtures stay in conftest.py files):

- web: `soup`, `text`, `csrf_token`, `sign_in`, `post_form`, `signed_in`, `HTMX` (the htmx request headers)
- staff: `StaffActions` (sign in as a role, sign out, issue, look up, quote, pay at the desk)
- api: `enter`, `issue`, `quote`, `pay` through the JSON API
- db: `ticket`, `backdate`, `ticket_count`, `set_settings`, `audit_events`, `empty_tables`, `counting`
- postgres: `throwaway_postgres`; live: `LiveServer`, `migrated_postgres`, `gunicorn_server`, `call`
- seed_plan: the seed's test plan, also runnable against any server
"""
