import Foundation
import Testing

@testable import LiveState

/// Slots, cluster URLs, topology and redirection replies, without a server.
@Suite("Redis Cluster: slots and replies")
struct RedisClusterSlotTests {
    @Test func crc16IsXmodem() {
        // The check value of CRC-16/XMODEM, as Redis' cluster specification gives it.
        #expect(RedisClusterSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(RedisClusterSlot.of("123456789") == 0x31C3 & 0x3FFF)
    }

    @Test func hashTagsFollowTheSpecification() {
        // The examples of the specification.
        #expect(RedisClusterSlot.of("{user1000}.following") == RedisClusterSlot.of("user1000"))
        #expect(RedisClusterSlot.of("foo{{bar}}zap") == RedisClusterSlot.of("{bar"))
        #expect(RedisClusterSlot.of("foo{bar}{zap}") == RedisClusterSlot.of("bar"))
        #expect(RedisClusterSlot.of("foo{}{bar}") == Int(RedisClusterSlot.crc16(Array("foo{}{bar}".utf8)) & 0x3FFF))
        // Every key of a user is in one slot; another user's are (here) elsewhere.
        let slot = RedisClusterSlot.of(LiveKeys.events(user: 42))
        #expect(RedisClusterSlot.of(LiveKeys.state(user: 42, timer: 7)) == slot)
        #expect(RedisClusterSlot.of(LiveKeys.activeTimers(user: 42)) == slot)
        #expect(RedisClusterSlot.of(LiveKeys.syncRate(user: 42)) == slot)
        #expect(RedisClusterSlot.of(LiveKeys.lastSync(user: 42)) == slot)
        #expect(RedisClusterSlot.of(LiveKeys.channel(user: 42)) == slot)
        #expect(RedisClusterSlot.of(LiveKeys.events(user: 43)) != slot)
    }

    @Test func routingKeysOfScriptsAndKeylessCommands() {
        func command(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }
        #expect(RedisClusterSlot.routingKey(of: command("evalsha", "abc", "2", "k1", "k2", "a")) == Array("k1".utf8))
        #expect(RedisClusterSlot.routingKey(of: command("EVAL", "return 1", "0", "a")) == nil)
        #expect(RedisClusterSlot.routingKey(of: command("EVAL", "return 1", "x")) == nil)
        #expect(RedisClusterSlot.routingKey(of: command("PUBLISH", "channel", "m")) == nil)
        #expect(RedisClusterSlot.routingKey(of: command("ping")) == nil)
        #expect(RedisClusterSlot.routingKey(of: command("HGET", "h", "f")) == Array("h".utf8))
        #expect(RedisClusterSlot.routingKey(of: command("XRANGE", "s", "-", "+")) == Array("s".utf8))
    }

    @Test func clusterURLsListTheirSeeds() throws {
        #expect(try RedisEndpoint("redis://h:1/2") == .single(RedisURL(host: "h", port: 1, database: 2)))
        #expect(try RedisEndpoint("redis-cluster://a:7001,b:7002,[::1]:7003") == .cluster(seeds: [
            RedisURL(host: "a", port: 7001), RedisURL(host: "b", port: 7002), RedisURL(host: "::1", port: 7003),
        ]))
        #expect(try RedisEndpoint("redis-cluster://u:p%40ss@a,b:7/0") == .cluster(seeds: [
            RedisURL(host: "a", port: 6379, username: "u", password: "p@ss"), RedisURL(host: "b", port: 7, username: "u", password: "p@ss"),
        ]))
        #expect(try RedisEndpoint("redis-cluster://a:1").subscriberURLs == [RedisURL(host: "a", port: 1)])
    }

    @Test(arguments: [
        ("redis-cluster://", "needs at least one host"),
        ("redis-cluster://a:1,,b:2", "seed 2 of redis-cluster:// is empty"),
        ("redis-cluster://a:1/3", "only database 0, not '3'"),
        ("redis-cluster://a:1,b:99999", "port '99999' is not a number in 1...65535 (seed 2, 'b:99999')"),
        ("redis-cluster://a:1?x=1", "query parameters"),
        ("rediss-cluster://a:1", "must start with redis://"),
    ])
    func badClusterURLsSayWhatIsWrong(url: String, message: String) {
        #expect {
            _ = try RedisEndpoint(url)
        } throws: { error in
            guard let error = error as? LiveStateError else { return false }
            return error.code == .invalidURL && error.message.contains(message)
        }
    }

    @Test func topologyAndRedirectionsAreRead() throws {
        let answering = RedisClusterTopology.Node(host: "10.0.0.9", port: 7000)
        let reply = RedisReply.array([
            .array([.integer(0), .integer(99), .array([.string(Array("10.0.0.1".utf8)), .integer(7001), .string(Array("id1".utf8))]),
                    .array([.string(Array("10.0.0.4".utf8)), .integer(7004), .string(Array("id4".utf8))])]),
            .array([.integer(100), .integer(16_383), .array([.string([]), .integer(7002), .string(Array("id2".utf8))])]),
        ])
        let topology = try RedisClusterTopology(slotsReply: reply, answering: answering)
        #expect(topology.nodes == [.init(host: "10.0.0.1", port: 7001), .init(host: "10.0.0.9", port: 7002)])
        #expect(topology.node(serving: 99) == .init(host: "10.0.0.1", port: 7001))
        #expect(topology.node(serving: 100) == .init(host: "10.0.0.9", port: 7002))
        #expect(topology.coversEverySlot)
        let partial = try RedisClusterTopology(slotsReply: .array([reply.arrayValue[0]]), answering: answering)
        #expect(!partial.coversEverySlot)
        #expect(partial.node(serving: 100) == nil)
        #expect(throws: LiveStateError.self) {
            _ = try RedisClusterTopology(slotsReply: .array([.array([.integer(5), .integer(2), .array([])])]), answering: answering)
        }

        #expect(RedisClusterRedirection(.error("MOVED 3999 127.0.0.1:6381"), answering: answering) == .moved(slot: 3999, to: .init(host: "127.0.0.1", port: 6381)))
        #expect(RedisClusterRedirection(.error("ASK 3999 :6381"), answering: answering) == .ask(slot: 3999, to: .init(host: "10.0.0.9", port: 6381)))
        #expect(RedisClusterRedirection(.error("TRYAGAIN Multiple keys request during rehashing of slot"), answering: answering) == .tryAgain)
        #expect(RedisClusterRedirection(.error("MOVED 16384 h:1"), answering: answering) == nil)
        #expect(RedisClusterRedirection(.error("ERR wrong"), answering: answering) == nil)
        #expect(RedisClusterRedirection(.status("OK"), answering: answering) == nil)
    }
}

