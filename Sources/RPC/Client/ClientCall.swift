import HTTP2
import Synchronization

/// One gRPC call on the client: the request going out, the response coming
/// in, the deadline, and cancellation.
///
/// As on the server, the loop side (marked "loop") owns the stream and runs
/// on the channel's event loop; the caller's side (`receive`, `send`, …)
/// reaches it through `loop.execute` and waits on continuations the loop
/// resumes.
final class ClientCall: ClientResponseSource, ClientRequestSink, @unchecked Sendable {
    let method: MethodDescriptor
    let options: CallOptions
    let loop: EventLoop
    private let maxReceiveMessageSize: Int

    // MARK: Loop state
    private var connection: HTTP2Connection?
    private(set) var stream: Int32 = 0
    private var deframer: MessageDeframer
    private var inbox: [(message: [UInt8], compressed: Bool)] = []
    /// The compressed flag of the message handed to the reader last; set on
    /// the loop before the reader resumes, read by the reader after.
    private let lastCompressed = Atomic<Bool>(false)
    /// What of the received bytes goes back to the server's window, and when.
    private var credit = ReceiveCredit()
    private var initial: Metadata?
    private var trailing = Metadata()
    private var status: RPCError?
    private var receiver: CheckedContinuation<Result<[UInt8]?, RPCError>, Never>?
    private var initialWaiters: [CheckedContinuation<Result<Metadata, RPCError>, Never>] = []
    private var endWaiters: [CheckedContinuation<Metadata, Never>] = []
    private var writableWaiter: CheckedContinuation<Void, Never>?
    private var deadlineTimer: EventLoop.Timer?
    private var sawResponseHeaders = false
    private var streamClosed = false
    /// What a streaming caller sent before the stream was open.
    private var unopenedBody: [UInt8] = []
    private var unopenedEnd = false

    // MARK: Caller side
    private var framer: MessageFramer
    private let queued = Atomic<Int>(0)
    private let ended = Mutex<RPCError?>(nil)

    init(method: MethodDescriptor, options: CallOptions, loop: EventLoop, maxReceiveMessageSize: Int) {
        self.method = method
        self.options = options
        self.loop = loop
        self.maxReceiveMessageSize = options.maxReceiveMessageSize ?? maxReceiveMessageSize
        self.deframer = MessageDeframer(maxMessageSize: self.maxReceiveMessageSize)
        self.framer = MessageFramer(encoding: options.compression)
    }

    /// Frames one request message (caller side).
    func frame(_ message: [UInt8]) throws(RPCError) -> [UInt8] {
        var framed: [UInt8] = []
        try framer.append(message, to: &framed)
        return framed
    }

    // MARK: Loop side

    /// Opens the stream on `connection` with `headers`, sending `body` and, if
    /// `endStream`, ending the request (loop).
    func open(on connection: HTTP2Connection, headers: [HTTP2Header], body: [UInt8], endStream: Bool) -> Bool {
        if status != nil { return true }  // Cancelled before it started.
        // Messages sent (and the end) while the connection was being made.
        let body = body + unopenedBody
        let endStream = endStream || unopenedEnd
        unopenedBody = []
        let bodyless = body.isEmpty && endStream
        guard let id = connection.request(headers: headers, endStream: bodyless) else { return false }
        self.connection = connection
        stream = id
        if !body.isEmpty { connection.send(body, on: id) }
        if endStream && !bodyless { connection.finish(id, trailers: nil) }
        if let timeout = options.timeout {
            deadlineTimer = loop.schedule(after: timeout) { [self] in
                deadlineTimer = nil
                abort(RPCError(code: .deadlineExceeded, message: "deadline of \(timeout) exceeded"), resetCode: 8)
            }
        }
        return true
    }

    /// Ends the call with `error` and resets the stream if it is open (loop).
    func abort(_ error: RPCError, resetCode: UInt32?) {
        guard status == nil else { return }
        if let resetCode, let connection, stream > 0, !streamClosed {
            connection.reset(stream, code: resetCode)
        }
        end(error)
    }

    /// A HEADERS block arrived: the response headers, or the trailers (loop).
    func headersReceived(_ headers: HTTP2HeaderBlock, endStream: Bool) {
        var block = ResponseHeaders()
        for index in 0..<headers.count {
            let (name, value) = headers[index]
            block.add(name: name, value: value)
        }
        if !sawResponseHeaders {
            sawResponseHeaders = true
            if let error = block.responseError() {
                abort(error, resetCode: endStream ? nil : 8)
                return
            }
            deframer = MessageDeframer(maxMessageSize: maxReceiveMessageSize, encoding: block.encoding)
            initial = block.metadata
            resumeInitial(.success(block.metadata))
            if endStream {
                // Trailers-only: the status is in these headers.
                finishWith(block)
            }
        } else {
            finishWith(block)
        }
    }

