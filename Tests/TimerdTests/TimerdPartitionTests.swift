import Foundation
import Storage
import Testing

/// `timerd migrate --partitions` and `TIMERD_DATABASE_PARTITIONS`, as
/// operators run them.
@Suite struct TimerdPartitionTests {
    /// The partitions of `timers`, `timer_sessions` and `audit_log` together.
    private static let partitionCount = """
        SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relname IN ('timers', 'timer_sessions', 'audit_log')
        """

    @Test func migratePartitionsOnceAndRefusesAnotherCount() async throws {
        try await Timerd.withSchema { timerd, pool in
            let first = try await timerd("migrate", "--partitions", "3")
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout == "applied migration 1 initial_schema\napplied migration 2 user_partitioning\n")
            #expect(try await scalar(pool, Self.partitionCount) == "9")
            #expect(try await scalar(pool, "SELECT user_partitions FROM schema_layout") == "3")

            let other = try await timerd("migrate", "--partitions", "5")
            #expect(other.status == 1)
            #expect(other.stdout.isEmpty)
            #expect(other.stderrLines.count == 1, "\(other.stderr)")
            #expect(other.stderr.hasPrefix(
                "timerd migrate: asked for timers, timer_sessions, audit_log hash-partitioned by user_id into 5 partitions each, but in this database they are hash-partitioned by user_id into 3 partitions each"),
                "\(other.stderr)")
            #expect(other.stderr.hasSuffix("nothing was changed\n"), "\(other.stderr)")
            #expect(try await scalar(pool, Self.partitionCount) == "9")

            // The same count from the variable, or none at all: nothing to do.
            let same = try await timerd("migrate", environment: ["TIMERD_DATABASE_PARTITIONS": "3"])
            #expect(same.status == 0, "\(same.stderr)")
            #expect(same.stdout == "schema up to date\n")
            let none = try await timerd("migrate")
            #expect(none.stdout == "schema up to date\n")

            // serve migrates first, with the variable: refused the same way,
            // before it listens.
            let serve = try await timerd(
                "serve", "--listen", "127.0.0.1:0", environment: ["TIMERD_DATABASE_PARTITIONS": "4"])
            #expect(serve.status == 1)
            #expect(serve.stdout.isEmpty)
            #expect(serve.stderr.contains(
                "timerd serve: asked for timers, timer_sessions, audit_log hash-partitioned by user_id into 4 partitions each"),
                "\(serve.stderr)")
        }
    }

    @Test(arguments: ["0", "-2", "129", "eight", "", "2.5"])
    func badPartitionCountsAreOneClearLine(count: String) async throws {
        try await Timerd.withSchema { timerd, pool in
            let flag = try await timerd("migrate", "--partitions", count)
            #expect(flag.status == 1)
            #expect(flag.stderr == "timerd migrate: --partitions must be a whole number of partitions from 1 to 128, got '\(count)'\n")
            guard !count.isEmpty else { return }
            let variable = try await timerd("serve", environment: ["TIMERD_DATABASE_PARTITIONS": count])
            #expect(variable.status == 1)
            #expect(variable.stderr == "timerd serve: TIMERD_DATABASE_PARTITIONS must be a whole number of partitions from 1 to 128, got '\(count)'\n")
            // Nothing was created.
            #expect(try await scalar(pool, "SELECT to_regclass('schema_migrations') IS NULL") == "t")
        }
    }
}
