"""What a member of staff does through the pages, in the spirit of flaskr's `AuthActions`:
sign in (as a role), sign out, issue a ticket at the desk, look a ticket up, read its quote,
pay. Used through the `actions` and `desk` fixtures (tests/conftest.py)."""
from __future__ import annotations

from tests.helpers.web import HTMX, PASSWORD, csrf_token, sign_in, soup


class StaffActions:
    """A test client used by one member of staff, through the real forms (CSRF token and all)."""

    def __init__(self, client, make_user=None) -> None:
        self.client = client
        self._make_user = make_user
        self.token = ""  # the session's CSRF token, read from the desk after signing in
        self.garage = "main"  # the slug of the garage whose desk the forms are posted to

    def sign_in(self, username: str = "ann", role: str | None = "attendant", password: str = PASSWORD):
        """Sign in through /login; with a `role`, the user is created first."""
        if role is not None:
            self._make_user(username, role, password)
        r = sign_in(self.client, username, password)
        assert r.status_code == 303, r.get_data(as_text=True)
        self.token = csrf_token(self.client, self.url("/desk"))
        return r

    def url(self, path: str) -> str:
        """`path` (a page's URL of before stage 2, "/desk/...") in this desk's garage."""
        return f"/g/{self.garage}{path}"

    def sign_out(self):
        r = self.client.post("/logout", data={"csrf_token": self.token})
        self.token = ""
        return r

    def enter(self, plate: str, vehicle_type: str | None = "Car", htmx: bool = False):
        """Post the desk's entry form."""
        data = {"plate": plate, "csrf_token": self.token}
        if vehicle_type is not None:
            data["vehicle_type"] = vehicle_type
        return self.client.post(self.url("/desk/entries"), data=data, headers=HTMX if htmx else {})

    def issue(self, plate: str, vehicle_type: str = "Car") -> str:
        """Issue a ticket at the desk; returns its number."""
        r = self.enter(plate, vehicle_type)
        assert r.status_code == 303, r.get_data(as_text=True)
        return r.headers["Location"].rsplit("/", 1)[1]

    def lookup(self, query: str, lost: bool = False, htmx: bool = False):
        """Look a ticket up at the desk's exit (by number or plate)."""
        params = {"q": query, **({"lost": "1"} if lost else {})}
        return self.client.get(self.url("/desk/exit"), query_string=params, headers=HTMX if htmx else {})

    def quote(self, query: str, lost: bool = False) -> int:
        """The amount (cents) the exit form asks for."""
        return quoted_amount(soup(self.lookup(query, lost=lost)))

    def pay(self, number: str, method: str | None = "Cash", expected: int | str | None = None,
            lost: bool = False, htmx: bool = False):
        """Post the exit form: pay `expected` (the quoted amount) with `method`."""
        data = {"csrf_token": self.token}
        if method is not None:
            data["payment_method"] = method
        if expected is not None:
            data["expected_amount"] = str(expected)
        if lost:
            data["lost"] = "1"
        return self.client.post(self.url(f"/desk/tickets/{number}/exit"), data=data, headers=HTMX if htmx else {})


def quoted_amount(page) -> int:
    """The amount (cents) in a parsed exit form."""
    return int(page.select_one('#exit input[name="expected_amount"]')["value"])
