/// How the per-user tables `timers`, `timer_sessions` and `audit_log` are
/// stored: one table each, or each `PARTITION BY HASH (user_id)`.
///
/// Chosen once, when migration 2 (`user_partitioning`) is applied, and
/// recorded in the one row of `schema_layout`; `Migrator` refuses a layout
/// that differs from the recorded one. The keys are the same in both layouts
/// (primary keys `(user_id, id)`, foreign keys and unique indexes that include
/// `user_id`), so every query runs unchanged on either.
package struct SchemaLayout: Sendable, Hashable, CustomStringConvertible {
    /// The partition counts a layout may have: enough to spread a table over
    /// many disks' worth of rows, few enough that one migration creates them
    /// all (three tables and their indexes per partition) within PostgreSQL's
    /// default lock table.
    package static let partitionCounts: ClosedRange<Int> = 1...128

    /// The tables a partitioned layout partitions, in creation order.
    package static let partitionedTables = ["timers", "timer_sessions", "audit_log"]

    /// Hash partitions per table, nil when the tables are not partitioned.
    package let userPartitions: Int?

    /// One plain table each (the layout of a database migrated before
    /// partitioning was an option, and the default).
    package static let unpartitioned = SchemaLayout(checked: nil)

    /// Each of the three tables hash-partitioned by `user_id` into
    /// `partitions` partitions, named `timers_p0`, `timers_p1`, … .
    ///
    /// - Throws: `invalidArgument` when `partitions` is outside
    ///   `partitionCounts`.
    package static func hashPartitioned(_ partitions: Int) throws(StorageError) -> SchemaLayout {
        guard partitionCounts.contains(partitions) else {
            throw StorageError(
                code: .invalidArgument,
                message: "the partition count must be \(partitionCounts.lowerBound) to \(partitionCounts.upperBound), got \(partitions)"
            )
        }
        return SchemaLayout(checked: partitions)
    }

    /// `hashPartitioned` with a count written in decimal digits, as a flag or
    /// an environment variable gives it.
    ///
    /// - Throws: `invalidArgument` when `text` is not a whole number in
    ///   `partitionCounts`.
    package static func hashPartitioned(parsing text: String) throws(StorageError) -> SchemaLayout {
        guard let count = Int(text), partitionCounts.contains(count) else {
            throw StorageError(
                code: .invalidArgument,
                message: "the partition count must be a whole number from \(partitionCounts.lowerBound) to \(partitionCounts.upperBound), got '\(text)'"
            )
        }
        return SchemaLayout(checked: count)
    }

    /// The layout `schema_layout` records, as it is: a later release may
    /// allow counts this one does not.
    init(recorded partitions: Int?) {
        userPartitions = partitions
    }

    private init(checked partitions: Int?) {
        userPartitions = partitions
    }

    /// The layout in words, for messages: "not partitioned" or
    /// "hash-partitioned by user_id into 8 partitions each".
    package var description: String {
        guard let count = userPartitions else { return "not partitioned" }
        return "hash-partitioned by user_id into \(count) partition\(count == 1 ? "" : "s") each"
    }
}
