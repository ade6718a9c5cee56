"""OpenAPI 3.1 document generated from the operations' declarations (garage/api/operation.py):
the roles it shows are the ones enforced."""
from __future__ import annotations

from typing import Any

import re

from ..domain.garages import SLUG_PATTERN
from .operation import OPERATIONS

REF = "#/components/schemas/{model}"
# Every operation that takes a token can answer these (the decorator enforces them).
TOKEN_RESPONSES = {401: ("No live API token", None), 403: ("The token's role is not admitted", None)}
# Every operation that takes a JSON body (operation.parse; Flask's MAX_CONTENT_LENGTH).
BODY_RESPONSES = {400: ("Malformed body: not JSON", None), 413: ("Body larger than MAX_CONTENT_LENGTH", None),
                  422: ("Invalid field", None)}
# Every operation with a path parameter: what it names may not exist.
PATH_RESPONSES = {404: ("Not found", None)}
# A path segment is text without control characters (web.refuse_control_characters answers 400).
PATH_TEXT = {"type": "string", "minLength": 1, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"}
# The garage a per-garage path names (garage/api/__init__.py): its slug (garage/domain/garages.py).
GARAGE_PARAMETER = {"name": "garage", "in": "path", "required": True,
                    "description": "the garage's slug (GET /api/garages lists the caller's)",
                    "schema": {"type": "string", "pattern": f"^{SLUG_PATTERN.pattern}$"}}
# A per-garage path names a garage that does not exist, or one the token may not act at (not revealed).
GARAGE_RESPONSES = {404: ("No such garage (or the token may not act there), or no such ticket", None)}
# A seed path names no garage: a token of several garages must use the per-garage path (identity.admit).
SEVERAL_RESPONSES = {400: ("The token works at several garages: use /api/garages/{garage}/... "
                           "(the message names them)", None)}
# Every operation with a path or query parameter: one holding a control character is refused
# before the view (web.refuse_control_characters).
PARAMETER_RESPONSES = {400: ("A path segment or query parameter holds a control character", None)}
# Every operation reads the database: while it is unreachable or frozen, 503 with Retry-After
# (garage/persistence/outage.py decides what counts, garage/web.py answers).
OUTAGE_RESPONSES = {503: ("The database is unreachable or timed out; try again after Retry-After seconds", None)}


def _schema_ref(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, list):
        return {"type": "array", "items": _schema_ref(model[0], components)}
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def served_spec(app) -> dict[str, Any]:
    """The document /openapi.json serves, built once per app: its routes and the operations'
    declarations are fixed when create_app returns, and building it costs ~0.5 s (pydantic's schema
    of every body and answer, the error model's hundreds of times)."""
    built = app.extensions.get("garage.openapi")
    if built is None:  # two first requests at once build it twice, alike: harmless
        built = app.extensions["garage.openapi"] = build_spec(app)
    return built


def build_spec(app, blueprint: str = "api") -> dict[str, Any]:
    from .schemas import ErrorResponse

    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(blueprint + "."):
            continue
        op = OPERATIONS.get(rule.endpoint.split(".", 1)[1])
        if op is None:
            continue
        path = re.sub(r"<(\w+)>", r"{\1}", rule.rule)
        arguments = re.findall(r"<(\w+)>", rule.rule)  # in path order
        params = [GARAGE_PARAMETER if arg == "garage" else
                  {"name": arg, "in": "path", "required": True, "schema": PATH_TEXT} for arg in arguments]
        per_garage = "garage" in arguments
        several = (op.roles and not op.operator or op.token_picks_garage) and not per_garage
        token_optional = op.token_picks_garage and not per_garage  # public; a token sent picks the garage
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            entry: dict[str, Any] = {"summary": op.summary,
                                     "operationId": op.endpoint + ("_at_garage" if per_garage else ""),
                                     "parameters": params + op.params, "responses": {}}
            # What the declarations imply, then what the operation declares (its wording wins).
            responses = {**(TOKEN_RESPONSES if op.roles or token_optional else {}),
                         **(PARAMETER_RESPONSES if rule.arguments or op.params else {}),
                         **(BODY_RESPONSES if op.body else {}), **(PATH_RESPONSES if rule.arguments else {}),
                         **OUTAGE_RESPONSES, **op.responses, **(GARAGE_RESPONSES if per_garage else {})}
            if several:
                also = responses.get(400, ("", None))[0]
                responses[400] = ("; ".join(filter(None, (also, SEVERAL_RESPONSES[400][0]))), None)
            if op.roles:
                entry["security"] = [{"bearerAuth": []}]
                entry["description"] = "Roles: " + ", ".join(op.roles)
            elif token_optional:
                entry["security"] = [{}, {"bearerAuth": []}]
                entry["description"] = "Public; a token sent makes it the token's garage (any role)"
            else:
                entry["security"] = []
            if op.body is not None:
                entry["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": _schema_ref(op.body, components)}}}
            for status, (description, model) in sorted(responses.items()):
                response: dict[str, Any] = {"description": description}
                model = model or (ErrorResponse if status >= 400 else None)
                if model is not None:
                    response["content"] = {"application/json": {"schema": _schema_ref(model, components)}}
                entry["responses"][str(status)] = response
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "Garage API", "version": "1.0",
                 "description": "Parking garage JSON API. Errors are {\"message\": ...}."},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "Token from `flask --app garage tokens create USER`"}}},
    }
