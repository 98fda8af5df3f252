import Foundation
import Testing

@testable import LiveState

/// Integration tests against the project-local Redis (`scripts/services up`).
@Suite("RedisConnection")
struct RedisConnectionTests {
    /// The test Redis URL; the test fails when the environment lacks it.
    private func redisURL() throws -> String {
        let url = ProcessInfo.processInfo.environment["TIMERD_REDIS_URL"]
        return try #require(
            url.flatMap { $0.isEmpty ? nil : $0 },
            "TIMERD_REDIS_URL is not set: run scripts/services up and eval \"$(scripts/services env)\""
        )
    }

    private func connect() throws -> RedisConnection {
        try RedisConnection(url: redisURL())
    }

    /// A key no other test (or test run) uses.
    private func uniqueKey(_ name: String) -> String {
        "test:live-state:{\(UUID().uuidString)}:\(name)"
    }

    @Test func pingAnswersPong() throws {
        let connection = try connect()
        #expect(try connection.command(["PING"]) == .status("PONG"))
        #expect(connection.isUsable)
    }

    @Test func setAndGetABinaryValue() throws {
        let connection = try connect()
        let key = uniqueKey("binary")
        defer { _ = try? connection.command(["DEL", key]) }
        let value: [UInt8] = [0x00, 0x01, 0xFF, 0x00] + Array("Grüße ☕️".utf8) + [0x00]
        #expect(try connection.command([Array("SET".utf8), Array(key.utf8), value]) == .status("OK"))
        #expect(try connection.command(["GET", key]) == .string(value))
        #expect(try connection.command(["STRLEN", key]) == .integer(Int64(value.count)))
    }

    @Test func nonASCIIStringArgumentsRoundTrip() throws {
        let connection = try connect()
        let key = uniqueKey("ключ-🔑")
        defer { _ = try? connection.command(["DEL", key]) }
        #expect(try connection.command(["SET", key, "日本語 + emoji 👩‍💻"]) == .status("OK"))
        let reply = try connection.command(["GET", key])
        #expect(reply.text == "日本語 + emoji 👩‍💻")
        #expect(try connection.command(["SET", key, ""]) == .status("OK"))
        #expect(try connection.command(["GET", key]) == .string([]))
    }

    @Test func incrReturnsIntegers() throws {
        let connection = try connect()
        let key = uniqueKey("counter")
        defer { _ = try? connection.command(["DEL", key]) }
        #expect(try connection.command(["INCR", key]) == .integer(1))
        #expect(try connection.command(["INCRBY", key, "41"]) == .integer(42))
        #expect(try connection.command(["DECRBY", key, "100"]) == .integer(-58))
    }

    @Test func missingKeyIsNull() throws {
        let connection = try connect()
        #expect(try connection.command(["GET", uniqueKey("missing")]) == .null)
    }

    @Test func errorReplyIsReturnedNotThrown() throws {
        let connection = try connect()
        let reply = try connection.command(["NO_SUCH_COMMAND_\(UUID().uuidString.prefix(8))", "x"])
        guard case .error(let message) = reply else {
            Issue.record("expected an error reply, got \(reply)")
            return
        }
        #expect(message.hasPrefix("ERR unknown command"))
        // A wrong-type error is a reply too; the connection carries on.
        let key = uniqueKey("string")
        defer { _ = try? connection.command(["DEL", key]) }
        _ = try connection.command(["SET", key, "v"])
        guard case .error(let wrongType) = try connection.command(["LPUSH", key, "x"]) else {
            Issue.record("expected WRONGTYPE")
            return
        }
        #expect(wrongType.hasPrefix("WRONGTYPE"))
        #expect(connection.isUsable)
        #expect(try connection.command(["PING"]) == .status("PONG"))
    }

    @Test func lrangeReturnsAnArray() throws {
        let connection = try connect()
        let key = uniqueKey("list")
        defer { _ = try? connection.command(["DEL", key]) }
        #expect(try connection.command(["RPUSH", key, "a", "", "ç"]) == .integer(3))
        let reply = try connection.command(["LRANGE", key, "0", "-1"])
        #expect(reply == .array([.string(Array("a".utf8)), .string([]), .string(Array("ç".utf8))]))
        #expect(try connection.command(["LRANGE", uniqueKey("empty"), "0", "-1"]) == .array([]))
    }

    @Test func nestedArraysAreCopied() throws {
        let connection = try connect()
        let key = uniqueKey("stream")
        defer { _ = try? connection.command(["DEL", key]) }
        guard case .string(let id) = try connection.command(["XADD", key, "*", "field", "value"]) else {
            Issue.record("XADD did not return an id")
            return
        }
        let reply = try connection.command(["XRANGE", key, "-", "+"])
        #expect(reply == .array([.array([.string(id), .array([.string(Array("field".utf8)), .string(Array("value".utf8))])])]))
    }

    @Test func urlSelectsTheDatabase() throws {
        let url = try RedisURL(redisURL())
        let key = uniqueKey("db")
        var other = url
        other.database = url.database == 0 ? 1 : 0
        let first = try RedisConnection(redisURL: url)
        let second = try RedisConnection(redisURL: other)
        defer { _ = try? first.command(["DEL", key]) }
        _ = try first.command(["SET", key, "here"])
        #expect(try second.command(["GET", key]) == .null)
        #expect(try first.command(["GET", key]) == .string(Array("here".utf8)))
    }

    @Test func pipelineSendsEveryCommandAndReturnsTheRepliesInOrder() throws {
        let connection = try connect()
        let key = uniqueKey("pipeline")
        defer { _ = try? connection.command(["DEL", key]) }
        let value: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF]
        let replies = try connection.pipeline([
            [Array("SET".utf8), Array(key.utf8), value],
            [Array("GET".utf8), Array(key.utf8)],
            [Array("LPUSH".utf8), Array(key.utf8), Array("x".utf8)],
            [Array("APPEND".utf8), Array(key.utf8), [0x00]],
        ])
        #expect(replies.count == 4)
        #expect(replies[0] == .status("OK"))
        #expect(replies[1] == .string(value))
        guard case .error(let wrongType) = replies[2] else {
            Issue.record("expected WRONGTYPE, got \(replies[2])")
            return
        }
        #expect(wrongType.hasPrefix("WRONGTYPE"))
        #expect(replies[3] == .integer(5))
        #expect(try connection.pipeline([]) == [])
        let error = #expect(throws: LiveStateError.self) {
            try connection.pipeline([[Array("PING".utf8)], []])
        }
        #expect(error?.code == .invalidArgument)
        #expect(try connection.command(["PING"]) == .status("PONG"))
    }

    @Test func pipelineDeadlineBoundsTheWaitAndAbandonsTheConnection() throws {
        let connection = try connect()
        let start = ContinuousClock.now
        // BLPOP waits 10 s on an empty list; the deadline comes first.
        let error = #expect(throws: LiveStateError.self) {
            try connection.pipeline(
                [[Array("PING".utf8)], [Array("BLPOP".utf8), Array(uniqueKey("never").utf8), Array("10".utf8)]],
                deadline: start + .milliseconds(300)
            )
        }
        #expect(error?.code == .timedOut)
        #expect(ContinuousClock.now - start < .seconds(8))
        #expect(!connection.isUsable)
        // A deadline already passed sends nothing and keeps the connection.
        let fresh = try connect()
        let early = #expect(throws: LiveStateError.self) {
            try fresh.pipeline([[Array("PING".utf8)]], deadline: .now - .milliseconds(1))
        }
        #expect(early?.code == .timedOut)
        #expect(fresh.isUsable)
        #expect(try fresh.command(["PING"]) == .status("PONG"))
    }

    @Test func closedPortThrowsConnectionFailed() throws {
        // Port 1 (tcpmux) is not served on this loopback.
        let error = #expect(throws: LiveStateError.self) {
            try RedisConnection(host: "127.0.0.1", port: 1, timeout: .seconds(2))
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("127.0.0.1:1") == true)
    }

    @Test func emptyCommandIsRejectedAndTheConnectionStaysUsable() throws {
        let connection = try connect()
        let error = #expect(throws: LiveStateError.self) {
            try connection.command([String]())
        }
        #expect(error?.code == .invalidArgument)
        #expect(try connection.command(["PING"]) == .status("PONG"))
    }

    @Test func readTimeoutThrowsAndMakesTheConnectionUnusable() throws {
        let connection = try RedisConnection(url: redisURL(), timeout: .milliseconds(200))
        // BLPOP waits 2 s on an empty list; the 200 ms read timeout fires first.
        let error = #expect(throws: LiveStateError.self) {
            try connection.command(["BLPOP", uniqueKey("never"), "2"])
        }
        #expect(error?.code == .ioFailed)
        #expect(!connection.isUsable)
        let next = #expect(throws: LiveStateError.self) {
            try connection.command(["PING"])
        }
        #expect(next?.code == .connectionUnusable)
    }

    @Test func closedByServerThrowsConnectionClosed() throws {
        let connection = try connect()
        let killer = try connect()
        guard case .integer(let id) = try connection.command(["CLIENT", "ID"]) else {
            Issue.record("CLIENT ID did not return an integer")
            return
        }
        #expect(try killer.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
        let error = #expect(throws: LiveStateError.self) {
            try connection.command(["PING"])
        }
        #expect(error.map { [.connectionClosed, .ioFailed].contains($0.code) } == true)
        #expect(!connection.isUsable)
    }
}

