/// The Redis key layout (DESIGN.md, after the seed's names). The braces are
/// Redis Cluster hash tags: every key of one user lives in one slot, so the
/// scripts that touch several of them stay valid on a cluster.
///
/// ```
/// user:{user_id}:timer:{timer_id}:state   hash: v = sync_version, s = sealed LiveTimerState; 24 h TTL
/// user:{user_id}:active_timers            set of running and paused timer ids
/// user:{user_id}:last_sync                last SyncTimers, microseconds since the epoch
/// user:{user_id}:events                   stream of sealed TimerEvents (capped), for replay
/// user:{user_id}:sync_rate                sorted set: the SyncTimers calls of the last minute
/// timer:{timer_id}:sessions               list of closed sessions, "start_us:end_us"; 24 h TTL
/// global:active_users                     set of users with active timers
/// ```
/// The pub/sub channel of a user's events has the name of their stream,
/// `user:{user_id}:events`; instances subscribe to the users they have
/// watchers for. Every instance also subscribes to `live:resync`, where an
/// instance announces that watchers may have missed changes (it rebuilt
/// Redis from PostgreSQL after changes failed to reach Redis, or it started,
/// perhaps after a crash between a commit and its publish): every instance
/// then sends each of its watchers a fresh snapshot.
package enum LiveKeys {
    package static func state(user: Int64, timer: Int64) -> String { "user:{\(user)}:timer:{\(timer)}:state" }
    package static func activeTimers(user: Int64) -> String { "user:{\(user)}:active_timers" }
    package static func lastSync(user: Int64) -> String { "user:{\(user)}:last_sync" }
    package static func events(user: Int64) -> String { "user:{\(user)}:events" }
    package static func syncRate(user: Int64) -> String { "user:{\(user)}:sync_rate" }
    package static func sessions(timer: Int64) -> String { "timer:{\(timer)}:sessions" }
    package static let activeUsers = "global:active_users"
    /// The pub/sub channel of resync announcements.
    package static let resyncChannel = "live:resync"
    /// The pub/sub channel carrying `user`'s events.
    package static func channel(user: Int64) -> String { events(user: user) }

    /// The user a channel name belongs to, or nil for another name.
    package static func user(ofChannel channel: String) -> Int64? {
        guard channel.hasPrefix("user:{"), channel.hasSuffix("}:events") else { return nil }
        return Int64(channel.dropFirst(6).dropLast(8))
    }

    /// The parts of a state key around the timer id, for scripts that build
    /// the keys of a user's active timers: prefix + id + suffix.
    static func statePrefix(user: Int64) -> String { "user:{\(user)}:timer:{" }
    static let stateSuffix = "}:state"
}
