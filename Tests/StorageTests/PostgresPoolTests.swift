import Foundation
import Testing

@testable import Storage

/// The connection pool against the project-local PostgreSQL.
@Suite("PostgresPool", .timeLimit(.minutes(1)))
struct PostgresPoolTests {
    @Test func runsManyConcurrentCallsOnFewerConnections() async throws {
        let connections = 3
        let calls = 12
        try await TestDatabase.withPool(maximumConnections: connections) { pool in
            // The first `connections` calls hold their connections until every
            // other call has queued, so the pool is provably oversubscribed.
            let gate = Gate()
            let pids = Recorder<String>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<calls {
                    group.addTask {
                        try await pool.withConnection { connection in
                            let pid = try await connection.query("SELECT pg_backend_pid()").rows[0][0] ?? ""
                            pids.append(pid)
                            if index < connections { await gate.wait() }
                        }
                    }
                    if index == connections - 1 {
                        let held = await TestDatabase.eventually { pool.statistics.leased == connections }
                        #expect(held)
                    }
                }
                let queued = await TestDatabase.eventually { pool.statistics.waiting == calls - connections }
                #expect(queued)
                let statistics = pool.statistics
                #expect(statistics.leased == connections)
                gate.open()
                try await group.waitForAll()
            }
            let all = pids.all
            #expect(all.count == calls)
            #expect(Set(all).count == connections)
            let after = pool.statistics
            #expect(after.waiting == 0)
            let settled = await TestDatabase.eventually { pool.statistics.idle == connections }
            #expect(settled)
        }
    }

    @Test func servesWaitingCallersInOrder() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let gate = Gate()
            let order = Recorder<Int>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await pool.withConnection { _ in await gate.wait() }
                }
                let held = await TestDatabase.eventually { pool.statistics.leased == 1 }
                #expect(held)
                for caller in 1...4 {
                    group.addTask {
                        try await pool.withConnection { connection in
                            _ = try await connection.query("SELECT 1")
                            order.append(caller)
                        }
                    }
                    let queued = await TestDatabase.eventually { pool.statistics.waiting == caller }
                    #expect(queued)
                }
                gate.open()
                try await group.waitForAll()
            }
            #expect(order.all == [1, 2, 3, 4])
        }
    }

    @Test func queuedCallerFailsWithTimedOutAtItsDeadline() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let gate = Gate()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await pool.withConnection { _ in await gate.wait() }
                }
                let held = await TestDatabase.eventually { pool.statistics.leased == 1 }
                #expect(held)

                let start = ContinuousClock.now
                let deadline = start + .milliseconds(300)
                let error = await #expect(throws: StorageError.self) {
                    try await pool.withConnection(deadline: deadline) { _ in }
                }
                let elapsed = ContinuousClock.now - start
                #expect(error?.code == .timedOut)
                #expect(elapsed >= .milliseconds(300))
                // Slack for loaded machines and sanitizer builds; without the
                // deadline the call would wait for the gate, which opens
                // only after this check.
                #expect(elapsed < .seconds(10))
                let statistics = pool.statistics
                #expect(statistics.waiting == 0)

                gate.open()
                try await group.waitForAll()
            }
            // The pool is still fine afterwards.
            let value = try await pool.withConnection { try await $0.query("SELECT 7").rows[0][0] }
            #expect(value == "7")
        }
    }

    @Test func deadlineCancelsALongStatementAndTheNextCallGetsAFreshConnection() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let firstPID = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid()").rows[0][0] }
            let start = ContinuousClock.now
            let error = await #expect(throws: StorageError.self) {
                try await pool.withConnection(deadline: start + .milliseconds(300)) { connection in
                    _ = try await connection.query("SELECT pg_sleep(30)")
                }
            }
            let elapsed = ContinuousClock.now - start
            #expect(error?.code == .timedOut)
            // Well before the statement's 30 s, with slack for loaded
            // machines and sanitizer builds (a parallel run under
            // AddressSanitizer has taken 11 s to cancel and reconnect).
            #expect(elapsed < .seconds(20))

            // The abandoned connection is not reused: a cancel request was on
            // its way to it.
            let secondPID = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid()").rows[0][0] }
            #expect(secondPID != nil)
            #expect(secondPID != firstPID)
            // And the server stopped sleeping: the old backend goes away.
            let gone = try await TestDatabase.eventually {
                try await pool.withConnection { connection in
                    let rows = try await connection.query(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", [firstPID]
                    ).rows
                    return rows.isEmpty
                }
            }
            #expect(gone)
        }
    }

    @Test func cancellingTheTaskDuringAStatementCancelsIt() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let started = Gate()
            // Tagged, so that no other test's statement matches.
            let statement = "SELECT pg_sleep(30) -- \(UUID().uuidString)"
            let sleeper = Task {
                try await pool.withConnection { connection in
                    started.open()
                    _ = try await connection.query(statement)
                }
            }
            await started.wait()
            let running = try await TestDatabase.withPool(maximumConnections: 1) { observer in
                try await TestDatabase.eventually {
                    try await observer.withConnection { connection in
                        try await connection.query(
                            "SELECT 1 FROM pg_stat_activity WHERE query = $1 AND state = 'active'", [statement]
                        ).rows.count == 1
                    }
                }
            }
            #expect(running)
            let start = ContinuousClock.now
            sleeper.cancel()
            let result = await sleeper.result
            let elapsed = ContinuousClock.now - start
            #expect((result.error as? StorageError)?.code == .cancelled)
            // Well before the statement would end, with slack for loaded
            // machines and sanitizer builds.
            #expect(elapsed < .seconds(10))
            // The pool serves the next caller on a new connection.
            let value = try await pool.withConnection(deadline: .now + .seconds(5)) {
                try await $0.query("SELECT 'after'").rows[0][0]
            }
            #expect(value == "after")
        }
    }

    @Test func terminatedBackendIsReplacedOnTheNextCall() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let victim = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid()").rows[0][0] }
            let pid = try #require(victim)
            try await TestDatabase.withPool(maximumConnections: 1) { killer in
                // Waits (up to 5 s) until the backend has exited.
                let result = try await killer.withConnection {
                    try await $0.query("SELECT pg_terminate_backend($1::int, 5000)", [pid]).rows[0][0]
                }
                #expect(result == "t")
            }
            // No error reaches the caller: the dead connection is replaced.
            let replacement = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid()").rows[0][0] }
            #expect(replacement != nil)
            #expect(replacement != victim)
            let count = try await pool.transaction { try await $0.query("SELECT count(*) FROM pg_class").rows.count }
            #expect(count == 1)
        }
    }

    @Test func brokenConnectionDuringALeaseFailsThatCallAndIsReplaced() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let error = await #expect(throws: StorageError.self) {
                try await pool.withConnection { connection in
                    // The backend terminates itself mid-lease.
                    _ = try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())")
                }
            }
            #expect(error?.code == .connectionLost)
            let value = try await pool.withConnection { try await $0.query("SELECT 'back'").rows[0][0] }
            #expect(value == "back")
        }
    }

    @Test func transactionCommitsOrRollsBack() async throws {
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url, maximumConnections: 2) { pool in
                try await pool.withConnection { _ = try await $0.query("CREATE TABLE notes (body text NOT NULL)") }

                let inserted = try await pool.transaction { tx in
                    try await tx.query("INSERT INTO notes VALUES ($1)", ["kept"]).affectedRows
                }
                #expect(inserted == 1)

                await #expect(throws: DeliberateFailure.self) {
                    try await pool.transaction { tx in
                        _ = try await tx.query("INSERT INTO notes VALUES ($1)", ["dropped"])
                        throw DeliberateFailure()
                    }
                }
                let bodies = try await pool.withConnection { connection in
                    try await connection.query("SELECT body FROM notes ORDER BY body").rows.map { $0[0] }
                }
                #expect(bodies == ["kept"])
                // The connection that rolled back is back in the pool, idle.
                let status = try await pool.withConnection { try await $0.query("SELECT 1").commandTag }
                #expect(status == "SELECT 1")
            }
        }
    }

    @Test func commitOfATransactionWithAFailedStatementIsAnError() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let error = await #expect(throws: StorageError.self) {
                try await pool.transaction { tx in
                    _ = try? await tx.query("SELECT 1/0")
                }
            }
            #expect(error?.code == .queryFailed)
            #expect(error?.sqlState == "25P02")
        }
    }

    @Test func selectForUpdateSerializesConcurrentTransactions() async throws {
        try await TestDatabase.withSchema { url, _ in
            // Generous: the transactions queue on one row lock, slowly under sanitizers.
            try await TestDatabase.withPool(url: url, maximumConnections: 4, defaultTimeout: .seconds(60)) { pool in
                try await pool.withConnection { connection in
                    _ = try await connection.query("CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL)")
                    _ = try await connection.query("INSERT INTO counters VALUES (1, 0)")
                }
                let increments = 24
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<increments {
                        group.addTask {
                            try await pool.transaction { tx in
                                let current = try await tx.query("SELECT value FROM counters WHERE id = 1 FOR UPDATE")
                                let value = Int(current.rows[0][0] ?? "") ?? -1
                                _ = try await tx.query("UPDATE counters SET value = $1 WHERE id = 1", [String(value + 1)])
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let final = try await pool.withConnection { try await $0.query("SELECT value FROM counters").rows[0][0] }
                #expect(final == String(increments))
            }
        }
    }

    @Test func preparedStatementIsPreparedOnceAndReused() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let name = "pool_test_\(UUID().uuidString.prefix(8).lowercased())"
            let statement = PreparedStatement(name: name, sql: "SELECT $1::int * 2 AS doubled")
            for value in 1...5 {
                let doubled = try await pool.withConnection { try await $0.execute(statement, [String(value)]).rows[0][0] }
                #expect(doubled == String(value * 2))
            }
            let row = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT count(*) OVER (), generic_plans + custom_plans FROM pg_prepared_statements WHERE name = $1",
                    [name]
                ).rows
            }
            // One statement on the (single) session, executed five times.
            #expect(row == [["1", "5"]])

            let clash = PreparedStatement(name: name, sql: "SELECT 1")
            let error = await #expect(throws: StorageError.self) {
                try await pool.withConnection { _ = try await $0.execute(clash) }
            }
            #expect(error?.code == .invalidArgument)

            // What a C string cannot carry is refused before anything is sent.
            for malformed in [PreparedStatement(name: "", sql: "SELECT 1"),
                              PreparedStatement(name: "pool_test_nul\u{0}", sql: "SELECT 1"),
                              PreparedStatement(name: "pool_test_nul_sql", sql: "SELECT 1\u{0}; DROP TABLE timers")] {
                let refused = await #expect(throws: StorageError.self) {
                    try await pool.withConnection { _ = try await $0.execute(malformed) }
                }
                #expect(refused?.code == .invalidArgument)
                #expect(refused?.message.contains("an empty name or a NUL byte") == true)
            }
            let prepared = try await pool.withConnection { connection in
                try await connection.query("SELECT name FROM pg_prepared_statements ORDER BY name").rows
            }
            #expect(prepared == [[name]])
        }
    }

    @Test func preparedStatementSurvivesDeallocateAll() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let statement = PreparedStatement(name: "pool_test_deallocated", sql: "SELECT $1::text || '!'")
            try await pool.withConnection { connection in
                #expect(try await connection.execute(statement, ["a"]).rows == [["a!"]])
                _ = try await connection.query("DEALLOCATE ALL")
                #expect(try await connection.execute(statement, ["b"]).rows == [["b!"]])
            }
        }
    }

    @Test func unreachableDatabaseFailsWithUnavailableWithinTheDeadline() async throws {
        // Nothing listens on port 1 of the loopback.
        let url = "postgresql://timerd@127.0.0.1:1/servicevault_test?connect_timeout=30"
        try await TestDatabase.withPool(url: url, maximumConnections: 2) { pool in
            let start = ContinuousClock.now
            let errors = Recorder<StorageError.Code>()
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        do {
                            // From when the task runs: a busy test run can
                            // start it late, and a call arriving after its
                            // deadline is DEADLINE_EXCEEDED, not unavailable.
                            try await pool.withConnection(deadline: .now + .seconds(2)) { _ in }
                        } catch let error as StorageError {
                            errors.append(error.code)
                        } catch {
                            errors.append(.invalidArgument)
                        }
                    }
                }
            }
            let elapsed = ContinuousClock.now - start
            #expect(errors.all == Array(repeating: .unavailable, count: 4))
            // The 2 s deadline plus slack for loaded machines and sanitizer
            // builds (a parallel run under AddressSanitizer has taken 8 s);
            // a call that ignored it would wait for libpq's 30 s connect
            // timeout.
            #expect(elapsed < .seconds(20))

            // While the pool backs off, a call fails at once, saying why.
            let error = await #expect(throws: StorageError.self) {
                try await pool.withConnection(deadline: .now + .seconds(2)) { _ in }
            }
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("unavailable") == true)
        }
    }

    @Test func cancellingAQueuedCallerRemovesItFromTheQueue() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let gate = Gate()
            let holder = Task {
                try await pool.withConnection { _ in await gate.wait() }
            }
            let held = await TestDatabase.eventually { pool.statistics.leased == 1 }
            #expect(held)
            let waiter = Task {
                try await pool.withConnection { _ in "served" }
            }
            let queued = await TestDatabase.eventually { pool.statistics.waiting == 1 }
            #expect(queued)
            waiter.cancel()
            let result = await waiter.result
            let code = (result.error as? StorageError)?.code
            #expect(code == .cancelled)
            let statistics = pool.statistics
            #expect(statistics.waiting == 0)

            gate.open()
            try await holder.value
            let value = try await pool.withConnection { _ in "next" }
            #expect(value == "next")
        }
    }

    @Test func connectionCannotBeUsedAfterItsLeaseEnds() async throws {
        try await TestDatabase.withPool(maximumConnections: 1) { pool in
            let escaped = try await pool.withConnection { $0 }
            let error = await #expect(throws: StorageError.self) {
                try await escaped.query("SELECT 1")
            }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test func shutdownFailsWaitersAndClosesEveryConnection() async throws {
        let application = "pool_shutdown_\(UUID().uuidString.prefix(8).lowercased())"
        let url = TestDatabase.url(try TestDatabase.url(), adding: "application_name=\(application)")
        let pool = PostgresPool(configuration: .init(url: url, maximumConnections: 1, defaultTimeout: .seconds(60)))
        let gate = Gate()
        let holder = Task {
            try await pool.withConnection { connection in
                await gate.wait()
                return try await connection.query("SELECT 'finished'").rows[0][0]
            }
        }
        let held = await TestDatabase.eventually { pool.statistics.leased == 1 }
        #expect(held)
        let waiter = Task { try await pool.withConnection { _ in } }
        let queued = await TestDatabase.eventually { pool.statistics.waiting == 1 }
        #expect(queued)

        let shutdown = Task { await pool.shutdown() }
        let waiterResult = await waiter.result
        #expect((waiterResult.error as? StorageError)?.code == .unavailable)
        // The lent connection keeps working until its body returns.
        gate.open()
        let finished = try await holder.value
        #expect(finished == "finished")
        await shutdown.value

        let after = await #expect(throws: StorageError.self) {
            try await pool.withConnection { _ in }
        }
        #expect(after?.code == .unavailable)

        try await TestDatabase.withPool(maximumConnections: 1) { observer in
            let closed = try await TestDatabase.eventually {
                try await observer.withConnection { connection in
                    try await connection.query(
                        "SELECT 1 FROM pg_stat_activity WHERE application_name = $1", [application]
                    ).rows.isEmpty
                }
            }
            #expect(closed)
        }
    }
}

extension Result {
    /// The failure, if any.
    fileprivate var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
