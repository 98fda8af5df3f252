/// Where each slot of a Redis Cluster is served: the masters, and the
/// master of each of the 16,384 slots, as `CLUSTER SLOTS` describes them.
package struct RedisClusterTopology: Sendable, Hashable {
    /// A node's address.
    package struct Node: Sendable, Hashable, CustomStringConvertible {
        package var host: String
        package var port: Int

        package init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        package var description: String {
            host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// The masters, in the order the cluster listed them.
    package private(set) var nodes: [Node]
    /// Per slot, the index in `nodes` of its master; -1 for a slot no node
    /// serves.
    private var owners: [Int16]

    /// A topology in which no slot is served.
    package init() {
        nodes = []
        owners = Array(repeating: -1, count: RedisClusterSlot.count)
    }

    /// Reads a `CLUSTER SLOTS` reply given by `answering`: an array of
    /// `[first slot, last slot, [host, port, id, …], replica…]`. An empty host
    /// (a node that does not know its address) is `answering`'s host.
    ///
    /// - Throws: `protocolError` for a reply of another shape.
    package init(slotsReply reply: RedisReply, answering: Node) throws(LiveStateError) {
        self.init()
        guard case .array(let ranges) = reply else { throw Self.malformed(reply) }
        for range in ranges {
            guard case .array(let parts) = range, parts.count >= 3, case .integer(let first) = parts[0],
                  case .integer(let last) = parts[1], 0 <= first, first <= last, last < RedisClusterSlot.count,
                  case .array(let master) = parts[2], master.count >= 2, case .integer(let port) = master[1],
                  (1...65_535).contains(port) else {
                throw Self.malformed(range)
            }
            let host: String
            switch master[0] {
            case .string(let bytes): host = String(decoding: bytes, as: UTF8.self)
            case .null: host = ""
            default: throw Self.malformed(range)
            }
            let node = Node(host: host.isEmpty || host == "?" ? answering.host : host, port: Int(port))
            assign(Int(first)...Int(last), to: node)
        }
    }

    /// The master of `slot`, if any node serves it.
    package func node(serving slot: Int) -> Node? {
        let index = owners[slot]
        return index < 0 ? nil : nodes[Int(index)]
    }

    /// Whether every slot is served.
    package var coversEverySlot: Bool {
        !owners.contains(-1)
    }

    /// Records that `node` serves `slots` (a `MOVED` redirection says so for
    /// one slot).
    package mutating func assign(_ slots: ClosedRange<Int>, to node: Node) {
        let index: Int
        if let known = nodes.firstIndex(of: node) {
            index = known
        } else {
            index = nodes.count
            nodes.append(node)
        }
        for slot in slots { owners[slot] = Int16(index) }
    }

    private static func malformed(_ reply: RedisReply) -> LiveStateError {
        LiveStateError(code: .protocolError, message: "CLUSTER SLOTS answered an unexpected entry: \(String(describing: reply).prefix(200))")
    }
}

/// A cluster's answer that a command belongs elsewhere.
package enum RedisClusterRedirection: Sendable, Hashable {
    /// `MOVED slot host:port`: the slot is served by that node from now on.
    case moved(slot: Int, to: RedisClusterTopology.Node)
    /// `ASK slot host:port`: the slot is being migrated; this one command
    /// goes to that node, preceded by `ASKING`.
    case ask(slot: Int, to: RedisClusterTopology.Node)
    /// `TRYAGAIN …`: a multi-key command met a slot half migrated; send it
    /// again shortly.
    case tryAgain

    /// The redirection an error reply says, or nil for another reply.
    /// `answering` is the node that replied: a redirection naming no host
    /// means its host.
    package init?(_ reply: RedisReply, answering: RedisClusterTopology.Node) {
        guard case .error(let message) = reply else { return nil }
        if message.hasPrefix("TRYAGAIN") {
            self = .tryAgain
            return
        }
        let words = message.split(separator: " ")
        guard words.count == 3, words[0] == "MOVED" || words[0] == "ASK", let slot = Int(words[1]),
              (0..<RedisClusterSlot.count).contains(slot), let colon = words[2].lastIndex(of: ":"),
              let port = Int(words[2][words[2].index(after: colon)...]), (1...65_535).contains(port) else { return nil }
        var host = String(words[2][..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let node = RedisClusterTopology.Node(host: host.isEmpty ? answering.host : host, port: port)
        self = words[0] == "MOVED" ? .moved(slot: slot, to: node) : .ask(slot: slot, to: node)
    }
}
