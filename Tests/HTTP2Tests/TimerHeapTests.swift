import Testing
@testable import HTTP2

@Suite("Timer heap")
struct TimerHeapTests {
    /// A closed connection cancels its timers, but a cancelled timer used to
    /// stay in the heap until its deadline (a keepalive: two hours), so a loop
    /// serving many short connections held one for every timer ever armed.
    @Test("cancelled timers do not pile up in the heap")
    func cancelledTimersAreDropped() throws {
        let loop = try EventLoop(name: "timer-heap", startThread: false)
        defer { loop.releaseAll() }
        for _ in 0..<10_000 {
            loop.schedule(after: .seconds(7_200)) {}.cancel()
        }
        let kept = loop.schedule(after: .seconds(7_200)) {}
        #expect(loop.timersHeld <= 128)
        #expect(loop.liveTimers == 1)
        kept.cancel()
    }

    @Test("timers still fire in deadline order after cancelled ones are dropped")
    func orderSurvivesDropping() throws {
        let loop = try EventLoop(name: "timer-order", startThread: false)
        defer { loop.releaseAll() }
        final class Fired { var deadlines: [UInt64] = [] }
        let fired = Fired()
        var live: [UInt64] = []
        // Deadlines in a scrambled order, every other timer cancelled, enough
        // of them for the heap to drop the cancelled ones several times.
        for index in 0..<600 {
            let delay = (index * 7_919) % 600
            var deadline: UInt64 = 0
            let timer = loop.schedule(after: .microseconds(delay)) { fired.deadlines.append(deadline) }
            deadline = timer.deadline
            if index % 2 == 1 { timer.cancel() } else { live.append(deadline) }
        }
        let start = ContinuousClock.now
        while fired.deadlines.count < live.count && ContinuousClock.now - start < .seconds(5) {
            loop.runRound(timeout: 1)
        }
        #expect(fired.deadlines == live.sorted())
        #expect(loop.liveTimers == 0)
    }
}
