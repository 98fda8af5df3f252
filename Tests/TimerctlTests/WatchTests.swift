import Codec
import Foundation
import Testing
@testable import TimerctlCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `timerctl watch` against live `timerd` processes: on a pseudo-terminal
/// (the table, ticking, changes from another client, a server restart,
/// Ctrl-C), and as JSON lines.
@Suite("timerctl watch against a live timerd", .serialized, .timeLimit(.minutes(3)))
struct WatchTests {
    /// The row of timer `id` in a frame, split into its cells (ID, STATUS,
    /// DURATION, VALUE, DESCRIPTION).
    static func row(_ id: Int64, in frame: [String]) -> [String]? {
        for line in frame {
            let cells = line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if cells.count == 5, cells[0] == String(id) { return cells }
        }
        return nil
    }

    static func isLive(_ frame: [String]) -> Bool {
        frame.first?.contains("· live") == true
    }

    @Test func onATerminalTheTableTicksShowsOtherDevicesSurvivesARestartAndCtrlCRestoresTheTerminal() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let a = try await TimerdServer(environment: setup.environment)
            defer { a.stop() }
            let b = try await TimerdServer(environment: setup.environment)
            defer { b.stop() }
            let ctl = TimerctlRunner(address: a.address, token: ada.token)
            let elsewhere = TimerctlRunner(address: b.address, token: ada.token)
            let rate = String(ada.rateID), account = String(ada.accountID)
            let review = try #require(try await ctl.json("start", "--account", account, "--rate", rate, "Design review")["timer"]?["id"]?.integerValue)
            let call = try #require(try await ctl.json("start", "--account", account, "--rate", rate, "Client call")["timer"]?["id"]?.integerValue)

            // Heartbeats a minute apart: every redraw seen here comes from the
            // watch's own ticking, or from a change.
            let pty = try PseudoTerminal(try Products.binary("timerctl"), ["watch", "--heartbeat", "60"],
                                         environment: Products.environment(ctl.environment.merging(["TERM": "xterm-256color"]) { $1 }),
                                         rows: 30, columns: 100)
            defer { pty.close() }
            func latest() -> [String] { ScreenText.frames(pty.raw).last ?? [] }

            // The table, live, both timers running.
            let shown = await eventually {
                let frame = latest()
                return Self.isLive(frame) && Self.row(review, in: frame)?[1] == "running" && Self.row(call, in: frame)?[1] == "running"
            }
            try #require(shown, "screen: \(latest()) log: \(a.log)")
            let totalsShown = latest().contains { $0.hasPrefix("2 active (2 running, 0 paused), ") }
            #expect(totalsShown)
            #expect(latest().last == "q or Ctrl-C to quit")
            let fitsTheWidth = latest().allSatisfy { HumanText.width($0) < 100 }
            #expect(fitsTheWidth)

            // Ticking between events: the duration and the value of a running
            // timer change from one redraw to the next, without any event.
            func reviewFigures() -> [[String]] { ScreenText.frames(pty.raw).compactMap { Self.row(review, in: $0) }.map { [$0[2], $0[3]] } }
            let ticked = await eventually(within: .seconds(10)) { Set(reviewFigures().map { $0[0] }).count >= 3 }
            #expect(ticked, "durations seen: \(reviewFigures())")
            let durations = reviewFigures().map { $0[0] }
            var distinct: [String] = []
            for duration in durations where distinct.last != duration { distinct.append(duration) }
            let seconds = distinct.compactMap { Int($0.dropLast()) }  // "3s" (under a minute here)
            #expect(seconds.count == distinct.count && seconds == seconds.sorted(), "\(distinct)")
            let valuesTicked = Set(reviewFigures().map { $0[1] }).count >= 2
            #expect(valuesTicked, "values seen: \(reviewFigures())")

            // A change made through another client and another server
            // instance shows at once, with the device that made it.
            let paused = try await elsewhere("pause", String(call), "--device", "phone")
            try #require(paused.status == 0, "\(paused.stderr)")
            let sawPause = await eventually(within: .seconds(10)) {
                let frame = latest()
                return Self.row(call, in: frame)?[1] == "paused"
                    && frame.contains { $0.contains(" paused   \(call)  Client call  (phone)") }
                    && frame.contains { $0.hasPrefix("2 active (1 running, 1 paused), ") }
            }
            #expect(sawPause, "screen: \(latest())")