    private func finishWith(_ trailers: ResponseHeaders) {
        trailing = trailers.metadata
        do {
            try deframer.finish()
        } catch {
            end(error)
            return
        }
        let status = trailers.status()
        if status.code == .ok {
            end(nil)
        } else {
            end(status)
        }
    }

    func received(_ bytes: UnsafeRawBufferPointer) {
        account(bytes.count)
        guard status == nil else { return }
        var input = bytes
        do {
            while let message = try deframer.next(from: &input) {
                if let receiver {
                    self.receiver = nil
                    lastCompressed.store(deframer.lastMessageCompressed, ordering: .relaxed)
                    receiver.resume(returning: .success(message))
                } else {
                    inbox.append((message, deframer.lastMessageCompressed))
                    credit.queued(message.count)
                }
            }
        } catch {
            abort(error, resetCode: 8)
        }
    }

    /// Flow control (see ``ReceiveCredit``).
    private func account(_ count: Int) {
        connection?.consume(credit.received(count, reading: status == nil), on: stream)
    }

    private func took(_ message: [UInt8]) {
        connection?.consume(credit.taken(message.count), on: stream)
    }

    func closed(errorCode: UInt32) {
        connection?.consume(credit.release(), on: stream)
        streamClosed = true
        guard status == nil else { return }
        switch errorCode {
        case 0: end(RPCError(code: .internalError, message: "the server closed the stream without a status"))
        case 7: end(RPCError(code: .unavailable, message: "the server refused the stream (REFUSED_STREAM)"))
        case 8: end(RPCError(code: .cancelled, message: "the server cancelled the stream"))
        case 11: end(RPCError(code: .resourceExhausted, message: "the server asked to slow down (ENHANCE_YOUR_CALM)"))
        case 12: end(RPCError(code: .permissionDenied, message: "the server requires stronger security (INADEQUATE_SECURITY)"))
        default: end(RPCError(code: .internalError, message: "the server reset the stream (HTTP/2 error \(errorCode))"))
        }
    }

    /// The connection failed before or during the call (loop).
    func connectionFailed(_ error: RPCError) {
        streamClosed = true
        end(error)
    }

    func writable() {
        queued.store(connection?.pendingBytes(on: stream) ?? 0, ordering: .relaxed)
        if let waiter = writableWaiter {
            writableWaiter = nil
            waiter.resume()
        }
    }

    /// The call is over: `error` nil for OK (loop).
    private func end(_ error: RPCError?) {
        let final = error ?? RPCError(code: .ok, message: "")
        guard status == nil else { return }
        status = final
        ended.withLock { $0 = error ?? RPCError(code: .cancelled, message: "the call has ended") }
        deadlineTimer?.cancel()
        deadlineTimer = nil
        if let error { trailing = error.metadata.isEmpty ? trailing : error.metadata }
        if let receiver {
            self.receiver = nil
            if let error { receiver.resume(returning: .failure(error)) }
            else if !inbox.isEmpty {
                let (message, compressed) = inbox.removeFirst()
                lastCompressed.store(compressed, ordering: .relaxed)
                took(message)
                receiver.resume(returning: .success(message))
            }
            else { receiver.resume(returning: .success(nil)) }
        }
        if let error {
            resumeInitial(.failure(error))
        } else {
            resumeInitial(.success(initial ?? Metadata()))
        }
        for waiter in endWaiters { waiter.resume(returning: trailing) }
        endWaiters.removeAll()
        if let waiter = writableWaiter {
            writableWaiter = nil
            waiter.resume()
        }
    }

    private func resumeInitial(_ result: Result<Metadata, RPCError>) {
        for waiter in initialWaiters { waiter.resume(returning: result) }
        initialWaiters.removeAll()
    }

    // MARK: Caller side

    var lastMessageWasCompressed: Bool { lastCompressed.load(ordering: .relaxed) }

