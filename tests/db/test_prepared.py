"""Prepared statements (garage/persistence/prepared.py): PREPAREd once per connection, then
only EXECUTEd; still right after a rollback and on a replaced connection."""
import pytest
import sqlalchemy as sa

from garage.extensions import db
from garage.persistence.prepared import Prepared
from tests.helpers.db import counting


def test_named_parameters_become_positional_with_their_types():
    p = Prepared("garage_t", "SELECT :b, :a::text, :b + 1 FROM x WHERE y = 'a:b'",
                 types={"a": "integer", "b": "bigint"})
    assert p.params == ["b", "a"]
    assert p.prepare_sql == "PREPARE garage_t (bigint, integer) AS SELECT $1, $2::text, $1 + 1 FROM x WHERE y = 'a:b'"
    assert str(p.statement) == "EXECUTE garage_t (:b, :a)"


def test_every_parameter_needs_a_type():
    with pytest.raises(ValueError, match=r"garage_t: no type for \['b'\]"):
        Prepared("garage_t", "SELECT :a, :b", types={"a": "integer"})


def sent(statements_run) -> list[str]:
    return [s.split()[0].upper() for s in statements_run]


@pytest.fixture
def statements():
    with counting() as seen:
        yield seen


@pytest.mark.postgres_only
def test_prepared_once_per_connection_and_kept_across_rollbacks_and_replaced_connections(app, statements):
    double = Prepared("garage_test_double", "SELECT :n * 2 AS twice", types={"n": "integer"})
    db.session.remove()
    db.engine.dispose()  # a new connection: nothing prepared on it yet

    assert double.execute({"n": 21}).scalar() == 42
    assert double.execute({"n": 5}).scalar() == 10
    assert sent(statements) == ["PREPARE", "EXECUTE", "EXECUTE"]

    db.session.rollback()  # PREPARE is not transactional: the statement stays
    db.session.remove()    # back to the pool, out again: the same connection, still prepared
    statements.clear()
    assert double.execute({"n": 1}).scalar() == 2
    assert sent(statements) == ["EXECUTE"]

    db.session.connection().invalidate()  # a broken connection is replaced by a new one ...
    db.session.rollback()
    statements.clear()
    assert double.execute({"n": 3}).scalar() == 6  # ... which prepares again
    assert sent(statements) == ["PREPARE", "EXECUTE"]


@pytest.mark.postgres_only
def test_a_statement_the_server_dropped_is_prepared_again(app, statements):
    """DEALLOCATE/DISCARD ALL (a proxy's reset query, an admin) on a connection that lives on."""
    from garage.persistence import store

    triple = Prepared("garage_test_triple", "SELECT :n * 3 AS thrice", types={"n": "integer"})
    db.session.remove()
    store().autocommit()  # as under @autocommit (the API): one statement, its own transaction
    assert triple.execute({"n": 1}).scalar() == 3
    db.session.connection().exec_driver_sql("DEALLOCATE ALL")
    statements.clear()
    assert triple.execute({"n": 2}).scalar() == 6  # re-prepared and run again, within the same call
    assert sent(statements) == ["EXECUTE", "PREPARE", "EXECUTE"]

    db.session.remove()  # a transactional request (the desk): the failed EXECUTE aborts it ...
    db.session.connection().exec_driver_sql("DEALLOCATE ALL")
    with pytest.raises(sa.exc.DBAPIError):
        triple.execute({"n": 3})
    db.session.rollback()
    assert triple.execute({"n": 3}).scalar() == 9  # ... and the next transaction prepares again


def prepared_names() -> set[str]:
    """What the session's connection holds PREPAREd on the server."""
    return set(db.session.scalars(sa.text("SELECT name FROM pg_prepared_statements")))


@pytest.mark.postgres_only
def test_a_prepared_select_answers_as_the_select_itself_would(app, statements):
    """ORM entities, plain columns and constants the statement carries, for parameters that find
    something and that find nothing, on the sixth call and later too (PostgreSQL's generic plan)."""
    from garage.models import Garage
    from garage.persistence.prepared import PreparedSelect

    stmt = (sa.select(Garage, Garage.slug, sa.literal("const").label("c"))
            .where(Garage.id == sa.bindparam("garage_id"), sa.or_(sa.bindparam("slug").is_(None),
                                                                  Garage.slug == sa.bindparam("slug"))))
    select = PreparedSelect("garage_test_select", stmt)
    db.session.remove()
    db.engine.dispose()  # a new connection: nothing prepared on it yet
    main = db.session.scalar(sa.select(Garage.id))
    cases = [{"garage_id": main, "slug": None}, {"garage_id": main, "slug": "main"},
             {"garage_id": main, "slug": "nowhere"}, {"garage_id": -1, "slug": None}] * 3
    for params in cases:
        statements.clear()
        got = select.execute(params).all()
        assert [s.split()[0] for s in statements] == ["EXECUTE"], statements
        expected = db.session.execute(stmt, params).all()
        assert got == expected
        assert all(row[0] is same[0] for row, same in zip(got, expected))  # the session's own objects
    assert "garage_test_select" in prepared_names()


