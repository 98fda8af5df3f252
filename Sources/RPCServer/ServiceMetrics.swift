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
/// ```
/// Made once per service; an update is an atomic increment.
package final class ServiceMetrics: Sendable {
    let syncs: Counter
    let syncItems: Counter
    let syncsRefused: Counter
    let autoPaused: Counter
    private let conflicts: [SyncConflict.Kind: Counter]

    /// Metrics kept by `factory` (by default the one `MetricsSystem.bootstrap`
    /// installed, or none).
    package init(factory: any MetricsFactory = MetricsSystem.factory) {
        syncs = Counter(label: "timerd_syncs_total", factory: factory)
        syncItems = Counter(label: "timerd_sync_items_total", factory: factory)
        syncsRefused = Counter(label: "timerd_syncs_refused_total", factory: factory)
        autoPaused = Counter(label: "timerd_timers_auto_paused_total", factory: factory)
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
