import TimerDomain

extension TimerSQL {
    /// Active timers of all users, in (user_id, id) order after a position.
    static let allActiveTimers = PreparedStatement(
        name: "timers.all_active",
        sql: """
            SELECT \(timerColumns) FROM \(timerSource)
            WHERE t.status IN ('running', 'paused') AND t.deleted_at IS NULL
              AND (t.user_id, t.id) > ($1::bigint, $2::bigint)
            ORDER BY t.user_id, t.id
            LIMIT $3
            """
    )
}

extension TimerRepository {
    /// One page of the active (running or paused, not deleted) timers of all
    /// users, ordered by user then id, after the position `after` (a user id
    /// and a timer id; nil for the first page). For rebuilding the live state
    /// in Redis from PostgreSQL.
    package func allActive(
        after: (userID: Int64, timerID: Int64)?, limit: Int, deadline: ContinuousClock.Instant? = nil
    ) async throws -> [TimerRecord] {
        let position = after ?? (Int64.min, Int64.min)
        let result = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(TimerSQL.allActiveTimers, [String(position.userID), String(position.timerID), String(max(1, limit))])
        }
        return try result.rows.map { (row) throws(TimerDomainError) in try TimerSQL.record(from: row) }
    }
}

extension TimerSQL {
    /// How many timers run or are paused, across all users.
    static let activeFigures = PreparedStatement(
        name: "timers.active_figures",
        sql: """
            SELECT count(*) FILTER (WHERE status = 'running'), count(*) FILTER (WHERE status = 'paused'), count(DISTINCT user_id)
            FROM timers WHERE status IN ('running', 'paused') AND deleted_at IS NULL
            """
    )
    static let countActive = PreparedStatement(
        name: "timers.count_active",
        sql: "SELECT count(*) FROM timers WHERE status IN ('running', 'paused') AND deleted_at IS NULL"
    )
}

extension TimerRepository {
    /// How many timers run or are paused now, across all users: health's
    /// `active_timers_count`. Also tells that the database answers.
    package func countActive(deadline: ContinuousClock.Instant? = nil) async throws -> Int64 {
        let result = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(TimerSQL.countActive)
        }
        guard let text = result.rows.first?[0], let count = Int64(text) else {
            throw TimerDomainError(code: .inconsistentState, message: "count(*) returned no number")
        }
        return count
    }

    /// Timers running and paused now, and the users they belong to, across
    /// all users: the service's active figures (GetSystemHealth, metrics).
    package func activeFigures(deadline: ContinuousClock.Instant? = nil) async throws -> (running: Int64, paused: Int64, users: Int64) {
        let result = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(TimerSQL.activeFigures)
        }
        guard let row = result.rows.first, row.count == 3, let running = row[0].flatMap({ Int64($0) }),
              let paused = row[1].flatMap({ Int64($0) }), let users = row[2].flatMap({ Int64($0) }) else {
            throw TimerDomainError(code: .inconsistentState, message: "the active figures query returned no numbers")
        }
        return (running, paused, users)
    }
}
