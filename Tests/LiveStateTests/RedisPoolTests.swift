import Foundation
import Testing

@testable import LiveState

/// The connection pool against the shared test Redis, and against private
/// servers for outages, freezes and killed connections.
@Suite("RedisPool", .timeLimit(.minutes(2)))
struct RedisPoolTests {
    /// A pool on `url` (the shared Redis by default), shut down after `body`.
    private func withPool<T>(
        url: RedisURL? = nil,
        connections: Int = 4,
        initialBackoff: Duration = .milliseconds(20),
        maximumBackoff: Duration = .milliseconds(200),
        _ body: (RedisPool) async throws -> T
    ) async throws -> T {
        let pool = RedisPool(configuration: .init(
            url: try url ?? TestRedis.url(),
            connections: connections,
            connectTimeout: .seconds(5),
            defaultTimeout: .seconds(20),
            initialBackoff: initialBackoff,
            maximumBackoff: maximumBackoff
        ))
        do {
            let value = try await body(pool)
            await pool.shutdown()
            return value
        } catch {
            await pool.shutdown()
            throw error
        }
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func pipelineRepliesComeInOrderAndValuesAreBinarySafe() async throws {
        try await withPool { pool async throws in
            let key = bytes(TestRedis.unique("binary"))
            let counter = bytes(TestRedis.unique("counter"))
            let value: [UInt8] = [0x00, 0xFF, 0x0D, 0x0A, 0x00] + bytes("Grüße ☕️ $3\r\n") + [0x00]
            let replies = try await pool.pipeline([
                [bytes("SET"), key, value],
                [bytes("GET"), key],
                [bytes("INCR"), counter],
                [bytes("INCRBY"), counter, bytes("41")],
                [bytes("GET"), bytes(TestRedis.unique("missing"))],
                [bytes("NO_SUCH_COMMAND")],
                [bytes("STRLEN"), key],
                [bytes("DEL"), key, counter],
            ])
            #expect(replies.count == 8)
            #expect(replies[0] == .status("OK"))
            #expect(replies[1] == .string(value))
            #expect(replies[2] == .integer(1))
            #expect(replies[3] == .integer(42))
            #expect(replies[4] == .null)
            guard case .error(let message) = replies[5] else {
                Issue.record("expected an error reply, got \(replies[5])")
                return
            }
            #expect(message.hasPrefix("ERR unknown command"))
            #expect(replies[6] == .integer(Int64(value.count)))
            #expect(replies[7] == .integer(2))
            #expect(try await pool.pipeline([]) == [])
            #expect(try await pool.command(["ECHO", "é"]) == .string(bytes("é")))
        }
    }

    @Test func emptyCommandIsRejectedWithoutSendingAnything() async throws {
        try await withPool { pool async throws in
            let error = await #expect(throws: LiveStateError.self) {
                try await pool.pipeline([[Array("PING".utf8)], []])
            }
            #expect(error?.code == .invalidArgument)
            #expect(try await pool.command(["PING"]) == .status("PONG"))
        }
    }

