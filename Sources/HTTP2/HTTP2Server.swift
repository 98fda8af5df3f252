import CLinux
import Glibc
import Synchronization

/// Accepts HTTP/2 connections on one address with one listening socket per
/// event loop (SO_REUSEPORT), so accepting scales with the loops and a
/// connection stays on the loop that accepted it.
package final class HTTP2Server: Sendable {
    /// Makes the delegate of each accepted connection, on its loop.
    package typealias DelegateFactory = @Sendable (HTTP2Connection) -> HTTP2ConnectionDelegate

    /// The loops the server runs on.
    package let loops: [EventLoop]
    /// The address actually bound (the port resolved when 0 was asked for).
    package let address: Socket.Address

    private let listeners: Mutex<[Listener]>

    /// Binds and starts accepting. `makeDelegate` is called on the accepting
    /// loop for every connection.
    package init(address: Socket.Address, loops: [EventLoop], configuration: HTTP2Configuration, tls: TLSContext?,
                 makeDelegate: @escaping DelegateFactory) throws(HTTP2Error) {
        precondition(!loops.isEmpty)
        self.loops = loops
        let first = try Socket.listen(address)
        let bound = Socket.Address(host: address.host, port: Socket.localPort(first))
        self.address = bound
        var fds = [first]
        do {
            for _ in loops.dropFirst() { fds.append(try Socket.listen(bound)) }
        } catch {
            for fd in fds { close(fd) }
            throw error
        }
        var listeners: [Listener] = []
        for (loop, fd) in zip(loops, fds) {
            let listener = Listener(fd: fd, loop: loop, configuration: configuration, tls: tls, makeDelegate: makeDelegate)
            listeners.append(listener)
            loop.execute {
                do {
                    try loop.register(fd, events: EPOLLIN.rawValue, source: listener)
                } catch {
                    close(fd)
                }
            }
        }
        self.listeners = Mutex(listeners)
    }

    /// Stops accepting new connections (existing ones go on). Idempotent.
    package func stopAccepting() {
        let listeners = self.listeners.withLock { listeners -> [Listener] in
            defer { listeners.removeAll() }
            return listeners
        }
        for listener in listeners {
            listener.loop.execute { listener.stop() }
        }
    }

    /// A listening socket on one loop.
    final class Listener: EventLoopSource, @unchecked Sendable {
        let fd: Int32
        let loop: EventLoop
        let configuration: HTTP2Configuration
        let tls: TLSContext?
        let makeDelegate: DelegateFactory
        private var stopped = false

        init(fd: Int32, loop: EventLoop, configuration: HTTP2Configuration, tls: TLSContext?, makeDelegate: @escaping DelegateFactory) {
            self.fd = fd
            self.loop = loop
            self.configuration = configuration
            self.tls = tls
            self.makeDelegate = makeDelegate
        }

        func handleEvents(_ events: UInt32) {
            // Accept what is waiting, a bounded number per round so one busy
            // listener cannot starve the loop's connections.
            for _ in 0..<64 {
                let client = clinux_accept_nonblocking(fd)
                if client < 0 { return }
                do {
                    let connection = try HTTP2Connection(fd: client, role: .server, loop: loop, configuration: configuration, tls: tls)
                    connection.delegate = makeDelegate(connection)
                    try connection.start()
                } catch {
                    close(client)
                }
            }
        }

        func loopStopped() { stop() }

        func stop() {
            guard !stopped else { return }
            stopped = true
            loop.deregister(fd)
            close(fd)
        }
    }
}
