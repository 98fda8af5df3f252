import Codec
import RPC
import Storage
import TimerDomain

/// GetSystemHealth: the seed's five figures (`redis_connectivity`,
/// `active_timers_count`, `sync_queue_size`, `broadcast_channel_health`,
/// `average_response_time`) plus the database's.
extension TimerServiceImplementation {
    /// How long each dependency may take to answer a health check.
    static let healthProbeTimeout = Duration.seconds(1)

    public func getSystemHealth(_ request: GetSystemHealthRequest, context: ServerContext) async throws -> GetSystemHealthResponse {
        try await serve(context, .read, "GetSystemHealth") { _, now in
            async let figures = try? refreshActiveFigures(deadline: .now + Self.healthProbeTimeout)
            async let liveHealth = live.health(timeout: Self.healthProbeTimeout)
            let (active, redis) = await (figures, liveHealth)
            let count = active.map { $0.running + $0.paused }
            metrics.pendingLiveWrites.set(redis.queueSize)
            var response = GetSystemHealthResponse()
            response.databaseConnectivity = count == nil ? .down : .ok
            response.activeTimersCount = count ?? 0
            response.redisConnectivity = redis.redisReachable ? .ok : .down
            response.syncQueueSize = Int64(redis.queueSize)
            response.broadcastChannelHealth = live.hub.isSubscriberConnected == true ? .ok : .down
            response.averageResponseTime = ProtoDuration(responseTimes.average())
            response.checkedAt = Timestamp(now)
            response.status =
                if count == nil { .down }
                else if !redis.redisReachable || response.broadcastChannelHealth != .ok || !redis.trusted { .degraded }
                else { .ok }
            return response
        }
    }

    /// The mean server time per TimerService call over the last minute, as
    /// GetSystemHealth reports it (`average_response_time`), in seconds.
    package var averageResponseSeconds: Double {
        let mean = responseTimes.average()
        return Double(mean.components.seconds) + Double(mean.components.attoseconds) / 1e18
    }

    /// Reads the active figures from PostgreSQL into the metrics
    /// (`timerd_active_timers`, `timerd_active_users`) and returns them.
    package func refreshActiveFigures(deadline: ContinuousClock.Instant) async throws -> (running: Int64, paused: Int64, users: Int64) {
        let figures = try await timers.activeFigures(deadline: deadline)
        metrics.activeRunning.set(figures.running)
        metrics.activePaused.set(figures.paused)
        metrics.activeUsers.set(figures.users)
        return figures
    }
}
