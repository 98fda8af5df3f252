/// What one sync of an ``OfflineSync`` came to.
public struct SyncReport: Sendable {
    /// How one of the device's timers was reconciled.
    public struct Item: Sendable {
        /// The device's name for the timer.
        public var key: LocalTimer.Key
        /// Its description as the device sent it.
        public var description: String
        /// What the server did: created it, applied the device's changes,
        /// kept its own (UPDATE_CLIENT), found both in sync, or rejected it.
        public var resolution: SyncResolution
        /// The server's timer after the sync, which the device adopted
        /// (absent only for a rejected timer the server never had).
        public var timer: VaultTimer?
        /// OK, or why the timer was rejected.
        public var status: ItemStatus?
        /// The disagreement found on this timer, if any.
        public var conflict: Conflict?
    }

    /// One item per timer the device sent, in the order sent.
    public var items: [Item]
    /// Every disagreement the server found, each settled as its
    /// `resolution` says (the server's state wins).
    public var conflicts: [Conflict]
    /// Server timers the device did not send (active ones, and ones changed
    /// since the previous sync): the device has learned them.
    public var learned: [VaultTimer]
    /// The caller's figures after the sync.
    public var meta: Meta?
    /// Seconds the device's clock is ahead of the server's (negative: behind).
    public var clockSkewSeconds: Int64
    /// The whole response.
    public var response: SyncTimersResponse
}

/// Something an ``OfflineSync`` did on its own or when asked.
public enum SyncEvent: Sendable {
    /// A sync succeeded.
    case synced(SyncReport)
    /// A sync failed; the changes stay queued and are tried again later
    /// (automatic syncs) while the device is online.
    case failed(TimerClientError)
}
