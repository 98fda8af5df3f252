import Foundation
import Testing
import TimerDomain

@testable import LiveState

/// Runs pipelines on one blocking connection, one at a time: enough for
/// tests of what the scripts and commands do.
final class ConnectionRunner: RedisCommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private let connection: RedisConnection

    init() throws {
        let url = try #require(ProcessInfo.processInfo.environment["TIMERD_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 },
                               "TIMERD_REDIS_URL is not set: run scripts/services up and eval \"$(scripts/services env)\"")
        connection = try RedisConnection(url: url)
    }

    func pipeline(_ commands: [[[UInt8]]], deadline: ContinuousClock.Instant?) async throws(LiveStateError) -> [RedisReply] {
        let result: Result<[RedisReply], LiveStateError> = lock.withLock {
            var replies: [RedisReply] = []
            for command in commands {
                do { replies.append(try connection.command(command)) } catch let error as LiveStateError { return .failure(error) } catch { fatalError("\(error)") }
            }
            return .success(replies)
        }
        return try result.get()
    }

    func raw(_ words: [String]) throws -> RedisReply {
        try lock.withLock { try connection.command(words) }
    }
}

/// A runner of the tests' pipelines that also sends single commands
/// directly, to set up and inspect what the store wrote.
protocol LiveTestRunner: RedisCommandRunner {
    func raw(_ words: [String]) throws -> RedisReply
}

extension LiveTestRunner {
    func raw(_ words: String...) throws -> RedisReply {
        try raw(words)
    }
}

extension ConnectionRunner: LiveTestRunner {}

/// Runs pipelines through `RedisClusterPool` on the shared Redis Cluster
/// (`TIMERD_REDIS_CLUSTER_URL`, from `scripts/services`); single commands go
/// straight to the master of their key's slot (`SCRIPT` to every master).
final class ClusterRunner: LiveTestRunner, @unchecked Sendable {
    /// One pool for the whole test process, as a server has one.
    private static let pool: Result<RedisClusterPool, any Error> = Result {
        let url = try #require(ProcessInfo.processInfo.environment["TIMERD_REDIS_CLUSTER_URL"].flatMap { $0.isEmpty ? nil : $0 },
                               "TIMERD_REDIS_CLUSTER_URL is not set: run scripts/services up and eval \"$(scripts/services env)\"")
        guard case .cluster(let seeds) = try RedisEndpoint(url) else { throw TestServerError("\(url) is not a redis-cluster:// URL") }
        return RedisClusterPool(configuration: .init(seeds: seeds))
    }

    private let lock = NSLock()
    private let pool: RedisClusterPool
    private let topology: RedisClusterTopology
    private let connections: [RedisClusterTopology.Node: RedisConnection]

    init() throws {
        pool = try Self.pool.get()
        let seed = pool.configuration.seeds[0]
        let first = try RedisConnection(redisURL: seed)
        topology = try RedisClusterTopology(slotsReply: first.command(["CLUSTER", "SLOTS"]), answering: .init(host: seed.host, port: seed.port))
        var connections: [RedisClusterTopology.Node: RedisConnection] = [:]
        for node in topology.nodes {
            connections[node] = try RedisConnection(redisURL: RedisURL(host: node.host, port: node.port, username: seed.username, password: seed.password))
        }
        self.connections = connections
    }

    /// Calls that give no deadline get a long one: the parallel test run
    /// can keep Swift's cooperative threads, which resume the pool's
    /// callers, busy for seconds.
    func pipeline(_ commands: [[[UInt8]]], deadline: ContinuousClock.Instant?) async throws(LiveStateError) -> [RedisReply] {
        try await pool.pipeline(commands, deadline: deadline ?? .now + .seconds(30))
    }

    func raw(_ words: [String]) throws -> RedisReply {
        try lock.withLock {
            if words.first?.uppercased() == "SCRIPT" {
                return try topology.nodes.map { try connections[$0]!.command(words) }.last!
            }
            let node = try #require(RedisClusterSlot.routingKey(of: words.map { Array($0.utf8) }).flatMap { topology.node(serving: RedisClusterSlot.of($0)) }
                                    ?? topology.nodes.first)
            return try connections[node]!.command(words)
        }
    }
}

