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
        local time = redis.call('TIME')
        local written = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3], 'a', ARGV[5], 'w', written)
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
    /// Returns: { id1, version 1 or nil, sealed state 1 or nil, id2, … }.
    static let activeStates = LiveScript("""
        local ids = redis.call('SMEMBERS', KEYS[1])
        local out = {}
        for _, id in ipairs(ids) do
          local fields = redis.call('HMGET', ARGV[1] .. id .. ARGV[2], 'v', 's')
          out[#out + 1] = id
          out[#out + 1] = fields[1] or false
          out[#out + 1] = fields[2] or false
        end
        return out
        """)

    /// Replaces a user's live state with what PostgreSQL held when the
    /// rebuild read it (after Redis lost it, or missed changes): the active
    /// set becomes the ids given, except where Redis knows better.
    /// - A given timer whose stored version is as new or newer keeps its
    ///   stored state, and its stored activity decides its membership.
    /// - A member not given stays only when its state was written after
    ///   `read_at` (a change committed after PostgreSQL was read) and is
    ///   active; otherwise it is stale and leaves the set.
    ///
    /// When anything was repaired, the user's event log misses the changes
    /// behind it: a reset marker `r` is appended, so a resume from an id
    /// before it gets a snapshot instead of a replay with a hole.
    ///
    /// KEYS: active set, events stream. ARGV: state key prefix, suffix, TTL
    /// seconds, read_at (Redis time in ms, taken before PostgreSQL was read),
    /// stream cap, then triples of timer id, sync_version, sealed state.
    /// Returns: { the number of active timers, 1 if anything was repaired (a
    /// stale member removed, an older or missing state written) else 0 }.
    static let rebuild = LiveScript("""
        local repaired = 0
        local given = {}
        for i = 6, #ARGV, 3 do given[ARGV[i]] = true end
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if not given[id] then
            local fields = redis.call('HMGET', ARGV[1] .. id .. ARGV[2], 'a', 'w')
            if not (fields[1] == '1' and fields[2] and tonumber(fields[2]) > tonumber(ARGV[4])) then
              redis.call('SREM', KEYS[1], id)
              repaired = 1
            end
          end
        end
        local time = redis.call('TIME')
        local written = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        for i = 6, #ARGV, 3 do
          local key = ARGV[1] .. ARGV[i] .. ARGV[2]
          local stored = redis.call('HMGET', key, 'v', 'a')
          local active = '1'
          if stored[1] and tonumber(stored[1]) >= tonumber(ARGV[i + 1]) then
            active = stored[2]
          else
            redis.call('HSET', key, 'v', ARGV[i + 1], 's', ARGV[i + 2], 'a', '1', 'w', written)
            redis.call('EXPIRE', key, ARGV[3])
            repaired = 1
          end
          if active == '1' then redis.call('SADD', KEYS[1], ARGV[i]) else redis.call('SREM', KEYS[1], ARGV[i]) end
        end
        if repaired == 1 then
          redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[5], '*', 'r', '1')
          redis.call('EXPIRE', KEYS[2], ARGV[3])
        end
        return { redis.call('SCARD', KEYS[1]), repaired }
        """)

    /// The current time on Redis' clock, in milliseconds.
    static let time = LiveScript("""
        local time = redis.call('TIME')
        return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
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