@pytest.mark.postgres_only
def test_a_prepared_select_the_server_dropped_is_prepared_again(app):
    from garage.models import Garage
    from garage.persistence import store
    from garage.persistence.prepared import PreparedSelect

    select = PreparedSelect("garage_test_slug", sa.select(Garage.slug).where(Garage.id == sa.bindparam("id")))
    main = db.session.scalar(sa.select(Garage.id))
    db.session.remove()
    store().autocommit()
    assert select.execute({"id": main}).scalar() == "main"
    db.session.connection().exec_driver_sql("DEALLOCATE ALL")
    assert select.execute({"id": main}).scalar() == "main"  # re-prepared within the call
    assert "garage_test_slug" in prepared_names()

    db.session.remove()  # in a transaction the failed EXECUTE aborts it; the next one prepares again
    db.session.connection().exec_driver_sql("DEALLOCATE ALL")
    with pytest.raises(sa.exc.DBAPIError):
        select.execute({"id": main})
    db.session.rollback()
    assert select.execute({"id": main}).scalar() == "main"


def _scans(plan: dict):
    """Every node of an EXPLAIN (FORMAT JSON) plan, depth first."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from _scans(child)


def _unbounded_ticket_scans(plan: dict) -> list[str]:
    """Nodes that read the tickets table without an index condition: a walk of every ticket ever issued."""
    bad = []
    for node in _scans(plan):
        if node.get("Relation Name") != "tickets" or node["Node Type"] == "ModifyTable":
            continue
        if node["Node Type"] == "Seq Scan" or (node["Node Type"] in ("Index Scan", "Index Only Scan")
                                                and "Index Cond" not in node):
            bad.append(f'{node["Node Type"]} on tickets {node.get("Alias", "")}')
    return bad


@pytest.mark.postgres_only
def test_generic_plans_of_the_prepared_statements_never_walk_all_tickets(app):
    """A prepared statement is planned for its parameters' values on its first five calls; then
    PostgreSQL keeps a generic plan (made without the values) if that costs about the same. A partial
    index (the cars inside: status = 'active') serves a generic plan only when its predicate is written in
    the statement itself: behind a parameter the generic plan walks every ticket, so on a garage with a
    history PostgreSQL re-planned the whole entry on every call (its server time doubled at 1M tickets),
    and a plan that did go generic would scan the history for a permit holder's entry. With sequential
    scans off (the test database is small), every read of `tickets` in every generic plan must be a
    bounded index lookup."""
    from types import SimpleNamespace

    from garage.persistence.postgresql import CLOSE, ISSUE, PREPARED_READS
    from garage.persistence.prepared import PreparedSelect

    statements = {p.name: (p.prepare_sql, len(p.params)) for p in (ISSUE, CLOSE)}
    for read in PREPARED_READS.values():
        compiled = read.stmt.compile(dialect=db.engine.dialect)
        # a copy makes the texts: the app's own object keeps none made outside a real execution
        prepare, execute = PreparedSelect(read.name, read.stmt).texts(
            str(compiled), SimpleNamespace(compiled=compiled, dialect=db.engine.dialect))
        statements[read.name] = (prepare, execute.count("%("))
    assert {"garage_issue_ticket", "garage_close_ticket", "garage_exit_inputs", "garage_exit_inputs_for_token",
            "garage_latest_ticket"} <= set(statements)

    db.session.remove()
    db.engine.dispose()  # a new connection, nothing prepared on it; thrown away afterwards, whatever happens
    try:
        connection = db.session.connection()
        connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql("SET enable_seqscan = off")
        for name, (prepare, count) in statements.items():
            connection.exec_driver_sql(prepare.replace("%", "%%"))
            args = ", ".join(["NULL"] * count)
            plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE {name} ({args})").scalar()[0]["Plan"]
            assert _unbounded_ticket_scans(plan) == [], name
    finally:
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()  # its statements and settings go with it: never handed to another test
