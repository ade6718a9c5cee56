-- Diagnosis, not part of `make bench`: the entry's one statement as the app sends it
-- (garage/services/tickets.py ISSUE, signed-in caller form), for pgbench:
--   pgbench -n -c5 -j2 -T5 -M prepared -f bench/diagnose/entry_statement.sql garage_bench_empty
-- (raise garage_settings.total_spaces first, or the garage fills up and nothing is written).
\set n random(1, 9999999999)
WITH actor AS (
    SELECT users.id, users.username, users.role
    FROM api_tokens JOIN users ON users.id = api_tokens.user_id
    WHERE api_tokens.token_hash = 'nohash' AND api_tokens.revoked_at IS NULL AND users.active
    UNION ALL
    SELECT 1, 'bench', NULL WHERE true
), admitted AS (
    SELECT id, username FROM actor
), taken AS (
    UPDATE garage_settings SET occupied = occupied + 1, updated_at = now()
    WHERE id = 1 AND occupied < total_spaces AND EXISTS (SELECT FROM admitted)
    RETURNING id
), ticket AS (
    INSERT INTO tickets (ticket_number, license_plate, plate_key, vehicle_type, entry_time, status, lost,
                         last_event_at, issued_by_id, created_at, updated_at)
    SELECT 'X' || :n, 'X ' || :n, 'X' || :n, 'Car', now(), 'active', false, now(), admitted.id, now(), now()
    FROM taken, admitted
    RETURNING id, ticket_number, issued_by_id
), audit AS (
    INSERT INTO audit_log (at, user_id, username, action, object_type, object_id, ip, details)
    SELECT now(), admitted.id, admitted.username, 'ticket.issued', 'ticket', ticket.ticket_number, '1.2.3.4', '{"plate": "x"}'::json
    FROM ticket, admitted
)
SELECT (SELECT role FROM actor) AS caller_role, ticket.id, ticket.issued_by_id
FROM (VALUES (1)) AS one (x) LEFT JOIN ticket ON true;
