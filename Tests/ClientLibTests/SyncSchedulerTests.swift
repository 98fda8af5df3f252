@testable import ClientLib
import Testing

@Suite("SyncScheduler")
struct SyncSchedulerTests {
    let start = ContinuousClock.now

    @Test func theFirstChangeSyncsAtOnceAndLaterOnesWaitForTheInterval() {
        var scheduler = SyncScheduler(interval: .seconds(5), maxRetryDelay: .seconds(60))
        let r1 = scheduler.changed(at: start)
        #expect(r1 == .schedule(at: start))
        let again = scheduler.changed(at: start)
        #expect(again == .none)  // Already scheduled: goes along.
        #expect(scheduler.isDue(at: start))
        let r101 = scheduler.started(at: start)
        #expect(r101 == .cancel)
        // Changes while the sync is in flight go into the next one…
        let r102 = scheduler.changed(at: start + .seconds(1))
        #expect(r102 == .none)
        // …which starts 5 s after this one did.
        let r2 = scheduler.succeeded(at: start + .seconds(2), hasPending: true)
        #expect(r2 == .schedule(at: start + .seconds(5)))
        #expect(!scheduler.isDue(at: start + .seconds(4)))
        #expect(scheduler.isDue(at: start + .seconds(5)))
        let r103 = scheduler.started(at: start + .seconds(5))
        #expect(r103 == .cancel)
        let r104 = scheduler.succeeded(at: start + .seconds(6), hasPending: false)
        #expect(r104 == .none)
        // Quiet for long: the next change syncs at once again.
        let r3 = scheduler.changed(at: start + .seconds(60))
        #expect(r3 == .schedule(at: start + .seconds(60)))
    }

    @Test func failuresAreRetriedWithAGrowingWaitOrTheServersRetryAfter() {
        var scheduler = SyncScheduler(interval: .seconds(5), maxRetryDelay: .seconds(60))
        var now = start
        var waits: [Duration] = []
        _ = scheduler.changed(at: now)
        for _ in 0..<6 {
            _ = scheduler.started(at: now)
            guard case .schedule(let at) = scheduler.failed(at: now, retryAfter: nil, hasPending: true) else {
                Issue.record("a failed sync with pending changes was not scheduled again")
                return
            }
            waits.append(at - now)
            now = at
        }
        #expect(waits == [.seconds(5), .seconds(10), .seconds(20), .seconds(40), .seconds(60), .seconds(60)])
        #expect(scheduler.failures == 6)

        var limited = SyncScheduler(interval: .seconds(5), maxRetryDelay: .seconds(60))
        _ = limited.changed(at: start)
        _ = limited.started(at: start)
        let r4 = limited.failed(at: start, retryAfter: .seconds(42), hasPending: true)
        #expect(r4 == .schedule(at: start + .seconds(42)))
        // Success forgets the failures.
        _ = limited.started(at: start + .seconds(42))
        let r105 = limited.succeeded(at: start + .seconds(43), hasPending: false)
        #expect(r105 == .none)
        #expect(limited.failures == 0)
    }

    @Test func offlineNothingIsScheduledAndGoingOnlineSchedulesWhatWaits() {
        var scheduler = SyncScheduler(interval: .seconds(5), maxRetryDelay: .seconds(60))
        _ = scheduler.changed(at: start)
        let r106 = scheduler.setOnline(false, at: start, hasPending: true)
        #expect(r106 == .cancel)
        #expect(!scheduler.isDue(at: start + .seconds(100)))
        let r107 = scheduler.changed(at: start + .seconds(1))
        #expect(r107 == .none)
        let r108 = scheduler.setOnline(false, at: start + .seconds(1), hasPending: true)
        #expect(r108 == .none)
        let r5 = scheduler.setOnline(true, at: start + .seconds(2), hasPending: true)
        #expect(r5 == .schedule(at: start + .seconds(2)))
        // Online with nothing pending: nothing to do.
        var idle = SyncScheduler(interval: .seconds(5), maxRetryDelay: .seconds(60))
        _ = idle.setOnline(false, at: start, hasPending: false)
        let r109 = idle.setOnline(true, at: start, hasPending: false)
        #expect(r109 == .none)
    }

    @Test func goingOnlineForgetsTheRetryWaitButNotTheInterval() {
        var scheduler = SyncScheduler(interval: .seconds(5), maxRetryDelay: .seconds(60))
        _ = scheduler.changed(at: start)
        _ = scheduler.started(at: start)
        _ = scheduler.failed(at: start, retryAfter: nil, hasPending: true)
        _ = scheduler.started(at: start + .seconds(5))
        _ = scheduler.failed(at: start + .seconds(5), retryAfter: nil, hasPending: true)  // next at +15
        let r110 = scheduler.setOnline(false, at: start + .seconds(6), hasPending: true)
        #expect(r110 == .cancel)
        let r6 = scheduler.setOnline(true, at: start + .seconds(7), hasPending: true)
        #expect(r6 == .schedule(at: start + .seconds(10)))
    }
}
