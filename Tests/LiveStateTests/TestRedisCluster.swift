import Foundation
import Testing

@testable import LiveState

/// A private Redis Cluster of three masters (no replicas) on loopback, for
/// tests that move slots, stop nodes or otherwise change the cluster, which
/// must never happen to the shared one (`TIMERD_REDIS_CLUSTER_URL`).
///
/// Master `i` serves an equal third of the slots, in order. Its cluster bus
/// listens on a port of its own, below the ephemeral range, so the nodes'
/// ports may be anywhere.
/// Everything is removed when the value is released.
final class TestRedisCluster: Sendable {
    let nodes: [TestRedisServer]

    /// Starts three nodes, joins them and assigns the slots; returns when
    /// every node sees the cluster whole (`cluster_state:ok`, every slot
    /// served, the same masters everywhere).
    static func start() async throws -> TestRedisCluster {
        var nodes: [TestRedisServer] = []
        for _ in 0..<3 {
            nodes.append(try await TestRedisServer.start(extraArguments: [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
                // Below the ephemeral range: a bus must never take the port of
                // another test's stopped server, which it starts again there.
                "--cluster-port", String(try TestRedisServer.freeLowPort()),
            ]))
        }
        let cluster = TestRedisCluster(nodes: nodes)
        let third = RedisClusterSlot.count / 3
        for (index, node) in nodes.enumerated() {
            let connection = try node.connect()
            let last = index == 2 ? RedisClusterSlot.count - 1 : (index + 1) * third - 1
            try expectOK(connection.command(["CLUSTER", "ADDSLOTSRANGE", String(index * third), String(last)]))
            if index > 0 {
                try expectOK(connection.command(["CLUSTER", "MEET", "127.0.0.1", String(nodes[0].port), String(try cluster.busPort(of: 0))]))
            }
        }
        try await cluster.waitUntilSettled()
        return cluster
    }

    private init(nodes: [TestRedisServer]) {
        self.nodes = nodes
    }

    /// The seeds of the cluster: every node.
    var seeds: [RedisURL] {
        nodes.map(\.url)
    }

    /// The cluster's URL for `RedisEndpoint`.
    var url: String {
        RedisEndpoint.clusterScheme + nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
    }

    /// Node `index`'s cluster id.
    func id(of index: Int) throws -> String {
        let reply = try nodes[index].connect().command(["CLUSTER", "MYID"])
        return try #require(reply.text, "CLUSTER MYID: \(reply)")
    }

    /// The index of the node serving `slot`, as node 0 sees it.
    func owner(of slot: Int) throws -> Int {
        let topology = try RedisClusterTopology(
            slotsReply: nodes[0].connect().command(["CLUSTER", "SLOTS"]),
            answering: .init(host: "127.0.0.1", port: nodes[0].port))
        let node = try #require(topology.node(serving: slot), "slot \(slot) is not served")
        return try #require(nodes.firstIndex { $0.port == node.port })
    }

    /// Moves `slot`, with its keys, from node `from` to node `to`, as
    /// `redis-cli --cluster reshard` does; `keysFirst` of its keys are moved
    /// and the rest left when `finish` is false, so the slot stays half
    /// migrated (`ASK`).
    func migrate(slot: Int, from: Int, to: Int, keysFirst: Int = .max, finish: Bool = true) throws {
        let source = try nodes[from].connect()
        let target = try nodes[to].connect()
        let sourceID = try id(of: from)
        let targetID = try id(of: to)
        try expectOK(target.command(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID]))
        try expectOK(source.command(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID]))
        let keys = try source.command(["CLUSTER", "GETKEYSINSLOT", String(slot), "1000"])
        guard case .array(let names) = keys else { throw TestServerError("GETKEYSINSLOT: \(keys)") }
        for name in names.prefix(keysFirst) {
            guard case .string(let key) = name else { continue }
            let moved = try source.command([Array("MIGRATE".utf8), Array("127.0.0.1".utf8), Array(String(nodes[to].port).utf8),
                                            Array("".utf8), Array("0".utf8), Array("5000".utf8), Array("KEYS".utf8), key])
            try expectOK(moved)
        }
        guard finish else { return }
        for node in nodes {
            try expectOK(node.connect().command(["CLUSTER", "SETSLOT", String(slot), "NODE", targetID]))
        }
    }

    /// Waits until every node agrees on the masters and serves every slot.
    func waitUntilSettled() async throws {
        var last = ""
        let settled = await TestRedis.eventually(within: .seconds(30)) {
            var views: Set<[Int]> = []
            for node in self.nodes {
                guard let connection = try? node.connect(),
                      let info = try? connection.command(["CLUSTER", "INFO"]).text, info.contains("cluster_state:ok"),
                      let reply = try? connection.command(["CLUSTER", "SLOTS"]),
                      let topology = try? RedisClusterTopology(slotsReply: reply, answering: .init(host: "127.0.0.1", port: node.port)),
                      topology.coversEverySlot else {
                    last = "node \(node.port) is not settled"
                    return false
                }
                views.insert(stride(from: 0, to: RedisClusterSlot.count, by: 97).map { topology.node(serving: $0)!.port })
            }
            last = "the nodes disagree on the slots"
            return views.count == 1
        }
        if !settled { throw TestServerError("the test Redis Cluster did not settle within 30 s: \(last)") }
    }

    private static func expectOK(_ reply: RedisReply) throws {
        guard reply == .status("OK") else { throw TestServerError("expected OK, got \(reply)") }
    }

    private func expectOK(_ reply: RedisReply) throws {
        try Self.expectOK(reply)
    }

    /// Node `index`'s cluster bus port.
    private func busPort(of index: Int) throws -> Int {
        let arguments = nodes[index].extraArguments
        let position = try #require(arguments.firstIndex(of: "--cluster-port"))
        return try #require(Int(arguments[position + 1]))
    }
}
