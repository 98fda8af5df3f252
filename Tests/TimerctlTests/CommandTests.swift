import Codec
import Foundation
import Testing
@testable import TimerctlCore

/// `timerctl` run as a user would, against a live `timerd` with a private
/// schema and Redis: each command's output and exit status, its `--json`
/// document, and failures as one line.
@Suite("timerctl commands against a live timerd", .serialized, .timeLimit(.minutes(3)))
struct CommandTests {
    @Test func startPauseResumeStopListActiveSessionsAndHealth() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let server = try await TimerdServer(environment: setup.environment)
            defer { server.stop() }
            let ctl = TimerctlRunner(address: server.address, token: ada.token)

            // start: the id first, for scripts.
            let started = try await ctl("start", "--account", String(ada.accountID), "--project", String(ada.projectID),
                                        "--rate", String(ada.rateID), "Design review")
            #expect(started.status == 0 && started.stderr.isEmpty, "\(started.stderr)")
            let words = started.stdout.split(separator: " ", omittingEmptySubsequences: true)
            let id = try #require(Int64(words.first ?? ""), "\(started.stdout)")
            #expect(started.stdout.contains("  running  ") && started.stdout.hasSuffix("USD  Design review\n"), "\(started.stdout)")

            let second = try await ctl.json("start", "--account", String(ada.accountID), "--client-ref",
                                            "7a3c9f5e-1d2b-4c6a-8e0f-9b8a7c6d5e4f", "--device", "laptop", "Client call")
            let secondID = try #require(second["timer"]?["id"]?.integerValue)
            #expect(second["created"] == .bool(true))
            #expect(second["timer"]?["status"] == .string("running"))
            #expect(second["timer"]?["device_id"] == .string("laptop"))
            #expect(second["timer"]?["hourly_rate"] == .null)
            #expect(second["meta"]?["active_count"] == .integer(2))
            let again = try await ctl.json("start", "--account", String(ada.accountID), "--client-ref",
                                           "7a3c9f5e-1d2b-4c6a-8e0f-9b8a7c6d5e4f", "Client call")
            #expect(again["created"] == .bool(false))
            #expect(again["timer"]?["id"]?.integerValue == secondID)

            // pause, resume, stop: the timer after the change.
            let paused = try await ctl("pause", String(id))
            #expect(paused.status == 0 && paused.stdout.hasPrefix("\(id)  paused  "), "\(paused.stdout) \(paused.stderr)")
            let resumed = try await ctl.json("resume", String(id))
            #expect(resumed["timer"]?["status"] == .string("running"))
            #expect(resumed["timer"]?["sync_version"] == .integer(3))
            #expect(resumed["meta"]?["running_count"] == .integer(2))
            let stale = try await ctl("pause", String(id), "--expected-version", "2")
            #expect(stale.failed(with: 1, saying: "(ABORTED)"), "\(stale)")
            let stopped = try await ctl.json("stop", String(id))
            #expect(stopped["timer"]?["status"] == .string("stopped"))
            #expect(stopped["timer"]?["stopped_at"]?.stringValue != nil)
            let money = try #require(stopped["timer"]?["current_value"])
            #expect(money["currency_code"] == .string("USD") && money["minor_unit_digits"] == .integer(2))
            #expect(money["amount"]?.stringValue?.contains(".") == true)

