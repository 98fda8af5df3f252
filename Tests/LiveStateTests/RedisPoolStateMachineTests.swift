import Testing

@testable import LiveState

/// The pool's rules, event by event, with time given by the test.
@Suite("RedisPoolStateMachine")
struct RedisPoolStateMachineTests {
    typealias Machine = RedisPoolStateMachine
    private let start = ContinuousClock.now
    private let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
    private let refused = LiveStateError(code: .connectionFailed, message: "127.0.0.1:6379: Connection refused")

    private func at(_ milliseconds: Int) -> ContinuousClock.Instant {
        start + .milliseconds(milliseconds)
    }

    @Test func firstCallConnectsThenLeasesAndLaterCallsReuse() {
        var machine = Machine(connections: 2, backoff: backoff)
        #expect(machine.leaseImmediately() == nil)
        #expect(machine.enqueue(1, deadline: at(1000), now: at(0)) == Machine.Actions(connect: [0]))
        #expect(machine.connectSucceeded(slot: 0, now: at(1)) == Machine.Actions(grants: [.init(call: 1, slot: 0)]))
        #expect(machine.released(slot: 0, outcome: .reusable, now: at(2)) == Machine.Actions())
        #expect(machine.leaseImmediately() == 0)
        #expect(machine.statistics == .init(leased: 1))
        #expect(machine.isHealthy)
        #expect(machine.failureCount == 0)
    }

    @Test func opensOneConnectionPerWaitingCallUpToTheMaximum() {
        var machine = Machine(connections: 2, backoff: backoff)
        #expect(machine.enqueue(1, deadline: at(1000), now: at(0)).connect == [0])
        #expect(machine.enqueue(2, deadline: at(1000), now: at(0)).connect == [1])
        #expect(machine.enqueue(3, deadline: at(1000), now: at(0)) == Machine.Actions())
        #expect(machine.statistics == .init(connecting: 2, waiting: 3))
    }

