/// The transport side of one server call, as handlers see it through
/// ``RequestStream`` and ``ResponseWriter``: serialized messages in and out.
protocol ServerCallIO: AnyObject, Sendable {
    /// The next request message, or nil once the client has finished sending.
    /// Throws when the call was cancelled or broke.
    func receive() async throws(RPCError) -> [UInt8]?

    /// Sends one response message. Suspends while the client is slow to read
    /// (flow control), so a handler cannot queue without bound. Throws when the
    /// call was cancelled or broke.
    func send(_ message: [UInt8]) async throws(RPCError)
}
