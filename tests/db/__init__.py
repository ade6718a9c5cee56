"""What the database guarantees: the audit trail, concurrency, migrations, prepared statements."""
