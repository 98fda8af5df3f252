import Foundation
import Testing

@testable import Storage

/// Versioned migrations and the schema they create, each test in its own
/// PostgreSQL schema.
@Suite("Migrations", .timeLimit(.minutes(1)))
struct MigrationTests {
    /// The environment variable that turns `childProcessMigrates` on: the URL
    /// of the schema a child process migrates.
    static let childURLVariable = "STORAGE_TESTS_MIGRATION_CHILD_URL"

    @Test func migratingTwiceAppliesEachMigrationOnce() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url) { pool in
                let first = try await Migrator().migrate(using: pool)
                #expect(first.map(\.version) == Migration.all.map(\.version))
                let second = try await Migrator().migrate(using: pool)
                #expect(second.isEmpty)
                let rows = try await pool.withConnection { connection in
                    try await connection.query(
                        "SELECT version, name, applied_at <= now() FROM schema_migrations ORDER BY version"
                    ).rows
                }
                #expect(rows == [["1", "initial_schema", "t"], ["2", "user_partitioning", "t"]])
            }
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationExactlyOnce() async throws {
        try await TestDatabase.withSchema { url, schema in
            let migrators = 4
            // Hold the migration lock so that every migrator is provably
            // waiting on it before any may start.
            try await TestDatabase.withPool(url: url, maximumConnections: 2) { lockHolder in
                try await lockHolder.withConnection { lock in
                    try await Self.takeMigrationLock(on: lock, schema: schema)
                    let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                        for _ in 0..<migrators {
                            group.addTask {
                                try await TestDatabase.withPool(url: url, maximumConnections: 1) { pool in
                                    try await Migrator().migrate(using: pool).count
                                }
                            }
                        }
                        let allWaiting = try await Self.eventuallyWaitingForLock(
                            count: migrators, schema: schema, observer: lockHolder
                        )
                        #expect(allWaiting)
                        try await Self.releaseMigrationLock(on: lock, schema: schema)
                        return try await group.reduce(0, +)
                    }
                    #expect(applied == Migration.all.count)
                }
                let versions = try await lockHolder.withConnection {
                    try await $0.query("SELECT version FROM schema_migrations ORDER BY version").rows
                }
                #expect(versions == Migration.all.map { [String($0.version)] })
            }
        }
    }

    @Test func twoProcessesMigrateTheSameSchemaAtOnce() async throws {
        try await TestDatabase.withSchema { url, schema in
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            try await TestDatabase.withPool(url: url, maximumConnections: 2) { lockHolder in
                try await lockHolder.withConnection { lock in
                    try await Self.takeMigrationLock(on: lock, schema: schema)
                    var children: [Process] = []
                    var exits: [Task<Int32, Never>] = []
                    for _ in 0..<2 {
                        let child = Process()
                        child.executableURL = executable
                        child.arguments = [
                            "--testing-library", "swift-testing",
                            "--filter", "MigrationTests/childProcessMigrates",
                        ]
                        var environment = ProcessInfo.processInfo.environment
                        environment[Self.childURLVariable] = url
                        child.environment = environment
                        child.standardOutput = FileHandle.nullDevice
                        child.standardError = FileHandle.nullDevice
                        exits.append(Self.exitStatus(of: child))
                        try child.run()
                        children.append(child)
                    }
                    let bothWaiting = try await Self.eventuallyWaitingForLock(
                        count: 2, schema: schema, observer: lockHolder
                    )
                    #expect(bothWaiting)
                    try await Self.releaseMigrationLock(on: lock, schema: schema)
                    var statuses: [Int32] = []
                    for exit in exits { statuses.append(await exit.value) }
                    #expect(statuses == [0, 0])
                }
                let versions = try await lockHolder.withConnection {
                    try await $0.query("SELECT version FROM schema_migrations ORDER BY version").rows
                }
                #expect(versions == Migration.all.map { [String($0.version)] })
            }
        }
    }

    /// The child side of `twoProcessesMigrateTheSameSchemaAtOnce`; runs only
    /// in the processes that test starts.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[MigrationTests.childURLVariable] != nil))
    func childProcessMigrates() async throws {
        let url = try #require(ProcessInfo.processInfo.environment[Self.childURLVariable])
        try await TestDatabase.withPool(url: url, maximumConnections: 1) { pool in
            _ = try await Migrator().migrate(using: pool)
        }
    }

    @Test func schemaHasTheExpectedTablesAndIndexes() async throws {
        try await TestDatabase.withSchema { url, schema in
            try await TestDatabase.withPool(url: url) { pool in
                try await Migrator().migrate(using: pool)
                let tables = try await pool.withConnection { connection in
                    try await connection.query(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
                        [schema]
                    ).rows.compactMap { $0[0] }
                }
                #expect(tables == [
                    "account_members", "accounts", "api_tokens", "audit_log", "billing_rates", "projects",
                    "schema_layout", "schema_migrations", "timer_sessions", "timers", "users",
                ])

                let indexRows = try await pool.withConnection { connection in
                    try await connection.query(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1", [schema]
                    ).rows
                }
                var definitions: [String: String] = [:]
                for row in indexRows {
                    if let name = row[0], let definition = row[1] { definitions[name] = definition }
                }
                // The seed's indexes, each partial.
                let seedIndexes = [
                    "idx_timers_user_status": "(user_id, status) WHERE (deleted_at IS NULL)",
                    "idx_timers_user_started": "(user_id, started_at) WHERE (deleted_at IS NULL)",
                    "idx_timers_account": "(account_id) WHERE (deleted_at IS NULL)",
                    "idx_timers_user_active":
                        "(user_id, status, started_at) WHERE ((status = ANY (ARRAY['running'::text, 'paused'::text])) AND (deleted_at IS NULL))",
                    "idx_timers_account_billing": "(account_id, billing_rate_id, created_at) WHERE (deleted_at IS NULL)",
                    "idx_active_timers_sync":
                        "(user_id, last_updated) WHERE ((status = ANY (ARRAY['running'::text, 'paused'::text])) AND (deleted_at IS NULL))",
                ]
                for (name, suffix) in seedIndexes {
                    let definition = definitions[name] ?? "missing"
                    #expect(definition.hasSuffix(suffix), "\(name): \(definition)")
                }
                let openSession = definitions["idx_timer_sessions_one_open"] ?? "missing"
                #expect(openSession.contains("CREATE UNIQUE INDEX"))
                #expect(openSession.hasSuffix("(user_id, timer_id) WHERE (ended_at IS NULL)"))
                let clientRef = definitions["idx_timers_user_client_ref"] ?? "missing"
                #expect(clientRef.contains("CREATE UNIQUE INDEX"))
                #expect(clientRef.hasSuffix("(user_id, client_ref) WHERE (client_ref IS NOT NULL)"))
                let tokenHash = definitions["idx_api_tokens_token_hash"] ?? "missing"
                #expect(tokenHash.contains("CREATE UNIQUE INDEX"))

                // Every timestamp is a TIMESTAMPTZ.
                let naive = try await pool.withConnection { connection in
                    try await connection.query(
                        """
                        SELECT table_name || '.' || column_name FROM information_schema.columns
                        WHERE table_schema = $1 AND data_type = 'timestamp without time zone'
                        """,
                        [schema]
                    ).rows
                }
                #expect(naive.isEmpty)
            }
        }
    }

    @Test func aTimerHasAtMostOneOpenSession() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url) { pool in
                try await Migrator().migrate(using: pool)
                let fixture = try await Fixture.make(on: pool)
                let openSession = "INSERT INTO timer_sessions (user_id, timer_id, started_at) VALUES ($1, $2, now())"
                try await pool.withConnection { connection in
                    _ = try await connection.query(openSession, [fixture.user, fixture.timer])
                }
                let error = await #expect(throws: StorageError.self) {
                    try await pool.withConnection { connection in
                        _ = try await connection.query(openSession, [fixture.user, fixture.timer])
                    }
                }
                #expect(error?.sqlState == "23505")
                #expect(error?.message.contains("idx_timer_sessions_one_open") == true)

                // Once the first is closed, the next may open.
                try await pool.withConnection { connection in
                    _ = try await connection.query(
                        "UPDATE timer_sessions SET ended_at = now(), duration = 0 WHERE ended_at IS NULL"
                    )
                    _ = try await connection.query(openSession, [fixture.user, fixture.timer])
                }
                let counts = try await pool.withConnection { connection in
                    try await connection.query(
                        "SELECT count(*), count(*) FILTER (WHERE ended_at IS NULL) FROM timer_sessions"
                    ).rows
                }
                #expect(counts == [["2", "1"]])
            }
        }
    }

    @Test func constraintsRejectRowsTheAPICannotProduce() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url) { pool in
                try await Migrator().migrate(using: pool)
                let fixture = try await Fixture.make(on: pool)
                let insert = """
                    INSERT INTO timers (user_id, account_id, project_id, description, status, started_at,
                                        current_session_start, client_ref)
                    VALUES ($1, $2, $3, $4, $5, now(), $6::timestamptz, $7::uuid)
                    """
                func sqlState(_ params: [String?]) async -> String? {
                    do {
                        try await pool.withConnection { _ = try await $0.query(insert, params) }
                        return nil
                    } catch let error as StorageError {
                        return error.sqlState ?? "\(error.code)"
                    } catch {
                        return "\(error)"
                    }
                }
                let now = "2030-01-01T00:00:00Z"
                let user = fixture.user, account = fixture.account
                let longDescription = String(repeating: "é", count: 1001)
                let exactlyLong = String(repeating: "é", count: 1000)
                let otherProject = fixture.otherAccountProject
                let ref = UUID().uuidString

                let empty = await sqlState([user, account, nil, "", "running", now, nil])
                #expect(empty == "23514")
                let tooLong = await sqlState([user, account, nil, longDescription, "running", now, nil])
                #expect(tooLong == "23514")
                let longest = await sqlState([user, account, nil, exactlyLong, "running", now, nil])
                #expect(longest == nil)
                let unknownStatus = await sqlState([user, account, nil, "x", "RUNNING", now, nil])
                #expect(unknownStatus == "23514")
                let runningWithoutSession = await sqlState([user, account, nil, "x", "running", nil, nil])
                #expect(runningWithoutSession == "23514")
                let projectOfAnotherAccount = await sqlState([user, account, otherProject, "x", "running", now, nil])
                #expect(projectOfAnotherAccount == "23503")
                let firstWithRef = await sqlState([user, account, nil, "x", "running", now, ref])
                #expect(firstWithRef == nil)
                let retryWithRef = await sqlState([user, account, nil, "x", "running", now, ref])
                #expect(retryWithRef == "23505")
                let otherUserSameRef = await sqlState([fixture.otherUser, account, nil, "x", "running", now, ref])
                #expect(otherUserSameRef == nil)
            }
        }
    }

    @Test func divergentHistoryIsAnError() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url) { pool in
                try await Migrator().migrate(using: pool)
                try await pool.withConnection { connection in
                    _ = try await connection.query("UPDATE schema_migrations SET name = 'something_else' WHERE version = 1")
                }
                let error = await #expect(throws: StorageError.self) {
                    try await Migrator().migrate(using: pool)
                }
                #expect(error?.code == .migrationFailed)
            }
        }
    }

    @Test func failingMigrationRollsBackAndLeavesEarlierOnesApplied() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url) { pool in
                let broken = Migration.all + [
                    Migration(
                        version: Migration.all.count + 1,
                        name: "broken",
                        sql: "CREATE TABLE half_done (id int); SELECT no_such_column FROM half_done"
                    )
                ]
                let error = await #expect(throws: StorageError.self) {
                    try await Migrator(migrations: broken).migrate(using: pool)
                }
                #expect(error?.code == .migrationFailed)
                #expect(error?.sqlState == "42703")
                let state = try await pool.withConnection { connection in
                    try await connection.query(
                        "SELECT (SELECT count(*) FROM schema_migrations), to_regclass('half_done') IS NULL"
                    ).rows
                }
                #expect(state == [[String(Migration.all.count), "t"]])
                // The lock went with the failed run's connection.
                let again = try await Migrator().migrate(using: pool)
                #expect(again.isEmpty)
            }
        }
    }

    // MARK: - Helpers

    /// Rows the constraint tests refer to.
    private struct Fixture {
        var user: String
        var otherUser: String
        var account: String
        var otherAccountProject: String
        var timer: String

        static func make(on pool: PostgresPool) async throws -> Fixture {
            try await pool.transaction { tx in
                func id(_ sql: String, _ params: [String?] = []) async throws -> String {
                    try #require(try await tx.query(sql + " RETURNING id", params).rows.first?.first ?? nil)
                }
                let user = try await id("INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com')")
                let otherUser = try await id("INSERT INTO users (name, email) VALUES ('Bob', 'bob@example.com')")
                let account = try await id("INSERT INTO accounts (name, max_running_seconds) VALUES ('Acme', 36000)")
                let otherAccount = try await id("INSERT INTO accounts (name) VALUES ('Other')")
                _ = try await tx.query(
                    "INSERT INTO account_members (user_id, account_id, role) VALUES ($1, $2, 'admin'), ($3, $2, 'member')",
                    [user, account, otherUser]
                )
                let otherAccountProject = try await id(
                    "INSERT INTO projects (account_id, name) VALUES ($1, 'Elsewhere')", [otherAccount]
                )
                let timer = try await id(
                    """
                    INSERT INTO timers (user_id, account_id, description, status, started_at, current_session_start)
                    VALUES ($1, $2, 'Writing', 'running', now(), now())
                    """,
                    [user, account]
                )
                return Fixture(
                    user: user, otherUser: otherUser, account: account,
                    otherAccountProject: otherAccountProject, timer: timer
                )
            }
        }
    }

    private static func lockKeys(_ schema: String) -> [String?] {
        [String(Migrator.lockNamespace), String(Migrator.lockKey(forSchema: schema))]
    }

    private static func takeMigrationLock(on connection: PooledConnection, schema: String) async throws {
        _ = try await connection.query("SELECT pg_advisory_lock($1::int4, $2::int4)", lockKeys(schema))
    }

    private static func releaseMigrationLock(on connection: PooledConnection, schema: String) async throws {
        _ = try await connection.query("SELECT pg_advisory_unlock($1::int4, $2::int4)", lockKeys(schema))
    }

    /// Waits until `count` sessions wait for the migration lock of `schema`.
    private static func eventuallyWaitingForLock(count: Int, schema: String, observer: PostgresPool) async throws -> Bool {
        try await TestDatabase.eventually(within: .seconds(30)) {
            let waiting = try await observer.withConnection { connection in
                try await connection.query(
                    """
                    SELECT count(*) FROM pg_locks
                    WHERE locktype = 'advisory' AND NOT granted
                      AND classid::bigint = ($1::int4::bigint & 4294967295)
                      AND objid::bigint = ($2::int4::bigint & 4294967295) AND objsubid = 2
                    """,
                    lockKeys(schema)
                ).rows[0][0]
            }
            return waiting == String(count)
        }
    }

    /// The exit status of `process`, once it has run and exited.
    private static func exitStatus(of process: Process) -> Task<Int32, Never> {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
        }
        return Task {
            for await status in stream { return status }
            return -1
        }
    }
}
