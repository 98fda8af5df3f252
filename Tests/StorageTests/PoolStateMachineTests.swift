import Testing

@testable import Storage

/// The pool's rules, event by event, with time given by the test.
@Suite("PoolStateMachine")
struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine
    private let start = ContinuousClock.now
    private let backoff = Machine.Backoff(initial: .milliseconds(100), maximum: .seconds(1))

    private func at(_ milliseconds: Int) -> ContinuousClock.Instant {
        start + .milliseconds(milliseconds)
    }

    @Test func firstCallerConnectsThenLeasesAndLaterCallersReuse() {
        var machine = Machine(maximumConnections: 2, backoff: backoff)
        #expect(machine.leaseImmediately() == nil)
        let queued = machine.enqueue(1, deadline: at(1000), now: at(0))
        #expect(queued == Machine.Actions(connect: [0]))
        let connected = machine.connectSucceeded(slot: 0, now: at(1))
        #expect(connected == Machine.Actions(grants: [.init(waiter: 1, slot: 0)]))
        let released = machine.released(slot: 0, outcome: .reusable, now: at(2))
        #expect(released == Machine.Actions())
        #expect(machine.leaseImmediately() == 0)
        // The first caller waited for the connect; the second found it idle.
        #expect(machine.statistics == .init(leased: 1, waited: 1))
    }

    @Test func opensOneConnectionPerWaiterUpToTheMaximum() {
        var machine = Machine(maximumConnections: 2, backoff: backoff)
        #expect(machine.enqueue(1, deadline: at(1000), now: at(0)).connect == [0])
        #expect(machine.enqueue(2, deadline: at(1000), now: at(0)).connect == [1])
        #expect(machine.enqueue(3, deadline: at(1000), now: at(0)) == Machine.Actions())
        #expect(machine.statistics == .init(connecting: 2, waiting: 3, waited: 3))
    }

    @Test func waitersAreServedFirstInFirstOut() {
        var machine = Machine(maximumConnections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        _ = machine.enqueue(2, deadline: at(1000), now: at(2))
        _ = machine.enqueue(3, deadline: at(1000), now: at(3))
        // An arrival does not jump the queue even when it finds a free slot.
        let first = machine.released(slot: 0, outcome: .reusable, now: at(4))
        #expect(first.grants == [.init(waiter: 2, slot: 0)])
        #expect(machine.leaseImmediately() == nil)
        let second = machine.released(slot: 0, outcome: .reusable, now: at(5))
        #expect(second.grants == [.init(waiter: 3, slot: 0)])
    }

    @Test func aCallArrivingAfterItsDeadlineIsTimedOutAndStartsNothing() {
        // Without a connection, and Redis or the database never tried: the
        // caller spent its time elsewhere, which is not unavailability.
        var machine = Machine(maximumConnections: 1, backoff: backoff)
        let late = machine.enqueue(1, deadline: at(5), now: at(6))
        #expect(late.failures.map(\.waiter) == [1])
        #expect(late.failures.first?.error.code == .timedOut)
        #expect(late.failures.first?.error.message == "the deadline had passed before the call reached the database pool")
        #expect(late.connect.isEmpty && late.wakeUp == nil)
        #expect(machine.statistics.waiting == 0)
    }

    @Test func deadlineOfABusyPoolIsTimedOut() {
        var machine = Machine(maximumConnections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        _ = machine.enqueue(2, deadline: at(100), now: at(2))
        let expired = machine.deadlinePassed(2, now: at(100))
        #expect(expired.failures.map(\.waiter) == [2])
        #expect(expired.failures.first?.error.code == .timedOut)
        // Served or gone: a late deadline changes nothing.
        #expect(machine.deadlinePassed(2, now: at(200)) == Machine.Actions())
        #expect(machine.enqueue(3, deadline: at(5), now: at(5)).failures.first?.error.code == .timedOut)
        // Both failed without a connection; waiter 2 had queued.
        #expect(machine.statistics.refused == 2)
        #expect(machine.statistics.waited == 2)
    }

    @Test func failedConnectFailsWaitersAndBacksOff() {
        var machine = Machine(maximumConnections: 2, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(5000), now: at(0))
        _ = machine.enqueue(2, deadline: at(5000), now: at(0))
        let refused = StorageError(code: .connectionFailed, message: "connection refused")
        let first = machine.connectFailed(slot: 0, error: refused, now: at(10))
        // Another attempt is still under way: keep waiting for it.
        #expect(first.failures.isEmpty)
        let second = machine.connectFailed(slot: 1, error: refused, now: at(11))
        #expect(second.failures.map(\.waiter).sorted() == [1, 2])
        #expect(second.failures.allSatisfy { $0.error.code == .unavailable })
        #expect(second.failures.first?.error.message.contains("connection refused") == true)

        // During the backoff a caller fails at once.
        let during = machine.enqueue(3, deadline: at(5000), now: at(50))
        #expect(during.failures.first?.error.code == .unavailable)
        #expect(machine.statistics.waiting == 0)

        // After it, a caller tries again.
        let after = machine.enqueue(4, deadline: at(5000), now: at(200))
        #expect(after.connect.count == 1)
        // Two failed connects; three callers failed without a connection.
        #expect(machine.statistics.failures == 2)
        #expect(machine.statistics.refused == 3)
    }

    @Test func backoffDoublesUpToItsMaximum() {
        #expect(backoff.delay(afterFailures: 1) == .milliseconds(100))
        #expect(backoff.delay(afterFailures: 2) == .milliseconds(200))
        #expect(backoff.delay(afterFailures: 4) == .milliseconds(800))
        #expect(backoff.delay(afterFailures: 5) == .seconds(1))
        #expect(backoff.delay(afterFailures: 50) == .seconds(1))
    }

    @Test func brokenConnectionFreesItsSlotToReconnectForTheNextWaiter() {
        var machine = Machine(maximumConnections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        _ = machine.enqueue(2, deadline: at(1000), now: at(2))
        let released = machine.released(slot: 0, outcome: .closed, now: at(3))
        #expect(released == Machine.Actions(connect: [0]))
        #expect(machine.connectSucceeded(slot: 0, now: at(4)).grants == [.init(waiter: 2, slot: 0)])
    }

    @Test func waiterBehindBusyConnectionsWakesUpWhenABackoffEnds() {
        var machine = Machine(maximumConnections: 2, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(5000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        let queued = machine.enqueue(2, deadline: at(5000), now: at(2))
        #expect(queued.connect == [1])
        let failed = machine.connectFailed(
            slot: 1, error: StorageError(code: .connectionFailed, message: "too many clients"), now: at(3)
        )
        // Slot 0 is live: the waiter stays, and the pool retries slot 1 later.
        #expect(failed.failures.isEmpty)
        #expect(failed.wakeUp == at(103))
        #expect(machine.wakeUp(now: at(103)).connect == [1])
    }

    @Test func cancelledWaiterLeavesTheQueue() {
        var machine = Machine(maximumConnections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.enqueue(2, deadline: at(1000), now: at(0))
        let cancelled = machine.cancelled(2)
        #expect(cancelled.failures.first?.error.code == .cancelled)
        #expect(machine.statistics.waiting == 1)
        #expect(machine.cancelled(2) == Machine.Actions())
    }

    @Test func shutdownFailsWaitersAndClosesSlotsAsTheyComeBack() {
        var machine = Machine(maximumConnections: 3, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.enqueue(2, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))  // leased to 1
        _ = machine.enqueue(3, deadline: at(1000), now: at(2))  // slot 2 connects
        let shutdown = machine.shutDown()
        #expect(shutdown.failures.map(\.waiter).sorted() == [2, 3])
        #expect(shutdown.failures.allSatisfy { $0.error.code == .unavailable })
        #expect(shutdown.close.isEmpty)
        #expect(!shutdown.shutdownCompleted)

        let connected = machine.connectSucceeded(slot: 1, now: at(3))
        #expect(connected == Machine.Actions(close: [1]))
        let failed = machine.connectFailed(slot: 2, error: StorageError(code: .connectionFailed, message: "x"), now: at(3))
        #expect(failed == Machine.Actions(close: [2]))
        let released = machine.released(slot: 0, outcome: .reusable, now: at(4))
        #expect(released == Machine.Actions(close: [0], shutdownCompleted: true))

        #expect(machine.enqueue(4, deadline: at(1000), now: at(5)).failures.first?.error.code == .unavailable)
        #expect(machine.leaseImmediately() == nil)
    }
}
