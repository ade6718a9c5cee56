-- Diagnosis: entry_statement.sql without the capacity counter's UPDATE (so without the
-- one row every entry locks); compare with entry_statement.sql at the same -c.
\set n random(1, 9999999999)
WITH actor AS (
    SELECT users.id, users.username, users.role
    FROM api_tokens JOIN users ON users.id = api_tokens.user_id
    WHERE api_tokens.token_hash = 'nohash' AND api_tokens.revoked_at IS NULL AND users.active
    UNION ALL
    SELECT 1, 'bench', NULL WHERE true
), admitted AS (
    SELECT id, username FROM actor
), ticket AS (
    INSERT INTO tickets (ticket_number, license_plate, plate_key, vehicle_type, entry_time, status, lost,
                         last_event_at, issued_by_id, created_at, updated_at)
    SELECT 'Y' || :n, 'Y ' || :n, 'Y' || :n, 'Car', now(), 'active', false, now(), admitted.id, now(), now()
    FROM admitted
    RETURNING id, ticket_number, issued_by_id
), audit AS (
    INSERT INTO audit_log (at, user_id, username, action, object_type, object_id, ip, details)
    SELECT now(), admitted.id, admitted.username, 'ticket.issued', 'ticket', ticket.ticket_number, '1.2.3.4', '{"plate": "x"}'::json
    FROM ticket, admitted
)
SELECT (SELECT role FROM actor) AS caller_role, ticket.id, ticket.issued_by_id
FROM (VALUES (1)) AS one (x) LEFT JOIN ticket ON true;
