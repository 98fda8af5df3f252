import ArgumentParser
import Storage

/// `timerd purge --older-than DAYS`: retention of stopped timers.
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete stopped timers (and their sessions) stopped more than DAYS days ago.",
        discussion: """
            Deletes in batches, each in its own transaction, and writes one audit_log row \
            (action timer.purge) per timer deleted, so the trail says what went and when it \
            had stopped. Running and paused timers are never touched. Prints "purged <count> timers".
            """)

    @Option(name: .customLong("older-than"), help: ArgumentHelp(
        "Age in days of the stop time beyond which a stopped timer is deleted (0 or more).", valueName: "days"))
    var olderThan: Int

    @Option(name: .customLong("batch-size"), help: ArgumentHelp(
        "Timers deleted per transaction (1 to 100000).", valueName: "count"))
    var batchSize: Int = 1_000

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await reportingFailures("purge") {
            guard (0...36_500).contains(olderThan) else {
                throw CommandFailure("--older-than must be 0 to 36500 days, got \(olderThan)")
            }
            guard (1...100_000).contains(batchSize) else {
                throw CommandFailure("--batch-size must be 1 to 100000, got \(batchSize)")
            }
            let total = try await database.withMigratedPool { pool in
                // One cut-off for every batch, so that timers stopping while
                // the purge runs are judged the same way.
                let cutoff = try await pool.withConnection { connection in
                    try await connection.query(
                        "SELECT (now() - make_interval(days => $1::int))::text", [String(olderThan)]
                    ).rows.first?.first ?? nil
                }
                guard let cutoff else { throw CommandFailure("the database returned no time") }
                var total = 0
                while true {
                    let purged = try await pool.withConnection { connection in
                        // One statement: the delete and its audit rows commit together.
                        try await connection.query(
                            """
                            WITH doomed AS (
                                SELECT user_id, id FROM timers
                                WHERE status = 'stopped' AND stopped_at < $1::timestamptz
                                ORDER BY stopped_at
                                LIMIT $2::int
                                FOR UPDATE SKIP LOCKED
                            ), purged AS (
                                DELETE FROM timers t USING doomed d
                                WHERE t.user_id = d.user_id AND t.id = d.id
                                RETURNING t.user_id, t.id, t.account_id, t.sync_version, t.stopped_at, t.total_duration
                            ), logged AS (
                                INSERT INTO audit_log (user_id, action, timer_id, account_id, sync_version_before, details)
                                SELECT user_id, 'timer.purge', id, account_id, sync_version,
                                       jsonb_build_object('older_than_days', $3::int, 'stopped_at', stopped_at,
                                                          'total_duration', total_duration)
                                FROM purged
                                RETURNING 1
                            )
                            SELECT count(*) FROM logged
                            """,
                            [cutoff, String(batchSize), String(olderThan)]
                        ).rows.first?.first.flatMap { $0.flatMap { Int($0) } } ?? 0
                    }
                    total += purged
                    if purged < batchSize { break }
                }
                return total
            }
            writeLine("purged \(total) timers")
        }
    }
}
