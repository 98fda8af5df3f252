import Testing
@testable import TimerDomain

@Suite("Timer transitions")
struct TransitionTests {
    @Test("a timer created running has an open session, version 1")
    func createdRunning() {
        let creation = TimerState.created(start: true, at: at(9), deviceID: "laptop")
        let state = creation.state
        #expect(state.status == .running)
        #expect(state.startedAt == at(9))
        #expect(state.currentSessionStartedAt == at(9))
        #expect(state.pausedAt == nil)
        #expect(state.stoppedAt == nil)
        #expect(state.closedSeconds == 0)
        #expect(state.lastUpdated == at(9))
        #expect(state.syncVersion == 1)
        #expect(state.deviceID == "laptop")
        #expect(state.isActive)
        #expect(creation.session == .open(startedAt: at(9)))
        #expect(creation.change == .started)
    }

    @Test("a timer created with start=false is paused, never started, without a session")
    func createdPaused() throws {
        let creation = TimerState.created(start: false, at: at(9), deviceID: "phone")
        #expect(creation.state.status == .paused)
        #expect(creation.state.pausedAt == at(9))
        #expect(creation.state.startedAt == nil)
        #expect(creation.state.syncVersion == 1)
        #expect(creation.session == .none)
        #expect(creation.change == .updated)

        let resumed = try creation.state.applying(.resume, at: at(10), deviceID: "phone")
        #expect(resumed.state.status == .running)
        #expect(resumed.state.startedAt == at(10))
        #expect(resumed.session == .open(startedAt: at(10)))
        #expect(resumed.change == .resumed)
    }

    @Test("pause closes the open session and adds its seconds")
    func pauseFromRunning() throws {
        let transition = try runningTimer().applying(.pause, at: at(9, 25, 30), deviceID: "phone")
        #expect(transition.state.status == .paused)
        #expect(transition.state.pausedAt == at(9, 25, 30))
        #expect(transition.state.currentSessionStartedAt == nil)
        #expect(transition.state.closedSeconds == 1_530)
        #expect(transition.state.syncVersion == 2)
        #expect(transition.state.lastUpdated == at(9, 25, 30))
        #expect(transition.state.deviceID == "phone")
        #expect(transition.session == .close(startedAt: at(9), endedAt: at(9, 25, 30), seconds: 1_530))
        #expect(transition.change == .paused)
    }

    @Test("resume opens a new session and keeps the first start")
    func resumeFromPaused() throws {
        let transition = try pausedTimer().applying(.resume, at: at(10), deviceID: "laptop")
        #expect(transition.state.status == .running)
        #expect(transition.state.startedAt == at(9))
        #expect(transition.state.currentSessionStartedAt == at(10))
        #expect(transition.state.pausedAt == nil)
        #expect(transition.state.closedSeconds == 1_800)
        #expect(transition.state.syncVersion == 3)
        #expect(transition.session == .open(startedAt: at(10)))
        #expect(transition.change == .resumed)
    }

    @Test("stop of a running timer closes its session")
    func stopFromRunning() throws {
        let transition = try runningTimer().applying(.stop, at: at(9, 45), deviceID: "laptop")
        #expect(transition.state.status == .stopped)
        #expect(transition.state.stoppedAt == at(9, 45))
        #expect(transition.state.closedSeconds == 2_700)
        #expect(transition.state.isActive == false)
        #expect(transition.session == .close(startedAt: at(9), endedAt: at(9, 45), seconds: 2_700))
        #expect(transition.change == .stopped)
    }

    @Test("stop of a paused timer is allowed and touches no session")
    func stopFromPaused() throws {
        let transition = try pausedTimer().applying(.stop, at: at(11), deviceID: "laptop")
        #expect(transition.state.status == .stopped)
        #expect(transition.state.stoppedAt == at(11))
        #expect(transition.state.pausedAt == nil)
        #expect(transition.state.closedSeconds == 1_800)
        #expect(transition.state.syncVersion == 3)
        #expect(transition.session == .none)
        #expect(transition.change == .stopped)
    }

    @Test("delete stops a running timer first, and works from every state")
    func deleteFromEveryState() throws {
        let fromRunning = try runningTimer().applying(.delete, at: at(9, 10), deviceID: "laptop")
        #expect(fromRunning.state.status == .stopped)
        #expect(fromRunning.state.deletedAt == at(9, 10))
        #expect(fromRunning.state.closedSeconds == 600)
        #expect(fromRunning.session == .close(startedAt: at(9), endedAt: at(9, 10), seconds: 600))
        #expect(fromRunning.change == .deleted)

        let fromPaused = try pausedTimer().applying(.delete, at: at(10), deviceID: "laptop")
        #expect(fromPaused.state.status == .stopped)
        #expect(fromPaused.state.stoppedAt == at(10))
        #expect(fromPaused.state.deletedAt == at(10))
        #expect(fromPaused.session == .none)

        let fromStopped = try stoppedTimer().applying(.delete, at: at(12), deviceID: "laptop")
        #expect(fromStopped.state.stoppedAt == at(9, 30))
        #expect(fromStopped.state.deletedAt == at(12))
        #expect(fromStopped.state.syncVersion == 3)
        #expect(fromStopped.session == .none)
        #expect(fromStopped.state.isActive == false)
    }

