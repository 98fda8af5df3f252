/// Brings a database schema up to date with `Migration.all` (or another
/// list), safely when several instances or processes start at once.
///
/// `migrate(using:deadline:)` takes a session-level advisory lock
/// (`pg_advisory_lock`) keyed by the current schema, so concurrent migrators
/// of the same schema run one after the other while those of different
/// schemas do not wait for each other. Under the lock it creates
/// `schema_migrations` if needed, reads which versions are applied, and runs
/// each missing migration in its own transaction, together with the
/// `schema_migrations` row that records it. A migrator that waited for the
/// lock therefore finds the work done and does nothing. The lock is released
/// at the end; if the migrator fails or its deadline passes, the connection is
/// closed, which releases it too.
///
/// Versions recorded in the database that this program does not know (a newer
/// release migrated first) are accepted: migrations only add. A known version
/// recorded under another name means the histories diverged, and is an error.
///
/// A migrator asked for a `SchemaLayout` checks it against the one recorded in
/// `schema_layout` (by migration 2) before it applies anything, and refuses
/// another: the layout is chosen once.
package struct Migrator: Sendable {
    /// The migrations to apply, in order.
    package let migrations: [Migration]
    /// The layout asked for; nil accepts the recorded one (and chooses the
    /// unpartitioned layout where none is recorded yet).
    package let layout: SchemaLayout?

    /// Namespace of the advisory lock key: the lock's first 32-bit key; the
    /// second is a hash of the schema name. ("svlt" in ASCII.)
    static let lockNamespace: Int32 = 0x7376_6C74

    /// A migrator for the service's migrations (`Migration.all(for:)`) that
    /// gives the per-user tables `layout`, or, when nil, keeps whichever
    /// layout the database has.
    package init(layout: SchemaLayout? = nil) {
        self.init(checked: Migration.all(for: layout ?? .unpartitioned), layout: layout)
    }

    /// A migrator for `migrations`, whose versions must be 1, 2, 3, … in
    /// order; it asks for no layout.
    package init(migrations: [Migration]) {
        self.init(checked: migrations, layout: nil)
    }

    private init(checked migrations: [Migration], layout: SchemaLayout?) {
        for (index, migration) in migrations.enumerated() {
            precondition(migration.version == index + 1, "migration versions must be 1, 2, 3, … in order")
        }
        self.migrations = migrations
        self.layout = layout
    }

    /// Applies the missing migrations and returns them (empty when the schema
    /// was up to date).
    ///
    /// - Parameters:
    ///   - pool: where to migrate; its connections' current schema (the first
    ///     existing schema on `search_path`) is the one migrated.
    ///   - deadline: bounds the whole run, the wait for the lock included; nil
    ///     means the pool's default timeout from now.
    /// - Throws: `migrationFailed` when a migration fails (its transaction is
    ///   rolled back; earlier ones stay applied), the recorded history
    ///   contradicts this one, or the recorded layout is not the one asked for
    ///   (then nothing is applied); other `StorageError`s when the database
    ///   cannot be reached in time.
    @discardableResult
    package func migrate(using pool: PostgresPool, deadline: ContinuousClock.Instant? = nil) async throws(StorageError) -> [Migration] {
        do {
            return try await pool.withConnection(deadline: deadline) { connection in
                // Whatever happens, a failure must not leave the lock with the
                // pooled session.
                connection.discardAfterUse()
                let applied = try await run(on: connection)
                return applied
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(code: .migrationFailed, message: "migration failed: \(error)")
        }
    }

    private func run(on connection: PooledConnection) async throws(StorageError) -> [Migration] {
        let schemaResult = try await connection.query("SELECT current_schema()")
        guard let schema = schemaResult.rows.first?.first ?? nil else {
            throw StorageError(
                code: .migrationFailed,
                message: "no schema to migrate: none of the schemas on search_path exists"
            )
        }
        let key = String(Self.lockKey(forSchema: schema))
        let namespace = String(Self.lockNamespace)
        _ = try await connection.query("SELECT pg_advisory_lock($1::int4, $2::int4)", [namespace, key])

        _ = try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    BIGINT      PRIMARY KEY CHECK (version > 0),
                name       TEXT        NOT NULL CHECK (name <> ''),
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """
        )
        let recorded = try await connection.query("SELECT version, name FROM schema_migrations ORDER BY version")
        var appliedNames: [Int: String] = [:]
        for row in recorded.rows {
            guard let version = row[0].flatMap({ Int($0) }), let name = row[1] else { continue }
            appliedNames[version] = name
        }
        for migration in migrations {
            if let name = appliedNames[migration.version], name != migration.name {
                throw StorageError(
                    code: .migrationFailed,
                    message: "schema_migrations records version \(migration.version) as \"\(name)\", this program as \"\(migration.name)\""
                )
            }
        }

        if let layout, let layoutMigration = migrations.first(where: { $0.name == Migration.layoutName }),
           appliedNames[layoutMigration.version] != nil {
            try await check(layout, on: connection)
        }

        var applied: [Migration] = []
        for migration in migrations where appliedNames[migration.version] == nil {
            try await apply(migration, on: connection)
            applied.append(migration)
        }

        _ = try await connection.query("SELECT pg_advisory_unlock($1::int4, $2::int4)", [namespace, key])
        return applied
    }

    /// Throws unless `schema_layout` records `layout`.
    private func check(_ layout: SchemaLayout, on connection: PooledConnection) async throws(StorageError) {
        let result = try await connection.query(
            """
            SELECT user_partitions, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
            FROM schema_layout
            """
        )
        guard result.rows.count == 1, let row = result.rows.first else {
            throw StorageError(
                code: .migrationFailed,
                message: "schema_layout must hold exactly one row (the layout migration \(Migration.layoutName) chose), it holds \(result.rows.count)"
            )
        }
        let recorded = SchemaLayout(recorded: row[0].flatMap { Int($0) })
        guard recorded != layout else { return }
        let tables = SchemaLayout.partitionedTables.joined(separator: ", ")
        throw StorageError(
            code: .migrationFailed,
            message: """
                asked for \(tables) \(layout), but in this database they are \(recorded) \
                (recorded in schema_layout at \(row[1] ?? "an unknown time")); the layout is chosen once, \
                on a fresh database, and migrating does not change it: nothing was changed
                """
        )
    }

    private func apply(_ migration: Migration, on connection: PooledConnection) async throws(StorageError) {
        _ = try await connection.query("BEGIN")
        do throws(StorageError) {
            _ = try await connection.executeScript(migration.sql)
            _ = try await connection.query(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                [String(migration.version), migration.name]
            )
            _ = try await connection.query("COMMIT")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            switch error.code {
            case .queryFailed, .unsupported, .invalidArgument:
                throw StorageError(
                    code: .migrationFailed,
                    sqlState: error.sqlState,
                    message: "migration \(migration.version) (\(migration.name)) failed: \(error.message)",
                    detail: error.detail
                )
            default:
                throw error
            }
        }
    }

    /// The advisory lock's second key for `schema`: 32-bit FNV-1a of its
    /// UTF-8 bytes, as a signed integer. Stable across releases and machines.
    static func lockKey(forSchema schema: String) -> Int32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in schema.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return Int32(bitPattern: hash)
    }
}
