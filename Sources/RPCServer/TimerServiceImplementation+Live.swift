import Codec
import RPC
import Storage
import TimerDomain

/// The live half of every change: after a change commits in PostgreSQL, its
/// new state goes to Redis and its event to the user's watchers on every
/// instance. Calls reach this through `published(_:change:cause:meta:at:)`.
extension TimerServiceImplementation {
    /// Publishes a committed change: the timer's live state, and the event
    /// (type from `change`, with `meta`, the user's figures after it).
    /// Never throws: PostgreSQL already holds the change, and a Redis failure
    /// only delays the live half (the state is rebuilt when Redis returns).
    func published(_ record: TimerRecord, change: TimerChange, cause: ChangeCause, meta: Meta, at now: Instant) async {
        // Filled in by the live-state wiring.
    }

    /// Admits one SyncTimers call of `principal`'s user or throws
    /// RESOURCE_EXHAUSTED (with retry-after metadata) over the limit.
    func admitSync(_ principal: Principal) async throws {
        // Filled in by the live-state wiring.
    }

    /// Records that `principal`'s user synced at `now` (`user:{id}:last_sync`).
    func recordSync(_ principal: Principal, at now: Instant) async {
        // Filled in by the live-state wiring.
    }
}
