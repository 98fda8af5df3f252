import Testing
@testable import TimerDomain

@Suite("Session invariants")
struct SessionInvariantTests {
    func closed(_ start: Instant, _ end: Instant) -> SessionInterval {
        SessionInterval(startedAt: start, endedAt: end)
    }

    @Test("sound sessions, touching ones included, have no violations")
    func sound() {
        let sessions = [closed(at(9), at(10)), closed(at(10), at(10, 30)), SessionInterval(startedAt: at(11), endedAt: nil)]
        #expect(SessionInterval.violations(in: sessions).isEmpty)
        #expect(SessionInterval.sumOfClosedSeconds(sessions) == 5_400)
        #expect(sessions[2].seconds(at: at(11, 0, 42)) == 42)
    }

    @Test("overlap, a backwards session and an open session that is not the latest are found")
    func broken() {
        let overlapping = [closed(at(9), at(10)), closed(at(9, 59, 59), at(10, 30))]
        #expect(SessionInterval.violations(in: overlapping) == [.overlapsPrevious(index: 1)])

        let backwards = [closed(at(10), at(9))]
        #expect(SessionInterval.violations(in: backwards) == [.endsBeforeStart(index: 0)])
        #expect(backwards[0].seconds(at: at(12)) == 0)

        // Given out of order: examined by start time, reported by given index.
        let openEarly = [closed(at(11), at(12)), SessionInterval(startedAt: at(9), endedAt: nil)]
        #expect(SessionInterval.violations(in: openEarly) == [.openSessionNotLatest(index: 1)])
    }

    @Test("the open session and the total must match the timer")
    func againstState() throws {
        let state = try TimerState(
            phase: .running(sessionStartedAt: at(11)), startedAt: at(9), closedSeconds: 3_600,
            lastUpdated: at(11), syncVersion: 3, deviceID: "laptop"
        )
        let matching = [closed(at(9), at(10)), SessionInterval(startedAt: at(11), endedAt: nil)]
        #expect(SessionInterval.violations(of: state, sessions: matching).isEmpty)

        let noOpen = [closed(at(9), at(10)), closed(at(11), at(11, 0, 5))]
        let found = SessionInterval.violations(of: state, sessions: noOpen)
        #expect(found == [
            .openSessionMismatch(expected: at(11), found: nil),
            .totalMismatch(totalDuration: 3_600, sumOfClosedSessions: 3_605),
        ])
        #expect(found[1].description == "total_duration is 3600 but the closed sessions sum to 3605")
    }
}