/// Where the `LiveStore` tests run.
enum LiveBackend: String, CaseIterable, CustomTestStringConvertible {
    case single
    case cluster

    var testDescription: String { rawValue }

    func runner() throws -> any LiveTestRunner {
        switch self {
        case .single: try ConnectionRunner()
        case .cluster: try ClusterRunner()
        }
    }
}

/// One `LiveStore` test's user, timers, store and runner.
struct LiveStoreFixture {
    let runner: any LiveTestRunner
    let store: LiveStore
    /// A user id no other test or run uses.
    let user = Int64.random(in: 1_000_000_000...Int64.max / 2)
    /// Timer ids no other test or run uses (`timer:{id}:sessions` has no user in it).
    let timerBase = Int64.random(in: 1_000_000_000...Int64.max / 2)

    func t(_ number: Int64) -> Int64 { timerBase + number }

    init(_ backend: LiveBackend) throws {
        runner = try backend.runner()
        store = LiveStore(redis: runner, keyring: try StateKeyring(parsing: "t1:" + String(repeating: "3c", count: 32)),
                          stateTTLSeconds: 600, eventLogLength: 5)
    }

    func live(_ timer: Int64, _ status: TimerState.Status, version: Int64, description: String = "Write the quarterly report") throws -> LiveTimerState {
        let start = Instant(seconds: 1_700_000_000)
        let state = try TimerState(
            status: status, startedAt: start, pausedAt: status == .paused ? start : nil, stoppedAt: status == .stopped ? start : nil,
            currentSessionStartedAt: status == .running ? start : nil, closedSeconds: 0, lastUpdated: start,
            syncVersion: version, deviceID: "d")
        return LiveTimerState(id: t(timer), userID: user, accountID: 1, projectID: nil, billingRateID: nil,
                              description: description, clientRef: nil, createdAt: start, state: state, rate: nil)
    }

    func cleanUp() throws {
        for key in [LiveKeys.activeTimers(user: user), LiveKeys.events(user: user), LiveKeys.syncRate(user: user), LiveKeys.lastSync(user: user)] {
            _ = try runner.raw("DEL", key)
        }
        for timer in 1...3 { _ = try runner.raw("DEL", LiveKeys.state(user: user, timer: t(Int64(timer))), LiveKeys.sessions(timer: t(Int64(timer)))) }
        _ = try runner.raw("SREM", LiveKeys.activeUsers, String(user))
    }

