import ArgumentParser
import Foundation
import Storage

/// The value of environment variable `name`, nil when unset or empty.
func environment(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}

/// `--database-url`, shared by every command that uses PostgreSQL.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: ArgumentHelp(
        "PostgreSQL connection URL (libpq URI or key=value string). Variable: TIMERD_DATABASE_URL.",
        valueName: "url"))
    var databaseURL: String?

    @Option(name: .customLong("database-timeout"), help: ArgumentHelp(
        "Seconds a database call may take, the wait for a connection included. Variable: TIMERD_DATABASE_TIMEOUT.",
        valueName: "seconds"))
    var databaseTimeout: Int?

    /// The URL from the flag, else from TIMERD_DATABASE_URL.
    func url() throws -> String {
        guard let url = databaseURL ?? environment("TIMERD_DATABASE_URL") else {
            throw CommandFailure("no database given: pass --database-url or set TIMERD_DATABASE_URL")
        }
        return url
    }

    /// The call timeout from the flag, else from TIMERD_DATABASE_TIMEOUT, else 10 seconds.
    func timeout() throws -> Duration {
        let text = databaseTimeout.map(String.init) ?? environment("TIMERD_DATABASE_TIMEOUT") ?? "10"
        guard let seconds = Int(text), seconds > 0 else {
            throw CommandFailure("the database timeout must be a positive number of seconds, got '\(text)'")
        }
        return .seconds(seconds)
    }

    /// A pool on the database, for `maximumConnections` at most.
    func makePool(maximumConnections: Int = 2) throws -> PostgresPool {
        PostgresPool(configuration: .init(
            url: try url(), maximumConnections: maximumConnections, defaultTimeout: try timeout()))
    }

    /// Migrates the database (idempotent; with the layout TIMERD_DATABASE_PARTITIONS
    /// asks for, if set), runs `body` with a pool, and shuts the pool down
    /// whatever happens.
    func withMigratedPool<T>(_ body: (PostgresPool) async throws -> T) async throws -> T {
        let layout = try requestedLayout(flag: nil)
        let pool = try makePool()
        do {
            try await Migrator(layout: layout).migrate(using: pool)
            let value = try await body(pool)
            await pool.shutdown()
            return value
        } catch {
            await pool.shutdown()
            throw error
        }
    }
}

/// `--partitions`, for the commands that create the schema (`migrate`, and
/// `serve`, which migrates first).
struct PartitionOptions: ParsableArguments {
    @Option(name: .customLong("partitions"), parsing: .unconditional, help: ArgumentHelp(
        """
        Create timers, timer_sessions and audit_log partitioned by hash of user_id, COUNT partitions each \
        (1 to \(SchemaLayout.partitionCounts.upperBound)), on a fresh database. Chosen once: a database with another \
        layout is refused. Without it, a fresh database gets plain tables and an existing one keeps its layout. \
        Variable: TIMERD_DATABASE_PARTITIONS.
        """,
        valueName: "count"))
    var partitions: String?

    /// The layout asked for by the flag, else by TIMERD_DATABASE_PARTITIONS;
    /// nil when neither is given.
    func layout() throws -> SchemaLayout? {
        try requestedLayout(flag: partitions)
    }
}

/// The layout `flag` (the value of `--partitions`) asks for, else
/// TIMERD_DATABASE_PARTITIONS; nil when neither is given.
func requestedLayout(flag partitions: String?) throws -> SchemaLayout? {
    let source: String
    let text: String
    if let partitions {
        (source, text) = ("--partitions", partitions)
    } else if let variable = environment("TIMERD_DATABASE_PARTITIONS") {
        (source, text) = ("TIMERD_DATABASE_PARTITIONS", variable)
    } else {
        return nil
    }
    do {
        return try SchemaLayout.hashPartitioned(parsing: text)
    } catch {
        let counts = SchemaLayout.partitionCounts
        throw CommandFailure(
            "\(source) must be a whole number of partitions from \(counts.lowerBound) to \(counts.upperBound), got '\(text)'")
    }
}
