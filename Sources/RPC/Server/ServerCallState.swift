/// The gRPC rules of one server stream, apart from any I/O: what may still be
/// received and sent, and how the response must end.
///
/// The request side goes `open → ended`; the response side goes
/// `idle → headersSent → finished`, or straight `idle → finished` (a
/// trailers-only response); a stream closed by the peer ends both.
struct ServerCallState {
    private enum Request { case open, ended, failed(RPCError) }
    private enum Response { case idle, headersSent, finished }

    private var request = Request.open
    private var response = Response.idle
    private var streamOpen = true

    /// How the status must go out.
    enum Finish: Equatable {
        /// One HEADERS frame with the status and END_STREAM.
        case trailersOnly
        /// Trailers after the response headers and messages.
        case trailers
        /// Nothing: the response has ended or the stream is gone.
        case none
    }

    /// Whether body bytes of the request are still taken.
    var acceptsRequestData: Bool {
        if case .open = request { return streamOpen }
        return false
    }

    /// Whether the request side has ended normally.
    var requestFinished: Bool {
        if case .ended = request { return true }
        return false
    }

    /// Why the call failed, once it has.
    var failure: RPCError? {
        if case .failed(let error) = request { return error }
        if !streamOpen || response == .finished { return RPCError(code: .cancelled, message: "the call has ended") }
        return nil
    }

    /// Whether a response (headers, messages, status) may still be sent.
    var canRespond: Bool { streamOpen && response != .finished }

    /// The client sent END_STREAM. Returns false when that is not news.
    mutating func requestEnded() -> Bool {
        guard case .open = request else { return false }
        request = .ended
        return true
    }

    /// Response headers are needed before a message: true the first time.
    mutating func sendHeaders() -> Bool {
        guard streamOpen, response == .idle else { return false }
        response = .headersSent
        return true
    }

    /// The status is to be sent: how, and the call is finished afterwards.
    mutating func finish() -> Finish {
        guard streamOpen else { return .none }
        switch response {
        case .idle:
            response = .finished
            markFailedIfOpen()
            return .trailersOnly
        case .headersSent:
            response = .finished
            markFailedIfOpen()
            return .trailers
        case .finished:
            return .none
        }
    }

    /// The stream closed. Returns whether the call was still in progress (the
    /// client reset it, or it closed before our status).
    mutating func streamClosed() -> Bool {
        guard streamOpen else { return false }
        streamOpen = false
        let inProgress = response != .finished
        markFailedIfOpen()
        return inProgress
    }

    private mutating func markFailedIfOpen() {
        if case .open = request { request = .failed(RPCError(code: .cancelled, message: "the call has ended")) }
    }
}
