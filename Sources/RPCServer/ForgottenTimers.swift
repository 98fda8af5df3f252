import Storage
import TimerDomain

/// Pauses forgotten timers: every `interval`, each running timer whose
/// session has reached its account's maximum running time is paused at the
/// instant it reached it (`TimerRepository.autoPauseDue`).
package struct ForgottenTimers: Sendable {
    private let timers: TimerRepository
    private let clock: any WallClock
    private let onPaused: @Sendable (TimerRecord, TimerTransition) async -> Void

    /// A sweeper over `pool`; `onPaused` hears of each pause once committed
    /// (the server publishes it: `TimerServiceImplementation.publishAutoPause`).
    package init(pool: PostgresPool, clock: any WallClock = SystemWallClock(),
                 onPaused: @escaping @Sendable (TimerRecord, TimerTransition) async -> Void = { _, _ in }) {
        self.timers = TimerRepository(pool: pool)
        self.clock = clock
        self.onPaused = onPaused
    }

    /// One sweep now; the timers it paused.
    package func sweep() async throws -> [TimerRecord] {
        try await timers.autoPauseDue(now: clock.now, onPaused: onPaused)
    }

    /// Sweeps every `interval` until the task is cancelled. A failed sweep
    /// (database down) is reported to `onError` and retried at the next tick.
    package func run(every interval: Duration, onError: @Sendable (any Error) -> Void = { _ in }) async {
        while !Task.isCancelled {
            do {
                _ = try await sweep()
            } catch is CancellationError {
                return
            } catch {
                onError(error)
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
