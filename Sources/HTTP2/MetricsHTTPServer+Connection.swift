import CLinux
import Glibc

extension MetricsHTTPServer {
    /// One accepted HTTP/1.x connection: reads a request, writes its
    /// response, then reads the next. Loop thread only.
    ///
    /// Not Sendable in use: everything happens on the listener's loop.
    final class Connection: EventLoopSource {
        private enum Phase {
            /// Reading a request's header section (EPOLLIN).
            case reading
            /// Writing `output` (EPOLLOUT while the socket is full).
            case writing
            /// A response was written and more input is already buffered:
            /// the next request is served on the next round (EPOLLOUT), so
            /// a pipelining client cannot keep the loop to itself.
            case yielding
            /// The last response is written and the write side shut: what the
            /// peer still sends is read and dropped for a moment before
            /// closing, so a close with unread input (a reset) does not
            /// destroy the response before the peer reads it.
            case draining
        }

        let fd: Int32
        private let listener: Listener
        private var loop: EventLoop { listener.loop }
        private var configuration: Configuration { listener.shared.configuration }
        private var phase = Phase.reading
        private var parser: RequestParser
        private var input: [UInt8] = []
        private var output: [UInt8] = []
        private var written = 0
        private var closeAfterResponse = false
        private var watching = EPOLLIN.rawValue
        private var timer: EventLoop.Timer?
        private var lastProgress: UInt64 = 0
        private var drained = 0
        /// Unwritten bytes counted in the statistics.
        private var reportedBuffered = 0
        private var isClosed = false

        /// The most dropped while draining, and for how long at most.
        private static let drainLimit = 64 << 10
        private static let drainTime = Duration.seconds(2)

        init(fd: Int32, listener: Listener) {
            self.fd = fd
            self.listener = listener
            self.parser = RequestParser(maxHeaderBytes: listener.shared.configuration.maxHeaderBytes)
        }

        /// Registered: the first request is due within the request timeout.
        func start() {
            armRequestTimeout()
        }

        func loopStopped() { close() }

        func handleEvents(_ events: UInt32) {
            if isClosed { return }
            if events & EPOLLERR.rawValue != 0 {
                close()
                return
            }
            switch phase {
            case .reading: readRequest()
            case .writing: flush()
            case .yielding: serveBuffered()
            case .draining: drain()
            }
        }

        // MARK: Reading

        private func readRequest() {
            // Never more than one byte past the limit: input stays bounded.
            let room = configuration.maxHeaderBytes + 1 - input.count
            guard room > 0 else {
                serveBuffered()
                return
            }
            let buffer = loop.readBuffer
            let count = Glibc.read(fd, buffer.baseAddress, min(room, buffer.count))
            if count == 0 {
                close()  // The peer is gone, or half-closed before a whole request.
                return
            }
            if count < 0 {
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { close() }
                return
            }
            input.append(contentsOf: UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
            serveBuffered()
        }

        /// Answers the request at the start of `input` if it is whole.
        private func serveBuffered() {
            switch parser.parse(input) {
            case .incomplete:
                phase = .reading
                watch(EPOLLIN.rawValue)
            case .rejected(let rejection):
                input = []
                respond(MetricsHTTPServer.response(to: rejection))
            case .request(let request, let length):
                input.removeFirst(length)
                parser.reset()
                respond(MetricsHTTPServer.response(to: request, render: listener.shared.render))
            }
        }

        // MARK: Writing

        private func respond(_ response: Response) {
            output = response.bytes
            written = 0
            closeAfterResponse = response.close
            phase = .writing
            lastProgress = EventLoop.now()
            timer?.cancel()
            timer = nil
            listener.shared.count { $0.responses += 1 }
            flush()
        }

        private func flush() {
            while written < output.count {
                let count = output.withUnsafeBytes { bytes in
                    Glibc.send(fd, bytes.baseAddress! + written, bytes.count - written, Int32(MSG_NOSIGNAL))
                }
                if count > 0 {
                    written += count
                    lastProgress = EventLoop.now()
                    continue
                }
                if count < 0 && errno == EINTR { continue }
                if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    let startsWaiting = watching != EPOLLOUT.rawValue
                    // One update: whoever sees the wait counted sees the
                    // bytes it left behind.
                    reportBuffered(countingAWait: startsWaiting)
                    if startsWaiting {
                        watch(EPOLLOUT.rawValue)
                        armWriteTimeout()
                    }
                    return
                }
                close()
                return
            }
            responseWritten()
        }

        private func responseWritten() {
            output = []
            written = 0
            reportBuffered()
            timer?.cancel()
            timer = nil
            if closeAfterResponse {
                startDraining()
                return
            }
            armRequestTimeout()
            if input.isEmpty {
                phase = .reading
                watch(EPOLLIN.rawValue)
            } else {
                phase = .yielding
                watch(EPOLLOUT.rawValue)
            }
        }

        private func reportBuffered(countingAWait wait: Bool = false) {
            let buffered = output.count - written
            let change = buffered - reportedBuffered
            guard change != 0 || wait else { return }
            reportedBuffered = buffered
            listener.shared.count { statistics in
                statistics.bufferedBytes += change
                if wait { statistics.responsesWaitedForSocket += 1 }
            }
        }

        // MARK: Closing

        private func startDraining() {
            guard Glibc.shutdown(fd, Int32(SHUT_WR)) == 0 else {
                close()
                return
            }
            phase = .draining
            input = []
            watch(EPOLLIN.rawValue)
            let limit = min(Self.drainTime, configuration.requestTimeout)
            timer = loop.schedule(after: limit) { [weak self] in self?.close() }
        }

        private func drain() {
            let buffer = loop.readBuffer
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return }
            drained += max(0, count)
            if count <= 0 || drained > Self.drainLimit { close() }
        }

        /// Closes the socket and forgets the connection. Idempotent.
        func close() {
            guard !isClosed else { return }
            isClosed = true
            timer?.cancel()
            timer = nil
            loop.deregister(fd)
            Glibc.close(fd)
            input = []
            output = []
            written = 0
            reportBuffered()
            listener.closed(self)
        }

        // MARK: Timers and events

        private func armRequestTimeout() {
            timer?.cancel()
            timer = loop.schedule(after: configuration.requestTimeout) { [weak self] in self?.close() }
        }

        /// Closes the connection when no byte has been written for the
        /// write timeout.
        private func armWriteTimeout(after delay: Duration? = nil) {
            timer?.cancel()
            timer = loop.schedule(after: delay ?? configuration.writeTimeout) { [weak self] in
                guard let self, !self.isClosed, self.phase == .writing else { return }
                let (seconds, attoseconds) = self.configuration.writeTimeout.components
                let limit = UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds / 1_000_000_000))
                let idle = EventLoop.now() &- self.lastProgress
                if idle >= limit {
                    self.close()
                } else {
                    self.armWriteTimeout(after: .nanoseconds(Int64(limit - idle)))
                }
            }
        }

        private func watch(_ events: UInt32) {
            guard watching != events else { return }
            watching = events
            loop.modify(fd, events: events)
        }
    }
}