    func publishWritesSealedStateSetsAndEventsAndIgnoresStaleVersions() async throws {
        defer { try? cleanUp() }
        let first = try #require(try await store.publish(try live(1, .running, version: 1), event: Array("e1".utf8), closedSession: nil))
        #expect(first.activeCount == 1)
        let firstID = try #require(first.eventID)
        // The raw value holds no plaintext.
        let raw = try runner.raw("HGET", LiveKeys.state(user: user, timer: t(1)), "s")
        guard case .string(let bytes) = raw else { Issue.record("no state: \(raw)"); return }
        #expect(!String(decoding: bytes, as: UTF8.self).contains("quarterly"))
        #expect(try runner.raw("SISMEMBER", LiveKeys.activeUsers, String(user)) == .integer(1))
        let ttl = try runner.raw("TTL", LiveKeys.state(user: user, timer: t(1)))
        guard case .integer(let seconds) = ttl else { Issue.record("no TTL"); return }
        #expect(seconds > 0 && seconds <= 600)

        let second = try #require(try await store.publish(try live(1, .paused, version: 2), event: Array("e2".utf8),
                                                          closedSession: (start: 1, end: 2)))
        #expect(second.activeCount == 1)
        let secondID = try #require(second.eventID)
        #expect(firstID < secondID)
        #expect(try runner.raw("LRANGE", LiveKeys.sessions(timer: t(1)), "0", "-1") == .array([.string(Array("1:2".utf8))]))
        // A late writer of an older version changes nothing.
        let stale = try await store.publish(try live(1, .running, version: 1), event: Array("late".utf8), closedSession: nil)
        #expect(stale == nil)
        let states = try #require(try await store.activeStates(user: user))
        #expect(states.map(\.syncVersion) == [2])
        #expect(states.first?.status == "paused")

        let replay = try await store.events(user: user, after: firstID, limit: 100)
        #expect(replay == .events([(secondID, Array("e2".utf8))]))

        let stopped = try #require(try await store.publish(try live(1, .stopped, version: 3), event: Array("e3".utf8), closedSession: nil))
        #expect(stopped.activeCount == 0)
        #expect(try await store.activeStates(user: user) == [])
        #expect(try runner.raw("SISMEMBER", LiveKeys.activeUsers, String(user)) == .integer(0))
        #expect(try await store.lastEventID(user: user) == stopped.eventID)
    }

    func aResumeFromBeyondTheCapOrFromALostLogIsAGap() async throws {
        defer { try? cleanUp() }
        var ids: [EventID] = []
        for version in 1...8 {
            let published = try #require(try await store.publish(try live(2, version % 2 == 1 ? .running : .paused, version: Int64(version)),
                                                                 event: Array("e\(version)".utf8), closedSession: nil))
            ids.append(try #require(published.eventID))
        }
        // The log keeps 5: resuming from the 2nd event misses trimmed ones.
        #expect(try await store.events(user: user, after: ids[1], limit: 100) == .gap)
        let recent = try await store.events(user: user, after: ids[4], limit: 100)
        #expect(recent == .events(Array(zip(ids[5...], (6...8).map { Array("e\($0)".utf8) })).map { ($0.0, $0.1) }))
        // More than the limit: a gap as well (a snapshot is cheaper).
        #expect(try await store.events(user: user, after: ids[4], limit: 2) == .gap)
        // The log lost (Redis restarted empty) and begun again: a gap. A
        // restart takes longer than a millisecond, so the new log's ids are
        // later than the lost one's; the loop makes that so here too.
        _ = try runner.raw("DEL", LiveKeys.events(user: user))
        while try redisMilliseconds() <= ids[7].milliseconds {}
        #expect(try await store.events(user: user, after: ids[7], limit: 100) == .gap)
        _ = try await store.publish(try live(2, .running, version: 9), event: Array("e9".utf8), closedSession: nil)
        #expect(try await store.events(user: user, after: ids[7], limit: 100) == .gap)
    }

    /// Redis' clock in milliseconds (the time its stream ids are made of).
    private func redisMilliseconds() throws -> UInt64 {
        guard case .array(let parts) = try runner.raw("TIME"), parts.count == 2, case .string(let seconds) = parts[0],
              case .string(let micros) = parts[1], let s = UInt64(String(decoding: seconds, as: UTF8.self)),
              let us = UInt64(String(decoding: micros, as: UTF8.self)) else {
            throw LiveStateError(code: .protocolError, message: "TIME answered something else")
        }
        return s * 1_000 + us / 1_000
    }

    func aMissingStateMakesActiveStatesNil() async throws {
        defer { try? cleanUp() }
        _ = try await store.publish(try live(1, .running, version: 1), event: nil, closedSession: nil)
        _ = try await store.publish(try live(2, .running, version: 1), event: nil, closedSession: nil)
        #expect(try await store.activeStates(user: user)?.count == 2)
        _ = try runner.raw("DEL", LiveKeys.state(user: user, timer: t(2)))
        #expect(try await store.activeStates(user: user) == nil)
    }

    func rebuildMakesTheActiveSetWhatPostgreSQLSaidUnlessRedisKnowsNewer() async throws {
        defer { try? cleanUp() }
        // Timer 1: Redis holds version 4 (newer than PostgreSQL's 3 as read).
        _ = try await store.publish(try live(1, .running, version: 4), event: nil, closedSession: nil)
        // A stale member with no state, and timer 2 active in a state written before the read.
        _ = try runner.raw("SADD", LiveKeys.activeTimers(user: user), "99")
        _ = try await store.publish(try live(2, .running, version: 1), event: nil, closedSession: nil)
        let readAt = try await store.redisTime() + 1
        var cutoff = try await store.redisTime()
        while cutoff <= readAt { cutoff = try await store.redisTime() }
        // Timer 3 was started after PostgreSQL was read: it stays.
        _ = try await store.publish(try live(3, .running, version: 1), event: nil, closedSession: nil)
        #expect(try await store.rebuild(user: user, states: [try live(1, .running, version: 3)], readAt: readAt),
                "the stale member 99 was repaired")
        let states = try #require(try await store.activeStates(user: user))
        #expect(states.map(\.id) == [t(1), t(3)])
        #expect(states.map(\.syncVersion) == [4, 1], "the newer version in Redis is kept")
        #expect(try runner.raw("SISMEMBER", LiveKeys.activeUsers, String(user)) == .integer(1))

        // A given timer that Redis knows was stopped since: not active.
        _ = try await store.publish(try live(1, .stopped, version: 5), event: nil, closedSession: nil)
        _ = try await store.publish(try live(3, .stopped, version: 2), event: nil, closedSession: nil)
        #expect(try await !store.rebuild(user: user, states: [try live(1, .running, version: 4)], readAt: try await store.redisTime()),
                "Redis knew of both stops: nothing was missing")
        #expect(try await store.activeStates(user: user) == [])
        #expect(try runner.raw("SISMEMBER", LiveKeys.activeUsers, String(user)) == .integer(0))
    }

    func rebuildSaysWhetherRedisWasMissingAnything() async throws {
        defer { try? cleanUp() }
        _ = try await store.publish(try live(1, .running, version: 2), event: nil, closedSession: nil)
        _ = try await store.publish(try live(2, .paused, version: 5), event: nil, closedSession: nil)
        // What Redis holds already: nothing to repair.
        #expect(try await !store.rebuild(user: user, states: [try live(1, .running, version: 2), try live(2, .paused, version: 5)],
                                         readAt: try await store.redisTime()))
        // A change that never reached Redis: a newer version.
        #expect(try await store.rebuild(user: user, states: [try live(1, .paused, version: 3), try live(2, .paused, version: 5)],
                                        readAt: try await store.redisTime()))
        // A timer stopped without Redis knowing: it leaves the set.
        #expect(try await store.rebuild(user: user, states: [try live(1, .paused, version: 3)], readAt: try await store.redisTime()))
        // A timer started without Redis knowing.
        #expect(try await store.rebuild(user: user, states: [try live(1, .paused, version: 3), try live(3, .running, version: 1)],
                                        readAt: try await store.redisTime()))
        #expect(try await !store.rebuild(user: user, states: [try live(1, .paused, version: 3), try live(3, .running, version: 1)],
                                         readAt: try await store.redisTime()))
    }

    func aRepairMarksTheLogSoAResumeFromBeforeItGetsASnapshot() async throws {
        defer { try? cleanUp() }
        let first = try #require(try await store.publish(try live(1, .running, version: 1), event: [1], closedSession: nil)?.eventID)
        let second = try #require(try await store.publish(try live(1, .paused, version: 2), event: [2], closedSession: nil)?.eventID)
        guard case .events(let before) = try await store.events(user: user, after: first, limit: 10) else {
            Issue.record("no replay before the repair"); return
        }
        #expect(before.map(\.id) == [second])
        // Nothing to repair: the log is left as it is.
        #expect(try await !store.rebuild(user: user, states: [try live(1, .paused, version: 2)], readAt: try await store.redisTime()))
        #expect(try await store.events(user: user, after: first, limit: 10) == .events(before))
        // A change that never reached Redis (stopped at version 3): repaired,
        // and a resume from before the repair cannot be a replay.
        #expect(try await store.rebuild(user: user, states: [], readAt: try await store.redisTime()))
        #expect(try await store.events(user: user, after: first, limit: 10) == .gap)
        #expect(try await store.events(user: user, after: second, limit: 10) == .gap)
        // From the marker on, events replay again.
        let marker = try #require(try await store.lastEventID(user: user))
        let third = try #require(try await store.publish(try live(1, .running, version: 4), event: [4], closedSession: nil)?.eventID)
        guard case .events(let after) = try await store.events(user: user, after: marker, limit: 10) else {
            Issue.record("no replay after the marker"); return
        }
        #expect(after.map(\.id) == [third])
    }

    func theRateLimitAdmitsTheLimitThenRefusesWithAWait() async throws {
        defer { try? cleanUp() }
        for _ in 0..<120 {
            #expect(try await store.admit(user: user, limit: 120, window: .seconds(60)) == .admitted)
        }
        let refused = try await store.admit(user: user, limit: 120, window: .seconds(60))
        guard case .refused(let wait) = refused else { Issue.record("the 121st call was admitted"); return }
        #expect(wait > 0 && wait <= 60_000)
    }

    func lastSyncIsRecorded() async throws {
        defer { try? cleanUp() }
        #expect(try await store.lastSync(user: user) == nil)
        try await store.recordSync(user: user, atMicroseconds: 1_700_000_000_000_000)
        #expect(try await store.lastSync(user: user) == 1_700_000_000_000_000)
        try await store.ping()
    }

    func theScriptIsSentWholeWhenRedisHasNotCachedIt() async throws {
        defer { try? cleanUp() }
        _ = try runner.raw("SCRIPT", "FLUSH")
        #expect(try await store.publish(try live(1, .running, version: 1), event: nil, closedSession: nil) != nil)
    }
}

