-- Diagnosis: the capacity counter's UPDATE alone (one row, updated by every entry and exit).
UPDATE garages SET occupied = occupied + 1, updated_at = now() WHERE id = 1 AND occupied < total_spaces RETURNING id;
