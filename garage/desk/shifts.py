"""The desk's shift pages (issue 18): an attendant opens a shift with a float, sees its X report and
closes it with the counted cash (a total, or per denomination); the close-out prints on the 80 mm
printer and on A4 and is kept. Managers list the garage's shifts and reopen or adjust a closed one
with a reason. Real forms: 422 with the field's message, 303 after a change. Thin views: the
rules are garage/domain/shifts.py, the use cases garage/services/shifts.py."""
from __future__ import annotations

from typing import Any

from flask import make_response, redirect, render_template, request, url_for

from ..domain import shifts as drawer
from ..domain.errors import DomainError, InvalidInput
from ..domain.money import parse_money
from ..domain.roles import ROLE_MANAGER
from ..domain.inputs import parse_whole
from ..domain.words import _
from ..identity import caller_role, current_actor, current_garage, manager_required, staff_required
from ..services import shifts as shift_service
from ..web import framed_by_desk, next_page
from . import bp

# Form fields of the domain's (API) field names.
FIELDS = {"floatCents": "float", "countedCashCents": "counted", "countedByDenomination": "counted",
          "reason": "reason", "shift": "shift"}
AMOUNT_MESSAGE = _("Type an amount in dollars, e.g. 100 or 100.00")


def _manager() -> bool:
    return caller_role() == ROLE_MANAGER


def _dollars(raw: str | None, field: str) -> int:
    try:
        return parse_money(raw or "")
    except ValueError:
        raise InvalidInput(AMOUNT_MESSAGE, field=field) from None


def _count() -> dict[str, Any]:
    """The counted cash from the form: per denomination when any piece is counted, else the total."""
    pieces = {str(d): (request.form.get(f"count_{d}") or "").strip() for d in drawer.USD_DENOMINATIONS}
    if any(pieces.values()):
        return {"counted_by_denomination": {d: parse_whole(n, field="countedByDenomination", minimum=0,
                                                           maximum=drawer.MAX_PIECES, default=0,
                                                           label=_("The count of %(denomination)s",
                                                                   denomination=drawer.denomination_label(int(d))))
                                            for d, n in pieces.items()}}
    return {"counted_cents": _dollars(request.form.get("counted"), "countedCashCents")}


def _errors(exc: DomainError) -> dict[str, str]:
    return {FIELDS.get(exc.field or "", "shift"): exc.message}


def _page(template: str, status: int = 200, **context: Any):
    context.setdefault("errors", {})
    return make_response(render_template(template, DENOMINATIONS=drawer.USD_DENOMINATIONS,
                                         denomination_label=drawer.denomination_label,
                                         over_short_text=drawer.over_short_text, **context), status)


@bp.get("/shift")
@staff_required
def shift():
    """The caller's shift here: its X report and the close form, or the form that opens one.
    `next`: where opening it leads (the desk's payment that asked for a shift: its ticket's quote)."""
    try:
        report = shift_service.current_shift(current_garage(), current_actor())
    except DomainError:
        report = None
    return _page("desk/shift.html", report=report, next=next_page(request.args.get("next")))


@bp.post("/shift")
@staff_required
def open_shift():
    after = next_page(request.form.get("next"))  # a local path only (web.safe_next), else the shift page
    try:
        shift_service.open_shift(current_garage(), current_actor(),
                                 _dollars(request.form.get("float"), "floatCents"))
    except DomainError as exc:
        return _page("desk/shift.html", exc.status, report=None, errors=_errors(exc),
                     typed={"float": request.form.get("float", "")}, next=after)
    return redirect(after or url_for("desk.shift"), code=303)


@bp.post("/shifts/<shift_id>/close")
@staff_required
def close_shift(shift_id: str):
    garage, actor = current_garage(), current_actor()
    try:
        closed = shift_service.close_shift(garage, _id(shift_id), actor, manager=_manager(), **_count())
    except DomainError as exc:
        report = shift_service.get_shift(garage, _id(shift_id), actor, manager=_manager())  # 404: no such shift
        return _page("desk/shift.html", exc.status, report=report, errors=_errors(exc),
                     typed={k: v for k, v in request.form.items() if k != "csrf_token"})
    return redirect(url_for("desk.closeout", shift_id=closed.shift.id), code=303)


def _id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else None


@bp.get("/shifts/<shift_id>")
@staff_required
def closeout(shift_id: str):
    """A shift's page: its close-out once closed (printable on A4), its X report while open; for a
    manager, the reopen and adjust forms of a closed shift."""
    report = shift_service.get_shift(current_garage(), _id(shift_id), current_actor(), manager=_manager())
    return _page("desk/closeout.html", report=report, manager=_manager())


@bp.get("/shifts/<shift_id>/print")
@framed_by_desk
@staff_required
def print_closeout(shift_id: str):
    """The close-out on the 80 mm printer."""
    from ..services.settings import get_settings

    report = shift_service.get_shift(current_garage(), _id(shift_id), current_actor(), manager=_manager())
    return _page("desk/print_closeout.html", report=report, garage=get_settings(current_garage()))


@bp.get("/shifts")
@manager_required
def shifts():
    """Every shift of the garage, open ones first (managers)."""
    return _page("desk/shifts.html", reports=shift_service.list_shifts(current_garage()))


@bp.post("/shifts/<shift_id>/reopen")
@manager_required
def reopen_shift(shift_id: str):
    garage, actor = current_garage(), current_actor()
    try:
        shift_service.reopen_shift(garage, _id(shift_id), actor, request.form.get("reason"))
    except DomainError as exc:
        report = shift_service.get_shift(garage, _id(shift_id), actor, manager=True)
        return _page("desk/closeout.html", exc.status, report=report, manager=True,
                     errors={f"reopen_{k}": v for k, v in _errors(exc).items()})
    return redirect(url_for("desk.closeout", shift_id=shift_id), code=303)


@bp.post("/shifts/<shift_id>/adjust")
@manager_required
def adjust_shift(shift_id: str):
    garage, actor = current_garage(), current_actor()
    try:
        shift_service.adjust_shift(garage, _id(shift_id), actor, request.form.get("reason"), **_count())
    except DomainError as exc:
        report = shift_service.get_shift(garage, _id(shift_id), actor, manager=True)
        return _page("desk/closeout.html", exc.status, report=report, manager=True,
                     errors={f"adjust_{k}": v for k, v in _errors(exc).items()},
                     typed={k: v for k, v in request.form.items() if k != "csrf_token"})
    return redirect(url_for("desk.closeout", shift_id=shift_id), code=303)
