import CLibPQ

/// Asks the server to cancel the statement a session is running.
///
/// libpq's `PGcancel` is made for this: `PQcancel` may be called from any
/// thread while the session's own thread is blocked in a statement. It opens a
/// separate connection to the server, so it blocks too: call it on a thread
/// that may wait. The handle stays valid after the session closes (the cancel
/// request then does nothing).
package final class PostgresCanceller: @unchecked Sendable {
    /// Freed once, by `deinit`; `PQcancel` only reads it.
    private let pointer: OpaquePointer

    /// Takes ownership of a handle from `PQgetCancel`.
    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        PQfreeCancel(pointer)
    }

    /// Sends the cancel request and waits for the server to take it; returns
    /// whether it was delivered. Cancelling is best effort: the statement may
    /// have finished meanwhile.
    @discardableResult
    package func cancel() -> Bool {
        var buffer = [CChar](repeating: 0, count: 256)
        return PQcancel(pointer, &buffer, CInt(buffer.count)) == 1
    }
}
