import Testing
@testable import TimerDomain

@Suite("Durations")
struct DurationTests {
    @Test("durations across several pauses, each session rounded down on its own")
    func severalPauses() throws {
        var timer = RecordedTimer(at: at(9))
        #expect(timer.state.currentSessionSeconds(at: at(9, 10)) == 600)

        try timer.apply(.pause, at: at(9, 25, 30))  // 1,530 s
        #expect(timer.state.closedSeconds == 1_530)
        #expect(timer.state.currentSessionSeconds(at: at(9, 50)) == 0)
        #expect(timer.state.totalSeconds(at: at(9, 50)) == 1_530)

        try timer.apply(.resume, at: at(10))
        try timer.apply(.pause, at: at(10, 10, 0, micro: 900_000))  // 600.9 s → 600
        #expect(timer.state.closedSeconds == 2_130)

        try timer.apply(.resume, at: at(11))
        #expect(timer.state.currentSessionSeconds(at: at(11, 0, 30)) == 30)
        #expect(timer.state.totalSeconds(at: at(11, 0, 30)) == 2_160)

        try timer.apply(.stop, at: at(11, 0, 59, micro: 999_999))  // 59.999999 s → 59
        #expect(timer.state.closedSeconds == 2_189)
        #expect(timer.state.totalSeconds(at: at(23)) == 2_189)
        #expect(timer.sessions.count == 3)
        #expect(timer.violations.isEmpty)
        #expect(SessionInterval.sumOfClosedSeconds(timer.sessions) == 2_189)
    }

    @Test("sub-second sessions count 0 each, and the total still equals their sum")
    func subSecondSessions() throws {
        var timer = RecordedTimer(at: at(9))
        try timer.apply(.pause, at: at(9, 0, 0, micro: 600_000))
        try timer.apply(.resume, at: at(9, 0, 1))
        try timer.apply(.pause, at: at(9, 0, 1, micro: 600_000))
        #expect(timer.state.closedSeconds == 0)
        #expect(timer.violations.isEmpty)
    }

    @Test("a clock behind the open session's start reads 0, never negative")
    func nowBeforeSessionStart() {
        let running = runningTimer()
        #expect(running.currentSessionSeconds(at: at(8, 59, 59)) == 0)
        #expect(running.totalSeconds(at: at(8)) == 0)
        #expect(running.currentSessionSeconds(at: Instant(microsecondsSinceEpoch: .min)) == 0)
    }

    @Test("a pause with the clock gone backwards ends the session at its start, not before")
    func pauseWithClockBackwards() throws {
        let clock = ManualWallClock(at(10))
        var timer = RecordedTimer(at: clock.now)
        clock.advance(bySeconds: -600)  // NTP step back to 09:50
        try timer.apply(.pause, at: clock.now)
        #expect(timer.state.pausedAt == at(10))
        #expect(timer.state.closedSeconds == 0)
        #expect(timer.state.lastUpdated == at(10))
        #expect(timer.sessions == [SessionInterval(startedAt: at(10), endedAt: at(10))])
        #expect(timer.violations.isEmpty)
    }

    @Test("a resume with the clock gone backwards does not overlap the previous session")
    func resumeWithClockBackwards() throws {
        let clock = ManualWallClock(at(9))
        var timer = RecordedTimer(at: clock.now)
        clock.set(at(10))
        try timer.apply(.pause, at: clock.now)  // 3,600 s
        clock.set(at(9, 30))  // back behind the pause
        try timer.apply(.resume, at: clock.now)
        #expect(timer.state.currentSessionStartedAt == at(10))
        #expect(timer.state.totalSeconds(at: clock.now) == 3_600)
        clock.set(at(10, 5))
        try timer.apply(.stop, at: clock.now)
        #expect(timer.state.closedSeconds == 3_900)
        #expect(timer.state.lastUpdated == at(10, 5))
        #expect(timer.violations.isEmpty)
    }

    @Test("last_updated never moves backwards, whatever the clock does")
    func lastUpdatedIsMonotonic() throws {
        var timer = RecordedTimer(at: at(12))
        let update = try timer.state.updated(at: at(11), deviceID: "laptop")
        #expect(update.state.lastUpdated == at(12))
        timer.record(update)
        try timer.apply(.pause, at: at(8))
        try timer.apply(.resume, at: at(7))
        try timer.apply(.stop, at: at(6))
        #expect(timer.state.lastUpdated == at(12))
        #expect(timer.state.stoppedAt == at(12))
        #expect(timer.state.closedSeconds == 0)
        #expect(timer.state.syncVersion == 5)
        #expect(timer.violations.isEmpty)
    }

    @Test("an offline change takes effect at its time and is recorded at the server's")
    func effectiveAndRecordedTimes() throws {
        let running = runningTimer()
        let transition = try running.applying(.pause, at: at(9, 40), recordedAt: at(11), deviceID: "phone")
        #expect(transition.state.pausedAt == at(9, 40))
        #expect(transition.state.closedSeconds == 2_400)
        #expect(transition.state.lastUpdated == at(11))
        // The next offline change may still be earlier than the recording.
        let resumed = try transition.state.applying(.resume, at: at(9, 50), recordedAt: at(11), deviceID: "phone")
        #expect(resumed.state.currentSessionStartedAt == at(9, 50))
        #expect(resumed.state.lastUpdated == at(11))
    }

    @Test("an offline change dated after the server's now takes effect at the server's now")
    func futureChangeIsClamped() throws {
        let transition = try runningTimer().applying(.stop, at: at(13), recordedAt: at(11), deviceID: "phone")
        #expect(transition.state.stoppedAt == at(11))
        #expect(transition.state.closedSeconds == 7_200)
        #expect(transition.state.lastUpdated == at(11))
    }
}
