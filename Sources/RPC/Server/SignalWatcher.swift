import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns process signals into values to await: the signals given are no
/// longer delivered to their default handlers (which would end the process),
/// but queued here by a dispatch source each. A server waits on it for
/// SIGTERM to shut down gracefully:
///
/// ```swift
/// let signals = SignalWatcher(signals: [SIGTERM, SIGINT])  // before start()
/// try server.start()
/// _ = await signals.next()
/// await server.shutdown(grace: .seconds(10))
/// ```
///
/// Not `Sendable`: one owner awaits ``next()``.
public struct SignalWatcher: ~Copyable {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    /// Starts watching `signals`. Keep the watcher alive for as long as they
    /// should be caught.
    public init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let queue = DispatchQueue(label: "SignalWatcher")
        self.stream = stream
        self.sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// The next signal received (waits without spinning).
    public func next() async -> Int32 {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next() ?? 0
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
