"""Schemathesis against the app's own /openapi.json, in-process (the WSGI app, no server), on SQLite
and PostgreSQL: for every operation it lists, generated valid and invalid requests, with a manager's
token and without credentials, must get a documented status, content type and body, never a 5xx,
and invalid data must be refused. A new operation is covered as soon as it is declared."""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance, negative_data_rejection, response_schema_conformance, status_code_conformance,
)

from tests.helpers.api import issue

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]

# Examples per caller, operation and kind of data (29 operations, 13 of them per garage; 2 callers, 2 databases).
# Many invalid requests are "the token left out" (401), hence more of those. A stranger is refused before
# the input is read, except by the public operations, whose input the manager's run covers as well: fewer
# examples tell as much there.
EXAMPLES = {"manager": {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 20},
            "stranger": {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 6}}


def schema_of(app, reader: dict[str, str], bearer: str | None):
    """The document as the app serves it; with `bearer`, Schemathesis sends that token wherever the
    document asks for one (except in the invalid requests it makes by leaving the token out)."""
    auth = {"auth": {"openapi": {"bearerAuth": {"bearer": bearer}}}} if bearer else {}
    return schemathesis.openapi.from_wsgi("/openapi.json", app, headers=reader,
                                          config=SchemathesisConfig.from_dict(auth))


def run(operation, caller: str, mode: GenerationMode, **fixed) -> None:
    @settings(max_examples=EXAMPLES[caller][mode], deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def probe(case):
        response = case.call()
        assert "Traceback" not in response.text
        case.validate_response(response, checks=CHECKS)

    probe()


def takes_input(operation) -> bool:
    """Whether there is anything to make invalid (a parameter or a body)."""
    return bool(list(operation.iter_parameters())) or bool(operation.body)


@pytest.mark.parametrize("caller", ["manager", "stranger"])
def test_every_operation_keeps_its_documented_contract(client, manager, caller):
    bearer = manager["Authorization"].removeprefix("Bearer ") if caller == "manager" else None
    schema = schema_of(client.application, manager, bearer)
    # Generated ticket numbers never exist: the operations on a ticket also get one that does
    # (looked up and quoted, then paid; after that 409).
    inside = issue(client, manager, "CONTRACT 1")
    seen = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        seen += 1
        run(operation, caller, GenerationMode.POSITIVE)
        # Generated slugs name no garage (404): the per-garage paths also get the manager's garage.
        known = {"garage": "main"} if "{garage}" in operation.path else {}
        if known:
            run(operation, caller, GenerationMode.POSITIVE, path_parameters=known)
        if "{ticket_number}" in operation.path:
            run(operation, caller, GenerationMode.POSITIVE, path_parameters={**known, "ticket_number": inside})
        if takes_input(operation):
            run(operation, caller, GenerationMode.NEGATIVE)
    assert seen >= 29  # the seed's 14 (shifts: 4), the same 13 per garage, the garages' list and creation
