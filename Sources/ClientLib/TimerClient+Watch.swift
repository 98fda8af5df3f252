extension TimerClient {
    /// The caller's timer events, live, across reconnections (WatchTimers):
    /// a SNAPSHOT, then every change made through any server instance.
    ///
    /// ```swift
    /// for try await event in client.watchTimers() where event.type != .heartbeat {
    ///     print(event.type, event.timer?.description ?? "\(event.timers.count) active")
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - heartbeatSeconds: ask for a HEARTBEAT every so many seconds (1 to
    ///     300); 0 leaves the server's default (15 s). When set, a stream
    ///     silent for twice as long plus 5 s is taken as a dead connection:
    ///     the connection is closed and the watch resumes on a new one.
    ///   - resumingFrom: an event id kept from an earlier watch
    ///     (``TimerEventStream/lastEventID``): start with what followed it
    ///     instead of a snapshot.
    ///   - metadata: added to each stream's request metadata.
    /// - Returns: a sequence that reconnects and resumes by itself; see
    ///   ``TimerEventStream`` for how it ends.
    public func watchTimers(heartbeatSeconds: Int32 = 0, resumingFrom: String? = nil, metadata: Metadata = Metadata())
        -> TimerEventStream
    {
        TimerEventStream(runtime: runtime, heartbeatSeconds: heartbeatSeconds, resumingFrom: resumingFrom, metadata: metadata)
    }
}
