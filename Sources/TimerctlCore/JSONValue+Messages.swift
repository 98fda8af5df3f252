import Codec

/// The `--json` shapes: each message as an object with the proto's field
/// names (snake_case) in the proto's order, every field present (null when
/// absent), whole numbers as JSON numbers, enum values as their lower-case
/// names without the type prefix (`running`, `update_server`), timestamps as
/// RFC 3339 text in UTC, `google.protobuf.Duration` as protobuf JSON writes
/// it (`"0.001500s"`), and money as its three fields plus `amount`, the
/// decimal text (`"187.50"`), never a float.
extension JSONValue {
    package static func timestamp(_ value: Timestamp?) -> JSONValue {
        value.map { .string(Time.rfc3339($0)) } ?? .null
    }

    package static func money(_ value: Money?) -> JSONValue {
        guard let value else { return .null }
        return .object([
            "currency_code": .string(value.currencyCode),
            "amount_minor": .integer(value.amountMinor),
            "minor_unit_digits": .integer(Int64(value.minorUnitDigits)),
            "amount": .string(HumanText.decimal(value)),
        ])
    }

    package static func duration(_ value: ProtoDuration?) -> JSONValue {
        guard let value else { return .null }
        let sign = value.seconds < 0 || value.nanos < 0 ? "-" : ""
        let nanos = UInt32(value.nanos.magnitude)
        guard nanos > 0 else { return .string("\(sign)\(value.seconds.magnitude)s") }
        var fraction = String(nanos).leftPadded(to: 9)
        while fraction.count > 3, fraction.hasSuffix("000") { fraction.removeLast(3) }
        return .string("\(sign)\(value.seconds.magnitude).\(fraction)s")
    }

    /// An enum value by name, or its number when this version does not know it.
    static func enumValue(_ name: String?, number: Int32) -> JSONValue {
        name.map { .string($0) } ?? .integer(Int64(number))
    }

    package static func timer(_ timer: VaultTimer?) -> JSONValue {
        guard let timer else { return .null }
        return .object([
            "id": .integer(timer.id),
            "user_id": .integer(timer.userID),
            "account_id": .integer(timer.accountID),
            "project_id": .integer(timer.projectID),
            "billing_rate_id": .integer(timer.billingRateID),
            "description": .string(timer.description),
            "status": .status(timer.status),
            "started_at": .timestamp(timer.startedAt),
            "paused_at": .timestamp(timer.pausedAt),
            "stopped_at": .timestamp(timer.stoppedAt),
            "total_duration": .integer(timer.totalDuration),
            "current_session_duration": .integer(timer.currentSessionDuration),
            "last_updated": .timestamp(timer.lastUpdated),
            "device_id": .string(timer.deviceID),
            "sync_version": .integer(timer.syncVersion),
            "current_session_started_at": .timestamp(timer.currentSessionStartedAt),
            "current_value": .money(timer.currentValue),
            "hourly_rate": .money(timer.hourlyRate),
            "client_ref": .string(timer.clientRef),
            "created_at": .timestamp(timer.createdAt),
            "deleted_at": .timestamp(timer.deletedAt),
        ])
    }

    package static func timers(_ timers: [VaultTimer]) -> JSONValue {
        .array(timers.map { .timer($0) })
    }

    package static func meta(_ meta: Meta?) -> JSONValue {
        guard let meta else { return .null }
        return .object([
            "active_count": .integer(meta.activeCount),
            "running_count": .integer(meta.runningCount),
            "paused_count": .integer(meta.pausedCount),
            "total_active_duration": .integer(meta.totalActiveDuration),
            "total_active_value": .array(meta.totalActiveValue.map { .money($0) }),
            "sync_timestamp": .timestamp(meta.syncTimestamp),
        ])
    }

    package static func session(_ session: TimerSession) -> JSONValue {
        .object([
            "id": .integer(session.id),
            "timer_id": .integer(session.timerID),
            "started_at": .timestamp(session.startedAt),
            "ended_at": .timestamp(session.endedAt),
            "duration": .integer(session.duration),
            "device_id": .string(session.deviceID),
        ])
    }

    package static func event(_ event: TimerEvent) -> JSONValue {
        .object([
            "event_id": .string(event.eventID),
            "type": .enumValue(JSONNames.eventType(event.type), number: event.type.rawValue),
            "timer": .timer(event.timer),
            "meta": .meta(event.meta),
            "timers": .timers(event.timers),
            "occurred_at": .timestamp(event.occurredAt),
            "sync_version": .integer(event.syncVersion),
            "cause": .enumValue(JSONNames.cause(event.cause), number: event.cause.rawValue),
        ])
    }

    package static func health(_ health: GetSystemHealthResponse) -> JSONValue {
        .object([
            "status": .healthState(health.status),
            "redis_connectivity": .healthState(health.redisConnectivity),
            "active_timers_count": .integer(health.activeTimersCount),
            "sync_queue_size": .integer(health.syncQueueSize),
            "broadcast_channel_health": .healthState(health.broadcastChannelHealth),
            "average_response_time": .duration(health.averageResponseTime),
            "database_connectivity": .healthState(health.databaseConnectivity),
            "checked_at": .timestamp(health.checkedAt),
        ])
    }

    package static func sync(_ response: SyncTimersResponse) -> JSONValue {
        .object([
            "results": .array(response.results.map { result in
                .object([
                    "index": .integer(Int64(result.index)),
                    "client_ref": .string(result.clientRef),
                    "resolution": .enumValue(JSONNames.resolution(result.resolution), number: result.resolution.rawValue),
                    "timer": .timer(result.timer),
                    "status": result.status.map { .object(["code": .integer(Int64($0.code)), "message": .string($0.message)]) } ?? .null,
                ])
            }),
            "conflicts": .array(response.conflicts.map { conflict in
                .object([
                    "timer_id": .integer(conflict.timerID),
                    "client_ref": .string(conflict.clientRef),
                    "conflict_type": .enumValue(JSONNames.conflictType(conflict.conflictType), number: conflict.conflictType.rawValue),
                    "local_status": .status(conflict.localStatus),
                    "server_status": .status(conflict.serverStatus),
                    "resolution": .enumValue(JSONNames.conflictResolution(conflict.resolution), number: conflict.resolution.rawValue),
                    "local_sync_version": .integer(conflict.localSyncVersion),
                    "server_sync_version": .integer(conflict.serverSyncVersion),
                ])
            }),
            "server_timers": .timers(response.serverTimers),
            "meta": .meta(response.meta),
            "clock_skew_seconds": .integer(response.clockSkewSeconds),
        ])
    }

    static func status(_ status: TimerStatus) -> JSONValue {
        .enumValue(JSONNames.status(status), number: status.rawValue)
    }

    static func healthState(_ state: HealthState) -> JSONValue {
        .enumValue(JSONNames.healthState(state), number: state.rawValue)
    }
}