            // timerd restarts on the port it had: the screen says it is
            // reconnecting; a change made meanwhile through the other instance
            // arrives once it is back (replayed after the last event id, so it
            // is listed among the latest changes, not only in the table).
            a.stop()
            let reconnecting = await eventually(within: .seconds(15)) { latest().first?.contains("reconnecting") == true }
            #expect(reconnecting, "screen: \(latest())")
            let resumed = try await elsewhere("resume", String(call), "--device", "tablet")
            try #require(resumed.status == 0, "\(resumed.stderr)")
            try await a.start()
            let back = await eventually(within: .seconds(30)) {
                let frame = latest()
                return Self.isLive(frame) && Self.row(call, in: frame)?[1] == "running"
                    && frame.contains { $0.contains(" resumed  \(call)  Client call  (tablet)") }
            }
            #expect(back, "screen: \(latest()) log: \(a.log)")

            // Ctrl-C: exit status 0, the screen and the settings as they were.
            pty.type([0x03])
            let exited = await eventually(within: .seconds(10)) { pty.exited() != nil }
            try #require(exited, "still running after Ctrl-C: \(latest())")
            #expect(pty.exited() == 0)
            let restoredScreen = await eventually(within: .seconds(5)) { pty.raw.hasSuffix("\u{1B}[?25h\u{1B}[?1049l") }
            #expect(restoredScreen, "ends with: \(pty.raw.suffix(40).debugDescription)")
            #expect(pty.raw.hasPrefix("\u{1B}[?1049h\u{1B}[?25l"))
            let before = pty.initialSettings, after = pty.settings()
            let modes = tcflag_t(ECHO | ICANON | ISIG)
            #expect(after.c_lflag & modes == before.c_lflag & modes)
            #expect(after.c_lflag & tcflag_t(ECHO) != 0)
            let suspend = (withUnsafeBytes(of: before.c_cc) { $0[Int(VSUSP)] }, withUnsafeBytes(of: after.c_cc) { $0[Int(VSUSP)] })
            #expect(suspend.0 == suspend.1)
        }
    }

    @Test func qQuitsAndAResizedTerminalIsRedrawnToFit() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let server = try await TimerdServer(environment: setup.environment)
            defer { server.stop() }
            let ctl = TimerctlRunner(address: server.address, token: ada.token)
            let id = try #require(try await ctl.json("start", "--account", String(ada.accountID), "--rate", String(ada.rateID),
                                                     String(repeating: "A long description ", count: 8))["timer"]?["id"]?.integerValue)
            let pty = try PseudoTerminal(try Products.binary("timerctl"), ["watch"], environment: Products.environment(ctl.environment),
                                         rows: 30, columns: 120)
            defer { pty.close() }
            func latest() -> [String] { ScreenText.frames(pty.raw).last ?? [] }
            let live = await eventually { Self.isLive(latest()) && Self.row(id, in: latest()) != nil }
            try #require(live, "screen: \(latest())")
            let wide = latest().contains { HumanText.width($0) > 60 }
            #expect(wide)

            pty.resize(rows: 12, columns: 60)
            let fitted = await eventually(within: .seconds(10)) {
                let frame = latest()
                return Self.row(id, in: frame) != nil && frame.count <= 12 && frame.allSatisfy { HumanText.width($0) < 60 }
            }
            #expect(fitted, "screen: \(latest())")
            #expect(Self.row(id, in: latest())?.last?.hasSuffix("…") == true)

            pty.type(Array("q".utf8))
            let exited = await eventually(within: .seconds(10)) { pty.exited() != nil }
            try #require(exited)
            #expect(pty.exited() == 0)
            let restoredScreen = await eventually(within: .seconds(5)) { pty.raw.hasSuffix("\u{1B}[?25h\u{1B}[?1049l") }
            #expect(restoredScreen)
            #expect(pty.settings().c_lflag & tcflag_t(ECHO | ICANON) == pty.initialSettings.c_lflag & tcflag_t(ECHO | ICANON))
        }
    }

    @Test func withJSONEachEventIsOneLineAndARestartResumesAfterTheLastEvent() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let a = try await TimerdServer(environment: setup.environment)
            defer { a.stop() }
            let b = try await TimerdServer(environment: setup.environment)
            defer { b.stop() }
            let ctl = TimerctlRunner(address: a.address, token: ada.token)
            let elsewhere = TimerctlRunner(address: b.address, token: ada.token)

            let (watcher, stdout, stderr) = try Products.start("timerctl", ["watch", "--json", "--heartbeat", "1"], environment: ctl.environment) { _ in }
            let (plain, plainOut, plainErr) = try Products.start("timerctl", ["watch"], environment: ctl.environment) { _ in }
            defer {
                for process in [watcher, plain] where process.isRunning { process.terminate(); process.waitUntilExit() }
                for url in [stdout, stderr, plainOut, plainErr] { try? FileManager.default.removeItem(at: url) }
            }
            func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
            /// Complete lines, each parsed (a line that is not JSON fails the test).
            func events() -> [JSONValue] {
                let output = text(stdout)
                let complete = output.hasSuffix("\n") ? output : String(output[..<(output.lastIndex(of: "\n") ?? output.startIndex)])
                return complete.split(separator: "\n").map { line in
                    (try? JSONValue.parse(String(line))) ?? .string("not JSON: \(line)")
                }
            }
            func types() -> [String] { events().compactMap { $0["type"]?.stringValue }.filter { $0 != "heartbeat" } }

            let snapshotFirst = await eventually { types().first == "snapshot" }
            #expect(snapshotFirst, "\(text(stdout)) \(text(stderr))")
            let plainSnapshot = await eventually { text(plainOut).contains("  snapshot  0 active, 0 running") }
            #expect(plainSnapshot, "\(text(plainOut))")
            let id = try #require(try await ctl.json("start", "--account", String(ada.accountID), "Design review")["timer"]?["id"]?.integerValue)
            _ = try await ctl.json("pause", String(id))
            let changesInOrder = await eventually { types() == ["snapshot", "started", "paused"] }
            #expect(changesInOrder, "\(types())")
            let heartbeats = await eventually { events().contains { $0["type"] == .string("heartbeat") } }
            #expect(heartbeats)
            let started = try #require(events().first { $0["type"] == .string("started") })
            #expect(started["timer"]?["id"] == .integer(id))
            #expect(started["event_id"]?.stringValue?.isEmpty == false)
            #expect(started["meta"]?["running_count"] == .integer(1))
            let plainStarted = await eventually { text(plainOut).contains("  started  \(id)  running  ") }
            #expect(plainStarted, "\(text(plainOut))")

            // Restart on the same port; a change through the other instance
            // while it is down. The stream resumes after the last event: the
            // missed change comes as itself, no new snapshot.
            a.stop()
            let noticed = await eventually { text(stderr).contains("timerctl: connection lost: ") }
            #expect(noticed, "\(text(stderr))")
            _ = try await elsewhere.json("resume", String(id), "--device", "tablet")
            try await a.start()
            let caughtUp = await eventually(within: .seconds(30)) { types().count >= 4 }
            #expect(caughtUp, "\(types()) \(text(stderr))")
            #expect(types() == ["snapshot", "started", "paused", "resumed"])
            let missed = try #require(events().last { $0["type"] == .string("resumed") })
            #expect(missed["timer"]?["device_id"] == .string("tablet"))
            let allEvents = events().allSatisfy { $0.members?.first?.key == "event_id" }
            #expect(allEvents)
            let onlyNotices = text(stderr).split(separator: "\n").allSatisfy { $0.hasPrefix("timerctl: connection lost: ") }
            #expect(onlyNotices, "\(text(stderr))")

            // SIGINT: exit status 0.
            for process in [watcher, plain] {
                kill(process.processIdentifier, SIGINT)
                process.waitUntilExit()
                #expect(process.terminationReason == .exit && process.terminationStatus == 0)
            }
        }
    }
}
