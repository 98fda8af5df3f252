import Codec

/// Enum values as `--json` names them (the proto name in lower case, without
/// the type prefix); nil for numbers this version does not know.
package enum JSONNames {
    package static func status(_ value: TimerStatus) -> String? {
        switch value {
        case .unspecified: "unspecified"
        case .stopped: "stopped"
        case .running: "running"
        case .paused: "paused"
        case .unrecognized: nil
        }
    }

    package static func eventType(_ value: TimerEventType) -> String? {
        switch value {
        case .unspecified: "unspecified"
        case .snapshot: "snapshot"
        case .started: "started"
        case .updated: "updated"
        case .paused: "paused"
        case .resumed: "resumed"
        case .stopped: "stopped"
        case .deleted: "deleted"
        case .heartbeat: "heartbeat"
        case .unrecognized: nil
        }
    }

    package static func cause(_ value: ChangeCause) -> String? {
        switch value {
        case .unspecified: "unspecified"
        case .sync: "sync"
        case .autoPause: "auto_pause"
        case .admin: "admin"
        case .unrecognized: nil
        }
    }

    package static func resolution(_ value: SyncResolution) -> String? {
        switch value {
        case .unspecified: "unspecified"
        case .createOnServer: "create_on_server"
        case .updateServer: "update_server"
        case .updateClient: "update_client"
        case .inSync: "in_sync"
        case .rejected: "rejected"
        case .unrecognized: nil
        }
    }

    package static func conflictType(_ value: ConflictType) -> String? {
        switch value {
        case .unspecified: "unspecified"
        case .statusMismatch: "status_mismatch"
        case .concurrentChange: "concurrent_change"
        case .deletedOnServer: "deleted_on_server"
        case .unrecognized: nil
        }
    }

    package static func conflictResolution(_ value: ConflictResolution) -> String? {
        switch value {
        case .unspecified: "unspecified"
        case .serverWins: "server_wins"
        case .unrecognized: nil
        }
    }

    package static func healthState(_ value: HealthState) -> String? {
        switch value {
        case .unspecified: "unspecified"
        case .ok: "ok"
        case .degraded: "degraded"
        case .down: "down"
        case .unrecognized: nil
        }
    }
}
