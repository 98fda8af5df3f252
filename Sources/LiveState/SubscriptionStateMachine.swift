/// The rules of one pub/sub connection of `RedisSubscriber`, without any I/O:
/// which `SUBSCRIBE`/`UNSUBSCRIBE`/`PING` commands to send, what each reply
/// means, when the connection counts as live, and when it counts as dead.
///
/// One machine lives as long as one connection. The subscriber's thread
/// feeds it the events (the connection opened, the wanted channels changed,
/// a reply arrived, time passed) and performs the returned `Actions`: append
/// the commands, deliver the messages, report the connection live, report
/// requests confirmed. Nothing here reads a clock or a socket.
///
/// Rules:
/// - On a new connection: `AUTH` when credentials are given, one `SUBSCRIBE`
///   with every wanted channel, then a `PING`. Its reply, after every
///   confirmation, makes the connection live (`Actions.connected`).
/// - A change of the wanted set sends one `SUBSCRIBE` for the channels added
///   and one `UNSUBSCRIBE` for those removed since the last change; never a
///   pattern subscription, so only channels asked for are delivered.
/// - Requests are numbered by the subscriber (a generation per change); a
///   generation is confirmed when Redis has confirmed every channel of it
///   and of the generations before it.
/// - With nothing outstanding for `pingInterval`, a `PING` goes out; when
///   requests are outstanding and Redis answers nothing for `replyTimeout`,
///   the connection is dead (`timedOut`), as it is after any reply that
///   breaks the protocol (`protocolError`) or refuses a request
///   (`connectionFailed`).
struct SubscriptionStateMachine {
    typealias Instant = ContinuousClock.Instant

    /// A published message.
    struct Message: Hashable {
        var channel: String
        var payload: [UInt8]
    }

    /// What the subscriber must do after an event, in this order.
    struct Actions: Hashable {
        /// Commands to append to the connection's output, in order.
        var send: [[[UInt8]]] = []
        /// Messages to deliver, in arrival order.
        var messages: [Message] = []
        /// The connection just became live: subscribed to every channel
        /// wanted when it opened, and answering.
        var connected = false
        /// Every request up to this generation is now confirmed.
        var confirmed: UInt64? = nil
    }

    /// A request whose replies are still to come.
    private struct Request: Hashable {
        enum Kind: Hashable {
            case auth
            case subscribe
            case unsubscribe
            /// `initial` is the PING whose reply makes the connection live.
            case ping(initial: Bool)
        }

        var kind: Kind
        /// The channels still to be confirmed, in the order Redis confirms
        /// them.
        var channels: ArraySlice<String> = []
        /// The generation a subscription change belongs to; nil for others.
        var generation: UInt64?

        /// The command's name, for messages.
        var name: String {
            switch kind {
            case .auth: "AUTH"
            case .subscribe: "SUBSCRIBE"
            case .unsubscribe: "UNSUBSCRIBE"
            case .ping: "PING"
            }
        }
    }

    private let pingInterval: Duration
    private let replyTimeout: Duration
    /// The channels the server has been asked to have, after every command
    /// sent so far.
    private(set) var requested: Set<String> = []
    /// Requests in the order they were sent; Redis answers in that order.
    private var outstanding: [Request] = []
    /// The generation of the last change sent.
    private var sentGeneration: UInt64 = 0
    /// The generation of the last change whose every request is confirmed.
    private var completedGeneration: UInt64?
    /// The highest generation reported confirmed.
    private var reportedGeneration: UInt64?
    /// The last time something was sent or received.
    private var lastActivity: Instant
    /// When the connection counts as dead unless a reply arrives.
    private var replyDue: Instant?
    /// Whether the initial `PING` has been answered.
    private(set) var isConnected = false

    init(pingInterval: Duration, replyTimeout: Duration, now: Instant) {
        self.pingInterval = pingInterval
        self.replyTimeout = replyTimeout
        self.lastActivity = now
    }

    // MARK: - Events

    /// The connection has opened: authenticates with `credentials` (the
    /// arguments of `AUTH`, when any), subscribes to `wanted` (which is
    /// generation `generation`), and pings.
    mutating func opened(
        credentials: [String]?,
        wanted: Set<String>,
        generation: UInt64,
        now: Instant
    ) -> Actions {
        var actions = Actions()
        if let credentials {
            actions.send.append(Self.command(["AUTH"] + credentials))
            expect(Request(kind: .auth), now: now)
        }
        actions.send += change(to: wanted, generation: generation, now: now)
        actions.send.append(Self.command(["PING"]))
        expect(Request(kind: .ping(initial: true)), now: now)
        return actions
    }

    /// The wanted channels changed to `wanted`, as of generation
    /// `generation` (greater than the last one given).
    mutating func wantedChanged(_ wanted: Set<String>, generation: UInt64, now: Instant) -> Actions {
        var actions = Actions(send: change(to: wanted, generation: generation, now: now))
        actions.confirmed = newlyConfirmed()
        return actions
    }

