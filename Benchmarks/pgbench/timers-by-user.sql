-- GetActiveTimers as timerd reads it (timers.active of
-- Sources/Storage/Repositories/TimerRepository+Rows.swift) for a random user
-- of 1 to :users, for pgbench (-M prepared -D users=N).
\set user random(1, :users)
SELECT t.id, t.user_id, t.account_id, t.project_id, t.billing_rate_id, t.description, t.client_ref::text,
       t.created_at, t.deleted_at, t.status, t.started_at, t.paused_at, t.stopped_at, t.current_session_start,
       t.total_duration, t.last_updated, t.sync_version, t.device_id, r.rate_minor_per_hour, r.currency_code
FROM timers t LEFT JOIN billing_rates r ON r.account_id = t.account_id AND r.id = t.billing_rate_id
WHERE t.user_id = :user AND t.status IN ('running', 'paused') AND t.deleted_at IS NULL
ORDER BY t.created_at, t.id;
