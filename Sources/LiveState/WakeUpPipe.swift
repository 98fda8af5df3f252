import Glibc

/// A pipe that wakes a thread blocked in `poll(2)`: other threads `signal()`,
/// the polling thread watches `readDescriptor` and `drain()`s it.
///
/// Both ends are non-blocking and close-on-exec; a signal sent while one is
/// already pending is merged with it.
final class WakeUpPipe: Sendable {
    /// The end to poll for `POLLIN`.
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    /// Opens the pipe.
    ///
    /// - Precondition: the process has a descriptor to spare.
    init() {
        var descriptors: [Int32] = [-1, -1]
        let result = pipe(&descriptors)
        precondition(result == 0, "pipe() failed: \(String(cString: strerror(errno)))")
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        readDescriptor = descriptors[0]
        writeDescriptor = descriptors[1]
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }

    /// Makes the read end readable. Never blocks.
    func signal() {
        var byte: UInt8 = 1
        // A full pipe (EAGAIN) already wakes the reader.
        _ = write(writeDescriptor, &byte, 1)
    }

    /// Empties the pipe, so that the next poll waits again.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readDescriptor, &buffer, buffer.count) > 0 {}
    }
}
