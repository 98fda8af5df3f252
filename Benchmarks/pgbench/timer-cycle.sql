-- One create → pause → resume → stop cycle as timerd writes it, for pgbench
-- (-M prepared, -D user=ID -D account=ID): the same four statements —
-- timers.create_one_statement and timers.apply_known_transition of
-- Sources/Storage/Repositories/TimerRepository+OneStatement.swift — each its
-- own transaction, with the same rows, indexes, constraints and audit rows,
-- and nothing else: what PostgreSQL alone can do of the timer cycle.
WITH ok AS (
    SELECT 1 FROM account_members m JOIN accounts a ON a.id = m.account_id
    WHERE m.user_id = :user AND m.account_id = :account AND a.deleted_at IS NULL
), t AS (
    INSERT INTO timers (user_id, account_id, project_id, billing_rate_id, description, status,
                        started_at, paused_at, current_session_start, total_duration, last_updated,
                        device_id, sync_version, client_ref, created_at)
    SELECT :user, :account, NULL, NULL, 'pgbench', 'running', now(), NULL, now(), 0, now(), 'pgbench', 1, NULL, now()
    FROM ok
    ON CONFLICT (user_id, client_ref) WHERE client_ref IS NOT NULL DO NOTHING
    RETURNING *
), opened AS (
    INSERT INTO timer_sessions (user_id, timer_id, started_at, device_id)
    SELECT :user, t.id, t.current_session_start, 'pgbench' FROM t
), audited AS (
    INSERT INTO audit_log (user_id, actor_user_id, token_id, action, timer_id, account_id,
                           sync_version_before, sync_version_after, request_id, device_id, at, details)
    SELECT :user, :user, NULL, 'created', t.id, :account, NULL, 1, NULL, 'pgbench', now(), '{}'::jsonb FROM t
)
SELECT t.id AS timer, t.current_session_start AS began, r.rate_minor_per_hour
FROM t LEFT JOIN billing_rates r ON r.account_id = t.account_id AND r.id = t.billing_rate_id
\gset
WITH t AS (
    UPDATE timers
    SET status = 'paused', paused_at = now(), stopped_at = NULL, current_session_start = NULL,
        total_duration = 1, last_updated = now(), device_id = 'pgbench', sync_version = 2, deleted_at = NULL
    WHERE user_id = :user AND id = :timer AND sync_version = 1
    RETURNING *
), closed AS (
    UPDATE timer_sessions SET ended_at = now(), duration = 1
    WHERE user_id = :user AND timer_id = :timer AND ended_at IS NULL
      AND started_at = :began::timestamptz AND EXISTS (SELECT 1 FROM t)
    RETURNING 1
), audited AS (
    INSERT INTO audit_log (user_id, actor_user_id, token_id, action, timer_id, account_id,
                           sync_version_before, sync_version_after, request_id, device_id, at, details)
    SELECT :user, :user, NULL, 'paused', :timer, t.account_id, 1, 2, NULL, 'pgbench', now(), '{}'::jsonb FROM t
)
SELECT t.*, r.rate_minor_per_hour, r.currency_code
FROM t LEFT JOIN billing_rates r ON r.account_id = t.account_id AND r.id = t.billing_rate_id
WHERE CASE WHEN (SELECT count(*) FROM t) = 1 THEN 1 / (SELECT count(*) FROM closed)::int ELSE 1 END = 1;
WITH t AS (
    UPDATE timers
    SET status = 'running', paused_at = NULL, stopped_at = NULL, current_session_start = now(),
        total_duration = 1, last_updated = now(), device_id = 'pgbench', sync_version = 3, deleted_at = NULL
    WHERE user_id = :user AND id = :timer AND sync_version = 2
    RETURNING *
), opened AS (
    INSERT INTO timer_sessions (user_id, timer_id, started_at, device_id)
    SELECT :user, :timer, t.current_session_start, 'pgbench' FROM t
), audited AS (
    INSERT INTO audit_log (user_id, actor_user_id, token_id, action, timer_id, account_id,
                           sync_version_before, sync_version_after, request_id, device_id, at, details)
    SELECT :user, :user, NULL, 'resumed', :timer, t.account_id, 2, 3, NULL, 'pgbench', now(), '{}'::jsonb FROM t
)
SELECT t.current_session_start AS began, r.rate_minor_per_hour
FROM t LEFT JOIN billing_rates r ON r.account_id = t.account_id AND r.id = t.billing_rate_id
\gset
WITH t AS (
    UPDATE timers
    SET status = 'stopped', paused_at = NULL, stopped_at = now(), current_session_start = NULL,
        total_duration = 2, last_updated = now(), device_id = 'pgbench', sync_version = 4, deleted_at = NULL
    WHERE user_id = :user AND id = :timer AND sync_version = 3
    RETURNING *
), closed AS (
    UPDATE timer_sessions SET ended_at = now(), duration = 1
    WHERE user_id = :user AND timer_id = :timer AND ended_at IS NULL
      AND started_at = :began::timestamptz AND EXISTS (SELECT 1 FROM t)
    RETURNING 1
), audited AS (
    INSERT INTO audit_log (user_id, actor_user_id, token_id, action, timer_id, account_id,
                           sync_version_before, sync_version_after, request_id, device_id, at, details)
    SELECT :user, :user, NULL, 'stopped', :timer, t.account_id, 3, 4, NULL, 'pgbench', now(), '{}'::jsonb FROM t
)
SELECT t.*, r.rate_minor_per_hour, r.currency_code
FROM t LEFT JOIN billing_rates r ON r.account_id = t.account_id AND r.id = t.billing_rate_id
WHERE CASE WHEN (SELECT count(*) FROM t) = 1 THEN 1 / (SELECT count(*) FROM closed)::int ELSE 1 END = 1;
