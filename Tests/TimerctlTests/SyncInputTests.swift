import Codec
import Testing
@testable import TimerctlCore

@Suite("sync's input: a file or one timer's flags")
struct SyncInputTests {
    let now = Timestamp(seconds: 1_777_629_600)

    @Test func aFileBecomesTheRequestWithStatusesFromTheLastTransition() throws {
        let text = """
            {
              "device_id": "laptop",
              "last_sync": "2026-05-01T09:00:00Z",
              "timers": [
                {"id": 42, "sync_version": 3, "transitions": [{"action": "pause", "at": "-20m"}, {"action": "resume", "at": "-5m"}]},
                {"client_ref": "0b6f3c1e-8f0e-4f57-9d1c-2f7d8c1e5a10", "account_id": 1, "project_id": 2, "billing_rate_id": null,
                 "description": "Notes", "started_at": "-1h"},
                {"id": 7, "sync_version": 1, "status": "stopped", "last_updated": "now"}
              ]
            }
            """
        let request = try SyncInput.request(json: text, device: nil, now: now)
        #expect(request.deviceID == "laptop")
        #expect(request.deviceTime == now)
        #expect(request.lastSync == Timestamp(seconds: now.seconds - 3_600))
        #expect(request.timers.count == 3)
        let first = request.timers[0]
        #expect(first.id == 42 && first.syncVersion == 3)
        #expect(first.transitions.map(\.action) == [.pause, .resume])
        let transitionTimes = first.transitions.map { $0.at?.seconds } == [now.seconds - 1_200, now.seconds - 300]
        #expect(transitionTimes)
        #expect(first.status == .running)
        #expect(first.lastUpdated?.seconds == now.seconds - 300)
        let second = request.timers[1]
        #expect(second.id == nil && second.clientRef == "0b6f3c1e-8f0e-4f57-9d1c-2f7d8c1e5a10")
        #expect(second.accountID == 1 && second.projectID == 2 && second.billingRateID == nil)
        #expect(second.status == .running)
        #expect(second.startedAt?.seconds == now.seconds - 3_600)
        #expect(request.timers[2].status == .stopped)
        #expect(request.timers[2].lastUpdated == now)

        let renamed = try SyncInput.request(json: #"{"timers": []}"#, device: "phone", now: now)
        #expect(renamed.deviceID == "phone")
        #expect(try SyncInput.request(json: #"{"timers": []}"#, device: nil, now: now).deviceID == "timerctl")
    }

    @Test(arguments: [
        (#"[1]"#, "must hold a JSON object"),
        (#"{"timer": []}"#, #"unknown field "timer""#),
        (#"{"device_id": "x"}"#, #""timers" is missing"#),
        (#"{"timers": [{"id": "42"}]}"#, "timers[0].id must be a whole number, not a string"),
        (#"{"timers": [{"id": 4, "sync_version": 1}]}"#, "timers[0]: give its status or its transitions"),
        (#"{"timers": [{"status": "running", "colour": 1}]}"#, #"timers[0]: unknown field "colour""#),
        (#"{"timers": [{"status": "idle"}]}"#, #"timers[0].status must be running, paused or stopped, not "idle""#),
        (#"{"timers": [{"transitions": [{"action": "jump", "at": "now"}]}]}"#, "timers[0].transitions[0].action must be pause, resume or stop"),
        (#"{"timers": [{"transitions": [{"action": "stop"}]}]}"#, "timers[0].transitions[0].at is missing"),
        (#"{"timers": [{"started_at": "yesterday"}]}"#, #"timers[0].started_at "yesterday": times are RFC 3339"#),
        (#"{"timers": [}"#, "the sync file is not JSON: line 1, column 13"),
    ])
    func fileMistakesAreNamed(text: String, expected: String) {
        do {
            _ = try SyncInput.request(json: text, device: nil, now: now)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func flagsDescribeOneTimer() throws {
        var flags = SyncInput.TimerFlags()
        flags.id = 42
        flags.syncVersion = 3
        flags.transitions = ["pause@-20m", "stop@2026-05-01T09:59:00Z"]
        let known = try SyncInput.deviceTimer(flags, now: now) { Issue.record("made a client_ref"); return "" }
        #expect(known.id == 42 && known.clientRef.isEmpty && known.syncVersion == 3)
        #expect(known.status == .stopped)
        let flagTimes = known.transitions.map { $0.at?.seconds } == [now.seconds - 1_200, now.seconds - 60]
        #expect(flagTimes)

        var new = SyncInput.TimerFlags()
        new.accountID = 1
        new.description = "Train"
        new.startedAt = "-1h"
        let created = try SyncInput.deviceTimer(new, now: now) { "made-up" }
        #expect(created.clientRef == "made-up" && created.status == .running && created.syncVersion == 0)
        #expect(created.startedAt?.seconds == now.seconds - 3_600)
    }

    @Test func flagMistakesAreUsageErrors() {
        for transition in ["pause", "jump@-5m", "pause@soon"] {
            var flags = SyncInput.TimerFlags()
            flags.id = 1
            flags.transitions = [transition]
            #expect(throws: TimerctlError.self) { try SyncInput.deviceTimer(flags, now: now) { "" } }
        }
        var flags = SyncInput.TimerFlags()
        flags.id = 1
        flags.syncVersion = 2
        do {
            _ = try SyncInput.deviceTimer(flags, now: now) { "" }
            Issue.record("accepted a timer without a change")
        } catch {
            #expect(error.exitStatus == ExitStatus.usage)
            #expect(error.message.contains("--transition"))
        }
    }
}
