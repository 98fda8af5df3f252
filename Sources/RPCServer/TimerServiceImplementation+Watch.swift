import Codec
import LiveState
import RPC
import Storage
import TimerDomain

/// WatchTimers: a SNAPSHOT of the user's active timers, then every change of
/// theirs made through any instance, HEARTBEATs in between; resumable from
/// the last event id.
extension TimerServiceImplementation {
    /// The most events a resume replays; past that a snapshot is sent.
    static let replayLimit = 1_000

    /// One log line for the whole stream, when it ends (``logged(_:_:_:)``).
    public func watchTimers(_ request: WatchTimersRequest, responses: ResponseWriter<TimerEvent>, context: ServerContext) async throws {
        try await logged(context, "WatchTimers") { call in
            try await watch(request, responses: responses, context: context, call: call)
        }
    }

    private func watch(
        _ request: WatchTimersRequest, responses: ResponseWriter<TimerEvent>, context: ServerContext, call: CallLog
    ) async throws {
        let (principal, heartbeat, resume) = try await authorized(context, .read, "WatchTimers", call) { principal, _ in
            let seconds = request.heartbeatIntervalSeconds
            guard seconds == 0 || (1...300).contains(seconds) else {
                throw RPCError(code: .invalidArgument,
                               message: "heartbeat_interval_seconds must be 1 to 300, or 0 for the default of 15, got \(seconds)")
            }
            var resume: EventID?
            if !request.lastEventID.isEmpty {
                guard let id = EventID(request.lastEventID) else {
                    throw RPCError(code: .invalidArgument,
                                   message: "last_event_id \"\(request.lastEventID.prefix(64))\" is not an event id (they look like 1700000000000-0)")
                }
                resume = id
            }
            return (principal, Duration.seconds(seconds == 0 ? 15 : Int64(seconds)), resume)
        }
        try await stream(to: responses, principal: principal, heartbeat: heartbeat, resume: resume, context: context)
    }

    private func stream(
        to responses: ResponseWriter<TimerEvent>, principal: Principal, heartbeat: Duration, resume: EventID?,
        context: ServerContext
    ) async throws {
        let user = principal.userID
        // Registered and subscribed before the log is read: nothing
        // published from here on is missed (duplicates are skipped by id).
        let watcher = live.hub.register(user: user, heartbeat: heartbeat)
        defer { live.hub.unregister(watcher) }
        await live.hub.synchronize()

        var last: EventID?
        if let resume, let replayed = await live.replay(user: user, after: resume, limit: Self.replayLimit) {
            last = resume
            for (id, event) in replayed {
                try await responses.send(event)
                last = id
            }
        } else {
            last = try await sendSnapshot(to: responses, principal, context)
        }

        for await item in watcher.items {
            if watcher.takeOverflow() {
                // This reader fell behind and lost queued events: start over.
                last = try await sendSnapshot(to: responses, principal, context)
            }
            switch item {
            case .event(let id, let event):
                if let id, let last, id <= last { continue }
                try await responses.send(event)
                if let id { last = id }
            case .resync:
                last = try await sendSnapshot(to: responses, principal, context)
            case .heartbeat:
                var event = TimerEvent()
                event.type = .heartbeat
                event.occurredAt = Timestamp(clock.now)
                event.meta = try? await heartbeatMeta(for: principal, context)
                try await responses.send(event)
            }
        }
        if live.hub.isClosed {
            throw RPCError(code: .unavailable, message: "the server is shutting down; reconnect with your last event_id")
        }
    }

    /// The figures of a HEARTBEAT: from the active timers the hub knows
    /// unchanged since they were read, else read (and kept for the next).
    private func heartbeatMeta(for principal: Principal, _ context: ServerContext) async throws -> Meta {
        let known = live.hub.knownActive(user: principal.userID)
        if let records = known.records { return try heartbeatFigures(records) }
        let records = try await activeRecords(principal, context)
        live.hub.remember(active: records, user: principal.userID, change: known.change)
        return try heartbeatFigures(records)
    }

    private func heartbeatFigures(_ records: [TimerRecord]) throws -> Meta {
        Meta(try domainMeta(records, at: clock.now))
    }

    /// Sends a SNAPSHOT of the user's active timers; returns the log position
    /// it covers (its event id), if any.
    private func sendSnapshot(
        to responses: ResponseWriter<TimerEvent>, _ principal: Principal, _ context: ServerContext
    ) async throws -> EventID? {
        // The position first: events after it may already be in the
        // snapshot, and are sent again (harmless: same sync_version).
        let position = await live.lastEventID(user: principal.userID)
        let change = live.hub.knownActive(user: principal.userID).change
        let records = try await activeRecords(principal, context)
        live.hub.remember(active: records, user: principal.userID, change: change)
        let now = clock.now
        var event = TimerEvent()
        event.type = .snapshot
        event.eventID = position?.description ?? ""
        event.timers = try records.map { (record) throws(RPCError) in try wire(record, at: now) }
        event.meta = Meta(try domainMeta(records, at: now))
        event.occurredAt = Timestamp(now)
        try await responses.send(event)
        return position
    }
}