/// `LiveStore` on one Redis and on a Redis Cluster.
@Suite("LiveStore")
struct LiveStoreTests {
    @Test(arguments: LiveBackend.allCases) func publishWritesSealedStateSetsAndEventsAndIgnoresStaleVersions(on backend: LiveBackend) async throws {
        try await LiveStoreFixture(backend).publishWritesSealedStateSetsAndEventsAndIgnoresStaleVersions()
    }

    @Test(arguments: LiveBackend.allCases) func aResumeFromBeyondTheCapOrFromALostLogIsAGap(on backend: LiveBackend) async throws {
        try await LiveStoreFixture(backend).aResumeFromBeyondTheCapOrFromALostLogIsAGap()
    }

    @Test(arguments: LiveBackend.allCases) func aMissingStateMakesActiveStatesNil(on backend: LiveBackend) async throws {
        try await LiveStoreFixture(backend).aMissingStateMakesActiveStatesNil()
    }

    @Test(arguments: LiveBackend.allCases) func rebuildMakesTheActiveSetWhatPostgreSQLSaidUnlessRedisKnowsNewer(on backend: LiveBackend) async throws {
        try await LiveStoreFixture(backend).rebuildMakesTheActiveSetWhatPostgreSQLSaidUnlessRedisKnowsNewer()
    }

