@testable import ClientLib
import Testing

@Suite("RetryPolicy and ConnectionBackoff")
struct RetryPolicyTests {
    @Test func theDefaultWaitsDoubleFrom100MillisecondsTo2Seconds() {
        let policy = RetryPolicy(jitter: 0)
        let waits = (1...7).map { policy.backoff(afterFailures: $0, random: 0.5) }
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
                          .milliseconds(1_600), .seconds(2), .seconds(2)])
        #expect(RetryPolicy().maxAttempts == 4)
        #expect(RetryPolicy.none.maxAttempts == 1)
    }

    @Test func jitterSpreadsEachWaitWithinItsBounds() {
        let policy = RetryPolicy(jitter: 0.2)
        #expect(policy.backoff(afterFailures: 1, random: 0) == .milliseconds(80))
        #expect(policy.backoff(afterFailures: 1, random: 1) == .milliseconds(120))
        #expect(policy.backoff(afterFailures: 9, random: 1) == .milliseconds(2_400))
    }

    @Test func outOfRangeSettingsAreBroughtIntoRange() {
        let policy = RetryPolicy(maxAttempts: 0, initialBackoff: .seconds(3), maxBackoff: .seconds(1), multiplier: 0.5, jitter: 7)
        #expect(policy.maxAttempts == 1)
        #expect(policy.maxBackoff == .seconds(3))
        #expect(policy.multiplier == 1)
        #expect(policy.jitter == 1)
    }

    @Test func oneConnectionLossCountsOnceHoweverManyCallsItFailed() {
        let policy = RetryPolicy(jitter: 0)
        var backoff = ConnectionBackoff()
        let start = ContinuousClock.now
        let ticket = backoff.ticket
        // Three calls in flight on the connection fail together.
        let first = backoff.failed(ticket: ticket, at: start, policy: policy, random: 0.5)
        let second = backoff.failed(ticket: ticket, at: start + .milliseconds(1), policy: policy, random: 0.5)
        let third = backoff.failed(ticket: ticket, at: start + .milliseconds(2), policy: policy, random: 0.5)
        #expect(first == start + .milliseconds(100))
        #expect(second == first)
        #expect(third == first)
        #expect(backoff.failures == 1)

        // Their retries fail again: the second outage epoch waits longer.
        let retryTicket = backoff.ticket
        #expect(retryTicket != ticket)
        let later = first + .milliseconds(5)
        let again = backoff.failed(ticket: retryTicket, at: later, policy: policy, random: 0.5)
        #expect(again == later + .milliseconds(200))
        let r101 = backoff.failed(ticket: retryTicket, at: later, policy: policy, random: 0.5)
        #expect(r101 == again)
        #expect(backoff.failures == 2)
    }

    @Test func anAnswerEndsTheOutageAndAStaleFailureDoesNotRestartIt() {
        let policy = RetryPolicy(jitter: 0)
        var backoff = ConnectionBackoff()
        let now = ContinuousClock.now
        let old = backoff.ticket
        _ = backoff.failed(ticket: old, at: now, policy: policy, random: 0.5)
        let during = backoff.ticket
        backoff.succeeded()
        #expect(backoff.failures == 0)
        // A call from before the recovery reports its failure late: no wait.
        let r102 = backoff.failed(ticket: during, at: now, policy: policy, random: 0.5)
        #expect(r102 == now)
        #expect(backoff.failures == 0)
        // A new outage starts from the first wait again.
        let r1 = backoff.failed(ticket: backoff.ticket, at: now, policy: policy, random: 0.5)
        #expect(r1 == now + .milliseconds(100))
        // Success while reachable changes nothing.
        var fresh = ConnectionBackoff()
        let ticket = fresh.ticket
        fresh.succeeded()
        #expect(fresh.ticket == ticket)
    }
}
