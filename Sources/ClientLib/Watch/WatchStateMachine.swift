/// The rules of one resuming watch: where the next stream resumes from, and
/// whether a stream that ended is opened again.
///
/// - Each event that carries an `event_id` moves the resume point, so a
///   stream opened again asks for exactly what followed the last event
///   returned: the server replays it, or sends a fresh SNAPSHOT when its log
///   no longer holds it.
/// - A stream that ends by itself (OK, `UNAVAILABLE`, a reset, a silent
///   connection …) is opened again; one refused for good
///   (`UNAUTHENTICATED`, `PERMISSION_DENIED`, `INVALID_ARGUMENT`, …) ends the
///   watch with that error; the caller's cancellation ends it with
///   `CANCELLED`; a closed client ends it quietly.
///
/// Pure: the caller opens streams, waits and reads.
struct WatchStateMachine: Sendable {
    /// How the watch goes on after a stream ended.
    enum Ending: Sendable, Equatable {
        /// Open a stream again (after the backoff).
        case reconnect
        /// The watch is over with this error.
        case fail(TimerClientError)
        /// The watch is over (the client was closed).
        case finish
    }

    /// Why a stream ended, as the caller saw it.
    enum Cause: Sendable, Equatable {
        /// The stream ended on its own: its status is the error (nil for OK).
        case stream
        /// The task iterating the watch was cancelled.
        case cancelledByCaller
        /// The client was closed.
        case clientClosed
        /// No message, not even a heartbeat, arrived for too long.
        case silent
    }

    private enum State: Sendable {
        case idle
        case open(received: Bool)
        case waiting
        case finished
    }

    private var state = State.idle
    /// The event id to resume after; nil before any.
    private(set) var lastEventID: String?
    /// Streams opened so far.
    private(set) var streamsOpened = 0

    /// A watch that resumes after `resumingFrom` (nil or empty: from a snapshot).
    init(resumingFrom: String?) {
        lastEventID = resumingFrom.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether the watch is over.
    var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Whether a stream is open.
    var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    /// A stream is being opened: returns the `last_event_id` to send.
    mutating func opening() -> String {
        precondition(!isFinished && !isOpen, "a stream is opened only when none is")
        state = .open(received: false)
        streamsOpened += 1
        return lastEventID ?? ""
    }

    /// An event arrived; returns true when it is the stream's first message
    /// (the server is reachable).
    mutating func received(_ event: TimerEvent) -> Bool {
        guard case .open(let received) = state else { return false }
        if !event.eventID.isEmpty { lastEventID = event.eventID }
        state = .open(received: true)
        return !received
    }

    /// The stream ended: `error` is its status (nil for OK).
    mutating func ended(_ error: RPCError?, cause: Cause) -> Ending {
        switch cause {
        case .cancelledByCaller:
            state = .finished
            return .fail(TimerClientError(code: .cancelled, message: "the watch was cancelled by the client"))
        case .clientClosed:
            state = .finished
            return .finish
        case .silent:
            state = .waiting
            return .reconnect
        case .stream:
            guard let error, Self.endsForGood(error.code) else {
                state = .waiting
                return .reconnect
            }
            state = .finished
            return .fail(TimerClientError(error))
        }
    }

    /// The watch was abandoned while waiting to reconnect (cancellation).
    mutating func abandon() {
        state = .finished
    }

    /// Statuses that opening the stream again cannot change: the request or
    /// the credentials are wrong, or the server lacks the method.
    static func endsForGood(_ code: StatusCode) -> Bool {
        switch code {
        case .unauthenticated, .permissionDenied, .invalidArgument, .notFound, .failedPrecondition, .unimplemented,
             .outOfRange, .alreadyExists, .dataLoss:
            true
        case .ok, .cancelled, .unknown, .deadlineExceeded, .resourceExhausted, .aborted, .internalError, .unavailable:
            false
        }
    }
}