            // list: a table, newest first, with totals; --json with the page token.
            let list = try await ctl("list")
            #expect(list.status == 0, "\(list.stderr)")
            let listLines = list.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(listLines.first?.hasPrefix("ID  STATUS") == true, "\(list.stdout)")
            #expect(listLines.dropFirst().first?.contains("running") == true && listLines.dropFirst().first?.hasSuffix("Client call") == true)
            let listsTheStoppedOne = listLines.contains { $0.contains("stopped") && $0.hasSuffix("Design review") }
            #expect(listsTheStoppedOne)
            #expect(list.stdout.contains("1 active (1 running, 0 paused), "), "\(list.stdout)")
            let all = try await ctl.json("list")
            let allIDs = all["timers"]?.arrayValue?.compactMap { $0["id"]?.integerValue } == [secondID, id]
            #expect(allIDs)
            #expect(all["next_page_token"] == .string(""))
            let onlyStopped = try await ctl.json("list", "--status", "stopped")
            let stoppedIDs = onlyStopped["timers"]?.arrayValue?.compactMap { $0["id"]?.integerValue } == [id]
            #expect(stoppedIDs)
            let firstPage = try await ctl.json("list", "--limit", "1")
            #expect(firstPage["timers"]?.arrayValue?.count == 1)
            let token = try #require(firstPage["next_page_token"]?.stringValue)
            #expect(!token.isEmpty)
            let nextPage = try await ctl("list", "--limit", "1", "--page-token", token)
            #expect(nextPage.stdout.contains("Design review") && !nextPage.stdout.contains("Client call"), "\(nextPage.stdout)")
            let truncated = try await ctl("list", "--limit", "1")
            #expect(truncated.stdout.contains("more: timerctl list --limit 1 --page-token "), "\(truncated.stdout)")

            // active: the running timer and the figures.
            let active = try await ctl("active")
            #expect(active.status == 0 && active.stdout.contains("Client call") && !active.stdout.contains("Design review"), "\(active.stdout)")
            #expect(active.stdout.contains("1 active (1 running, 0 paused), "))
            let activeJSON = try await ctl.json("active")
            #expect(activeJSON["meta"]?["active_count"] == .integer(1))
            #expect(activeJSON["meta"]?["sync_timestamp"]?.stringValue?.hasSuffix("Z") == true)

            // sessions: two spans of the stopped timer (paused once between).
            let sessions = try await ctl("sessions", String(id))
            #expect(sessions.status == 0, "\(sessions.stderr)")
            #expect(sessions.stdout.hasPrefix("#  STARTED"), "\(sessions.stdout)")
            #expect(sessions.stdout.contains("\n2 sessions, "), "\(sessions.stdout)")
            let sessionsJSON = try await ctl.json("sessions", String(id))
            let spans = try #require(sessionsJSON["sessions"]?.arrayValue)
            #expect(spans.count == 2)
            let spansAreClosed = spans.allSatisfy { $0["ended_at"]?.stringValue != nil && $0["duration"]?.integerValue != nil }
            #expect(spansAreClosed)
            #expect(sessionsJSON["timer_id"] == .integer(id))