extension RedisReply {
    fileprivate var arrayValue: [RedisReply] {
        if case .array(let elements) = self { return elements }
        return []
    }
}

/// `RedisClusterPool` on a real cluster of three masters of its own. Calls
/// get long deadlines: the parallel test run can keep Swift's cooperative
/// threads, which resume the pool's callers, busy for seconds.
@Suite("Redis Cluster: pool", .timeLimit(.minutes(2)))
struct RedisClusterPoolTests {
    func bytes(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    /// A key of `user`'s in each third of the slots, so each master has one.
    func keysOnEveryNode(_ cluster: TestRedisCluster) throws -> [String] {
        var keys: [Int: String] = [:]
        var user: Int64 = 1
        while keys.count < 3 {
            let key = LiveKeys.lastSync(user: user)
            keys[try cluster.owner(of: RedisClusterSlot.of(key))] = keys[try cluster.owner(of: RedisClusterSlot.of(key))] ?? key
            user += 1
        }
        return (0..<3).map { keys[$0]! }
    }

    @Test func eachCommandRunsOnItsSlotsMasterAndRepliesKeepTheirOrder() async throws {
        let cluster = try await TestRedisCluster.start()
        let pool = RedisClusterPool(configuration: .init(seeds: [cluster.seeds[1]], defaultTimeout: .seconds(20)))
        let keys = try keysOnEveryNode(cluster)
        var commands: [[[UInt8]]] = []
        for (index, key) in keys.enumerated() { commands.append(bytes("SET", key, "v\(index)")) }
        commands.append(bytes("PING"))
        for key in keys.reversed() { commands.append(bytes("GET", key)) }
        let replies = try await pool.pipeline(commands)
        #expect(replies == [.status("OK"), .status("OK"), .status("OK"), .status("PONG"),
                            .string(Array("v2".utf8)), .string(Array("v1".utf8)), .string(Array("v0".utf8))])
        // Each key is stored on the master of its slot, and only there: each
        // master of the new cluster holds one key.
        for (index, key) in keys.enumerated() {
            let server = try cluster.nodes[index].connect()
            #expect(try server.command(["EXISTS", key]) == .integer(1), "\(key) on node \(index)")
            #expect(try server.command(["DBSIZE"]) == .integer(1), "node \(index)")
        }
        // One seed was enough to learn all three masters, without redirection.
        #expect(pool.topology.nodes.count == 3)
        #expect(pool.statistics.moved == 0)
        await pool.shutdown()
        await #expect(throws: LiveStateError(code: .shutdown, message: "the Redis Cluster pool was shut down")) {
            _ = try await pool.pipeline([self.bytes("PING")])
        }
    }

    @Test func aMovedSlotIsFollowedAndTheMapCorrected() async throws {
        let cluster = try await TestRedisCluster.start()
        let pool = RedisClusterPool(configuration: .init(seeds: cluster.seeds, defaultTimeout: .seconds(20)))
        defer { Task { await pool.shutdown() } }
        let key = try keysOnEveryNode(cluster)[0]
        let slot = RedisClusterSlot.of(key)
        #expect(try await pool.pipeline([bytes("SET", key, "before")]) == [.status("OK")])
        try cluster.migrate(slot: slot, from: 0, to: 2)
        // The pool still maps the slot to node 0, which answers MOVED.
        #expect(pool.topology.node(serving: slot)?.port == cluster.nodes[0].port)
        #expect(try await pool.pipeline([bytes("GET", key), bytes("SET", key, "after")]) == [.string(Array("before".utf8)), .status("OK")])
        #expect(pool.statistics.moved >= 1)
        #expect(pool.topology.node(serving: slot)?.port == cluster.nodes[2].port)
        #expect(try cluster.nodes[2].connect().command(["GET", key]) == .string(Array("after".utf8)))
        // The topology read after the MOVED agrees.
        #expect(await TestRedis.eventually { pool.statistics.topologies >= 2 })
        #expect(pool.topology.node(serving: slot)?.port == cluster.nodes[2].port)
        #expect(pool.topology.coversEverySlot)
    }

    @Test func aSlotInMigrationIsAskedOfTheImportingNode() async throws {
        let cluster = try await TestRedisCluster.start()
        let pool = RedisClusterPool(configuration: .init(seeds: cluster.seeds, defaultTimeout: .seconds(20)))
        defer { Task { await pool.shutdown() } }
        // Two keys of one slot (one hash tag): one is moved, one stays.
        let tag = try keysOnEveryNode(cluster)[1]
        let moved = "\(tag):moved", stays = "\(tag):stays"
        #expect(try await pool.pipeline([bytes("SET", moved, "m"), bytes("SET", stays, "s")]) == [.status("OK"), .status("OK")])
        let slot = RedisClusterSlot.of(moved)
        try cluster.migrate(slot: slot, from: 1, to: 0, keysFirst: 0, finish: false)
        _ = try cluster.nodes[1].connect().command([Array("MIGRATE".utf8), Array("127.0.0.1".utf8), Array(String(cluster.nodes[0].port).utf8),
                                                    [], Array("0".utf8), Array("5000".utf8), Array("KEYS".utf8), Array(moved.utf8)])
        // The source still has `stays` and answers for it; for `moved` it says ASK.
        let replies = try await pool.pipeline([bytes("GET", moved), bytes("GET", stays)])
        #expect(replies == [.string(Array("m".utf8)), .string(Array("s".utf8))])
        #expect(pool.statistics.asked == 1)
        // ASK leaves the map alone: the slot is still the source's.
        #expect(pool.topology.node(serving: slot)?.port == cluster.nodes[1].port)
        #expect(pool.statistics.moved == 0)
    }

    @Test func aStoppedMasterFailsOnlyItsSlotsUntilItIsBack() async throws {
        let cluster = try await TestRedisCluster.start()
        let pool = RedisClusterPool(configuration: .init(seeds: cluster.seeds, connectTimeout: .milliseconds(500), defaultTimeout: .seconds(20)))
        defer { Task { await pool.shutdown() } }
        let keys = try keysOnEveryNode(cluster)
        _ = try await pool.pipeline(keys.map { bytes("SET", $0, "1") })
        try await cluster.nodes[2].stop()
        // Node 2's slots fail at once with a connection error; the others answer.
        await #expect {
            _ = try await pool.pipeline([self.bytes("GET", keys[2])])
        } throws: { error in
            [.unavailable, .connectionFailed, .connectionClosed, .ioFailed].contains((error as? LiveStateError)?.code)
        }
        #expect(try await pool.pipeline([bytes("GET", keys[0]), bytes("GET", keys[1])]) == [.string(Array("1".utf8)), .string(Array("1".utf8))])
        try await cluster.nodes[2].start()
        let back = await TestRedis.eventually {
            (try? await pool.pipeline([self.bytes("SET", keys[2], "2")])) == [.status("OK")]
        }
        #expect(back)
    }

    @Test func pubSubReachesASubscriberOnAnyNodeAndFollowsItWhenItsNodeStops() async throws {
        let cluster = try await TestRedisCluster.start()
        let log = EventLog()
        let subscriber = RedisSubscriber(urls: cluster.seeds, connectTimeout: .milliseconds(500), initialBackoff: .milliseconds(10),
                                         maximumBackoff: .milliseconds(100), handler: log.handler)
        defer { subscriber.shutdown() }
        let channel = "user:{5}:events"
        func received() -> [String] { log.payloads(on: channel).map { String(decoding: $0, as: UTF8.self) } }
        subscriber.subscribe(channel)
        #expect(await TestRedis.eventually { log.connectedCount == 1 })
        await subscriber.synchronize()
        // Published on another node than the subscriber's (the first seed).
        _ = try cluster.nodes[2].connect().command(["PUBLISH", "user:{5}:events", "one"])
        #expect(await TestRedis.eventually { received() == ["one"] })
        try await cluster.nodes[0].stop()
        #expect(await TestRedis.eventually { log.connectedCount == 2 })
        await subscriber.synchronize()
        _ = try cluster.nodes[1].connect().command(["PUBLISH", "user:{5}:events", "two"])
        #expect(await TestRedis.eventually { received() == ["one", "two"] })
    }
}
