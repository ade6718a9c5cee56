"""Reading pages and using them as a browser would: parse (`soup`, `text`), the CSRF token,
sign in, post a form, and the headers htmx sends (`HTMX`)."""
from __future__ import annotations

from bs4 import BeautifulSoup, SoupStrainer

PASSWORD = "correct horse battery"
HTMX = {"HX-Request": "true"}  # what htmx adds to every request it makes
# The same parser reading the whole page, keeping only the CSRF fields: the tree of the rest of the page
# (a desk is tens of kB) was built on every sign-in and every form post, only to be thrown away.
_CSRF_FIELDS = SoupStrainer("input", attrs={"name": "csrf_token"})


def soup(page) -> BeautifulSoup:
    """A response (or its bytes or text) parsed as HTML."""
    if hasattr(page, "get_data"):
        page = page.get_data(as_text=True)
    return BeautifulSoup(page, "html.parser")


def text(page) -> str:
    """The visible text of a response or of a parsed node, whitespace collapsed ("" for None)."""
    if page is None:
        return ""
    node = page if hasattr(page, "get_text") else soup(page)
    return " ".join(node.get_text(" ").split())


def csrf_token(client, path: str = "/login") -> str:
    """The token a page hands out (hidden field), as a browser would read it."""
    page = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser", parse_only=_CSRF_FIELDS)
    field = page.find("input", attrs={"name": "csrf_token"})
    assert field is not None, f"no csrf_token field on {path}"
    return field["value"]


def sign_in(client, username: str, password: str = PASSWORD, next_url: str | None = None):
    form = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    if next_url is not None:
        form["next"] = next_url
    return client.post("/login", data=form)


def post_form(client, path: str, data: dict | None = None, htmx: bool = False, page: str | None = None):
    """POST a page's form with the CSRF token taken from `page` (default: the same path)."""
    token = csrf_token(client, page or path)
    headers = {**HTMX, "X-CSRFToken": token} if htmx else {}
    return client.post(path, data={**(data or {}), **({} if htmx else {"csrf_token": token})}, headers=headers)


def signed_in(app, make_user, username: str = "boss", role: str = "manager", ip: str | None = None):
    """A new test client (its own cookie jar) signed in as a new user."""
    make_user(username, role)
    client = app.test_client()
    if ip:
        client.environ_base["REMOTE_ADDR"] = ip
    response = sign_in(client, username)
    assert response.status_code == 303, text(response)
    return client
