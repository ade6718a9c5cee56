"""Extension objects, bound to the app in create_app()."""
import sqlalchemy as sa
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


AUTOCOMMIT_FLAG = "garage_autocommit"


def autocommit_statements() -> None:
    """From now until the session releases its connection, every statement is
    its own transaction (PostgreSQL autocommit): no BEGIN and COMMIT/ROLLBACK
    round trips. For requests whose reads need no common snapshot (in READ
    COMMITTED each statement has its own anyway) and whose writes are each ONE
    statement (the entry and exit). A no-op once a transaction has started,
    and on other databases.

    psycopg2's own switch is used (a client-side flag): SQLAlchemy's
    isolation_level="AUTOCOMMIT" would cost a SET statement on the way in and
    another on the way out. The pool hook below turns it off again when the
    connection goes back to the pool."""
    session = db.session()
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    record = session.connection().connection  # checked out (pre-ping), nothing sent yet
    record.dbapi_connection.autocommit = True
    record.info[AUTOCOMMIT_FLAG] = True


@sa.event.listens_for(sa.pool.Pool, "checkin")
def _transactions_again(dbapi_connection, record) -> None:
    if record.info.pop(AUTOCOMMIT_FLAG, False) and dbapi_connection is not None:
        dbapi_connection.autocommit = False  # client-side: nothing is sent
