import Synchronization

/// Runs command pipelines on a Redis Cluster: each command goes to the
/// master of its key's slot, through a `RedisPool` per master.
///
/// ```swift
/// let cluster = RedisClusterPool(configuration: .init(seeds: seeds))
/// let replies = try await cluster.pipeline([
///     [Array("SADD".utf8), Array("user:{42}:active_timers".utf8), Array("7".utf8)],
///     [Array("SADD".utf8), Array("global:active_users".utf8), Array("42".utf8)],
/// ], deadline: context.deadline)
/// await cluster.shutdown()
/// ```
///
/// **Routing.** A command's slot is that of its first key
/// (`RedisClusterSlot.routingKey(of:)`); a command without keys goes to any
/// master. A pipeline's commands are grouped by master, each group sent as
/// one pipeline, the groups at once; the replies come back in the order of
/// the commands. Commands to one master keep their order; commands to
/// different masters have none between them.
///
/// **Topology.** The masters and their slots come from `CLUSTER SLOTS`,
/// asked of the known masters and then of the seeds, the first that answers.
/// It is asked for before the first call, after a `MOVED`, and after a
/// master could not be reached (a failover may have promoted another), one
/// request at a time however many calls need it.
///
/// **Redirections.** `MOVED` (the slot has moved: the map is corrected at
/// once and the command sent to the new master), `ASK` (the slot is being
/// migrated: the command goes to the importing master after `ASKING`, the
/// map unchanged) and `TRYAGAIN` (a multi-key command met a half-migrated
/// slot: sent again after a short pause) are followed up to
/// `maximumRedirections` times per command, within the call's deadline. A
/// redirected command has not run, so sending it again is safe.
///
/// **Failures** are those of `RedisPool`, for the master that failed: when
/// one group fails, the call fails, though other groups' commands may have
/// run, as with a connection that breaks mid-pipeline. A slot no master
/// serves (a cluster that lost a master without a replica to promote) fails
/// with `unavailable`.
///
/// Call `shutdown()` before dropping the pool.
package final class RedisClusterPool: Sendable {
    /// How the pool finds the cluster and how it behaves.
    package struct Configuration: Sendable {
        /// Where the topology is first asked for; their user name and
        /// password apply to every node.
        package var seeds: [RedisURL]
        /// The most connections open at once to each master; at least 1.
        package var connectionsPerNode: Int
        /// The bound on opening one connection, and on one `CLUSTER SLOTS`.
        package var connectTimeout: Duration
        /// The deadline of calls that give none, from the start of the call.
        package var defaultTimeout: Duration
        /// How many times one command is redirected before the call fails.
        package var maximumRedirections: Int
        /// The shortest time between two topology requests caused by
        /// failures to reach a master (a `MOVED` always asks at once).
        package var refreshSpacing: Duration

        /// A configuration with defaults suited to one server instance.
        package init(
            seeds: [RedisURL],
            connectionsPerNode: Int = 4,
            connectTimeout: Duration = .seconds(2),
            defaultTimeout: Duration = .seconds(2),
            maximumRedirections: Int = 5,
            refreshSpacing: Duration = .milliseconds(250)
        ) {
            self.seeds = seeds
            self.connectionsPerNode = connectionsPerNode
            self.connectTimeout = connectTimeout
            self.defaultTimeout = defaultTimeout
            self.maximumRedirections = maximumRedirections
            self.refreshSpacing = refreshSpacing
        }
    }

    /// What the pool has followed so far, for tests and operators.
    package struct Statistics: Sendable, Hashable {
        /// `MOVED` replies followed.
        package var moved = 0
        /// `ASK` replies followed.
        package var asked = 0
        /// `TRYAGAIN` replies waited out.
        package var triedAgain = 0
        /// Topologies read from the cluster.
        package var topologies = 0
    }

    private struct State {
        var topology = RedisClusterTopology()
        var pools: [RedisClusterTopology.Node: RedisPool] = [:]
        /// The topology request in flight, which every caller that needs one
        /// waits for.
        var refresh: Task<Void, Never>?
        /// When the last topology request began.
        var refreshedAt: ContinuousClock.Instant?
        /// Why the last topology request failed, for callers that find no node.
        var refreshError: LiveStateError?
        /// Rotates keyless commands over the masters.
        var nextKeyless = 0
        var statistics = Statistics()
        var closed = false
    }

    /// The configuration the pool was made with.
    package let configuration: Configuration
    private let state = Mutex(State())

    /// Creates a pool. Nothing connects until the first call.
    ///
    /// - Precondition: at least one seed, and `connectionsPerNode` at least 1.
    package init(configuration: Configuration) {
        precondition(!configuration.seeds.isEmpty, "a cluster pool needs at least one seed")
        precondition(configuration.connectionsPerNode > 0, "a cluster pool needs at least one connection per node")
        self.configuration = configuration
    }

    /// What the pool has followed so far.
    package var statistics: Statistics {
        state.withLock { $0.statistics }
    }

    /// The counts of every master's pool, summed.
    package var poolStatistics: RedisPool.Statistics {
        let pools = state.withLock { Array($0.pools.values) }
        var sum = RedisPool.Statistics(idle: 0, leased: 0, connecting: 0, backingOff: 0, waiting: 0)
        for pool in pools {
            let counts = pool.statistics
            sum.idle += counts.idle
            sum.leased += counts.leased
            sum.connecting += counts.connecting
            sum.backingOff += counts.backingOff
            sum.waiting += counts.waiting
        }
        return sum
    }

    /// Failed connects and lost connections of the masters' pools so far
    /// (a pool dropped when its node left the cluster takes its count along).
    package var failureCount: Int {
        let pools = state.withLock { Array($0.pools.values) }
        return pools.reduce(0) { $0 + $1.failureCount }
    }

    /// The topology as the pool knows it now.
    package var topology: RedisClusterTopology {
        state.withLock { $0.topology }
    }

    // MARK: - Calls

    /// Where one command of a call goes next.
    private enum Route {
        /// The master of its slot (any master for a keyless command).
        case slot
        /// The node an `ASK` named, after `ASKING`.
        case asking(RedisClusterTopology.Node)
    }

    /// Sends `commands`, each to the master of its slot, and returns their
    /// replies in order.
    ///
    /// - Parameter deadline: bounds the whole call, redirections included;
    ///   nil means `configuration.defaultTimeout` from now.
    /// - Throws: as `RedisPool.pipeline`; `unavailable` when no master serves
    ///   a command's slot or the topology cannot be read; `protocolError`
    ///   when a command is still redirected after `maximumRedirections`.
    package func pipeline(_ commands: [[[UInt8]]], deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> [RedisReply] {
        guard !commands.contains(where: \.isEmpty) else {
            throw LiveStateError(code: .invalidArgument, message: "a command needs at least its name")
        }
        guard !commands.isEmpty else { return [] }
        let deadline = deadline ?? .now + configuration.defaultTimeout
        let slots = commands.map { command in RedisClusterSlot.routingKey(of: command).map { RedisClusterSlot.of($0) } }
        var replies = [RedisReply?](repeating: nil, count: commands.count)
        var pending: [(index: Int, route: Route)] = commands.indices.map { ($0, .slot) }
        var rounds = 0
        while !pending.isEmpty {
            guard rounds <= configuration.maximumRedirections else {
                throw LiveStateError(code: .protocolError, message: "a command was still redirected after \(configuration.maximumRedirections) redirections")
            }
            rounds += 1
            var groups: [RedisClusterTopology.Node: [(index: Int, asking: Bool)]] = [:]
            for (index, route) in pending {
                switch route {
                case .slot: groups[try await node(for: slots[index], deadline: deadline), default: []].append((index, false))
                case .asking(let node): groups[node, default: []].append((index, true))
                }
            }
            let results = await send(groups, commands: commands, deadline: deadline)
            pending = []
            var failure: LiveStateError?
            var waitAndRetry = false
            for (node, members, outcome) in results {
                let got: [RedisReply]
                switch outcome {
                case .success(let value): got = value
                case .failure(let error):
                    if Self.suggestsFailover(error) { refreshSoon(spaced: true) }
                    failure = failure ?? error
                    continue
                }
                var position = 0
                for member in members {
                    if member.asking { position += 1 }  // the ASKING reply
                    let reply = got[position]
                    position += 1
                    switch RedisClusterRedirection(reply, answering: node) {
                    case .moved(let slot, let target):
                        state.withLock { state in
                            state.topology.assign(slot...slot, to: target)
                            state.statistics.moved += 1
                        }
                        refreshSoon(spaced: false)
                        pending.append((member.index, .slot))
                    case .ask(_, let target):
                        state.withLock { $0.statistics.asked += 1 }
                        pending.append((member.index, .asking(target)))
                    case .tryAgain:
                        state.withLock { $0.statistics.triedAgain += 1 }
                        waitAndRetry = true
                        pending.append((member.index, .slot))
                    case nil:
                        replies[member.index] = reply
                    }
                }
            }
            if let failure { throw failure }
            if waitAndRetry {
                let pause = ContinuousClock.now + .milliseconds(10)
                guard pause < deadline else {
                    throw LiveStateError(code: .timedOut, message: "a Redis Cluster slot stayed in migration past the call's deadline")
                }
                do { try await Task.sleep(until: pause) } catch {
                    throw LiveStateError(code: .cancelled, message: "the call was cancelled")
                }
            }
        }
        return replies.map { $0! }
    }

    /// Sends each group to its node, all at once.
    private func send(
        _ groups: [RedisClusterTopology.Node: [(index: Int, asking: Bool)]], commands: [[[UInt8]]], deadline: ContinuousClock.Instant
    ) async -> [(RedisClusterTopology.Node, [(index: Int, asking: Bool)], Result<[RedisReply], LiveStateError>)] {
        func run(_ node: RedisClusterTopology.Node, _ members: [(index: Int, asking: Bool)]) async -> Result<[RedisReply], LiveStateError> {
            var batch: [[[UInt8]]] = []
            batch.reserveCapacity(members.count)
            for member in members {
                if member.asking { batch.append([Array("ASKING".utf8)]) }
                batch.append(commands[member.index])
            }
            do throws(LiveStateError) {
                let pool = try pool(for: node)
                let replies = try await pool.pipeline(batch, deadline: deadline)
                guard replies.count == batch.count else {
                    return .failure(LiveStateError(code: .protocolError, message: "\(node) answered \(replies.count) replies to \(batch.count) commands"))
                }
                return .success(replies)
            } catch {
                return .failure(error)
            }
        }
        if groups.count == 1, let (node, members) = groups.first {
            return [(node, members, await run(node, members))]
        }
        return await withTaskGroup(of: (RedisClusterTopology.Node, [(index: Int, asking: Bool)], Result<[RedisReply], LiveStateError>).self) { group in
            for (node, members) in groups {
                group.addTask { (node, members, await run(node, members)) }
            }
            var results: [(RedisClusterTopology.Node, [(index: Int, asking: Bool)], Result<[RedisReply], LiveStateError>)] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    /// The master serving `slot` (any master for nil), reading the topology
    /// first when it is not known.
    private func node(for slot: Int?, deadline: ContinuousClock.Instant) async throws(LiveStateError) -> RedisClusterTopology.Node {
        if let node = try known(slot) { return node }
        await refreshNow()
        if let node = try known(slot) { return node }
        guard ContinuousClock.now < deadline else {
            throw LiveStateError(code: .timedOut, message: "the Redis Cluster's topology was not read before the deadline")
        }
        let reason = state.withLock { $0.refreshError }.map { ": \($0.message)" } ?? ""
        if let slot {
            throw LiveStateError(code: .unavailable, message: "no Redis Cluster master serves slot \(slot)\(reason)")
        }
        throw LiveStateError(code: .unavailable, message: "no Redis Cluster master is known\(reason)")
    }

    private func known(_ slot: Int?) throws(LiveStateError) -> RedisClusterTopology.Node? {
        try state.withLock { (state) throws(LiveStateError) -> RedisClusterTopology.Node? in
            guard !state.closed else { throw LiveStateError(code: .shutdown, message: "the Redis Cluster pool was shut down") }
            if let slot { return state.topology.node(serving: slot) }
            guard !state.topology.nodes.isEmpty else { return nil }
            state.nextKeyless &+= 1
            return state.topology.nodes[state.nextKeyless % state.topology.nodes.count]
        }
    }

    /// The pool of `node`, made at its first use.
    private func pool(for node: RedisClusterTopology.Node) throws(LiveStateError) -> RedisPool {
        try state.withLock { (state) throws(LiveStateError) -> RedisPool in
            guard !state.closed else { throw LiveStateError(code: .shutdown, message: "the Redis Cluster pool was shut down") }
            if let pool = state.pools[node] { return pool }
            let seed = configuration.seeds[0]
            let url = RedisURL(host: node.host, port: node.port, database: 0, username: seed.username, password: seed.password)
            let pool = RedisPool(configuration: .init(
                url: url, connections: configuration.connectionsPerNode, connectTimeout: configuration.connectTimeout,
                defaultTimeout: configuration.defaultTimeout))
            state.pools[node] = pool
            return pool
        }
    }

    // MARK: - Topology

    /// Whether a failure to reach a master may mean the cluster changed.
    private static func suggestsFailover(_ error: LiveStateError) -> Bool {
        switch error.code {
        case .unavailable, .connectionFailed, .connectionClosed, .ioFailed: true
        default: false
        }
    }

    /// Reads the topology now, or waits for the request in flight.
    private func refreshNow() async {
        await startRefresh(spaced: false)?.value
    }

    /// Starts reading the topology without waiting for it; `spaced` skips it
    /// when the last request began less than `refreshSpacing` ago.
    private func refreshSoon(spaced: Bool) {
        _ = startRefresh(spaced: spaced)
    }

    private func startRefresh(spaced: Bool) -> Task<Void, Never>? {
        state.withLock { state in
            if let running = state.refresh { return running }
            guard !state.closed else { return nil }
            if spaced, let last = state.refreshedAt, ContinuousClock.now < last + configuration.refreshSpacing { return nil }
            state.refreshedAt = .now
            let task = Task { await self.readTopology() }
            state.refresh = task
            return task
        }
    }

    /// Asks the known masters, then the seeds, for the topology, and takes
    /// the first answer; drops the pools of nodes no longer masters.
    private func readTopology() async {
        let candidates = state.withLock { state in
            var seen = Set<RedisClusterTopology.Node>()
            return (state.topology.nodes + configuration.seeds.map { .init(host: $0.host, port: $0.port) })
                .filter { seen.insert($0).inserted }
        }
        var lastError: LiveStateError?
        var found: RedisClusterTopology?
        for node in candidates {
            do throws(LiveStateError) {
                let reply = try await pool(for: node).pipeline([[Array("CLUSTER".utf8), Array("SLOTS".utf8)]],
                                                               deadline: .now + configuration.connectTimeout)
                if case .error(let message) = reply[0] {
                    throw LiveStateError(code: .protocolError, message: "\(node) refused CLUSTER SLOTS: \(message)")
                }
                found = try RedisClusterTopology(slotsReply: reply[0], answering: node)
                break
            } catch {
                lastError = LiveStateError(code: error.code, message: "\(node): \(error.message)")
                if error.code == .shutdown { break }
            }
        }
        let dropped = state.withLock { state -> [RedisPool] in
            state.refresh = nil
            guard let found else {
                state.refreshError = lastError
                return []
            }
            state.topology = found
            state.refreshError = nil
            state.statistics.topologies += 1
            let keep = Set(found.nodes)
            var dropped: [RedisPool] = []
            for (node, pool) in state.pools where !keep.contains(node) {
                dropped.append(pool)
                state.pools[node] = nil
            }
            return dropped
        }
        for pool in dropped { await pool.shutdown() }
    }

    // MARK: - Shutdown

    /// Closes every master's pool (see `RedisPool.shutdown()`); later calls
    /// fail with `shutdown`. Safe to call more than once.
    package func shutdown() async {
        let (pools, refresh) = state.withLock { state in
            state.closed = true
            defer { state.pools.removeAll() }
            return (Array(state.pools.values), state.refresh)
        }
        await refresh?.value
        let late = state.withLock { state in
            defer { state.pools.removeAll() }
            return Array(state.pools.values)
        }
        for pool in pools + late { await pool.shutdown() }
    }
}