    /// A reply or push arrived.
    ///
    /// - Throws: `protocolError` for a reply nothing was waiting for, or one
    ///   that does not fit its request; `connectionFailed` when Redis refused
    ///   a request (an error reply). The connection must be closed then.
    mutating func received(_ reply: RedisReply, now: Instant) throws(LiveStateError) -> Actions {
        lastActivity = now
        var actions = Actions()
        if case .array(let items) = reply, items.count == 3, items[0].text == "message" {
            guard case .string(let channel) = items[1], case .string(let payload) = items[2] else {
                throw Self.violation("a message push with a malformed channel or payload: \(reply)")
            }
            actions.messages.append(Message(channel: String(decoding: channel, as: UTF8.self), payload: payload))
            return actions
        }
        guard var request = outstanding.first else {
            throw Self.violation("a reply nothing was waiting for: \(reply)")
        }
        if case .error(let message) = reply {
            throw LiveStateError(code: .connectionFailed, message: "\(request.name) was refused: \(message)")
        }
        switch request.kind {
        case .auth:
            guard reply == .status("OK") else {
                throw Self.violation("AUTH answered \(reply) instead of OK")
            }
            outstanding.removeFirst()
        case .subscribe, .unsubscribe:
            let verb = request.kind == .subscribe ? "subscribe" : "unsubscribe"
            guard case .array(let items) = reply, items.count == 3, items[0].text == verb,
                case .string(let channel) = items[1], case .integer = items[2],
                let expected = request.channels.first, Array(expected.utf8) == channel
            else {
                throw Self.violation("\(request.name) answered \(reply)")
            }
            request.channels.removeFirst()
            if request.channels.isEmpty {
                outstanding.removeFirst()
                // A change may need a SUBSCRIBE and an UNSUBSCRIBE.
                if let generation = request.generation, !outstanding.contains(where: { $0.generation == generation }) {
                    completedGeneration = generation
                }
            } else {
                outstanding[0] = request
            }
        case .ping(let initial):
            // In subscribed mode PING answers ["pong", ""].
            let isPong: Bool =
                switch reply {
                case .status("PONG"): true
                case .array(let items): items.count == 2 && items[0].text == "pong"
                default: false
                }
            guard isPong else {
                throw Self.violation("PING answered \(reply)")
            }
            outstanding.removeFirst()
            if initial {
                isConnected = true
                actions.connected = true
            }
        }
        replyDue = outstanding.isEmpty ? nil : now + replyTimeout
        actions.confirmed = newlyConfirmed()
        return actions
    }

    /// Time passed: pings an idle connection, and declares a silent one dead.
    ///
    /// - Throws: `timedOut` when Redis has answered nothing for
    ///   `replyTimeout` while requests were outstanding.
    mutating func tick(now: Instant) throws(LiveStateError) -> Actions {
        if let replyDue, now >= replyDue {
            throw LiveStateError(
                code: .timedOut,
                message: "Redis answered nothing for \(replyTimeout) with \(outstanding.first?.name ?? "a request") outstanding"
            )
        }
        guard outstanding.isEmpty, now >= lastActivity + pingInterval else { return Actions() }
        expect(Request(kind: .ping(initial: false)), now: now)
        return Actions(send: [Self.command(["PING"])])
    }

    /// When `tick(now:)` must be called next, at the latest.
    var nextTick: Instant {
        replyDue ?? lastActivity + pingInterval
    }

    // MARK: - Internals

    /// The commands that take the server from `requested` to `wanted`.
    private mutating func change(to wanted: Set<String>, generation: UInt64, now: Instant) -> [[[UInt8]]] {
        sentGeneration = generation
        var commands: [[[UInt8]]] = []
        let added = wanted.subtracting(requested).sorted()
        if !added.isEmpty {
            commands.append(Self.command(["SUBSCRIBE"] + added))
            expect(Request(kind: .subscribe, channels: added[...], generation: generation), now: now)
        }
        let removed = requested.subtracting(wanted).sorted()
        if !removed.isEmpty {
            commands.append(Self.command(["UNSUBSCRIBE"] + removed))
            expect(Request(kind: .unsubscribe, channels: removed[...], generation: generation), now: now)
        }
        requested = wanted
        return commands
    }

    private mutating func expect(_ request: Request, now: Instant) {
        if outstanding.isEmpty {
            replyDue = now + replyTimeout
        }
        outstanding.append(request)
        lastActivity = now
    }

    /// The highest generation whose requests are all confirmed, when it is
    /// higher than the last one reported. A change sent is made of every
    /// generation since the change sent before it, so a generation counts as
    /// confirmed only once its whole change is.
    private mutating func newlyConfirmed() -> UInt64? {
        let changesOutstanding = outstanding.contains { $0.generation != nil }
        guard let confirmed = changesOutstanding ? completedGeneration : sentGeneration else { return nil }
        guard reportedGeneration.map({ confirmed > $0 }) ?? true else { return nil }
        reportedGeneration = confirmed
        return confirmed
    }

    private static func command(_ arguments: [String]) -> [[UInt8]] {
        arguments.map { Array($0.utf8) }
    }

    private static func violation(_ message: String) -> LiveStateError {
        LiveStateError(code: .protocolError, message: "pub/sub connection: \(message)")
    }
}
