import Testing
@testable import TimerDomain

@Suite("Retries and optimistic concurrency")
struct RetryTests {
    @Test("a pause with the current version applies")
    func currentVersionApplies() throws {
        let outcome = try runningTimer().handling(.pause, expectedSyncVersion: 1, at: at(9, 30), deviceID: "phone")
        guard case .applied(let transition) = outcome else {
            Issue.record("expected the pause to apply, got \(outcome)")
            return
        }
        #expect(transition.state.syncVersion == 2)
        #expect(transition.state.status == .paused)
    }

    @Test("a re-sent pause after the first was applied is unchanged, answered OK", arguments: [
        (TimerCommand.pause, TimerState.Status.running),
        (TimerCommand.resume, TimerState.Status.paused),
        (TimerCommand.stop, TimerState.Status.running),
        (TimerCommand.stop, TimerState.Status.paused),
    ])
    func resentCommandIsUnchanged(command: TimerCommand, from status: TimerState.Status) throws {
        let before = status == .running ? runningTimer() : try pausedTimer()
        let first = try before.handling(command, expectedSyncVersion: before.syncVersion, at: at(10), deviceID: "phone")
        guard case .applied(let transition) = first else {
            Issue.record("expected the first \(command) to apply, got \(first)")
            return
        }
        let again = try transition.state.handling(command, expectedSyncVersion: before.syncVersion, at: at(10, 0, 1), deviceID: "phone")
        #expect(again == .unchanged)
    }

    @Test("a re-sent pause without a version is refused and changes nothing")
    func resentWithoutVersionIsRefused() throws {
        let paused = try pausedTimer()
        let error = caught { () throws(TimerDomainError) in
            try paused.handling(.pause, expectedSyncVersion: nil, at: at(10), deviceID: "phone")
        }
        #expect(error?.code == .failedPrecondition)
    }

    @Test("a stale version is ABORTED, naming both versions")
    func staleVersion() throws {
        var timer = RecordedTimer(at: at(9))
        try timer.apply(.pause, at: at(9, 10))
        try timer.apply(.resume, at: at(9, 20))
        try timer.apply(.pause, at: at(9, 30))  // version 4, paused
        let state = timer.state
        let twoBehind = caught { () throws(TimerDomainError) in
            try state.handling(.resume, expectedSyncVersion: 2, at: at(10), deviceID: "phone")
        }
        #expect(twoBehind == TimerDomainError(
            code: .aborted,
            message: "timer has changed: its sync_version is 4, expected_sync_version was 2",
            field: "expected_sync_version"
        ))
        #expect(twoBehind?.code.grpcStatusCode == 10)

        let ahead = caught { () throws(TimerDomainError) in
            try state.handling(.resume, expectedSyncVersion: 5, at: at(10), deviceID: "phone")
        }
        #expect(ahead?.code == .aborted)

        // One behind, but the timer is not where the command leads: another
        // change happened, not this one.
        let notReached = caught { () throws(TimerDomainError) in
            try state.handling(.resume, expectedSyncVersion: 3, at: at(10), deviceID: "phone")
        }
        #expect(notReached?.code == .aborted)
    }

    @Test("an expected_sync_version below 1 is INVALID_ARGUMENT")
    func nonPositiveVersion() {
        let running = runningTimer()
        let error = caught { () throws(TimerDomainError) in
            try running.handling(.pause, expectedSyncVersion: 0, at: at(10), deviceID: "phone")
        }
        #expect(error == TimerDomainError(
            code: .invalidArgument,
            message: "expected_sync_version must be at least 1, got 0",
            field: "expected_sync_version"
        ))
    }

    @Test("a re-sent delete is unchanged with its version and NOT_FOUND without")
    func resentDelete() throws {
        let deleted = try deletedTimer()  // version 2
        let replay = try deleted.handling(.delete, expectedSyncVersion: 1, at: at(10), deviceID: "phone")
        #expect(replay == .unchanged)
        let bare = caught { () throws(TimerDomainError) in
            try deleted.handling(.delete, expectedSyncVersion: nil, at: at(10), deviceID: "phone")
        }
        #expect(bare?.code == .notFound)
        let pause = caught { () throws(TimerDomainError) in
            try deleted.handling(.pause, expectedSyncVersion: 2, at: at(10), deviceID: "phone")
        }
        #expect(pause?.code == .notFound)
    }

    @Test("updates: a change applies, an update that changes nothing is unchanged")
    func updates() throws {
        let paused = try pausedTimer()  // version 2
        let outcome = try paused.handlingUpdate(changesFields: true, expectedSyncVersion: 2, at: at(10), deviceID: "phone")
        guard case .applied(let transition) = outcome else {
            Issue.record("expected the update to apply, got \(outcome)")
            return
        }
        #expect(transition.state.syncVersion == 3)
        #expect(transition.change == .updated)

        let noChange = try paused.handlingUpdate(changesFields: false, expectedSyncVersion: nil, at: at(10), deviceID: "phone")
        #expect(noChange == .unchanged)
        let replay = try transition.state.handlingUpdate(changesFields: false, expectedSyncVersion: 2, at: at(10), deviceID: "phone")
        #expect(replay == .unchanged)
        let state = transition.state
        let conflicting = caught { () throws(TimerDomainError) in
            try state.handlingUpdate(changesFields: true, expectedSyncVersion: 2, at: at(10), deviceID: "phone")
        }
        #expect(conflicting?.code == .aborted)
    }

    @Test("the strict version check")
    func strictCheck() throws {
        let paused = try pausedTimer()
        let passes = caught { () throws(TimerDomainError) in try paused.checkExpectedSyncVersion(2) }
        let absent = caught { () throws(TimerDomainError) in try paused.checkExpectedSyncVersion(nil) }
        let stale = caught { () throws(TimerDomainError) in try paused.checkExpectedSyncVersion(1) }
        #expect(passes == nil)
        #expect(absent == nil)
        #expect(stale?.code == .aborted)
    }

    @Test("client_ref: new creates, known returns the timer, a deleted one's key is spent")
    func createByClientRef() throws {
        let new = try TimerState.resolveCreate(existing: nil)
        #expect(new == .createNew)
        let known = try TimerState.resolveCreate(existing: try stoppedTimer())
        #expect(known == .returnExisting)
        let deleted = try deletedTimer()
        let spent = caught { () throws(TimerDomainError) in try TimerState.resolveCreate(existing: deleted) }
        #expect(spent?.code == .alreadyExists)
        #expect(spent?.code.grpcStatusCode == 6)
        #expect(spent?.field == "client_ref")
    }
}
