import Testing
@testable import TimerDomain

@Suite("Forgotten-timer auto-pause")
struct AutoPauseTests {
    let eightHours: Int64 = 8 * 3_600

    @Test("nothing is due one second before the limit")
    func notYetDue() {
        let running = runningTimer()
        #expect(running.autoPauseDeadline(maxRunningSeconds: eightHours) == at(17))
        #expect(running.autoPause(maxRunningSeconds: eightHours, now: at(16, 59, 59), deviceID: "timerd") == nil)
    }

    @Test("at exactly the limit the session holds exactly the limit")
    func exactlyAtLimit() throws {
        let pause = try #require(runningTimer().autoPause(maxRunningSeconds: eightHours, now: at(17), deviceID: "timerd"))
        #expect(pause.state.status == .paused)
        #expect(pause.state.pausedAt == at(17))
        #expect(pause.state.closedSeconds == eightHours)
        #expect(pause.state.lastUpdated == at(17))
        #expect(pause.state.syncVersion == 2)
        #expect(pause.state.deviceID == "timerd")
        #expect(pause.session == .close(startedAt: at(9), endedAt: at(17), seconds: eightHours))
        #expect(pause.change == .paused)
    }

    @Test("noticed hours late, the pause still takes effect at the limit: nothing over-billed")
    func noticedLate() throws {
        let nextMorning = Instant(2024, 12, 2, 2)
        let pause = try #require(runningTimer().autoPause(maxRunningSeconds: eightHours, now: nextMorning, deviceID: "timerd"))
        #expect(pause.state.pausedAt == at(17))
        #expect(pause.state.closedSeconds == eightHours)
        #expect(pause.state.totalSeconds(at: nextMorning) == eightHours)
        #expect(pause.state.lastUpdated == nextMorning)
    }

    @Test("the limit applies per uninterrupted session, not to the total")
    func perSession() throws {
        var timer = RecordedTimer(at: at(0))
        try timer.apply(.pause, at: at(7))  // 7 h
        try timer.apply(.resume, at: at(8))
        try timer.apply(.pause, at: at(15))  // another 7 h: 14 h total, never 8 h in one go
        try timer.apply(.resume, at: at(16))
        #expect(timer.state.autoPause(maxRunningSeconds: eightHours, now: at(23, 59), deviceID: "timerd") == nil)
        #expect(timer.state.autoPauseDeadline(maxRunningSeconds: eightHours) == Instant(2024, 12, 2, 0))
        let pause = try #require(timer.state.autoPause(maxRunningSeconds: eightHours, now: Instant(2024, 12, 2, 0), deviceID: "timerd"))
        timer.record(pause)
        #expect(timer.state.closedSeconds == 22 * 3_600)
        #expect(timer.violations.isEmpty)
    }

    @Test("a field update after the limit does not push the pause past it")
    func updateAfterDeadline() throws {
        let updated = try runningTimer().updated(at: at(18), deviceID: "laptop").state
        let pause = try #require(updated.autoPause(maxRunningSeconds: eightHours, now: at(19), deviceID: "timerd"))
        #expect(pause.state.pausedAt == at(17))
        #expect(pause.state.closedSeconds == eightHours)
        #expect(pause.state.lastUpdated == at(19))
        #expect(pause.state.syncVersion == 3)
    }

    @Test("paused, stopped and unlimited timers are never auto-paused")
    func notApplicable() throws {
        let paused = try pausedTimer()
        let stopped = try stoppedTimer()
        let late = Instant(2025, 1, 1)
        #expect(paused.autoPause(maxRunningSeconds: 60, now: late, deviceID: "timerd") == nil)
        #expect(stopped.autoPause(maxRunningSeconds: 60, now: late, deviceID: "timerd") == nil)
        #expect(runningTimer().autoPause(maxRunningSeconds: 0, now: late, deviceID: "timerd") == nil)
        #expect(runningTimer().autoPauseDeadline(maxRunningSeconds: -5) == nil)
    }
}
