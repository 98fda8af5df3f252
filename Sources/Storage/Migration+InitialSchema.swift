extension Migration {
    /// Migration 1: the whole first schema.
    ///
    /// The seed's `timers` and `timer_sessions` with every index the seed
    /// declares (names kept; `updated_at` is `last_updated` here), adapted to
    /// the API: `TIMESTAMPTZ` everywhere, identity ids, whole-second durations
    /// as `BIGINT`, a `client_ref` idempotency key, a per-timer `sync_version`.
    /// Around them: users, accounts and their members, projects, billing
    /// rates, API tokens and the audit log.
    ///
    /// Keys are chosen so that the per-user tables can later be partitioned (or
    /// distributed with Citus) by `user_id`: their primary keys and unique
    /// constraints lead with `user_id`, and rows that belong to a timer carry
    /// its owner's `user_id`. The account-level tables (`accounts`,
    /// `projects`, `billing_rates`) are small and shared by the members of an
    /// account: they stay unpartitioned (Citus reference tables). Two indexes
    /// cannot follow the partition key and say so below: `idx_timers_id`
    /// (lookups by timer id alone) and the unique token hash of `api_tokens`.
    ///
    /// Timer statuses are the lowercase words of the seed (`running`,
    /// `paused`, `stopped`). Text checks count characters (Unicode scalars),
    /// as the API does.
    ///
    /// The seed creates its second group of indexes `CONCURRENTLY`; here the
    /// tables are new and empty, and the migration's transaction forbids it.
    static let initialSchema = Migration(
        version: 1,
        name: "initial_schema",
        sql: #"""
            CREATE TABLE users (
                id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name        TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
                email       TEXT        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 320 AND email LIKE '_%@_%'),
                created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                deleted_at  TIMESTAMPTZ
            );
            -- One account per address, whatever its case.
            CREATE UNIQUE INDEX users_email_key ON users (lower(email));

            CREATE TABLE accounts (
                id                  BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name                TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
                -- Forgotten timers: a timer running this long is paused by the
                -- server. NULL: no limit.
                max_running_seconds BIGINT      CHECK (max_running_seconds > 0),
                created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
                deleted_at          TIMESTAMPTZ
            );

            CREATE TABLE account_members (
                user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                account_id  BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                role        TEXT        NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
                created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                PRIMARY KEY (user_id, account_id)
            );
            -- The members of an account (admin scoping, account deletion).
            CREATE INDEX idx_account_members_account ON account_members (account_id, user_id);

            CREATE TABLE projects (
                id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                account_id  BIGINT      NOT NULL REFERENCES accounts (id),
                name        TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
                created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                archived_at TIMESTAMPTZ,
                -- Target of timers' (account_id, project_id): a timer's project
                -- belongs to the timer's account.
                UNIQUE (account_id, id)
            );

            CREATE TABLE billing_rates (
                id                  BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                account_id          BIGINT      NOT NULL REFERENCES accounts (id),
                name                TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
                -- Money is exact: minor units of the currency per hour
                -- (9000 with USD and 2 digits is 90.00 USD an hour).
                rate_minor_per_hour BIGINT      NOT NULL CHECK (rate_minor_per_hour >= 0),
                currency_code       TEXT        NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
                minor_unit_digits   SMALLINT    NOT NULL CHECK (minor_unit_digits BETWEEN 0 AND 4),
                created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
                archived_at         TIMESTAMPTZ,
                UNIQUE (account_id, id)
            );

            CREATE TABLE timers (
                id                    BIGINT      GENERATED ALWAYS AS IDENTITY,
                user_id               BIGINT      NOT NULL REFERENCES users (id),
                account_id            BIGINT      NOT NULL REFERENCES accounts (id),
                project_id            BIGINT,
                billing_rate_id       BIGINT,
                description           TEXT        NOT NULL CHECK (char_length(description) BETWEEN 1 AND 1000),
                -- No default: every insert says how the timer starts.
                status                TEXT        NOT NULL CHECK (status IN ('running', 'paused', 'stopped')),
                started_at            TIMESTAMPTZ,
                paused_at             TIMESTAMPTZ,
                stopped_at            TIMESTAMPTZ,
                -- Seconds in closed sessions.
                total_duration        BIGINT      NOT NULL DEFAULT 0 CHECK (total_duration >= 0),
                -- Start of the open session; set exactly while running.
                current_session_start TIMESTAMPTZ,
                last_updated          TIMESTAMPTZ NOT NULL DEFAULT now(),
                device_id             TEXT        CHECK (char_length(device_id) BETWEEN 1 AND 200),
                sync_version          BIGINT      NOT NULL DEFAULT 1 CHECK (sync_version >= 1),
                client_ref            UUID,
                created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
                deleted_at            TIMESTAMPTZ,
                PRIMARY KEY (user_id, id),
                FOREIGN KEY (account_id, project_id) REFERENCES projects (account_id, id),
                FOREIGN KEY (account_id, billing_rate_id) REFERENCES billing_rates (account_id, id),
                CONSTRAINT timers_running_has_open_session
                    CHECK ((status = 'running') = (current_session_start IS NOT NULL)),
                CONSTRAINT timers_stopped_at_when_stopped
                    CHECK ((status = 'stopped') = (stopped_at IS NOT NULL)),
                CONSTRAINT timers_paused_at_when_paused
                    CHECK (status = 'paused' OR paused_at IS NULL)
            );
            -- The seed's indexes.
            CREATE INDEX idx_timers_user_status ON timers (user_id, status) WHERE deleted_at IS NULL;
            CREATE INDEX idx_timers_user_started ON timers (user_id, started_at) WHERE deleted_at IS NULL;
            CREATE INDEX idx_timers_account ON timers (account_id) WHERE deleted_at IS NULL;
            CREATE INDEX idx_timers_user_active ON timers (user_id, status, started_at)
                WHERE status IN ('running', 'paused') AND deleted_at IS NULL;
            CREATE INDEX idx_timers_account_billing ON timers (account_id, billing_rate_id, created_at)
                WHERE deleted_at IS NULL;
            CREATE INDEX idx_active_timers_sync ON timers (user_id, last_updated)
                WHERE status IN ('running', 'paused') AND deleted_at IS NULL;
            -- Idempotent creation: one timer per (user, client_ref), deleted
            -- ones included, so a retry after a delete creates nothing.
            CREATE UNIQUE INDEX idx_timers_user_client_ref ON timers (user_id, client_ref)
                WHERE client_ref IS NOT NULL;
            -- Lookups by id alone (admin calls name a timer, not its owner).
            -- Ids are unique by the identity; once timers are partitioned by
            -- user this index is per partition.
            CREATE INDEX idx_timers_id ON timers (id);
            -- Forgotten timers: the running ones, oldest session first.
            CREATE INDEX idx_timers_running_since ON timers (current_session_start)
                WHERE status = 'running' AND deleted_at IS NULL;
            -- Foreign key to projects (project deletion, per-project reports).
            CREATE INDEX idx_timers_project ON timers (project_id) WHERE project_id IS NOT NULL;

            CREATE TABLE timer_sessions (
                id          BIGINT      GENERATED ALWAYS AS IDENTITY,
                user_id     BIGINT      NOT NULL,
                timer_id    BIGINT      NOT NULL,
                started_at  TIMESTAMPTZ NOT NULL,
                ended_at    TIMESTAMPTZ,
                -- Whole seconds; 0 while open.
                duration    BIGINT      NOT NULL DEFAULT 0 CHECK (duration >= 0),
                device_id   TEXT        CHECK (char_length(device_id) BETWEEN 1 AND 200),
                created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                PRIMARY KEY (user_id, id),
                FOREIGN KEY (user_id, timer_id) REFERENCES timers (user_id, id) ON DELETE CASCADE,
                CONSTRAINT timer_sessions_ends_after_start CHECK (ended_at IS NULL OR ended_at >= started_at)
            );
            -- A timer's sessions in order (ListTimerSessions, the foreign key).
            CREATE INDEX idx_timer_sessions_timer ON timer_sessions (user_id, timer_id, started_at);
            -- At most one open session per timer: a retried or concurrent
            -- start cannot open a second one.
            CREATE UNIQUE INDEX idx_timer_sessions_one_open ON timer_sessions (user_id, timer_id)
                WHERE ended_at IS NULL;

            CREATE TABLE api_tokens (
                id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                name         TEXT        NOT NULL DEFAULT '' CHECK (char_length(name) <= 200),
                -- SHA-256 of the token; the token itself is never stored.
                token_hash   BYTEA       NOT NULL CHECK (octet_length(token_hash) = 32),
                abilities    TEXT[]      NOT NULL DEFAULT '{}'
                                         CHECK (abilities <@ ARRAY['timers:read', 'timers:write', 'timers:delete',
                                                                   'timers:sync', 'timers:admin']::TEXT[]),
                created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
                expires_at   TIMESTAMPTZ,
                revoked_at   TIMESTAMPTZ,
                last_used_at TIMESTAMPTZ,
                CHECK (expires_at IS NULL OR expires_at > created_at)
            );
            -- Authentication looks a token up by its hash before the user is
            -- known, so this table stays keyed by the hash, not partitioned.
            CREATE UNIQUE INDEX idx_api_tokens_token_hash ON api_tokens (token_hash);
            CREATE INDEX idx_api_tokens_user ON api_tokens (user_id);

            -- Who changed what. No foreign keys: the trail outlives purged
            -- timers and deleted users.
            CREATE TABLE audit_log (
                id                  BIGINT      GENERATED ALWAYS AS IDENTITY,
                -- The user whose data changed (the timer's owner).
                user_id             BIGINT      NOT NULL,
                -- Who made the change; NULL for the server itself (auto-pause,
                -- purge) and the command line.
                actor_user_id       BIGINT,
                token_id            BIGINT,
                action              TEXT        NOT NULL CHECK (char_length(action) BETWEEN 1 AND 64),
                timer_id            BIGINT,
                account_id          BIGINT,
                sync_version_before BIGINT,
                sync_version_after  BIGINT,
                request_id          TEXT        CHECK (char_length(request_id) <= 128),
                device_id           TEXT        CHECK (char_length(device_id) <= 200),
                -- Anything else worth keeping (an admin's reason, a bulk
                -- action's scope).
                details             JSONB       NOT NULL DEFAULT '{}',
                at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
                PRIMARY KEY (user_id, id)
            );
            CREATE INDEX idx_audit_log_timer ON audit_log (user_id, timer_id, at) WHERE timer_id IS NOT NULL;
            CREATE INDEX idx_audit_log_account ON audit_log (account_id, at) WHERE account_id IS NOT NULL;
            -- Time ranges and retention over an append-only table.
            CREATE INDEX idx_audit_log_at ON audit_log USING brin (at);
            """#
    )
}