    @Test(arguments: LiveBackend.allCases) func rebuildSaysWhetherRedisWasMissingAnything(on backend: LiveBackend) async throws {
        try await LiveStoreFixture(backend).rebuildSaysWhetherRedisWasMissingAnything()
    }

    @Test(arguments: LiveBackend.allCases) func aRepairMarksTheLogSoAResumeFromBeforeItGetsASnapshot(on backend: LiveBackend) async throws {
        try await LiveStoreFixture(backend).aRepairMarksTheLogSoAResumeFromBeforeItGetsASnapshot()
    }

    @Test(arguments: LiveBackend.allCases) func theRateLimitAdmitsTheLimitThenRefusesWithAWait(on backend: LiveBackend) async throws {
        try await LiveStoreFixture(backend).theRateLimitAdmitsTheLimitThenRefusesWithAWait()
    }

    @Test(arguments: LiveBackend.allCases) func lastSyncIsRecorded(on backend: LiveBackend) async throws {
        try await LiveStoreFixture(backend).lastSyncIsRecorded()
    }

    @Test(arguments: LiveBackend.allCases) func theScriptIsSentWholeWhenRedisHasNotCachedIt(on backend: LiveBackend) async throws {
        try await LiveStoreFixture(backend).theScriptIsSentWholeWhenRedisHasNotCachedIt()
    }
}
