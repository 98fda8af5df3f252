import Foundation
import Testing
import TimerDomain

@testable import Storage

/// The hash-partitioned layout of `timers`, `timer_sessions` and `audit_log`
/// (migration 2 with `SchemaLayout.hashPartitioned`), each test in its own
/// PostgreSQL schema. Statements get a minute: creating partitions is DDL
/// that waits on the catalog locks of every other test's schema changes.
@Suite("Partitioning", .timeLimit(.minutes(2)))
struct PartitioningTests {
    static let tables = SchemaLayout.partitionedTables

    @Test(arguments: [1, 5, 16])
    func freshSchemaIsHashPartitionedByUserID(partitions: Int) async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url, defaultTimeout: .seconds(60)) { pool in
                let applied = try await Migrator(layout: .hashPartitioned(partitions)).migrate(using: pool)
                #expect(applied.map(\.name) == ["initial_schema", "user_partitioning"])

                let partitioned = try await pool.withConnection { connection in
                    try await connection.query(
                        """
                        SELECT c.relname, pt.partstrat, pt.partnatts, a.attname,
                               (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)
                        FROM pg_partitioned_table pt
                        JOIN pg_class c ON c.oid = pt.partrelid
                        JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
                        WHERE c.relnamespace = current_schema()::regnamespace
                        ORDER BY c.relname
                        """
                    ).rows
                }
                #expect(partitioned == Self.tables.sorted().map { [$0, "h", "1", "user_id", String(partitions)] })

                for table in Self.tables {
                    let bounds = try await Self.partitions(of: table, on: pool)
                    let expected = (0..<partitions).map {
                        ["\(table)_p\($0)", "FOR VALUES WITH (modulus \(partitions), remainder \($0))"]
                    }
                    #expect(bounds == expected, "\(table)")
                }
                let recorded = try await Self.scalar("SELECT user_partitions FROM schema_layout", on: pool)
                #expect(recorded == String(partitions))
            }
        }
    }

    @Test func partitionedTablesHaveTheUnpartitionedColumnsConstraintsAndIndexes() async throws {
        let plain = try await Self.definitions(layout: .unpartitioned)
        let partitioned = try await Self.definitions(layout: .hashPartitioned(4))
        #expect(plain.columns.count == 18 + 8 + 13)
        #expect(partitioned.columns == plain.columns)
        #expect(partitioned.constraints == plain.constraints)
        #expect(partitioned.indexes == plain.indexes)
        // The keys every partitioned table needs: user_id leads each primary
        // key, and the sessions reach their timer through (user_id, timer_id).
        let keys = plain.constraints.filter { $0[2]?.hasPrefix("PRIMARY KEY") == true || $0[2]?.hasPrefix("FOREIGN KEY (user_id, ") == true }
        #expect(keys == [
            ["audit_log", "audit_log_pkey", "PRIMARY KEY (user_id, id)"],
            ["timer_sessions", "timer_sessions_pkey", "PRIMARY KEY (user_id, id)"],
            ["timer_sessions", "timer_sessions_user_id_timer_id_fkey",
             "FOREIGN KEY (user_id, timer_id) REFERENCES timers(user_id, id) ON DELETE CASCADE"],
            ["timers", "timers_pkey", "PRIMARY KEY (user_id, id)"],
        ])
    }

    @Test func repositoryOperationsOfManyUsersLandInTheirPartitionsAndReadBack() async throws {
        try await RepositoryFixture.run(layout: .hashPartitioned(4)) { f in
            var users = [f.user]
            for index in 0..<11 {
                let text = try await f.scalar(
                    "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id",
                    ["User \(index)", "user\(index)@example.com"])
                let id = try #require(text.flatMap { Int64($0) })
                _ = try await f.scalar(
                    "INSERT INTO account_members (user_id, account_id) VALUES ($1, $2) RETURNING user_id",
                    [String(id), String(f.account)])
                users.append(id)
            }
            let t0 = RepositoryFixture.start
            func at(_ minutes: Int64) -> Instant { t0.advanced(bySeconds: minutes * 60) }

            for user in users {
                let actor = AuditActor(userID: user, requestID: "req-\(user)")
                // Online: create running, pause, resume, stop.
                let created = try await f.repository.create(
                    userID: user, accountID: f.account, projectID: f.project, billingRateID: f.rate,
                    description: "Work of \(user)", clientRef: UUID().uuidString, deviceID: "laptop", start: true,
                    actor: actor, at: at(0)
                ).record
                var last = created
                let steps: [(TimerCommand, Int64)] = [(.pause, 10), (.resume, 20), (.stop, 40)]
                for (command, minute) in steps {
                    let (record, applied) = try await f.repository.transition(
                        id: created.id, userID: user, command: command, expectedSyncVersion: last.state.syncVersion,
                        deviceID: "laptop", actor: actor, at: at(minute))
                    #expect(applied)
                    last = record
                }
                #expect(last.state.status == .stopped)
                #expect(last.state.closedSeconds == 30 * 60)
                #expect(try await f.repository.get(id: created.id, userID: user) == last)
                let sessions = try await f.repository.sessions(timerID: created.id, userID: user, pageSize: 10, after: nil)
                #expect(sessions.items.map(\.interval) == [
                    SessionInterval(startedAt: at(0), endedAt: at(10)),
                    SessionInterval(startedAt: at(20), endedAt: at(40)),
                ])
                #expect(sessions.items.allSatisfy { $0.userID == user && $0.timerID == created.id })

                // Offline: created on a device, paused there, synced.
                let offline = SyncItem(
                    device: SyncDeviceTimer(
                        clientRef: UUID().uuidString.lowercased(), status: .paused, startedAt: at(50), syncVersion: 0,
                        transitions: [SyncDeviceTransition(.pause, at: at(65))]),
                    creation: SyncCreateFields(accountID: f.account, projectID: nil, billingRateID: nil, description: "Offline")
                )
                let synced = try await f.repository.sync(offline, userID: user, deviceID: "phone", actor: actor, at: at(70))
                #expect(synced.resolution == .createOnServer)
                let syncedRecord = try #require(synced.record)
                #expect(syncedRecord.state.status == .paused)
                #expect(syncedRecord.state.closedSeconds == 15 * 60)

                let listed = try await f.repository.list(userID: user, pageSize: 10, after: nil)
                #expect(Set(listed.items.map(\.id)) == [created.id, syncedRecord.id])
                #expect(try await f.repository.active(userID: user).map(\.id) == [syncedRecord.id])
                #expect(try await f.repository.syncServerTimers(userID: user, changedSince: nil).map(\.id) == [syncedRecord.id])
                let audit = try await f.pool.withConnection { c in
                    try await c.query(
                        "SELECT action FROM audit_log WHERE user_id = $1 ORDER BY id", [String(user)]
                    ).rows.compactMap { $0[0] }
                }
                #expect(audit == ["created", "paused", "resumed", "stopped", "created", "paused"])
            }

            // Nothing in the parents themselves; every table's rows spread
            // over several partitions.
            for table in Self.tables {
                #expect(try await f.count("SELECT count(*) FROM ONLY \(table)") == 0, "\(table)")
                let used = try await f.count("SELECT count(DISTINCT tableoid) FROM \(table)")
                #expect(used >= 2, "\(table): \(used) partitions used")
            }
            #expect(try await f.count("SELECT count(*) FROM timers") == 2 * users.count)
            #expect(try await f.count("SELECT count(*) FROM timer_sessions") == 3 * users.count)
            #expect(try await f.count("SELECT count(*) FROM audit_log") == 6 * users.count)
            // A user's rows in all three tables sit in partitions of the same
            // number: one user, one partition number.
            let scattered = try await f.count(
                """
                SELECT count(*) FROM (
                    SELECT user_id FROM (
                        SELECT user_id, substring(tableoid::regclass::text FROM '_p([0-9]+)$') AS p FROM timers
                        UNION SELECT user_id, substring(tableoid::regclass::text FROM '_p([0-9]+)$') FROM timer_sessions
                        UNION SELECT user_id, substring(tableoid::regclass::text FROM '_p([0-9]+)$') FROM audit_log
                    ) placed GROUP BY user_id HAVING count(DISTINCT p) <> 1
                ) scattered
                """)
            #expect(scattered == 0)
        }
    }

    @Test func anotherLayoutLaterIsRefusedAndChangesNothing() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url, defaultTimeout: .seconds(60)) { pool in
                try await Migrator(layout: .hashPartitioned(4)).migrate(using: pool)
                let before = try await Self.fingerprint(of: pool)

                let otherCount = await #expect(throws: StorageError.self) {
                    try await Migrator(layout: .hashPartitioned(8)).migrate(using: pool)
                }
                #expect(otherCount?.code == .migrationFailed)
                let message = otherCount?.message ?? ""
                #expect(message.hasPrefix(
                    "asked for timers, timer_sessions, audit_log hash-partitioned by user_id into 8 partitions each, but in this database they are hash-partitioned by user_id into 4 partitions each (recorded in schema_layout at "),
                    "\(message)")
                #expect(message.hasSuffix("nothing was changed"), "\(message)")

                let unpartitioned = await #expect(throws: StorageError.self) {
                    try await Migrator(layout: .unpartitioned).migrate(using: pool)
                }
                #expect(unpartitioned?.message.hasPrefix("asked for timers, timer_sessions, audit_log not partitioned, but") == true)
                #expect(try await Self.fingerprint(of: pool) == before)

                // The same layout, or none asked for: up to date.
                #expect(try await Migrator(layout: .hashPartitioned(4)).migrate(using: pool).isEmpty)
                #expect(try await Migrator().migrate(using: pool).isEmpty)
                #expect(try await Self.fingerprint(of: pool) == before)
            }
        }
    }

    @Test func partitioningAnUnpartitionedDatabaseLaterIsRefused() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url, defaultTimeout: .seconds(60)) { pool in
                try await Migrator().migrate(using: pool)
                let before = try await Self.fingerprint(of: pool)
                let error = await #expect(throws: StorageError.self) {
                    try await Migrator(layout: .hashPartitioned(2)).migrate(using: pool)
                }
                #expect(error?.message.hasPrefix(
                    "asked for timers, timer_sessions, audit_log hash-partitioned by user_id into 2 partitions each, but in this database they are not partitioned"
                ) == true, "\(error?.message ?? "")")
                #expect(try await Self.fingerprint(of: pool) == before)
            }
        }
    }

    @Test func tablesHoldingRowsAreNotPartitionedAndNothingChanges() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url, defaultTimeout: .seconds(60)) { pool in
                // A database an earlier release migrated (migration 1 only),
                // in use.
                try await Migrator(migrations: [Migration.initialSchema]).migrate(using: pool)
                try await pool.withConnection { connection in
                    _ = try await connection.executeScript(
                        """
                        INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com');
                        INSERT INTO accounts (name) VALUES ('Acme');
                        INSERT INTO timers (user_id, account_id, description, status, stopped_at)
                            VALUES (1, 1, 'Done', 'stopped', now());
                        INSERT INTO audit_log (user_id, action) VALUES (1, 'created');
                        """)
                }
                let before = try await Self.fingerprint(of: pool)
                let error = await #expect(throws: StorageError.self) {
                    try await Migrator(layout: .hashPartitioned(4)).migrate(using: pool)
                }
                #expect(error?.code == .migrationFailed)
                #expect(error?.sqlState == "55000")
                #expect(error?.message == """
                    migration 2 (user_partitioning) failed: cannot partition timers, timer_sessions and audit_log by \
                    user_id: only empty tables are partitioned, and timers, audit_log already hold rows; the database \
                    keeps its unpartitioned tables
                    """)
                #expect(try await Self.fingerprint(of: pool) == before)
                #expect(try await Self.scalar("SELECT count(*) FROM timers", on: pool) == "1")

                // Without a layout asked for, it keeps its tables and records so.
                let applied = try await Migrator().migrate(using: pool)
                #expect(applied.map(\.version) == [2])
                #expect(try await Self.scalar("SELECT count(*) FROM schema_layout WHERE user_partitions IS NULL", on: pool) == "1")
                #expect(try await Self.partitionedTables(on: pool).isEmpty)
            }
        }
    }

    @Test func emptyTablesOfAnEarlierReleaseArePartitioned() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url, defaultTimeout: .seconds(60)) { pool in
                try await Migrator(migrations: [Migration.initialSchema]).migrate(using: pool)
                let applied = try await Migrator(layout: .hashPartitioned(3)).migrate(using: pool)
                #expect(applied.map(\.version) == [2])
                #expect(try await Self.partitionedTables(on: pool) == Self.tables.sorted())
                #expect(try await Self.partitions(of: "timers", on: pool).count == 3)
            }
        }
    }

    @Test func partitionCountsOutsideTheBoundsAreRefused() throws {
        for count in [0, -1, SchemaLayout.partitionCounts.upperBound + 1, Int.max, Int.min] {
            let error = #expect(throws: StorageError.self) { try SchemaLayout.hashPartitioned(count) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "the partition count must be 1 to 128, got \(count)")
        }
        for text in ["0", "-4", "129", "abc", "", "8.0", "8 ", "0x10"] {
            let error = #expect(throws: StorageError.self) { try SchemaLayout.hashPartitioned(parsing: text) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "the partition count must be a whole number from 1 to 128, got '\(text)'")
        }
        #expect(try SchemaLayout.hashPartitioned(parsing: "1").userPartitions == 1)
        #expect(try SchemaLayout.hashPartitioned(parsing: "128").userPartitions == 128)
        #expect(SchemaLayout.unpartitioned.userPartitions == nil)
    }

    // MARK: - Helpers

    /// The partitions of `table` with their bounds, in partition number order.
    private static func partitions(of table: String, on pool: PostgresPool) async throws -> [[String?]] {
        let rows = try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT p.relname, pg_get_expr(p.relpartbound, p.oid)
                FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
                WHERE i.inhparent = $1::regclass
                ORDER BY length(p.relname), p.relname
                """,
                [table]
            ).rows
        }
        return rows
    }

    /// The partitioned tables of the current schema, by name.
    private static func partitionedTables(on pool: PostgresPool) async throws -> [String] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT c.relname FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
                WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1
                """
            ).rows.compactMap { $0[0] }
        }
    }

    private static func scalar(_ sql: String, on pool: PostgresPool) async throws -> String? {
        try await pool.withConnection { try await $0.query(sql).rows.first?[0] }
    }

    /// Everything a migration could change in the current schema: its
    /// relations and their kinds, the partition bounds, the recorded
    /// migrations and layout.
    private static func fingerprint(of pool: PostgresPool) async throws -> [[String?]] {
        try await pool.withConnection { connection in
            let relations = try await connection.query(
                """
                SELECT c.relname, c.relkind::text, coalesce(pg_get_expr(c.relpartbound, c.oid), '')
                FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1
                """
            ).rows
            let migrations = try await connection.query(
                "SELECT version::text, name, applied_at::text FROM schema_migrations ORDER BY version"
            ).rows
            guard relations.contains(where: { $0[0] == "schema_layout" }) else { return relations + migrations }
            let layout = try await connection.query(
                "SELECT coalesce(user_partitions::text, 'NULL'), recorded_at::text FROM schema_layout"
            ).rows
            return relations + migrations + layout
        }
    }

    /// The columns, constraints and indexes of the three tables after
    /// migrating a fresh schema with `layout`.
    private static func definitions(
        layout: SchemaLayout
    ) async throws -> (columns: [[String?]], constraints: [[String?]], indexes: [[String?]]) {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url, defaultTimeout: .seconds(60)) { pool in
                try await Migrator(layout: layout).migrate(using: pool)
                return try await pool.withConnection { connection in
                    let names = "{" + tables.joined(separator: ",") + "}"
                    let columns = try await connection.query(
                        """
                        SELECT table_name::text, column_name::text, data_type::text, is_nullable::text,
                               coalesce(column_default, ''), is_identity::text, coalesce(identity_generation::text, '')
                        FROM information_schema.columns
                        WHERE table_schema = current_schema() AND table_name = ANY ($1::text[])
                        ORDER BY table_name, ordinal_position
                        """,
                        [names]
                    ).rows
                    let constraints = try await connection.query(
                        """
                        SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid)
                        FROM pg_constraint
                        -- Not the copies PostgreSQL makes of a foreign key for
                        -- each partition it references.
                        WHERE conrelid = ANY ($1::regclass[]) AND conparentid = 0
                        ORDER BY 1, 2
                        """,
                        [names]
                    ).rows
                    let indexes = try await connection.query(
                        """
                        SELECT tablename::text, indexname::text,
                               replace(replace(indexdef, ' ON ONLY ', ' ON '), current_schema() || '.', '')
                        FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY ($1::text[])
                        ORDER BY 1, 2
                        """,
                        [names]
                    ).rows
                    return (columns, constraints, indexes)
                }
            }
        }
    }
}
