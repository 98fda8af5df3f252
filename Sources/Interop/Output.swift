#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes `text` and a newline to file descriptor `fd` at once (unbuffered),
/// so that a process reading our output sees the line when it is written.
public func writeLine(_ text: String, to fd: Int32) {
    var line = text + "\n"
    line.withUTF8 { bytes in
        var rest = UnsafeRawBufferPointer(bytes)
        while !rest.isEmpty {
            let n = write(fd, rest.baseAddress, rest.count)
            if n < 0 { if errno == EINTR { continue } else { return } }
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(n))
        }
    }
}