/// Parsing of `redis://` URLs; no server needed.
@Suite("RedisURL")
struct RedisURLTests {
    @Test func parsesHostPortAndDatabase() throws {
        let url = try RedisURL("redis://127.0.0.1:63799/3")
        #expect(url == RedisURL(host: "127.0.0.1", port: 63799, database: 3))
    }

    @Test func appliesDefaults() throws {
        #expect(try RedisURL("redis://cache.internal") == RedisURL(host: "cache.internal", port: 6379, database: 0))
        #expect(try RedisURL("redis://cache.internal/") == RedisURL(host: "cache.internal", port: 6379, database: 0))
    }

    @Test func parsesIPv6AndCredentials() throws {
        let url = try RedisURL("redis://svc:p%40ss%3Aword@[::1]:7000/2")
        #expect(url.host == "::1")
        #expect(url.port == 7000)
        #expect(url.database == 2)
        #expect(url.username == "svc")
        #expect(url.password == "p@ss:word")
        let passwordOnly = try RedisURL("redis://:secret@localhost")
        #expect(passwordOnly.username == nil)
        #expect(passwordOnly.password == "secret")
    }

    @Test(arguments: [
        "http://localhost:6379",
        "rediss://localhost:6379",
        "redis://",
        "redis://localhost:0",
        "redis://localhost:70000",
        "redis://localhost:port",
        "redis://localhost/-1",
        "redis://localhost/db",
        "redis://localhost?timeout=1",
        "redis://[::1",
        "redis://::1:6379",
        "redis://user:%zz@localhost",
    ])
    func rejectsMalformedURLs(_ text: String) {
        let error = #expect(throws: LiveStateError.self) {
            try RedisURL(text)
        }
        #expect(error?.code == .invalidURL)
    }
}
