import HTTP2
import Synchronization

/// One gRPC call on the server: the request stream coming in from nghttp2,
/// the handler task, and the response going out.
///
/// Two sides meet here. The loop side (every method marked "loop") runs on
/// the connection's event loop and owns the stream state. The handler side
/// (``receive()``, ``send(_:)``) runs in the handler's task and reaches the
/// loop through `loop.execute`, suspending on continuations that the loop
/// resumes: the loop never waits for a handler, and a handler never touches
/// nghttp2.
final class ServerCall: ServerCallIO, @unchecked Sendable {
    let stream: Int32
    let connection: HTTP2Connection
    let loop: EventLoop
    let limits: ServerLimits

    // MARK: Loop state
    private var state = ServerCallState()
    private var deframer: MessageDeframer
    /// Request messages not yet taken by the handler, with their compressed flags.
    private var inbox: [(message: [UInt8], compressed: Bool)] = []
    /// A unary call's one request message, once it has arrived.
    private var unaryRequest: (message: [UInt8], compressed: Bool)?
    /// What of the received bytes goes back to the client's window, and when.
    private var credit = ReceiveCredit()
    private var receiver: CheckedContinuation<Result<[UInt8]?, RPCError>, Never>?
    private var writableWaiter: CheckedContinuation<Void, Never>?
    private var deadlineTimer: EventLoop.Timer?
    private var task: Task<Void, Never>?
    private var context: ServerContext?
    /// A unary handler waiting for the end of the request.
    private var unaryBody: MethodRouter.Handler.Body?
    /// Frames responses, in the encoding fixed by the first message: by the
    /// handler side one send at a time, or by the loop for a unary response.
    private var framer: MessageFramer?

    /// Bytes handed to the loop by ``send(_:)`` and not known to be sent:
    /// above the high-water mark a sender waits for the loop.
    private let queued = Atomic<Int>(0)
    /// Set by the loop when the call can no longer send: why.
    private let ended = Mutex<RPCError?>(nil)

    /// The method's metrics, and when the call began; nil once its end is
    /// counted (loop).
    private var metrics: (calls: CallMetrics, started: UInt64)?

    init(stream: Int32, connection: HTTP2Connection, limits: ServerLimits, encoding: Compression?) {
        self.stream = stream
        self.connection = connection
        self.loop = connection.loop
        self.limits = limits
        self.deframer = MessageDeframer(maxMessageSize: limits.maxReceiveMessageSize, encoding: encoding)
    }

    // MARK: Loop side

    /// The request headers are complete and valid: start the handler (loop).
    func start(request: RequestHeaders.Request, handler: MethodRouter.Handler, peer: String) {
        metrics = (handler.metrics, handler.metrics.started())
        let deadline = request.timeout.map { ContinuousClock.now + $0 }
        let context = ServerContext(method: handler.method, requestMetadata: request.metadata, deadline: deadline, peer: peer,
                                    requestEncoding: request.encoding ?? .identity,
                                    clientAcceptsGzip: request.acceptedEncodings.accepts(.gzip),
                                    responseCompression: limits.compressResponses ? .gzip : .identity)
        self.context = context
        if let timeout = request.timeout {
            deadlineTimer = loop.schedule(after: timeout) { [self] in
                deadlineTimer = nil
                fail(RPCError(code: .deadlineExceeded, message: "deadline of \(GRPCTimeout(roundingUp: timeout).headerValue) exceeded"))
            }
        }
        switch handler.body {
        case .streaming(let run):
            task = Task { [self] in
                let status: RPCError?
                do {
                    try await run(self, context)
                    status = nil
                } catch {
                    status = Self.status(for: error)
                }
                loop.execute { [self] in complete(status) }
            }
        case .unary, .inline:
            unaryBody = handler.body  // Runs once the request has ended.
        }
    }

