import Codec
import RPC
import Storage
import TimerDomain

/// The live half of every change: after a change commits in PostgreSQL, its
/// new state goes to Redis and its event to the user's watchers on every
/// instance (`LiveTimers`).
extension TimerServiceImplementation {
    /// Publishes a committed change: the timer's live state, and the event
    /// (type from `change`, with `meta`, the user's figures after it).
    /// Never throws: PostgreSQL already holds the change, and a Redis failure
    /// only delays the live half (the state is rebuilt when Redis returns).
    func published(
        _ record: TimerRecord, change: TimerChange, cause: ChangeCause, meta: Meta,
        session: SessionChange = .none, at now: Instant
    ) async {
        await live.publish(record, change: change, cause: cause, meta: meta, session: session, at: now)
    }

    /// Admits one SyncTimers call of `principal`'s user or throws
    /// RESOURCE_EXHAUSTED (with retry-after metadata) over the limit.
    func admitSync(_ principal: Principal) async throws {
        do {
            try await live.admitSync(user: principal.userID)
        } catch {
            if error.code == .resourceExhausted { metrics.syncsRefused.increment() }
            throw error
        }
    }

    /// Records that `principal`'s user synced at `now` (`user:{id}:last_sync`).
    func recordSync(_ principal: Principal, at now: Instant) async {
        await live.recordSync(user: principal.userID, at: now)
    }

    /// Publishes a pause made by the forgotten-timer sweeper (cause
    /// AUTO_PAUSE), with the owner's figures after it.
    package func publishAutoPause(_ record: TimerRecord, _ transition: TimerTransition) async {
        let now = clock.now
        var meta = Meta()
        if let active = try? await timers.active(userID: record.userID), let figures = try? domainMeta(active, at: now) {
            meta = Meta(figures)
        }
        metrics.autoPaused.increment()
        await published(record, change: transition.change, cause: .autoPause, meta: meta, session: transition.session, at: now)
    }
}
