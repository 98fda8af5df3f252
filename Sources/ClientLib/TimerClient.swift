/// A client of the timer service: one HTTP/2 connection (h2c, or TLS) that
/// every call and watch of the process can share.
///
/// ```swift
/// let client = try TimerClient(configuration: .fromEnvironment())
/// let started = try await client.createTimer(accountID: 1, description: "Design review")
/// for try await event in client.watchTimers() { print(event.type) }
/// ```
///
/// - Calls are multiplexed as streams on one connection, opened at the first
///   call and opened again after it is lost; attempts after a failure wait a
///   backoff shared by all calls (``RetryPolicy``).
/// - Every call carries the configured token and, unless it sets its own,
///   the default deadline; `options` adds metadata or another deadline.
/// - Cancelling the task that makes a call resets its stream and ends the
///   call with `CANCELLED`.
/// - Calls that are safe to repeat are retried after `UNAVAILABLE` (see
///   ``RetryPolicy``).
/// - Errors are ``TimerClientError``: the gRPC status code and message.
///
/// Sendable: share one client. ``close()`` ends it; dropping the last
/// reference closes the connection as well.
public final class TimerClient: Sendable {
    /// What the client was made with.
    public let configuration: Configuration
    /// The generated client of `servicevault.timer.v1.TimerService` on this
    /// client's connection, with the runtime added: token, default deadline,
    /// retries of calls that are safe to repeat. Methods without a
    /// convenience here are called through it; it throws `RPCError`.
    public let service: TimerServiceClient
    let runtime: ClientRuntime

    /// A client (no connection is made until the first call).
    ///
    /// - Throws: ``TimerClientError`` `INVALID_ARGUMENT` for an address that
    ///   is not `host:port`, `UNAVAILABLE` when TLS cannot be set up (e.g. an
    ///   unreadable trust roots file).
    public init(configuration: Configuration) throws(TimerClientError) {
        self.configuration = configuration
        var channelConfiguration = GRPCChannel.Configuration(target: configuration.address, tls: configuration.tls)
        channelConfiguration.maxReceiveMessageSize = configuration.maxReceiveMessageSize
        channelConfiguration.userAgent = configuration.userAgent
        let channel: GRPCChannel
        do {
            channel = try GRPCChannel(configuration: channelConfiguration)
        } catch {
            throw TimerClientError(error)
        }
        runtime = ClientRuntime(channel: channel, token: configuration.token, defaultTimeout: configuration.defaultTimeout,
                                policy: configuration.retry)
        service = TimerServiceClient(channel: runtime)
    }

    /// Closes the connection for good: calls in flight fail with
    /// `UNAVAILABLE`, watch streams end (their iteration returns nil), and
    /// later calls fail with `UNAVAILABLE` at once. Calling it again does
    /// nothing.
    public func close() {
        runtime.close()
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { runtime.isClosed }

    /// Counts of what the runtime did on its own, for logs and metrics.
    public struct Statistics: Sendable, Hashable {
        /// Attempts of unary calls made again after `UNAVAILABLE`.
        public var retries: Int
        /// Times a watch stream was opened again after it ended.
        public var watchReconnects: Int
    }

    /// What the runtime has done on its own so far.
    public var statistics: Statistics {
        Statistics(retries: runtime.retries, watchReconnects: runtime.watchReconnects)
    }
}