    @Test func manyConcurrentCallersAreAllAnsweredOnFourConnections() async throws {
        let callers = 200
        try await withPool(connections: 4) { pool async throws in
            let key = TestRedis.unique("concurrent")
            let clientIDs = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<callers {
                    group.addTask {
                        let replies = try await pool.pipeline([
                            [Array("CLIENT".utf8), Array("ID".utf8)],
                            [Array("INCR".utf8), Array(key.utf8)],
                        ])
                        guard case .integer(let id) = replies[0], case .integer = replies[1] else {
                            throw TestServerError("unexpected replies \(replies)")
                        }
                        return id
                    }
                }
                var ids: [Int64] = []
                for try await id in group { ids.append(id) }
                return ids
            }
            #expect(clientIDs.count == callers)
            #expect(Set(clientIDs).count <= 4)
            #expect(try await pool.command(["GET", key]) == .string(Array(String(callers).utf8)))
            _ = try await pool.command(["DEL", key])
            #expect(pool.statistics.waiting == 0)
        }
    }

    @Test func queuedCallFailsWithTimedOutWhenNoConnectionFreesUp() async throws {
        try await withPool(connections: 1) { pool async throws in
            let list = TestRedis.unique("list")
            let holder = Task { try await pool.command(["BLPOP", list, "30"]) }
            #expect(await TestRedis.eventually { pool.statistics.leased == 1 })

            let start = ContinuousClock.now
            let error = await #expect(throws: LiveStateError.self) {
                try await pool.command(["PING"], deadline: start + .milliseconds(300))
            }
            let elapsed = ContinuousClock.now - start
            #expect(error?.code == .timedOut)
            #expect(elapsed >= .milliseconds(300))
            // Slack for loaded machines and sanitizer builds; without the
            // deadline the call would wait for the BLPOP (30 s).
            #expect(elapsed < .seconds(10))
            #expect(pool.statistics.waiting == 0)

            _ = try RedisConnection(redisURL: TestRedis.url()).command(["RPUSH", list, "done"])
            let popped = try await holder.value
            #expect(popped == .array([.string(Array(list.utf8)), .string(Array("done".utf8))]))
            #expect(try await pool.command(["PING"]) == .status("PONG"))
        }
    }

    @Test func deadlineIsHonouredWhileRedisIsFrozen() async throws {
        let server = try await TestRedisServer.start()
        try await withPool(url: server.url, connections: 1) { pool async throws in
            #expect(try await pool.command(["PING"]) == .status("PONG"))
            server.freeze()
            defer { server.thaw() }

            let start = ContinuousClock.now
            let error = await #expect(throws: LiveStateError.self) {
                try await pool.command(["PING"], deadline: start + .milliseconds(300))
            }
            let elapsed = ContinuousClock.now - start
            #expect(error?.code == .timedOut)
            #expect(elapsed >= .milliseconds(300))
            #expect(elapsed < .seconds(10))
            // The slot's thread comes back by itself (its read timed out)
            // while the server is still frozen, and drops the connection.
            #expect(await TestRedis.eventually { pool.statistics.leased == 0 })
            #expect(pool.isHealthy)
            #expect(pool.failureCount == 0)

            server.thaw()
            #expect(try await pool.command(["PING"]) == .status("PONG"))
        }
    }

    @Test func redisDownFailsFastAsUnavailableAndTheSamePoolRecovers() async throws {
        let server = try await TestRedisServer.start()
        try await withPool(url: server.url, connections: 2) { pool async throws in
            #expect(try await pool.command(["PING"]) == .status("PONG"))
            #expect(pool.isHealthy)
            let failuresBefore = pool.failureCount

            try await server.stop()
            for _ in 0..<5 {
                let start = ContinuousClock.now
                let error = await #expect(throws: LiveStateError.self) {
                    try await pool.command(["PING"])
                }
                let elapsed = ContinuousClock.now - start
                #expect(error?.code == .unavailable)
                #expect(error?.message.contains("Redis is unreachable") == true)
                // Fails fast: the default deadline is 20 s.
                #expect(elapsed < .seconds(5))
            }
            #expect(!pool.isHealthy)
            #expect(pool.failureCount > failuresBefore)

            try await server.start()
            let recovered = await TestRedis.eventually {
                (try? await pool.command(["PING"])) == .status("PONG")
            }
            #expect(recovered)
            #expect(pool.isHealthy)
        }
    }

    @Test func connectionKilledDuringACallFailsThatCallAndTheNextSucceeds() async throws {
        let server = try await TestRedisServer.start()
        let admin = try server.connect()
        try await withPool(url: server.url, connections: 1) { pool async throws in
            #expect(try await pool.command(["PING"]) == .status("PONG"))
            let failuresBefore = pool.failureCount
            let blocked = Task { try await pool.command(["BLPOP", "never", "30"]) }
            let waiting = try await TestRedis.eventually {
                try admin.command(["INFO", "clients"]).text?.contains("blocked_clients:1") == true
            }
            #expect(waiting)
            // Kills every normal client but the one asking.
            #expect(try admin.command(["CLIENT", "KILL", "TYPE", "normal"]) == .integer(1))

            let result = await blocked.result
            let code = (result.error as? LiveStateError)?.code
            #expect(code == .connectionClosed || code == .ioFailed, "got \(result)")
            #expect(pool.failureCount == failuresBefore + 1)
            #expect(!pool.isHealthy)

            #expect(try await pool.command(["PING"]) == .status("PONG"))
            #expect(pool.isHealthy)
        }
    }

    @Test func connectionClosedWhileIdleIsReplacedBeforeTheNextCall() async throws {
        let server = try await TestRedisServer.start()
        let admin = try server.connect()
        try await withPool(url: server.url, connections: 1) { pool async throws in
            guard case .integer(let first) = try await pool.command(["CLIENT", "ID"]) else {
                Issue.record("CLIENT ID did not return an integer")
                return
            }
            let failuresBefore = pool.failureCount
            #expect(try admin.command(["CLIENT", "KILL", "ID", String(first)]) == .integer(1))
            // The caller does not notice; the failure count does.
            guard case .integer(let second) = try await pool.command(["CLIENT", "ID"]) else {
                Issue.record("CLIENT ID did not return an integer")
                return
            }
            #expect(second != first)
            #expect(pool.failureCount == failuresBefore + 1)
            #expect(pool.isHealthy)
        }
    }

    @Test func cancellingAQueuedCallRemovesIt() async throws {
        try await withPool(connections: 1) { pool async throws in
            let list = TestRedis.unique("list")
            let holder = Task { try await pool.command(["BLPOP", list, "30"]) }
            #expect(await TestRedis.eventually { pool.statistics.leased == 1 })
            let queued = Task { try await pool.command(["PING"]) }
            #expect(await TestRedis.eventually { pool.statistics.waiting == 1 })

            let start = ContinuousClock.now
            queued.cancel()
            let result = await queued.result
            #expect((result.error as? LiveStateError)?.code == .cancelled, "got \(result)")
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(pool.statistics.waiting == 0)

            _ = try RedisConnection(redisURL: TestRedis.url()).command(["RPUSH", list, "done"])
            #expect(try await holder.value == .array([.string(Array(list.utf8)), .string(Array("done".utf8))]))
            #expect(try await pool.command(["PING"]) == .status("PONG"))
        }
    }

    @Test func callOfAnAlreadyCancelledTaskFailsWithoutBeingSent() async throws {
        try await withPool(connections: 1) { pool async throws in
            let key = TestRedis.unique("untouched")
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await pool.command(["SET", key, "1"])
            }
            let result = await task.result
            #expect((result.error as? LiveStateError)?.code == .cancelled)
            #expect(try await pool.command(["EXISTS", key]) == .integer(0))
        }
    }

    @Test func shutdownFailsQueuedAndLaterCalls() async throws {
        let pool = RedisPool(configuration: .init(url: try TestRedis.url(), connections: 1, defaultTimeout: .seconds(20)))
        let list = TestRedis.unique("list")
        let holder = Task { try await pool.command(["BLPOP", list, "30"]) }
        #expect(await TestRedis.eventually { pool.statistics.leased == 1 })
        let queued = Task { try await pool.command(["PING"]) }
        #expect(await TestRedis.eventually { pool.statistics.waiting == 1 })

        let shutdown = Task { await pool.shutdown() }
        let result = await queued.result
        #expect((result.error as? LiveStateError)?.code == .shutdown, "got \(result)")
        let later = await #expect(throws: LiveStateError.self) {
            try await pool.command(["PING"])
        }
        #expect(later?.code == .shutdown)

        // The running call ends normally; then shutdown completes.
        _ = try RedisConnection(redisURL: TestRedis.url()).command(["RPUSH", list, "done"])
        #expect(try await holder.value == .array([.string(Array(list.utf8)), .string(Array("done".utf8))]))
        await shutdown.value
        await pool.shutdown()
    }
}