    @Test func callsAreServedFirstInFirstOut() {
        var machine = Machine(connections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        _ = machine.enqueue(2, deadline: at(1000), now: at(2))
        _ = machine.enqueue(3, deadline: at(1000), now: at(3))
        let first = machine.released(slot: 0, outcome: .reusable, now: at(4))
        #expect(first.grants == [.init(call: 2, slot: 0)])
        // An arrival does not jump the queue.
        #expect(machine.leaseImmediately() == nil)
        let second = machine.released(slot: 0, outcome: .reusable, now: at(5))
        #expect(second.grants == [.init(call: 3, slot: 0)])
    }

    @Test func aCallArrivingAfterItsDeadlineIsTimedOutAndStartsNothing() {
        // Without a connection, and Redis or the database never tried: the
        // caller spent its time elsewhere, which is not unavailability.
        var machine = Machine(connections: 1, backoff: backoff)
        let late = machine.enqueue(1, deadline: at(5), now: at(6))
        #expect(late.failures.map(\.call) == [1])
        #expect(late.failures.first?.error.code == .timedOut)
        #expect(late.failures.first?.error.message == "the deadline had passed before the call reached the Redis pool")
        #expect(late.connect.isEmpty && late.wakeUp == nil)
        #expect(machine.statistics.waiting == 0)
    }

    @Test func deadlineOfABusyPoolIsTimedOut() {
        var machine = Machine(connections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        _ = machine.enqueue(2, deadline: at(100), now: at(2))
        let expired = machine.deadlinePassed(2, now: at(100))
        #expect(expired.failures.map(\.call) == [2])
        #expect(expired.failures.first?.error.code == .timedOut)
        // Served or gone: a late deadline changes nothing.
        #expect(machine.deadlinePassed(2, now: at(200)) == Machine.Actions())
        // A deadline already passed fails at once.
        #expect(machine.enqueue(3, deadline: at(5), now: at(5)).failures.first?.error.code == .timedOut)
        #expect(machine.statistics.waiting == 0)
    }

    @Test func deadlineWithoutALiveConnectionIsUnavailable() {
        var machine = Machine(connections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(100), now: at(0))
        let expired = machine.deadlinePassed(1, now: at(100))
        #expect(expired.failures.first?.error.code == .unavailable)
    }

    @Test func failedConnectsFailWaitingCallsAsUnavailableAndBackOff() {
        var machine = Machine(connections: 2, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(5000), now: at(0))
        _ = machine.enqueue(2, deadline: at(5000), now: at(0))
        let first = machine.connectFailed(slot: 0, error: refused, now: at(10))
        // Another attempt is still under way: keep waiting for it.
        #expect(first.failures.isEmpty)
        let second = machine.connectFailed(slot: 1, error: refused, now: at(11))
        #expect(second.failures.map(\.call).sorted() == [1, 2])
        #expect(second.failures.allSatisfy { $0.error.code == .unavailable })
        #expect(second.failures.first?.error.message.contains("Redis is unreachable") == true)
        #expect(second.failures.first?.error.message.contains("Connection refused") == true)
        #expect(!machine.isHealthy)
        #expect(machine.failureCount == 2)

        // During the backoff a call fails at once, without a connect.
        let during = machine.enqueue(3, deadline: at(5000), now: at(50))
        #expect(during.failures.first?.error.code == .unavailable)
        #expect(during.connect.isEmpty)
        #expect(machine.statistics == .init(backingOff: 2))
    }

    @Test func backoffDoublesUpToTheMaximumAndResetsAfterASuccess() {
        var machine = Machine(connections: 1, backoff: backoff)
        var now = 0
        var waits: [Duration] = []
        for call in 1...6 {
            let queued = machine.enqueue(UInt64(call), deadline: at(now + 60_000), now: at(now))
            #expect(queued.connect == [0], "call \(call) should connect after the backoff")
            let failed = machine.connectFailed(slot: 0, error: refused, now: at(now))
            #expect(failed.failures.map(\.call) == [UInt64(call)])
            guard case .backingOff(let until) = machine.slotStates[0] else {
                Issue.record("slot 0 is not backing off")
                return
            }
            waits.append(until - at(now))
            // Just before the backoff ends: fail fast, no connect.
            let early = machine.enqueue(100 + UInt64(call), deadline: at(now + 60_000), now: until - .milliseconds(1))
            #expect(early.connect.isEmpty)
            #expect(early.failures.first?.error.code == .unavailable)
            now = Int((until - start) / .milliseconds(1))
        }
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        #expect(machine.failureCount == 6)

        // A success resets the backoff and the health.
        _ = machine.enqueue(50, deadline: at(now + 60_000), now: at(now))
        let connected = machine.connectSucceeded(slot: 0, now: at(now))
        #expect(connected.grants == [.init(call: 50, slot: 0)])
        #expect(machine.isHealthy)
        _ = machine.released(slot: 0, outcome: .connectFailed(refused), now: at(now + 1))
        #expect(machine.slotStates[0] == .backingOff(until: at(now + 101)))
        #expect(!machine.isHealthy)
        #expect(machine.failureCount == 7)
    }

    @Test func waitingCallWakesUpWhenTheBackoffEnds() {
        var machine = Machine(connections: 2, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(5000), now: at(0))
        _ = machine.enqueue(2, deadline: at(5000), now: at(0))
        _ = machine.connectSucceeded(slot: 1, now: at(5))
        // Slot 0 fails while slot 1 lives: the waiting call is not failed.
        let failed = machine.connectFailed(slot: 0, error: refused, now: at(10))
        #expect(failed.failures.isEmpty)
        _ = machine.enqueue(3, deadline: at(5000), now: at(20))
        _ = machine.enqueue(4, deadline: at(5000), now: at(21))
        #expect(machine.statistics.waiting == 3)
        // The wake-up is the end of slot 0's backoff.
        let queued = machine.enqueue(5, deadline: at(5000), now: at(22))
        #expect(queued.wakeUp == at(110))
        let woken = machine.wakeUp(now: at(110))
        #expect(woken.connect == [0])
    }

    @Test func brokenConnectionIsReplacedForTheNextCallAndCounted() {
        var machine = Machine(connections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        _ = machine.enqueue(2, deadline: at(1000), now: at(2))
        let lost = LiveStateError(code: .connectionClosed, message: "Server closed the connection")
        let released = machine.released(slot: 0, outcome: .broken(lost), now: at(3))
        // No backoff: the next call connects at once.
        #expect(released.connect == [0])
        #expect(!machine.isHealthy)
        #expect(machine.failureCount == 1)
        _ = machine.connectSucceeded(slot: 0, now: at(4))
        #expect(machine.isHealthy)
    }

    @Test func abandonedConnectionIsReplacedWithoutCountingAFailure() {
        var machine = Machine(connections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        _ = machine.released(slot: 0, outcome: .abandoned, now: at(3))
        #expect(machine.slotStates == [.closed])
        #expect(machine.isHealthy)
        #expect(machine.failureCount == 0)
    }

    @Test func deadIdleConnectionReplacedUnnoticedStillCountsAsAFailure() {
        var machine = Machine(connections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        _ = machine.released(slot: 0, outcome: .reusable, foundDead: true, now: at(3))
        #expect(machine.isHealthy)
        #expect(machine.failureCount == 1)
        #expect(machine.slotStates == [.idle])
    }

    @Test func cancelledCallLeavesTheQueue() {
        var machine = Machine(connections: 1, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        _ = machine.enqueue(2, deadline: at(1000), now: at(2))
        _ = machine.enqueue(3, deadline: at(1000), now: at(3))
        let cancelled = machine.cancelled(2)
        #expect(cancelled.failures.map(\.call) == [2])
        #expect(cancelled.failures.first?.error.code == .cancelled)
        #expect(machine.cancelled(2) == Machine.Actions())
        #expect(machine.released(slot: 0, outcome: .reusable, now: at(4)).grants == [.init(call: 3, slot: 0)])
    }

    @Test func shutdownFailsWaitersAndClosesSlotsAsTheyComeBack() {
        var machine = Machine(connections: 3, backoff: backoff)
        _ = machine.enqueue(1, deadline: at(1000), now: at(0))
        _ = machine.enqueue(2, deadline: at(1000), now: at(0))
        _ = machine.connectSucceeded(slot: 0, now: at(1))
        // Slot 0 leased to call 1, slot 1 connecting for call 2, slot 2 closed.
        let shutdown = machine.shutDown()
        #expect(shutdown.failures.map(\.call) == [2])
        #expect(shutdown.failures.first?.error.code == .shutdown)
        #expect(shutdown.close == [2])
        #expect(!shutdown.shutdownCompleted)
        #expect(machine.enqueue(3, deadline: at(1000), now: at(2)).failures.first?.error.code == .shutdown)
        #expect(machine.leaseImmediately() == nil)
        let connected = machine.connectSucceeded(slot: 1, now: at(3))
        #expect(connected == Machine.Actions(close: [1]))
        let released = machine.released(slot: 0, outcome: .reusable, now: at(4))
        #expect(released == Machine.Actions(close: [0], shutdownCompleted: true))
        #expect(machine.shutDown() == Machine.Actions())
    }
}
