/// One step of the database schema's history.
///
/// A migration is SQL written in this program, run once per database (per
/// schema) by `Migrator`, inside its own transaction together with the row
/// that records it in `schema_migrations`. Once released, a migration never
/// changes: the next change is a new migration with the next version.
package struct Migration: Sendable, Hashable {
    /// The position in the history: 1, 2, 3, … without gaps.
    package let version: Int
    /// A short name in snake_case, recorded with the version (for example
    /// `initial_schema`).
    package let name: String
    /// One or more `;`-separated statements, run with the simple query
    /// protocol. No `CREATE INDEX CONCURRENTLY` and no `VACUUM`: they cannot
    /// run in a transaction.
    package let sql: String

    /// Declares a migration.
    package init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

extension Migration {
    /// Every migration of the service's schema, in order, for the default
    /// (unpartitioned) layout.
    package static let all: [Migration] = all(for: .unpartitioned)

    /// Every migration of the service's schema, in order, for `layout`.
    package static func all(for layout: SchemaLayout) -> [Migration] {
        [initialSchema, userPartitioning(layout)]
    }
}
