import Deadlines
import Synchronization
import Testing

@Suite("DeadlineTimers", .serialized)
struct DeadlineTimersTests {
    /// The suite's own timers, so that the pools of other suites running in
    /// this process do not count among its pending actions.
    static let timers = DeadlineTimers()

    /// Waits, without blocking a thread, until `condition` holds or 10 s pass.
    func eventually(_ condition: () -> Bool) async -> Bool {
        let end = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < end {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    @Test func actionsRunAtTheirDeadlinesInOrderAndCancelledOnesNever() async {
        let timers = Self.timers
        let ran = Mutex<[Int]>([])
        let start = ContinuousClock.now
        let times = Mutex<[Int: ContinuousClock.Instant]>([:])
        // Scheduled out of order; the third is cancelled.
        let offsets = [300, 100, 200, 50]
        var tokens: [DeadlineTimers.Token] = []
        for (index, offset) in offsets.enumerated() {
            tokens.append(timers.schedule(at: start + .milliseconds(offset)) {
                ran.withLock { $0.append(index) }
                times.withLock { $0[index] = .now }
            })
        }
        #expect(timers.cancel(tokens[2]))
        #expect(await eventually { ran.withLock { $0.count } == 3 })
        #expect(ran.withLock { $0 } == [3, 1, 0])
        for (index, offset) in offsets.enumerated() where index != 2 {
            let at = try? #require(times.withLock { $0[index] })
            #expect(at.map { $0 - start >= .milliseconds(offset) } == true, "action \(index) ran early")
        }
        // A cancelled or already run action cannot be cancelled again.
        #expect(!timers.cancel(tokens[2]))
        #expect(!timers.cancel(tokens[0]))
    }

    @Test func aPassedDeadlineRunsAtOnceAndAnEarlierOneWakesTheThread() async {
        let timers = Self.timers
        let ran = Mutex<[String]>([])
        // A far deadline first: the thread sleeps until it…
        let far = timers.schedule(at: .now + .seconds(3_600)) { ran.withLock { $0.append("far") } }
        // …and is woken for a nearer one, and for one already passed.
        _ = timers.schedule(at: .now + .milliseconds(20)) { ran.withLock { $0.append("near") } }
        _ = timers.schedule(at: .now - .seconds(1)) { ran.withLock { $0.append("passed") } }
        #expect(await eventually { ran.withLock { $0.count } == 2 })
        #expect(ran.withLock { $0 } == ["passed", "near"])
        #expect(timers.cancel(far))
    }

    @Test func manyCancelledDeadlinesLeaveNothingPending() async {
        let timers = Self.timers
        let before = timers.pendingCount
        let tokens = (0..<10_000).map { index in
            timers.schedule(at: .now + .seconds(5) + .milliseconds(index % 50)) { Issue.record("a cancelled action ran") }
        }
        for token in tokens { timers.cancel(token) }
        #expect(timers.pendingCount == before)
        let ran = Mutex(false)
        _ = timers.schedule(at: .now + .milliseconds(100)) { ran.withLock { $0 = true } }
        #expect(await eventually { ran.withLock { $0 } })
    }
}
