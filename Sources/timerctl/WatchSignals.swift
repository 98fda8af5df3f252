import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Signals and keys as values for the watch loop: SIGINT, SIGTERM and SIGHUP
/// (and `q` on the terminal) ask it to quit; SIGWINCH says the terminal
/// changed size. While these sources exist the signals do not end the
/// process. Not Sendable: the watch loop owns it.
final class WatchSignals {
    enum Event: Sendable {
        case quit
        case resize
    }

    private var sources: [any DispatchSourceProtocol] = []
    private let queue = DispatchQueue(label: "timerctl.watch.signals")

    /// Starts delivering to `deliver`; `keys`: read keys from standard input
    /// (a terminal in non-canonical mode).
    init(keys: Bool, deliver: @escaping @Sendable (Event) -> Void) {
        for (number, event) in [(SIGINT, Event.quit), (SIGTERM, .quit), (SIGHUP, .quit), (SIGWINCH, .resize)] {
            if number != SIGWINCH { signal(number, SIG_IGN) }
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { deliver(event) }
            source.resume()
            sources.append(source)
        }
        if keys {
            let source = DispatchSource.makeReadSource(fileDescriptor: 0, queue: queue)
            source.setEventHandler { [source] in
                var buffer = [UInt8](repeating: 0, count: 64)
                let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n <= 0 {
                    if n == 0 || (errno != EINTR && errno != EAGAIN) { source.cancel() }  // end of input
                    return
                }
                if buffer[..<n].contains(where: { $0 == UInt8(ascii: "q") || $0 == UInt8(ascii: "Q") || $0 == 0x04 }) {
                    deliver(.quit)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops delivering (the signals keep being ignored until the process ends).
    func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
    }

    deinit { cancel() }
}
