/// Flow-control bookkeeping of one call's receiving side, shared by the
/// server's and the client's calls.
///
/// Received bytes are given back to the peer's window at once while the
/// application keeps up; once more than ``inboxLimit`` bytes of messages wait
/// unread, they are held until it takes some, so a peer cannot make us buffer
/// without bound. Each method returns the bytes to give back now (0: none).
struct ReceiveCredit {
    /// Above this many waiting bytes, the peer's window stays closed.
    static let inboxLimit = 1 << 20

    private var waiting = 0
    private var held = 0

    /// `count` bytes of DATA arrived; `reading` is false once the call no
    /// longer reads (everything is then given back).
    mutating func received(_ count: Int, reading: Bool) -> Int {
        held += count
        return waiting < Self.inboxLimit || !reading ? release() : 0
    }

    /// A message of `count` bytes waits to be read.
    mutating func queued(_ count: Int) {
        waiting += count
    }

    /// A waiting message of `count` bytes was read.
    mutating func taken(_ count: Int) -> Int {
        waiting -= count
        return waiting < Self.inboxLimit ? release() : 0
    }

    /// Everything held back (the call is over).
    mutating func release() -> Int {
        defer { held = 0 }
        return held
    }
}
