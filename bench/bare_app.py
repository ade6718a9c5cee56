"""The framework's floor: one JSON insert endpoint through the same stack as the
app (gunicorn with gunicorn.conf.py's workers/threads, Flask, Flask-SQLAlchemy,
SQLAlchemy ORM, psycopg2, the same engine options) and nothing else: no rules,
no auth, no templates, no audit.

    DATABASE_URL=postgresql://... gunicorn -c bench/gunicorn_bare.conf.py bench.bare_app:app
    curl -X POST -H 'Content-Type: application/json' -d '{"payload": "x"}' localhost:5401/insert
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from garage.config import Config

# The same table for the bare app and for pgbench (bench/pgbench_insert.sql).
TABLE_DDL = ("CREATE TABLE IF NOT EXISTS bench_rows (id bigserial PRIMARY KEY, payload varchar(40) NOT NULL, "
             "created_at timestamptz NOT NULL)")


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BenchRow(db.Model):
    __tablename__ = "bench_rows"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    payload: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


def create_app() -> Flask:
    app = Flask(__name__)
    config = Config()  # same URL normalisation and engine options (pre-ping, statement timeout)
    app.config["SQLALCHEMY_DATABASE_URI"] = config.SQLALCHEMY_DATABASE_URI
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = config.SQLALCHEMY_ENGINE_OPTIONS
    db.init_app(app)

    @app.post("/insert")
    def insert():
        data = request.get_json(silent=True) or {}
        row = BenchRow(payload=str(data.get("payload", ""))[:40], created_at=datetime.now(timezone.utc))
        db.session.add(row)
        db.session.flush()  # INSERT ... RETURNING id
        row_id = row.id
        db.session.commit()
        return jsonify(id=row_id), 201

    with app.app_context():
        db.session.execute(sa.text(TABLE_DDL))
        db.session.commit()
    return app


app = create_app() if os.environ.get("DATABASE_URL") else None