    func receive() async throws(RPCError) -> [UInt8]? {
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8]?, RPCError>, Never>) in
                loop.execute { [self] in
                    if !inbox.isEmpty {
                        let (message, compressed) = inbox.removeFirst()
                        lastCompressed.store(compressed, ordering: .relaxed)
                        took(message)
                        continuation.resume(returning: .success(message))
                    } else if let status {
                        continuation.resume(returning: status.code == .ok ? .success(nil) : .failure(status))
                    } else {
                        receiver = continuation
                    }
                }
            }
        } onCancel: {
            cancel()
        }
        return try result.get()
    }

    func initialMetadata() async throws(RPCError) -> Metadata {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Metadata, RPCError>, Never>) in
            loop.execute { [self] in
                if let initial {
                    continuation.resume(returning: .success(initial))
                } else if let status {
                    continuation.resume(returning: status.code == .ok ? .success(Metadata()) : .failure(status))
                } else {
                    initialWaiters.append(continuation)
                }
            }
        }
        return try result.get()
    }

    func trailingMetadata() async -> Metadata {
        await withCheckedContinuation { (continuation: CheckedContinuation<Metadata, Never>) in
            loop.execute { [self] in
                if status != nil {
                    continuation.resume(returning: trailing)
                } else {
                    endWaiters.append(continuation)
                }
            }
        }
    }

    func cancel() {
        loop.execute { [self] in
            abort(RPCError(code: .cancelled, message: "the call was cancelled by the client"), resetCode: 8)
        }
    }

    func send(_ message: [UInt8]) async throws(RPCError) {
        if let error = ended.withLock({ $0 }) { throw error }
        let framed = try frame(message)
        let total = queued.add(framed.count, ordering: .relaxed).newValue
        loop.execute { [self] in
            guard status == nil else { return }
            guard let connection, stream > 0 else {
                unopenedBody += framed
                return
            }
            connection.send(framed, on: stream)
        }
        if total > 256 << 10 {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                loop.execute { [self] in
                    let pending = connection?.pendingBytes(on: stream) ?? 0
                    queued.store(pending, ordering: .relaxed)
                    if pending < 256 << 10 || status != nil {
                        continuation.resume()
                    } else {
                        writableWaiter = continuation
                    }
                }
            }
        }
        if let error = ended.withLock({ $0 }) { throw error }
    }

    func finish() async throws(RPCError) {
        loop.execute { [self] in
            guard status == nil else { return }
            guard let connection, stream > 0 else {
                unopenedEnd = true
                return
            }
            connection.finish(stream, trailers: nil)
        }
    }
}

/// The response HEADERS or trailers of a client call, accumulated field by
/// field and then judged.
struct ResponseHeaders {
    private(set) var httpStatus: Int?
    private(set) var contentType: String?
    private(set) var grpcStatus: String?
    private(set) var grpcMessage: String?
    private(set) var encoding: Compression?
    private(set) var encodingError: RPCError?
    private(set) var metadata = Metadata()

    mutating func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let key = String(decoding: name, as: UTF8.self)
        switch key {
        case ":status": httpStatus = HTTPStatusMapping.parseStatus(value)
        case "content-type": contentType = String(decoding: value, as: UTF8.self)
        case "grpc-status": grpcStatus = String(decoding: value, as: UTF8.self)
        case "grpc-message": grpcMessage = PercentEncoding.decode(value)
        case "grpc-encoding":
            do { encoding = try MessageEncoding.parseEncoding(value) } catch { encodingError = error }
        default:
            if MetadataCoding.isReserved(key) { return }
            if key.hasSuffix("-bin") {
                if let bytes = try? Base64.decode(value) { metadata.add(key, binary: bytes) }
            } else {
                metadata.add(key, String(decoding: value, as: UTF8.self))
            }
        }
    }

    /// Why these response headers end the call at once, if they do.
    func responseError() -> RPCError? {
        if let httpStatus, httpStatus != 200 {
            var error = HTTPStatusMapping.error(forHTTPStatus: httpStatus)
            if let grpcMessage { error.message += ": \(grpcMessage)" }
            return error
        }
        if httpStatus == nil { return RPCError(code: .internalError, message: "the response has no :status") }
        if grpcStatus == nil {
            guard let contentType, contentType.hasPrefix("application/grpc") else {
                return RPCError(code: .internalError, message: "the response content-type is \(contentType ?? "missing"), not application/grpc")
            }
        }
        if let encodingError { return encodingError }
        return nil
    }

    /// The call's status from these trailers.
    func status() -> RPCError {
        guard let grpcStatus else {
            return RPCError(code: .internalError, message: "the response ended without grpc-status", metadata: metadata)
        }
        guard let number = Int(grpcStatus) else {
            return RPCError(code: .unknown, message: "unparsable grpc-status \"\(grpcStatus)\"", metadata: metadata)
        }
        return RPCError(code: StatusCode(number: number), message: grpcMessage ?? "", metadata: metadata)
    }
}