    /// The status a handler's error ends the call with.
    static func status(for error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: error
        case is CancellationError: RPCError(code: .cancelled, message: "the call was cancelled")
        default: RPCError(code: .unknown, message: "the handler failed")
        }
    }

    /// The request of a unary call is complete: run the handler, inline or in
    /// a task that hands back the serialized response in one hop (loop).
    private func runUnary() {
        guard let body = unaryBody else { return }
        unaryBody = nil
        guard let (request, compressed) = unaryRequest else {
            fail(RPCError(code: .internalError, message: "expected one request message, got none"))
            return
        }
        unaryRequest = nil
        took(request)
        guard let context else { return }
        context.requestMessageReceived(compressed: compressed)
        switch body {
        case .inline(let run):
            do {
                respond(with: try run(request, context))
            } catch {
                fail(Self.status(for: error))
            }
        case .unary(let handler):
            task = Task { [self] in
                let result: Result<[UInt8], RPCError>
                do {
                    result = .success(try await handler(request, context))
                } catch {
                    result = .failure(Self.status(for: error))
                }
                loop.execute { [self] in
                    task = nil
                    switch result {
                    case .success(let response): respond(with: response)
                    case .failure(let error): fail(error)
                    }
                }
            }
        case .streaming:
            break
        }
    }

    /// Sends a unary call's whole response: headers, the message, the status,
    /// in one submission to the connection (loop).
    private func respond(with response: [UInt8]) {
        guard state.canRespond else { return }
        let size = response.count - MessageFramer.headerLength
        guard size <= limits.maxSendMessageSize else {
            fail(RPCError(code: .resourceExhausted,
                          message: "response message of \(size) bytes is larger than the limit of \(limits.maxSendMessageSize)"))
            return
        }
        let parts = context?.unaryResponse() ?? .plain()
        let framed: [UInt8]
        do {
            framed = try ResponseWriting.frameUnary(response, framer: &framer, parts: parts)
        } catch {
            fail(error)
            return
        }
        deadlineTimer?.cancel()
        deadlineTimer = nil
        guard state.sendHeaders() else {
            // Headers went out already (not a unary call's way): the usual order.
            connection.send(framed, on: stream)
            sendStatus(RPCError(code: .ok, message: ""), trailing: context?.trailingMetadata ?? Metadata())
            return
        }
        _ = state.finish()
        ended.withLock { if $0 == nil { $0 = RPCError(code: .cancelled, message: "the call has ended") } }
        count(.ok)
        ResponseWriting.sendUnary(framed, on: stream, of: connection, parts: parts)
    }

    /// Body bytes arrived (loop).
    func received(_ bytes: UnsafeRawBufferPointer) {
        account(bytes.count)
        guard state.acceptsRequestData else { return }
        var input = bytes
        do throws(RPCError) {
            while let message = try deframer.next(from: &input) {
                if unaryBody != nil && unaryRequest != nil {
                    throw RPCError(code: .internalError, message: "expected one request message, got more")
                }
                deliver(.success(message), compressed: deframer.lastMessageCompressed)
            }
        } catch {
            fail(error)
        }
    }

    /// The client finished sending (loop).
    func requestEnded() {
        guard state.requestEnded() else { return }
        do {
            try deframer.finish()
        } catch {
            fail(error)
            return
        }
        if unaryBody != nil {
            runUnary()
        } else {
            deliver(.success(nil))
        }
    }

    /// nghttp2 closed the stream (loop): a reset by the client, or the normal
    /// end after our trailers. Either way the handler must stop.
    func closed(errorCode: UInt32) {
        let wasOpen = state.streamClosed()
        connection.consume(credit.release(), on: stream)
        deadlineTimer?.cancel()
        deadlineTimer = nil
        if wasOpen {
            count(.cancelled)
            cancelHandler(RPCError(code: .cancelled, message: errorCode == 0 ? "the stream closed" : "the client reset the stream (HTTP/2 error \(errorCode))"))
        }
    }

    /// The stream can take more bytes (loop).
    func writable() {
        queued.store(connection.pendingBytes(on: stream), ordering: .relaxed)
        if let waiter = writableWaiter {
            writableWaiter = nil
            waiter.resume()
        }
    }

    /// Ends the call with `error` unless it has ended (loop): trailers with the
    /// status, and the handler is cancelled.
    func fail(_ error: RPCError) {
        guard state.canRespond else { return }
        sendStatus(error, trailing: ResponseWriting.trailing(context, error))
        cancelHandler(error)
    }

    private func cancelHandler(_ error: RPCError) {
        ended.withLock { if $0 == nil { $0 = error } }
        deadlineTimer?.cancel()  // Its callback holds this call.
        deadlineTimer = nil
        if let receiver {
            self.receiver = nil
            receiver.resume(returning: .failure(error))
        }
        inbox.removeAll()
        unaryRequest = nil
        if let waiter = writableWaiter {
            writableWaiter = nil
            waiter.resume()
        }
        task?.cancel()
    }

    private func deliver(_ result: Result<[UInt8]?, RPCError>, compressed: Bool = false) {
        if let receiver {
            self.receiver = nil
            if case .success(_?) = result { context?.requestMessageReceived(compressed: compressed) }
            receiver.resume(returning: result)
        } else if case .success(let message?) = result {
            if unaryBody != nil {
                unaryRequest = (message, compressed)
            } else {
                inbox.append((message, compressed))
            }
            credit.queued(message.count)
        }
    }

    /// Frames one response message. The first one fixes the response's
    /// encoding (``ServerContext/responseCompression``); each may still be
    /// sent uncompressed (``ServerContext/compressResponseMessages``).
    private func frame(_ message: [UInt8], into framed: inout [UInt8]) throws(RPCError) {
        try ResponseWriting.frame(message, into: &framed, framer: &framer, context: context)
    }

    /// Flow control (see ``ReceiveCredit``).
    private func account(_ count: Int) {
        connection.consume(credit.received(count, reading: state.acceptsRequestData), on: stream)
    }

    /// The handler took a message from the inbox (loop).
    private func took(_ message: [UInt8]) {
        connection.consume(credit.taken(message.count), on: stream)
    }

    /// The handler returned (nil) or threw (loop).
    private func complete(_ error: RPCError?) {
        task = nil
        guard state.canRespond else { return }
        deadlineTimer?.cancel()
        deadlineTimer = nil
        sendStatus(error ?? RPCError(code: .ok, message: ""), trailing: ResponseWriting.trailing(context, error))
    }

    private func sendHeadersIfNeeded() {
        guard state.sendHeaders() else { return }
        connection.respond(stream, headers: ResponseWriting.headers(context), endStream: false)
    }

    private func sendStatus(_ status: RPCError, trailing: Metadata) {
        ended.withLock { if $0 == nil { $0 = RPCError(code: .cancelled, message: "the call has ended") } }
        switch state.finish() {
        case .trailersOnly:
            count(status.code)
            ResponseWriting.sendTrailersOnly(status, trailing: trailing, on: stream, of: connection, context: context)
        case .trailers:
            count(status.code)
            connection.finish(stream, trailers: ResponseWriting.trailers(status, trailing: trailing))
        case .none:
            break
        }
    }

    /// Counts the call's end with `code`, once (loop).
    private func count(_ code: StatusCode) {
        guard let (calls, started) = metrics else { return }
        metrics = nil
        calls.finished(code, startedAt: started)
    }

    // MARK: Handler side (ServerCallIO)

    func receive() async throws(RPCError) -> [UInt8]? {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8]?, RPCError>, Never>) in
            loop.execute { [self] in
                if !inbox.isEmpty {
                    let (message, compressed) = inbox.removeFirst()
                    took(message)
                    context?.requestMessageReceived(compressed: compressed)
                    continuation.resume(returning: .success(message))
                } else if let error = state.failure {
                    continuation.resume(returning: .failure(error))
                } else if state.requestFinished {
                    continuation.resume(returning: .success(nil))
                } else {
                    receiver = continuation
                }
            }
        }
        return try result.get()
    }

    func send(_ message: [UInt8]) async throws(RPCError) {
        if let error = ended.withLock({ $0 }) { throw error }
        guard message.count <= limits.maxSendMessageSize else {
            throw RPCError(code: .resourceExhausted,
                           message: "response message of \(message.count) bytes is larger than the limit of \(limits.maxSendMessageSize)")
        }
        var framed: [UInt8] = []
        try frame(message, into: &framed)
        let total = queued.add(framed.count, ordering: .relaxed).newValue
        // Hand the bytes over without waiting: the loop sends them in order.
        loop.execute { [self, framed] in
            guard state.canRespond else { return }
            sendHeadersIfNeeded()
            connection.send(framed, on: stream)
        }
        if total > limits.streamHighWater {
            // Flow control: wait until the client has taken enough.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                loop.execute { [self] in
                    let pending = connection.pendingBytes(on: stream)
                    queued.store(pending, ordering: .relaxed)
                    if pending < limits.streamHighWater || !state.canRespond {
                        continuation.resume()
                    } else {
                        writableWaiter = continuation
                    }
                }
            }
        }
        if let error = ended.withLock({ $0 }) { throw error }
    }
}

/// What a server enforces on every call.
struct ServerLimits: Sendable {
    var maxReceiveMessageSize: Int
    var maxSendMessageSize: Int
    var streamHighWater: Int
    var compressResponses: Bool
}
