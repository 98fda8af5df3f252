extension Migration {
    /// The name of the migration that chooses the layout (version 2).
    static let layoutName = "user_partitioning"

    /// Migration 2: records how `timers`, `timer_sessions` and `audit_log`
    /// are stored, and in the partitioned layout makes each of them
    /// `PARTITION BY HASH (user_id)`.
    ///
    /// The only migration whose statements depend on an option: its version
    /// and name are the same in every layout, and the layout it applied is
    /// kept in the one row of `schema_layout`, so that `Migrator` refuses to
    /// run against it with another (a partition count cannot change after
    /// the fact).
    ///
    /// - `unpartitioned`: creates `schema_layout` and records NULL partitions.
    ///   Nothing else changes; this is what a database migrated before this
    ///   migration existed gets.
    /// - `hashPartitioned(N)`: the three tables must be empty (they are on a
    ///   fresh database, where migration 1 created them a moment earlier). Under
    ///   an exclusive lock it checks that they are, drops them and creates them
    ///   again partitioned, with N partitions each (`timers_p0` …
    ///   `timers_p<N-1>`, likewise for the others). Columns, defaults,
    ///   constraints, keys and index names are those of migration 1: the keys
    ///   already lead with `user_id` (primary keys `(user_id, id)`, the
    ///   sessions' foreign key `(user_id, timer_id)`, the unique indexes on
    ///   `(user_id, …)`), which is what PostgreSQL requires of a partitioned
    ///   table. Tables holding rows are refused with the names of those that
    ///   hold them; the transaction then changes nothing. Copying rows into
    ///   partitions is not done here: it would hold every instance off the
    ///   tables for as long as the copy takes.
    ///
    /// The statements for the three tables repeat migration 1's on purpose:
    /// each migration is a fixed text, and sharing it would let an edit of one
    /// change the other.
    static func userPartitioning(_ layout: SchemaLayout) -> Migration {
        let record = #"""
            -- How timers, timer_sessions and audit_log are stored, chosen once:
            -- exactly one row.
            CREATE TABLE schema_layout (
                singleton       BOOLEAN     PRIMARY KEY DEFAULT true CHECK (singleton),
                -- Hash partitions per table, by user_id; NULL: not partitioned.
                user_partitions INTEGER     CHECK (user_partitions >= 1),
                recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            """#
        guard let count = layout.userPartitions else {
            return Migration(
                version: 2, name: layoutName,
                sql: record + "\nINSERT INTO schema_layout (user_partitions) VALUES (NULL);\n"
            )
        }
        func partitions(of table: String) -> String {
            (0..<count).map { remainder in
                "CREATE TABLE \(table)_p\(remainder) PARTITION OF \(table) FOR VALUES WITH (MODULUS \(count), REMAINDER \(remainder));"
            }.joined(separator: "\n")
        }
        return Migration(
            version: 2, name: layoutName,
            sql: record + #"""

                LOCK TABLE timers, timer_sessions, audit_log IN ACCESS EXCLUSIVE MODE;
                DO $$
                DECLARE
                    holding TEXT[] := '{}';
                BEGIN
                    IF EXISTS (SELECT FROM timers) THEN holding := holding || 'timers'::text; END IF;
                    IF EXISTS (SELECT FROM timer_sessions) THEN holding := holding || 'timer_sessions'::text; END IF;
                    IF EXISTS (SELECT FROM audit_log) THEN holding := holding || 'audit_log'::text; END IF;
                    IF cardinality(holding) > 0 THEN
                        RAISE EXCEPTION 'cannot partition timers, timer_sessions and audit_log by user_id: only empty tables are partitioned, and % already hold rows; the database keeps its unpartitioned tables',
                            array_to_string(holding, ', ')
                            USING ERRCODE = 'object_not_in_prerequisite_state';
                    END IF;
                END
                $$;
                DROP TABLE audit_log, timer_sessions, timers;

                CREATE TABLE timers (
                    id                    BIGINT      GENERATED ALWAYS AS IDENTITY,
                    user_id               BIGINT      NOT NULL REFERENCES users (id),
                    account_id            BIGINT      NOT NULL REFERENCES accounts (id),
                    project_id            BIGINT,
                    billing_rate_id       BIGINT,
                    description           TEXT        NOT NULL CHECK (char_length(description) BETWEEN 1 AND 1000),
                    status                TEXT        NOT NULL CHECK (status IN ('running', 'paused', 'stopped')),
                    started_at            TIMESTAMPTZ,
                    paused_at             TIMESTAMPTZ,
                    stopped_at            TIMESTAMPTZ,
                    total_duration        BIGINT      NOT NULL DEFAULT 0 CHECK (total_duration >= 0),
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
                ) PARTITION BY HASH (user_id);
                CREATE INDEX idx_timers_user_status ON timers (user_id, status) WHERE deleted_at IS NULL;
                CREATE INDEX idx_timers_user_started ON timers (user_id, started_at) WHERE deleted_at IS NULL;
                CREATE INDEX idx_timers_account ON timers (account_id) WHERE deleted_at IS NULL;
                CREATE INDEX idx_timers_user_active ON timers (user_id, status, started_at)
                    WHERE status IN ('running', 'paused') AND deleted_at IS NULL;
                CREATE INDEX idx_timers_account_billing ON timers (account_id, billing_rate_id, created_at)
                    WHERE deleted_at IS NULL;
                CREATE INDEX idx_active_timers_sync ON timers (user_id, last_updated)
                    WHERE status IN ('running', 'paused') AND deleted_at IS NULL;
                CREATE UNIQUE INDEX idx_timers_user_client_ref ON timers (user_id, client_ref)
                    WHERE client_ref IS NOT NULL;
                -- Per partition: a lookup by id alone probes every partition.
                CREATE INDEX idx_timers_id ON timers (id);
                CREATE INDEX idx_timers_running_since ON timers (current_session_start)
                    WHERE status = 'running' AND deleted_at IS NULL;
                CREATE INDEX idx_timers_project ON timers (project_id) WHERE project_id IS NOT NULL;
                \#(partitions(of: "timers"))

                CREATE TABLE timer_sessions (
                    id          BIGINT      GENERATED ALWAYS AS IDENTITY,
                    user_id     BIGINT      NOT NULL,
                    timer_id    BIGINT      NOT NULL,
                    started_at  TIMESTAMPTZ NOT NULL,
                    ended_at    TIMESTAMPTZ,
                    duration    BIGINT      NOT NULL DEFAULT 0 CHECK (duration >= 0),
                    device_id   TEXT        CHECK (char_length(device_id) BETWEEN 1 AND 200),
                    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                    PRIMARY KEY (user_id, id),
                    FOREIGN KEY (user_id, timer_id) REFERENCES timers (user_id, id) ON DELETE CASCADE,
                    CONSTRAINT timer_sessions_ends_after_start CHECK (ended_at IS NULL OR ended_at >= started_at)
                ) PARTITION BY HASH (user_id);
                CREATE INDEX idx_timer_sessions_timer ON timer_sessions (user_id, timer_id, started_at);
                CREATE UNIQUE INDEX idx_timer_sessions_one_open ON timer_sessions (user_id, timer_id)
                    WHERE ended_at IS NULL;
                \#(partitions(of: "timer_sessions"))

                CREATE TABLE audit_log (
                    id                  BIGINT      GENERATED ALWAYS AS IDENTITY,
                    user_id             BIGINT      NOT NULL,
                    actor_user_id       BIGINT,
                    token_id            BIGINT,
                    action              TEXT        NOT NULL CHECK (char_length(action) BETWEEN 1 AND 64),
                    timer_id            BIGINT,
                    account_id          BIGINT,
                    sync_version_before BIGINT,
                    sync_version_after  BIGINT,
                    request_id          TEXT        CHECK (char_length(request_id) <= 128),
                    device_id           TEXT        CHECK (char_length(device_id) <= 200),
                    details             JSONB       NOT NULL DEFAULT '{}',
                    at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
                    PRIMARY KEY (user_id, id)
                ) PARTITION BY HASH (user_id);
                CREATE INDEX idx_audit_log_timer ON audit_log (user_id, timer_id, at) WHERE timer_id IS NOT NULL;
                CREATE INDEX idx_audit_log_account ON audit_log (account_id, at) WHERE account_id IS NOT NULL;
                CREATE INDEX idx_audit_log_at ON audit_log USING brin (at);
                \#(partitions(of: "audit_log"))

                INSERT INTO schema_layout (user_partitions) VALUES (\#(count));
                """#
        )
    }
}
