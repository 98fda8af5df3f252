-- A timer's owner looked up by the timer's id alone, as the admin calls do
-- (timers.admin_owner, without its membership join): the one read of timers
-- that names no user_id, for
-- pgbench (-M prepared -D timers=N, ids 1 to N).
\set id random(1, :timers)
SELECT user_id FROM timers WHERE id = :id AND deleted_at IS NULL;
