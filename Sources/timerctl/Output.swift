import TimerctlCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where timerctl writes: standard output for results, standard error for
/// failures and notices. Each call is written at once (no buffering), so a
/// reader of a pipe sees every line as it happens (`watch --json`).
enum Output {
    /// Writes `text` and a newline to standard output.
    static func line(_ text: String) {
        emit(text + "\n", to: 1)
    }

    /// Writes each line to standard output.
    static func lines(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        emit(lines.joined(separator: "\n") + "\n", to: 1)
    }

    /// One JSON document on one line of standard output.
    static func json(_ value: JSONValue) {
        line(value.serialized)
    }

    /// `timerctl: message` on standard error.
    static func error(_ message: String) {
        emit("timerctl: \(message)\n", to: 2)
    }

    /// Writes all of `text` to `fd`, retrying when interrupted; gives up
    /// quietly when the reader has gone.
    static func emit(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var rest = UnsafeRawBufferPointer(bytes)
            while !rest.isEmpty {
                let n = write(fd, rest.baseAddress, rest.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(n))
            }
        }
    }
}
