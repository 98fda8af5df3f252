/// Redis pub/sub on one dedicated thread, with subscriptions that can change
/// at any time.
///
/// ```swift
/// let subscriber = RedisSubscriber(url: url) { event in
///     switch event {
///     case .message(let channel, let payload): inbox.post(channel, payload)  // quick, never blocks
///     case .connected: inbox.resync()        // messages of the gap are lost
///     case .disconnected(let error): log.warning("\(error)")
///     }
/// }
/// subscriber.subscribe("timers:\(userID)")
/// await subscriber.synchronize()             // the channel is live from here on
/// …
/// subscriber.shutdown()
/// ```
///
/// **Threads.** The subscriber owns one connection and one thread, which
/// sleeps in `poll(2)` on the connection's socket and on a pipe that
/// `subscribe`, `unsubscribe` and `shutdown` signal; the connection never
/// blocks the thread, connecting included. The thread blocks `SIGPIPE`. The
/// other methods may be called from any thread or task and never block, but
/// `shutdown()`, which waits for the thread to end.
///
/// **The handler** runs on the subscriber's thread, one event at a time, in
/// order. It must return quickly and must not block (no locks held long, no
/// I/O, no waiting on another task): while it runs no message is read. Hand
/// the event to a queue, a continuation or an `AsyncStream` instead.
///
/// **Delivery.** Only channels subscribed by name are delivered (never a
/// pattern subscription); a message for a channel unsubscribed a moment ago
/// is dropped. Redis pub/sub is fire-and-forget: messages published while
/// the subscriber is disconnected are lost, and `.connected` after a
/// `.disconnected` says so. Channels are global to the Redis server: the
/// URL's database does not matter; its password does (`AUTH`).
///
/// **Failures.** A broken connection, one that answers nothing for
/// `connectTimeout` while a request or a `PING` is outstanding (a `PING` goes
/// out after a few seconds without traffic), and a refused request all end
/// the connection: the subscriber emits `.disconnected(error)` (once per
/// outage, including a first connect that fails), reconnects with a capped
/// exponential backoff, subscribes again to every wanted channel, and emits
/// `.connected`.
package final class RedisSubscriber: Sendable {
    /// What the subscriber reports to its handler.
    package enum Event: Sendable, Equatable {
        /// A message published on a channel this subscriber wants.
        case message(channel: String, payload: [UInt8])
        /// Subscribed (again) to every wanted channel and answering. After a
        /// reconnect, messages published during the gap were lost. Messages
        /// may arrive shortly before this event.
        case connected
        /// The connection failed or could not be opened; the subscriber tries
        /// again by itself. Emitted once per outage.
        case disconnected(LiveStateError)
    }

    private let loop: SubscriberLoop

    /// Starts the subscriber's thread, which connects at once and keeps
    /// reconnecting until `shutdown()`.
    ///
    /// - Parameters:
    ///   - url: the Redis server; its password is used, its database is not.
    ///   - connectTimeout: the bound on a connect, and on the wait for a
    ///     reply before the connection counts as dead.
    ///   - initialBackoff: the pause after a first failure; it doubles with
    ///     each further consecutive failure, up to `maximumBackoff`.
    ///   - handler: receives every event, on the subscriber's thread; must
    ///     return quickly (see the type's documentation).
    package convenience init(
        url: RedisURL,
        connectTimeout: Duration = .seconds(2),
        initialBackoff: Duration = .milliseconds(50),
        maximumBackoff: Duration = .seconds(2),
        handler: @escaping @Sendable (Event) -> Void
    ) {
        self.init(urls: [url], connectTimeout: connectTimeout, initialBackoff: initialBackoff,
                  maximumBackoff: maximumBackoff, handler: handler)
    }

    /// As `init(url:…)`, connecting to the first of `urls` and, after each
    /// failure, to the next: the nodes of a Redis Cluster, every one of which
    /// carries every channel's messages.
    ///
    /// - Precondition: `urls` is not empty.
    package convenience init(
        urls: [RedisURL],
        connectTimeout: Duration = .seconds(2),
        initialBackoff: Duration = .milliseconds(50),
        maximumBackoff: Duration = .seconds(2),
        handler: @escaping @Sendable (Event) -> Void
    ) {
        self.init(
            urls: urls,
            connectTimeout: connectTimeout,
            initialBackoff: initialBackoff,
            maximumBackoff: maximumBackoff,
            pingInterval: .seconds(3),
            handler: handler
        )
    }

    /// As the package initializer, with the idle time after which a `PING`
    /// checks the connection (tests shorten it).
    init(
        urls: [RedisURL],
        connectTimeout: Duration,
        initialBackoff: Duration,
        maximumBackoff: Duration,
        pingInterval: Duration,
        handler: @escaping @Sendable (Event) -> Void
    ) {
        loop = SubscriberLoop(
            urls: urls,
            connectTimeout: connectTimeout,
            backoff: Backoff(initial: initialBackoff, maximum: maximumBackoff),
            pingInterval: pingInterval,
            handler: handler
        )
    }

    deinit {
        // Dropped without shutdown: let the thread end (without waiting).
        loop.stop()
    }

    /// Asks for the messages of `channel`. Returns at once; the subscription
    /// takes effect when Redis confirms it (see `synchronize()`), and again
    /// after every reconnect. Subscribing to a channel already wanted does
    /// nothing. Ignored after `shutdown()`.
    package func subscribe(_ channel: String) {
        loop.want(channel, true)
    }

    /// Stops the messages of `channel`. Returns at once; a message of the
    /// channel that the thread has not begun to hand to the handler by then
    /// is dropped. Unsubscribing from a channel not wanted does nothing.
    package func unsubscribe(_ channel: String) {
        loop.want(channel, false)
    }

    /// Waits until every `subscribe` and `unsubscribe` requested so far has
    /// been confirmed by Redis, so that a message published afterwards on a
    /// subscribed channel is delivered. Returns early when the subscriber is
    /// disconnected (or is shut down): check `isConnected`, or wait for
    /// `.connected`, which resubscribes everything. Never blocks a thread.
    package func synchronize() async {
        await loop.synchronize()
    }

    /// Whether the subscriber is live: between `.connected` and the next
    /// `.disconnected`.
    package var isConnected: Bool {
        loop.phase == .connected
    }

    /// Closes the connection and waits until the thread has ended, which
    /// takes no longer than the handler's current call. No event follows.
    /// Blocks the calling thread that long; called from the handler, it
    /// returns at once and the thread ends after the handler returns. Safe
    /// to call more than once.
    package func shutdown() {
        loop.stop()
        loop.join()
    }
}