            // health.
            let health = try await ctl("health")
            #expect(health.status == 0, "\(health.stderr)")
            #expect(health.stdout.hasPrefix("service        OK\ndatabase       OK\nredis          OK\n"), "\(health.stdout)")
            let healthJSON = try await ctl.json("health")
            #expect(healthJSON["status"] == .string("ok"))
            #expect(healthJSON["database_connectivity"] == .string("ok"))
            #expect(healthJSON["active_timers_count"] == .integer(1))
            #expect(healthJSON["average_response_time"]?.stringValue?.hasSuffix("s") == true)
        }
    }

    @Test func failuresAreOneLineWithANonZeroStatus() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let server = try await TimerdServer(environment: setup.environment)
            defer { server.stop() }
            let ctl = TimerctlRunner(address: server.address, token: ada.token)
            let started = try await ctl.json("start", "--account", String(ada.accountID), "Brief")
            let id = try #require(started["timer"]?["id"]?.integerValue)
            _ = try await ctl.json("stop", String(id))

            let noToken = try await TimerctlRunner(address: server.address, token: nil)("list")
            #expect(noToken.failed(with: 1, saying: "no token: set TIMERD_TOKEN or pass --token"), "\(noToken)")
            let noTokenJSON = try await TimerctlRunner(address: server.address, token: nil)("active", "--json")
            #expect(noTokenJSON.failed(with: 1, saying: "no token"), "\(noTokenJSON)")
            let badToken = try await TimerctlRunner(address: server.address, token: "svt_nonsense")("active")
            #expect(badToken.failed(with: 1, saying: "(UNAUTHENTICATED; check TIMERD_TOKEN or --token)"), "\(badToken)")
            let badID = try await ctl("pause", "abc")
            #expect(badID.failed(with: 64, saying: "'abc'"), "\(badID)")
            #expect(badID.stderr.contains("see timerctl pause --help"))
            let zero = try await ctl("stop", "0")
            #expect(zero.failed(with: 64, saying: "expected a positive whole number"), "\(zero)")
            let unknown = try await ctl("pause", "999999")
            #expect(unknown.failed(with: 1, saying: "cannot pause timer 999999: "), "\(unknown)")
            #expect(unknown.stderr.contains("(NOT_FOUND)"))
            let unknownJSON = try await ctl("sessions", "999999", "--json")
            #expect(unknownJSON.failed(with: 1, saying: "(NOT_FOUND)"), "\(unknownJSON)")
            let stopped = try await ctl("resume", String(id))
            #expect(stopped.failed(with: 1, saying: "cannot resume timer \(id): "), "\(stopped)")
            #expect(stopped.stderr.contains("(FAILED_PRECONDITION)"))
            let stranger = try await ctl("start", "--account", "987654", "Not mine")
            #expect(stranger.failed(with: 1, saying: "cannot start a timer: "), "\(stranger)")
            let empty = try await ctl("start", "--account", String(ada.accountID), "")
            #expect(empty.failed(with: 1, saying: "(INVALID_ARGUMENT)"), "\(empty)")
            let missing = try await ctl("start", "Forgot the account")
            #expect(missing.failed(with: 64, saying: "--account"), "\(missing)")
            let unknownCommand = try await ctl("frobnicate")
            #expect(unknownCommand.failed(with: 64, saying: "frobnicate"), "\(unknownCommand)")

            let port = try freePort()
            let nowhere = try await TimerctlRunner(address: "127.0.0.1:\(port)", token: ada.token)("list")
            #expect(nowhere.failed(with: 1, saying: "(UNAVAILABLE; is timerd running at 127.0.0.1:\(port)?)"), "\(nowhere)")
            let watchNowhere = try await TimerctlRunner(address: "127.0.0.1:\(port)", token: ada.token)("watch", "--json")
            #expect(watchNowhere.failed(with: 1, saying: "cannot watch timers: "), "\(watchNowhere)")
            let watchBadToken = try await TimerctlRunner(address: server.address, token: "svt_nonsense")("watch")
            #expect(watchBadToken.failed(with: 1, saying: "(UNAUTHENTICATED"), "\(watchBadToken)")
            let badAddress = try await TimerctlRunner(address: "no-port-here", token: ada.token)("list")
            #expect(badAddress.failed(with: 64, saying: "no-port-here"), "\(badAddress)")

            let help = try await ctl("--help")
            #expect(help.status == 0 && help.stdout.contains("SUBCOMMANDS") && help.stdout.contains("watch"), "\(help)")
        }
    }

    @Test func syncFromAFileAndFromFlagsPrintsResolutionsAndConflicts() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let server = try await TimerdServer(environment: setup.environment)
            defer { server.stop() }
            let ctl = TimerctlRunner(address: server.address, token: ada.token)
            let first = try await ctl.json("start", "--account", String(ada.accountID), "--rate", String(ada.rateID), "Review")
            let id = try #require(first["timer"]?["id"]?.integerValue)
            let other = try await ctl.json("start", "--account", String(ada.accountID), "Other work")
            let otherID = try #require(other["timer"]?["id"]?.integerValue)

            // A phone paused `id` offline (it had version 1), and made a timer
            // offline. Absolute times: a re-sent file must say the same
            // (relative ones are resolved when sent).
            let now = Int64(Date().timeIntervalSince1970)
            func at(_ secondsAgo: Int64) -> String { Time.rfc3339(Timestamp(seconds: now - secondsAgo)) }
            let file = """
                {"device_id": "phone", "timers": [
                  {"id": \(id), "sync_version": 1, "transitions": [{"action": "pause", "at": "\(at(0))"}]},
                  {"client_ref": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "account_id": \(ada.accountID),
                   "description": "Train notes", "started_at": "\(at(3_600))", "transitions": [{"action": "stop", "at": "\(at(600))"}]}
                ]}
                """
            let synced = try await ctl("sync", "--file", "-", input: file)
            #expect(synced.status == 0, "\(synced.stderr)")
            #expect(synced.stdout.hasPrefix("synced 2 timers from phone\n"), "\(synced.stdout)")
            #expect(synced.stdout.contains("update server") && synced.stdout.contains("create on server"), "\(synced.stdout)")
            #expect(synced.stdout.contains("Train notes") && synced.stdout.contains("50m 00s"), "\(synced.stdout)")
            #expect(synced.stdout.contains("on the server, not on the device:") && synced.stdout.contains("Other work"), "\(synced.stdout)")

            // Sent again: nothing twice.
            let resent = try await ctl.json("sync", "--file", "-", input: file)
            let results = try #require(resent["results"]?.arrayValue)
            #expect(results.count == 2)
            #expect(resent["conflicts"]?.arrayValue?.isEmpty == true, "\(resent.serialized)")
            #expect(results.last?["resolution"] == .string("create_on_server"))
            #expect(results.last?["client_ref"] == .string("3f2504e0-4f89-41d3-9a0c-0305e82c3301"))
            #expect(results.last?["timer"]?["status"] == .string("stopped"))
            let list = try await ctl.json("list")
            #expect(list["timers"]?.arrayValue?.count == 3)

            // The laptop, still at version 1, stopped it: the server changed since, so a conflict.
            let conflict = try await ctl("sync", "--device", "laptop", "--id", String(id), "--version", "1", "--transition", "stop@-2s")
            #expect(conflict.status == 0, "\(conflict.stderr)")
            #expect(conflict.stdout.contains("update client"), "\(conflict.stdout)")
            #expect(conflict.stdout.contains("conflicts:\n  timer \(id): status_mismatch: device stopped, server paused; server wins (device v1, server v2)"),
                    "\(conflict.stdout)")
            let conflictJSON = try await ctl.json("sync", "--device", "laptop", "--id", String(id), "--version", "1", "--transition", "stop@-2s")
            let reported = try #require(conflictJSON["conflicts"]?[0])
            #expect(reported["conflict_type"] == .string("status_mismatch"))
            #expect(reported["resolution"] == .string("server_wins"))
            #expect(reported["local_status"] == .string("stopped") && reported["server_status"] == .string("paused"))
            #expect(conflictJSON["results"]?[0]?["resolution"] == .string("update_client"))

            // A timer made offline from flags: the client_ref is made up and shown.
            let fromFlags = try await ctl("sync", "--account", String(ada.accountID), "--description", "Flight", "--started-at", "-2h",
                                          "--transition", "pause@-1h")
            #expect(fromFlags.status == 0, "\(fromFlags.stderr)")
            #expect(fromFlags.stdout.contains("create on server") && fromFlags.stdout.contains("paused"), "\(fromFlags.stdout)")
            #expect(fromFlags.stdout.contains("client_ref ") && fromFlags.stdout.contains("pass --client-ref "), "\(fromFlags.stdout)")

            // Rejected: a version the server never had. Reported, exit status 2.
            let rejected = try await ctl.json("sync", "--id", String(otherID), "--version", "99", "--transition", "stop@-1s", status: 2)
            #expect(rejected["results"]?[0]?["resolution"] == .string("rejected"))
            #expect(rejected["results"]?[0]?["status"]?["code"] == .integer(3))

            // Mistakes in the input: one line.
            let notJSON = try await ctl("sync", "--file", "-", input: "{\"timers\": [")
            #expect(notJSON.failed(with: 1, saying: "the sync file is not JSON: line 1"), "\(notJSON)")
            let noFile = try await ctl("sync", "--file", "/nonexistent/changes.json")
            #expect(noFile.failed(with: 1, saying: "cannot read /nonexistent/changes.json"), "\(noFile)")
            let both = try await ctl("sync", "--file", "-", "--id", "3", "--transition", "stop@now")
            #expect(both.failed(with: 64, saying: "give --file or the flags of one timer, not both"), "\(both)")
            let badTime = try await ctl("sync", "--id", "3", "--version", "1", "--transition", "stop@teatime")
            #expect(badTime.failed(with: 64, saying: "times are RFC 3339"), "\(badTime)")
            let nothing = try await ctl("sync")
            #expect(nothing.failed(with: 64, saying: "say what to sync"), "\(nothing)")
        }
    }
}
