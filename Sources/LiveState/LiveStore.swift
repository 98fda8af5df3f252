/// Something that runs Redis command pipelines: `RedisPool` in the server.
package protocol RedisCommandRunner: Sendable {
    /// Sends `commands` as one pipeline and returns their replies in order.
    func pipeline(_ commands: [[[UInt8]]], deadline: ContinuousClock.Instant?) async throws(LiveStateError) -> [RedisReply]
}

/// The live half of the service in Redis: timer states, active sets, the
/// event log and bus, sync bookkeeping and the sync rate limit, in the key
/// layout of `LiveKeys`. Every value carrying user data (states, events) is
/// sealed by the keyring.
///
/// Redis is a cache and a bus here, never the only copy: PostgreSQL commits
/// first, and whatever is lost here is rebuilt from it (`rebuild`).
///
/// Every method makes one round trip (two for `publish` when a user's last
/// active timer ends) and throws `LiveStateError`: connection and deadline
/// failures from the runner, `cryptoFailed`/`malformedValue` for a stored
/// value that does not open, `protocolError` for an unexpected reply.
package struct LiveStore: Sendable {
    /// Where commands go.
    package let redis: any RedisCommandRunner
    /// Seals and opens states and events.
    package let keyring: StateKeyring
    /// How long a timer state lives after its last change (the seed's 24 h).
    package var stateTTLSeconds: Int
    /// How many events a user's log keeps for replay.
    package var eventLogLength: Int
    /// How many closed sessions `timer:{id}:sessions` keeps.
    package var sessionHistoryLength: Int

    package init(redis: any RedisCommandRunner, keyring: StateKeyring, stateTTLSeconds: Int = 86_400,
                 eventLogLength: Int = 1_000, sessionHistoryLength: Int = 1_000) {
        self.redis = redis
        self.keyring = keyring
        self.stateTTLSeconds = stateTTLSeconds
        self.eventLogLength = max(1, eventLogLength)
        self.sessionHistoryLength = max(1, sessionHistoryLength)
    }

    // MARK: - Changes

    /// What `publish` wrote.
    package struct Published: Sendable, Hashable {
        /// The event's id in the user's log; nil when no event was given.
        package var eventID: EventID?
        /// The user's active timers after the change.
        package var activeCount: Int
    }

    /// Writes a committed change: the timer's state (unless Redis holds the
    /// same or a newer version, when nothing is written and nil returned),
    /// its membership of the active sets, the closed session if any, and the
    /// event (`event`: the encoded `TimerEvent`, sealed here), which is
    /// appended to the user's log and published to every instance.
    package func publish(
        _ state: LiveTimerState, event: [UInt8]?, closedSession: (start: Int64, end: Int64)?,
        deadline: ContinuousClock.Instant? = nil
    ) async throws(LiveStateError) -> Published? {
        let stateKey = LiveKeys.state(user: state.userID, timer: state.id)
        let eventsKey = LiveKeys.events(user: state.userID)
        let sealedState = try keyring.seal(state.encoded(), for: stateKey)
        let sealedEvent = try event.map { (bytes) throws(LiveStateError) in try keyring.seal(bytes, for: eventsKey) } ?? []
        let arguments: [[UInt8]] = [
            Self.text(state.id), Self.text(state.syncVersion), sealedState, Self.text(stateTTLSeconds),
            Array((state.isActive ? "1" : "0").utf8), sealedEvent, Self.text(eventLogLength),
            Array(LiveKeys.channel(user: state.userID).utf8),
        ]
        let keys = [stateKey, LiveKeys.activeTimers(user: state.userID), eventsKey]
        var extra: [[[UInt8]]] = []
        if state.isActive {
            extra.append(Self.command("SADD", LiveKeys.activeUsers, String(state.userID)))
        }
        if let session = closedSession {
            let key = LiveKeys.sessions(timer: state.id)
            extra.append(Self.command("RPUSH", key, "\(session.start):\(session.end)"))
            extra.append(Self.command("LTRIM", key, String(-sessionHistoryLength), "-1"))
            extra.append(Self.command("EXPIRE", key, String(stateTTLSeconds)))
        }
        let reply = try await run(LiveScripts.publish, keys: keys, arguments: arguments, with: extra, deadline: deadline)
        guard case .array(let parts) = reply else {
            if reply == .null { return nil }
            throw Self.unexpected(reply, "the publish script")
        }
        guard parts.count == 2, case .string(let idBytes) = parts[0], case .integer(let active) = parts[1] else {
            throw Self.unexpected(reply, "the publish script")
        }
        let idText = String(decoding: idBytes, as: UTF8.self)
        let eventID = idText.isEmpty ? nil : EventID(idText)
        if !idText.isEmpty && eventID == nil { throw Self.unexpected(reply, "the publish script") }
        if active == 0 {
            _ = try await redis.pipeline([Self.command("SREM", LiveKeys.activeUsers, String(state.userID))], deadline: deadline)
        }
        return Published(eventID: eventID, activeCount: Int(active))
    }

    /// Opens an event read from `user`'s log or channel.
    package func openEvent(_ sealed: [UInt8], user: Int64) throws(LiveStateError) -> [UInt8] {
        try keyring.open(sealed, from: LiveKeys.events(user: user))
    }

    // MARK: - Reads

    /// One active timer as `activeEntries` finds it: still sealed, with its
    /// version, so a caller that keeps decoded states can skip opening it.
    package struct ActiveEntry: Sendable, Hashable {
        package var timerID: Int64
        package var syncVersion: Int64
        package var sealed: [UInt8]
    }

    /// The user's active timers as Redis holds them (sealed), or nil when a
    /// state the active set names is missing (expired or lost): the caller
    /// then reads PostgreSQL.
    package func activeEntries(user: Int64, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> [ActiveEntry]? {
        let reply = try await run(
            LiveScripts.activeStates, keys: [LiveKeys.activeTimers(user: user)],
            arguments: [Array(LiveKeys.statePrefix(user: user).utf8), Array(LiveKeys.stateSuffix.utf8)], deadline: deadline)
        guard case .array(let parts) = reply, parts.count % 3 == 0 else { throw Self.unexpected(reply, "the active-states script") }
        var entries: [ActiveEntry] = []
        entries.reserveCapacity(parts.count / 3)
        for index in stride(from: 0, to: parts.count, by: 3) {
            guard case .string(let idBytes) = parts[index], let id = Int64(String(decoding: idBytes, as: UTF8.self)) else {
                throw Self.unexpected(reply, "the active-states script")
            }
            guard case .string(let versionBytes) = parts[index + 1], case .string(let sealed) = parts[index + 2],
                  let version = Int64(String(decoding: versionBytes, as: UTF8.self)) else { return nil }
            entries.append(ActiveEntry(timerID: id, syncVersion: version, sealed: sealed))
        }
        return entries.sorted { $0.timerID < $1.timerID }
    }

    /// Opens an active entry of `user`'s.
    ///
    /// - Throws: `cryptoFailed`, or `malformedValue` when the state is not
    ///   the timer and user it is stored under.
    package func open(_ entry: ActiveEntry, user: Int64) throws(LiveStateError) -> LiveTimerState {
        let state = try LiveTimerState(decoding: keyring.open(entry.sealed, from: LiveKeys.state(user: user, timer: entry.timerID)))
        guard state.id == entry.timerID, state.userID == user else {
            throw LiveStateError(code: .malformedValue, message: "the state under timer \(entry.timerID) of user \(user) names timer \(state.id) of user \(state.userID)")
        }
        return state
    }

    /// The user's active timers as Redis holds them, opened, or nil when a
    /// state the active set names is missing.
    package func activeStates(user: Int64, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> [LiveTimerState]? {
        guard let entries = try await activeEntries(user: user, deadline: deadline) else { return nil }
        return try entries.map { (entry) throws(LiveStateError) in try open(entry, user: user) }
    }

    /// One timer's state as Redis holds it, still sealed, with its version;
    /// nil when Redis holds none (never published, or expired).
    package func entry(user: Int64, timer: Int64, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> ActiveEntry? {
        let reply = try await single(Self.command("HMGET", LiveKeys.state(user: user, timer: timer), "v", "s"), deadline: deadline)
        guard case .array(let fields) = reply, fields.count == 2 else { throw Self.unexpected(reply, "HMGET") }
        guard case .string(let versionBytes) = fields[0], case .string(let sealed) = fields[1] else { return nil }
        guard let version = Int64(String(decoding: versionBytes, as: UTF8.self)) else { throw Self.unexpected(reply, "HMGET") }
        return ActiveEntry(timerID: timer, syncVersion: version, sealed: sealed)
    }

    /// One timer's state as Redis holds it, or nil.
    package func state(user: Int64, timer: Int64, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> LiveTimerState? {
        let key = LiveKeys.state(user: user, timer: timer)
        let reply = try await single(Self.command("HGET", key, "s"), deadline: deadline)
        switch reply {
        case .null: return nil
        case .string(let sealed): return try LiveTimerState(decoding: keyring.open(sealed, from: key))
        default: throw Self.unexpected(reply, "HGET")
        }
    }

    /// The users in `global:active_users`.
    package func activeUsers(deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> [Int64] {
        let reply = try await single(Self.command("SMEMBERS", LiveKeys.activeUsers), deadline: deadline)
        guard case .array(let members) = reply else { throw Self.unexpected(reply, "SMEMBERS") }
        return members.compactMap { member in
            guard case .string(let bytes) = member else { return nil }
            return Int64(String(decoding: bytes, as: UTF8.self))
        }
    }

    // MARK: - Rebuild

    /// Redis' clock in milliseconds: take it before reading PostgreSQL for
    /// a `rebuild`.
    package func redisTime(deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> Int64 {
        let reply = try await run(LiveScripts.time, keys: [], arguments: [], deadline: deadline)
        guard case .integer(let milliseconds) = reply else { throw Self.unexpected(reply, "the time script") }
        return milliseconds
    }

    /// Makes `user`'s live state what PostgreSQL said when it was read (after
    /// `readAt`, a `redisTime()`): the active set becomes `states` (the
    /// user's active timers then), except where Redis holds newer versions or
    /// changes written after `readAt`; `global:active_users` follows.
    /// Returns whether Redis was missing anything (a stale active timer, an
    /// older or missing state): watchers may then have missed changes, and
    /// the user's event log is marked so no resume replays across the hole.
    @discardableResult
    package func rebuild(user: Int64, states: [LiveTimerState], readAt: Int64, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> Bool {
        var arguments: [[UInt8]] = [
            Array(LiveKeys.statePrefix(user: user).utf8), Array(LiveKeys.stateSuffix.utf8), Self.text(stateTTLSeconds), Self.text(readAt),
            Self.text(eventLogLength),
        ]
        for state in states where state.isActive && state.userID == user {
            let sealed = try keyring.seal(state.encoded(), for: LiveKeys.state(user: user, timer: state.id))
            arguments += [Self.text(state.id), Self.text(state.syncVersion), sealed]
        }
        let reply = try await run(LiveScripts.rebuild, keys: [LiveKeys.activeTimers(user: user), LiveKeys.events(user: user)],
                                  arguments: arguments, deadline: deadline)
        guard case .array(let parts) = reply, parts.count == 2, case .integer(let active) = parts[0], case .integer(let repaired) = parts[1] else {
            throw Self.unexpected(reply, "the rebuild script")
        }
        let membership = active > 0
            ? Self.command("SADD", LiveKeys.activeUsers, String(user))
            : Self.command("SREM", LiveKeys.activeUsers, String(user))
        _ = try await single(membership, deadline: deadline)
        return repaired == 1
    }

    /// Announces to every instance that watchers may have missed changes
    /// (``LiveKeys/resyncChannel``).
    package func announceResync(deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) {
        _ = try await single(Self.command("PUBLISH", LiveKeys.resyncChannel, "resync"), deadline: deadline)
    }

    // MARK: - Event log

    /// What a resume from an event id finds.
    package enum Replay: Sendable, Hashable {
        /// Every event after the id, oldest first (possibly none).
        case events([(id: EventID, event: [UInt8])])
        /// Events after the id are no longer all kept (trimmed, expired, or
        /// the log was lost and begun again): send a snapshot instead.
        case gap

        package static func == (lhs: Replay, rhs: Replay) -> Bool {
            switch (lhs, rhs) {
            case (.gap, .gap): true
            case (.events(let a), .events(let b)): a.map(\.id) == b.map(\.id) && a.map(\.event) == b.map(\.event)
            default: false
            }
        }

        package func hash(into hasher: inout Hasher) {
            switch self {
            case .gap: hasher.combine(0)
            case .events(let events): hasher.combine(events.map(\.id))
            }
        }
    }

    /// The events of `user` after `id`, opened, when all of them are still
    /// kept and there are at most `limit`; `.gap` otherwise.
    ///
    /// The entry `id` itself must still be in the log: if it is not, it was
    /// trimmed by the cap, expired with the log, or belongs to a log that
    /// was lost and begun again (Redis restarted empty), and what followed it
    /// cannot be vouched for. A log begun again after `id` shows its reset
    /// marker among the entries after it, which is a gap as well.
    package func events(user: Int64, after id: EventID, limit: Int, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> Replay {
        let key = LiveKeys.events(user: user)
        let replies = try await redis.pipeline([
            Self.command("XRANGE", key, id.description, id.description, "COUNT", "1"),
            Self.command("XRANGE", key, "(\(id)", "+", "COUNT", String(limit + 1)),
        ], deadline: deadline)
        guard replies.count == 2, case .array(let anchor) = replies[0] else {
            throw Self.unexpected(.array(replies), "XRANGE")
        }
        if anchor.isEmpty { return .gap }
        guard case .array(let entries) = replies[1] else { throw Self.unexpected(replies[1], "XRANGE") }
        if entries.count > limit { return .gap }
        var events: [(id: EventID, event: [UInt8])] = []
        for entry in entries {
            guard case .array(let pair) = entry, pair.count == 2, case .string(let idBytes) = pair[0],
                  let entryID = EventID(String(decoding: idBytes, as: UTF8.self)), case .array(let values) = pair[1],
                  values.count == 2, case .string(let field) = values[0], case .string(let value) = values[1] else {
                throw Self.unexpected(entry, "an event log entry")
            }
            // The log was begun again after `id`: what happened between is unknown.
            if field == Array("r".utf8) { return .gap }
            events.append((entryID, try openEvent(value, user: user)))
        }
        return .events(events)
    }

    /// The id of the newest entry of `user`'s log, or nil when there is no log.
    package func lastEventID(user: Int64, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> EventID? {
        let reply = try await single(Self.command("XREVRANGE", LiveKeys.events(user: user), "+", "-", "COUNT", "1"), deadline: deadline)
        guard case .array(let entries) = reply else { throw Self.unexpected(reply, "XREVRANGE") }
        guard let first = entries.first else { return nil }
        guard case .array(let pair) = first, let head = pair.first, case .string(let idBytes) = head,
              let id = EventID(String(decoding: idBytes, as: UTF8.self)) else {
            throw Self.unexpected(reply, "XREVRANGE")
        }
        return id
    }

    // MARK: - Sync bookkeeping

    /// The answer of the rate limit.
    package enum Admission: Sendable, Hashable {
        case admitted
        /// Refused; a call would be admitted after this many milliseconds.
        case refused(retryAfterMilliseconds: Int64)
    }

    /// Counts one call of `user` against `limit` per `window`, on Redis'
    /// clock, shared by every instance.
    package func admit(user: Int64, limit: Int, window: Duration, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> Admission {
        let milliseconds = window.components.seconds * 1_000 + window.components.attoseconds / 1_000_000_000_000_000
        let reply = try await run(LiveScripts.rateLimit, keys: [LiveKeys.syncRate(user: user)],
                                  arguments: [Self.text(limit), Self.text(max(1, milliseconds))], deadline: deadline)
        guard case .array(let parts) = reply, parts.count == 2, case .integer(let admitted) = parts[0],
              case .integer(let wait) = parts[1] else {
            throw Self.unexpected(reply, "the rate-limit script")
        }
        return admitted == 1 ? .admitted : .refused(retryAfterMilliseconds: wait)
    }

    /// Records `user`'s last sync (`user:{id}:last_sync`, microseconds since
    /// the epoch).
    package func recordSync(user: Int64, atMicroseconds: Int64, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) {
        let reply = try await single(Self.command("SET", LiveKeys.lastSync(user: user), String(atMicroseconds)), deadline: deadline)
        guard reply == .status("OK") else { throw Self.unexpected(reply, "SET") }
    }

    /// `user`'s last sync, in microseconds since the epoch, if recorded.
    package func lastSync(user: Int64, deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) -> Int64? {
        let reply = try await single(Self.command("GET", LiveKeys.lastSync(user: user)), deadline: deadline)
        switch reply {
        case .null: return nil
        case .string(let bytes): return Int64(String(decoding: bytes, as: UTF8.self))
        default: throw Self.unexpected(reply, "GET")
        }
    }

    /// Checks that Redis answers (`PING`).
    package func ping(deadline: ContinuousClock.Instant? = nil) async throws(LiveStateError) {
        let reply = try await single(Self.command("PING"), deadline: deadline)
        guard reply == .status("PONG") else { throw Self.unexpected(reply, "PING") }
    }

    // MARK: - Helpers

    /// Runs `script` by its SHA-1 (then whole, when Redis has not cached it),
    /// pipelined with `extra` commands sent after it; returns the script's reply.
    private func run(
        _ script: LiveScript, keys: [String], arguments: [[UInt8]], with extra: [[[UInt8]]] = [],
        deadline: ContinuousClock.Instant?
    ) async throws(LiveStateError) -> RedisReply {
        let replies = try await redis.pipeline([script.evalSHA(keys: keys, arguments: arguments)] + extra, deadline: deadline)
        guard let first = replies.first else { throw Self.unexpected(.array(replies), "EVALSHA") }
        var reply = first
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            let retried = try await redis.pipeline([script.eval(keys: keys, arguments: arguments)], deadline: deadline)
            guard let answer = retried.first else { throw Self.unexpected(.array(retried), "EVAL") }
            reply = answer
        }
        if case .error(let message) = reply {
            throw LiveStateError(code: .protocolError, message: "a live-state script failed: \(message)")
        }
        for extraReply in replies.dropFirst() {
            if case .error(let message) = extraReply {
                throw LiveStateError(code: .protocolError, message: "a live-state command failed: \(message)")
            }
        }
        return reply
    }

    private func single(_ command: [[UInt8]], deadline: ContinuousClock.Instant?) async throws(LiveStateError) -> RedisReply {
        let replies = try await redis.pipeline([command], deadline: deadline)
        guard replies.count == 1 else { throw Self.unexpected(.array(replies), String(decoding: command[0], as: UTF8.self)) }
        if case .error(let message) = replies[0] {
            throw LiveStateError(code: .protocolError, message: "\(String(decoding: command[0], as: UTF8.self)) failed: \(message)")
        }
        return replies[0]
    }

    private static func command(_ words: String...) -> [[UInt8]] {
        words.map { Array($0.utf8) }
    }

    private static func text<N: BinaryInteger>(_ number: N) -> [UInt8] {
        Array(String(number).utf8)
    }

    private static func unexpected(_ reply: RedisReply, _ what: String) -> LiveStateError {
        LiveStateError(code: .protocolError, message: "\(what) answered an unexpected reply: \(String(describing: reply).prefix(200))")
    }
}
