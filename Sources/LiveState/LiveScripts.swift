import VaultCrypto

/// A Lua script run atomically by Redis, called by its SHA-1 (`EVALSHA`) and
/// sent whole (`EVAL`) only when the server does not have it cached yet.
package struct LiveScript: Sendable {
    /// The Lua source.
    package let source: String
    /// The SHA-1 of `source` in lower-case hex, as Redis names the script.
    package let sha1: String

    init(_ source: String) {
        self.source = source
        self.sha1 = VaultCrypto.sha1(Array(source.utf8)).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// `EVALSHA sha1 numkeys keys… arguments…`.
    func evalSHA(keys: [String], arguments: [[UInt8]]) -> [[UInt8]] {
        [Array("EVALSHA".utf8), Array(sha1.utf8), Array(String(keys.count).utf8)] + keys.map { Array($0.utf8) } + arguments
    }

    /// `EVAL source numkeys keys… arguments…`.
    func eval(keys: [String], arguments: [[UInt8]]) -> [[UInt8]] {
        [Array("EVAL".utf8), Array(source.utf8), Array(String(keys.count).utf8)] + keys.map { Array($0.utf8) } + arguments
    }
}

/// The scripts of `LiveStore`.
enum LiveScripts {
    /// Writes a committed change: the state (only over an older version, so
    /// a late writer never overwrites a newer state), the active set, and the
    /// event: appended to the user's stream (which begins with a reset marker
    /// `r` whenever it is created, so a resume from an id of an older stream
    /// is recognised) and published on the user's channel as
    /// "<id> <sealed event>".
    ///
    /// KEYS: state, active set, events stream.
    /// ARGV: timer id, sync_version, sealed state, TTL seconds, "1" if active
    /// else "0", sealed event or "", stream cap, channel.
    /// Returns: nil when the stored version is as new or newer (nothing
    /// written); otherwise { event id or "", number of active timers }.
    static let publish = LiveScript("""
        local stored = redis.call('HGET', KEYS[1], 'v')
        if stored and tonumber(stored) >= tonumber(ARGV[2]) then return false end
        redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3])
        redis.call('EXPIRE', KEYS[1], ARGV[4])
        if ARGV[5] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
        local id = ''
        if ARGV[6] ~= '' then
          if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('XADD', KEYS[3], '*', 'r', '1') end
          id = redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[7], '*', 'e', ARGV[6])
          redis.call('EXPIRE', KEYS[3], ARGV[4])
          redis.call('PUBLISH', ARGV[8], id .. ' ' .. ARGV[6])
        end
        return { id, redis.call('SCARD', KEYS[2]) }
        """)

    /// Reads a user's active timers in one round trip.
    ///
    /// KEYS: active set. ARGV: state key prefix, state key suffix.
    /// Returns: { id1, sealed state 1 or nil, id2, … }.
    static let activeStates = LiveScript("""
        local ids = redis.call('SMEMBERS', KEYS[1])
        local out = {}
        for _, id in ipairs(ids) do
          out[#out + 1] = id
          out[#out + 1] = redis.call('HGET', ARGV[1] .. id .. ARGV[2], 's') or false
        end
        return out
        """)

    /// Replaces a user's live state with what PostgreSQL holds (after Redis
    /// lost it): the active set becomes exactly the ids given; each state is
    /// written unless Redis holds a newer version.
    ///
    /// KEYS: active set. ARGV: state key prefix, suffix, TTL seconds, then
    /// triples of timer id, sync_version, sealed state.
    /// Returns: the number of active timers.
    static let rebuild = LiveScript("""
        redis.call('DEL', KEYS[1])
        for i = 4, #ARGV, 3 do
          local key = ARGV[1] .. ARGV[i] .. ARGV[2]
          local stored = redis.call('HGET', key, 'v')
          if not stored or tonumber(stored) < tonumber(ARGV[i + 1]) then
            redis.call('HSET', key, 'v', ARGV[i + 1], 's', ARGV[i + 2])
            redis.call('EXPIRE', key, ARGV[3])
          end
          redis.call('SADD', KEYS[1], ARGV[i])
        end
        return redis.call('SCARD', KEYS[1])
        """)

    /// A sliding-window rate limit on Redis' own clock, shared by every
    /// instance: admits a call when fewer than `limit` were admitted in the
    /// last `window` milliseconds.
    ///
    /// KEYS: the user's sorted set. ARGV: limit, window in milliseconds.
    /// Returns: { 1, 0 } when admitted, { 0, milliseconds until a call
    /// would be admitted } when refused.
    static let rateLimit = LiveScript("""
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local limit = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        local count = redis.call('ZCARD', KEYS[1])
        if count < limit then
          redis.call('ZADD', KEYS[1], now, now .. '-' .. count)
          redis.call('PEXPIRE', KEYS[1], window)
          return { 1, 0 }
        end
        local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        local wait = tonumber(oldest[2]) + window - now
        if wait < 1 then wait = 1 end
        return { 0, wait }
        """)
}
