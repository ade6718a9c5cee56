-- PostgreSQL's ceiling: the bare app's insert as one pgbench transaction (autocommit).
INSERT INTO bench_rows (payload, created_at) VALUES ('pgbench', now()) RETURNING id;
