import HTTP2

/// A unary call answered on the event loop (``MethodRouter/registerInlineUnary(_:_:)``):
/// the request is read as it arrives and, once it has ended, the handler runs
/// and the whole response goes out at once. Nothing crosses to another thread,
/// so it needs none of ``ServerCall``'s machinery: it is a value held by the
/// connection's handler, changed in place (loop only).
struct InlineCall {
    private let handler: MethodRouter.Handler.InlineRun
    /// The call's context, made only for a handler that takes one.
    private let context: ServerContext?
    /// The response's encoding when there is no context to decide it.
    private let responseCompression: Compression
    private var deframer: MessageDeframer
    private var request: (message: [UInt8], compressed: Bool)?
    /// Set once the call has answered (an error while reading the request).
    private(set) var answered = false
    /// The grpc-timeout's timer, if the client set one.
    var deadlineTimer: EventLoop.Timer?
    private let metrics: CallMetrics
    /// When the call began (`EventLoop.now()`).
    private let started: UInt64

    init(handler: MethodRouter.Handler.InlineRun, method: MethodDescriptor, metrics: CallMetrics,
         request: RequestHeaders.Request, peer: @autoclosure () -> String, limits: ServerLimits) {
        self.handler = handler
        self.metrics = metrics
        self.started = metrics.started()
        self.deframer = MessageDeframer(maxMessageSize: limits.maxReceiveMessageSize, encoding: request.encoding)
        let clientAcceptsGzip = request.acceptedEncodings.accepts(.gzip)
        // As a context would decide it: gzip when the server compresses and the client reads it.
        responseCompression = limits.compressResponses && clientAcceptsGzip ? .gzip : .identity
        context = handler.needsContext
            ? ServerContext(method: method, requestMetadata: request.metadata,
                            deadline: request.timeout.map { ContinuousClock.now + $0 }, peer: peer(),
                            requestEncoding: request.encoding ?? .identity, clientAcceptsGzip: clientAcceptsGzip,
                            responseCompression: limits.compressResponses ? .gzip : .identity)
            : nil
    }

    /// Body bytes arrived: taken at once (flow control gives them back to the
    /// client), since the deframer bounds what is kept.
    mutating func received(_ bytes: UnsafeRawBufferPointer, stream: Int32, connection: HTTP2Connection, limits: ServerLimits) {
        connection.consume(bytes.count, on: stream)
        guard !answered else { return }
        var input = bytes
        do throws(RPCError) {
            while let message = try deframer.next(from: &input) {
                guard request == nil else {
                    throw RPCError(code: .internalError, message: "expected one request message, got more")
                }
                request = (message, deframer.lastMessageCompressed)
            }
        } catch {
            fail(error, stream: stream, connection: connection)
        }
    }

    /// The request ended: runs the handler and answers.
    mutating func requestEnded(stream: Int32, connection: HTTP2Connection, limits: ServerLimits) {
        guard !answered else { return }
        do throws(RPCError) {
            try deframer.finish()
            guard let (message, compressed) = request else {
                throw RPCError(code: .internalError, message: "expected one request message, got none")
            }
            request = nil
            context?.requestMessageReceived(compressed: compressed)
            let response: [UInt8]
            do {
                response = try handler(message, context)
            } catch {
                throw ServerCall.status(for: error)
            }
            let size = response.count - MessageFramer.headerLength
            guard size <= limits.maxSendMessageSize else {
                throw RPCError(code: .resourceExhausted,
                               message: "response message of \(size) bytes is larger than the limit of \(limits.maxSendMessageSize)")
            }
            var framer: MessageFramer?
            let parts = context?.unaryResponse() ?? .plain(responseCompression)
            let framed = try ResponseWriting.frameUnary(response, framer: &framer, parts: parts)
            answer()
            metrics.finished(.ok, startedAt: started)
            ResponseWriting.sendUnary(framed, on: stream, of: connection, parts: parts)
        } catch {
            fail(error, stream: stream, connection: connection)
        }
    }

    /// Answers with `error` unless the call has answered.
    mutating func fail(_ error: RPCError, stream: Int32, connection: HTTP2Connection) {
        guard !answered else { return }
        answer()
        metrics.finished(error.code, startedAt: started)
        ResponseWriting.sendTrailersOnly(error, trailing: ResponseWriting.trailing(context, error), on: stream, of: connection, context: context)
    }

    /// The stream closed or the connection ended: a call not answered by
    /// then was cancelled by the client.
    mutating func abandon() {
        if !answered { metrics.finished(.cancelled, startedAt: started) }
        answer()
    }

    /// The call is over: it sends nothing more.
    mutating func answer() {
        answered = true
        request = nil
        deadlineTimer?.cancel()
        deadlineTimer = nil
    }
}
