import CoreMetrics
import TimerDomain

/// The timer service's own metrics (beside the gRPC calls' of `RPC`):
///
/// ```
/// timerd_syncs_total                      SyncTimers calls answered
/// timerd_sync_items_total                 device timers those calls carried
/// timerd_sync_conflicts_total{type}       conflicts reported: status_mismatch, concurrent_change, deleted_on_server
/// timerd_syncs_refused_total              SyncTimers calls refused by the per-user rate limit
/// timerd_timers_auto_paused_total         timers paused by the forgotten-timer sweep
/// timerd_active_timers{status}            timers running and paused now, across users (from PostgreSQL)
/// timerd_active_users                     users with a running or paused timer
/// timerd_live_pending_writes              changes committed whose live-state write is still under way
/// ```
/// The active figures are read when GetSystemHealth is answered and by the
/// server every few seconds (`refreshActiveFigures`): health and metrics
/// report the same reading.
/// Made once per service; an update is an atomic increment.
package final class ServiceMetrics: Sendable {
    let syncs: Counter
    let syncItems: Counter
    let syncsRefused: Counter
    let autoPaused: Counter
    let activeRunning: Meter
    let activePaused: Meter
    let activeUsers: Meter
    let pendingLiveWrites: Meter
    private let conflicts: [SyncConflict.Kind: Counter]

    /// Metrics kept by `factory` (by default the one `MetricsSystem.bootstrap`
    /// installed, or none).
    package init(factory: any MetricsFactory = MetricsSystem.factory) {
        syncs = Counter(label: "timerd_syncs_total", factory: factory)
        syncItems = Counter(label: "timerd_sync_items_total", factory: factory)
        syncsRefused = Counter(label: "timerd_syncs_refused_total", factory: factory)
        autoPaused = Counter(label: "timerd_timers_auto_paused_total", factory: factory)
        activeRunning = Meter(label: "timerd_active_timers", dimensions: [("status", "running")], factory: factory)
        activePaused = Meter(label: "timerd_active_timers", dimensions: [("status", "paused")], factory: factory)
        activeUsers = Meter(label: "timerd_active_users", factory: factory)
        pendingLiveWrites = Meter(label: "timerd_live_pending_writes", factory: factory)
        var conflicts: [SyncConflict.Kind: Counter] = [:]
        for kind in SyncConflict.Kind.allCases {
            conflicts[kind] = Counter(label: "timerd_sync_conflicts_total", dimensions: [("type", Self.name(kind))], factory: factory)
        }
        self.conflicts = conflicts
    }

    /// Counts one conflict reported to a device.
    func conflict(_ kind: SyncConflict.Kind) {
        conflicts[kind]?.increment()
    }

    static func name(_ kind: SyncConflict.Kind) -> String {
        switch kind {
        case .statusMismatch: "status_mismatch"
        case .concurrentChange: "concurrent_change"
        case .deletedOnServer: "deleted_on_server"
        }
    }
}
