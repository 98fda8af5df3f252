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
            async let activeCount = try? timers.countActive(deadline: .now + Self.healthProbeTimeout)
            async let liveHealth = live.health(timeout: Self.healthProbeTimeout)
            let (count, redis) = await (activeCount, liveHealth)
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
}
