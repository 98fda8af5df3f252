import RPC
import Storage

/// Watches the server's dependencies and says so through `grpc.health.v1`:
/// NOT_SERVING while PostgreSQL does not answer (load balancers then send
/// calls elsewhere), SERVING again when it does. Each probe also checks
/// Redis, so an outage is noticed (and the live state rebuilt afterwards)
/// even while no call touches Redis.
package struct DependencyMonitor: Sendable {
    private let timers: TimerRepository
    private let live: LiveTimers
    private let health: HealthService
    private let services: [String]
    private let timeout: Duration

    /// A monitor that sets `health` for the server ("") and each of `services`.
    package init(pool: PostgresPool, live: LiveTimers, health: HealthService, services: [String], timeout: Duration = .seconds(1)) {
        self.timers = TimerRepository(pool: pool)
        self.live = live
        self.health = health
        self.services = services
        self.timeout = timeout
    }

    /// One probe: whether PostgreSQL answered; the health status follows.
    @discardableResult
    package func probe() async -> Bool {
        async let database: Bool = {
            do {
                _ = try await timers.pool.withConnection(deadline: .now + timeout) { connection in
                    try await connection.query("SELECT 1")
                }
                return true
            } catch {
                return false
            }
        }()
        async let redis = live.health(timeout: timeout)
        let (up, _) = await (database, redis)
        let status: HealthService.Status = up ? .serving : .notServing
        for service in [""] + services where health.status(of: service) != status {
            health.setStatus(status, for: service)
        }
        return up
    }

    /// Probes every `interval` until cancelled.
    package func run(every interval: Duration) async {
        while !Task.isCancelled {
            await probe()
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
