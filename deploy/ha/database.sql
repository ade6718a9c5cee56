-- Garage's role and database on a new Patroni cluster, once, through HAProxy's write port, as the
-- superuser (docs/operations.md, "High availability"). A template: deploy/ha/render.py fills the
-- GARAGE_... placeholders. Replicas get both by replication. Then `flask --app garage db upgrade`.
--   PGPASSWORD=<superuser password> psql -h <haproxy host> -p <write port> -U postgres -f database.sql
CREATE ROLE garage LOGIN PASSWORD '${GARAGE_APP_PASSWORD}';
CREATE DATABASE garage OWNER garage ENCODING 'UTF8' TEMPLATE template0;
