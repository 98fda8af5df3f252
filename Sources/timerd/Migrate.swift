import ArgumentParser
import Storage

/// `timerd migrate`: applies the migrations the database lacks.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring the database schema up to date (safe to run again, and by several processes at once).",
        discussion: """
            Prints one line per migration applied ("applied migration 1 initial_schema"), \
            or "schema up to date" when there was nothing to do. With --partitions COUNT on a \
            fresh database, timers, timer_sessions and audit_log are created PARTITION BY HASH \
            (user_id) with COUNT partitions each (timers_p0, timers_p1, …); the layout is \
            recorded in schema_layout, and a later run asking for another is refused.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var partitioning: PartitionOptions

    func run() async throws {
        try await reportingFailures("migrate") {
            let layout = try partitioning.layout()
            let pool = try database.makePool(maximumConnections: 1)
            let applied: [Migration]
            do {
                applied = try await Migrator(layout: layout).migrate(using: pool)
            } catch {
                await pool.shutdown()
                throw error
            }
            await pool.shutdown()
            if applied.isEmpty {
                writeLine("schema up to date")
            }
            for migration in applied {
                writeLine("applied migration \(migration.version) \(migration.name)")
            }
        }
    }
}