    @Test("refused transitions name the state and the command, and change nothing")
    func refusals() throws {
        let running = runningTimer()
        let paused = try pausedTimer()
        let stopped = try stoppedTimer()
        let cases: [(TimerState, TimerCommand, String)] = [
            (running, .resume, "timer is running; resume needs a paused timer"),
            (paused, .pause, "timer is paused; pause needs a running timer"),
            (stopped, .pause, "timer is stopped; pause needs a running timer"),
            (stopped, .resume, "timer is stopped; resume needs a paused timer (a stopped timer never runs again)"),
            (stopped, .stop, "timer is stopped; stop needs a running or paused timer"),
        ]
        for (state, command, message) in cases {
            let before = state
            let error = caught { () throws(TimerDomainError) in try state.applying(command, at: at(12), deviceID: "x") }
            #expect(error == TimerDomainError(code: .failedPrecondition, message: message))
            #expect(error?.code.grpcStatusCode == 9)
            #expect(state == before)
            #expect(state.allows(command) == false)
        }
    }

    @Test("a deleted timer accepts no command", arguments: TimerCommand.allCases)
    func deletedRefusesEverything(command: TimerCommand) throws {
        let deleted = try deletedTimer()
        let error = caught { () throws(TimerDomainError) in try deleted.applying(command, at: at(12), deviceID: "x") }
        #expect(error == TimerDomainError(code: .notFound, message: "timer has been deleted"))
        #expect(deleted.allows(command) == false)
        let update = caught { () throws(TimerDomainError) in try deleted.updated(at: at(12), deviceID: "x") }
        #expect(update?.code == .notFound)
    }

    @Test("allows agrees with applying for every command from every state")
    func allowsMatchesApplying() throws {
        let states = [runningTimer(), try pausedTimer(), try stoppedTimer(), try deletedTimer()]
        var allowed: [String] = []
        for state in states {
            for command in TimerCommand.allCases {
                let error = caught { () throws(TimerDomainError) in try state.applying(command, at: at(12), deviceID: "x") }
                #expect(state.allows(command) == (error == nil))
                if error == nil { allowed.append("\(state.isDeleted ? "deleted" : "\(state.status)") \(command)") }
            }
        }
        #expect(allowed == [
            "running pause", "running stop", "running delete",
            "paused resume", "paused stop", "paused delete",
            "stopped delete",
        ])
    }

    @Test("an update bumps the version and nothing else")
    func update() throws {
        let paused = try pausedTimer()
        let transition = try paused.updated(at: at(10), deviceID: "tablet")
        #expect(transition.state.syncVersion == 3)
        #expect(transition.state.lastUpdated == at(10))
        #expect(transition.state.deviceID == "tablet")
        #expect(transition.state.phase == paused.phase)
        #expect(transition.state.closedSeconds == paused.closedSeconds)
        #expect(transition.session == .none)
        #expect(transition.change == .updated)
    }

    @Test("every change bumps the version by exactly one")
    func versionsCount() throws {
        var timer = RecordedTimer(at: at(9))
        try timer.apply(.pause, at: at(9, 10))
        try timer.apply(.resume, at: at(9, 20))
        try timer.apply(.pause, at: at(9, 30))
        try timer.apply(.resume, at: at(9, 40))
        try timer.apply(.stop, at: at(9, 50))
        try timer.apply(.delete, at: at(10))
        #expect(timer.state.syncVersion == 7)
        #expect(timer.changes == [.started, .paused, .resumed, .paused, .resumed, .stopped, .deleted])
    }

    @Test("a state loaded from columns is checked")
    func loadingChecksInvariants() throws {
        let loaded = try TimerState(
            status: .running, startedAt: at(9), pausedAt: nil, stoppedAt: nil,
            currentSessionStartedAt: at(10), closedSeconds: 1_800, lastUpdated: at(10),
            syncVersion: 3, deviceID: "laptop"
        )
        #expect(loaded.phase == .running(sessionStartedAt: at(10)))

        let missingSession = caught { () throws(TimerDomainError) in
            try TimerState(
                status: .running, startedAt: at(9), pausedAt: nil, stoppedAt: nil,
                currentSessionStartedAt: nil, closedSeconds: 0, lastUpdated: at(9), syncVersion: 1, deviceID: ""
            )
        }
        #expect(missingSession?.code == .inconsistentState)

        let badVersion = caught { () throws(TimerDomainError) in
            try TimerState(
                phase: .paused(since: at(9)), startedAt: nil, closedSeconds: 5,
                lastUpdated: at(9), syncVersion: 0, deviceID: ""
            )
        }
        #expect(badVersion == TimerDomainError(
            code: .inconsistentState,
            message: "inconsistent timer state: sync_version is 0, it starts at 1; a timer that never started has total_duration 5"
        ))
    }
}
