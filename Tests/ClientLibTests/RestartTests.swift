import ClientLib
import Testing

/// What the client does while its server restarts: safe calls wait it out
/// and succeed once, unsafe ones fail at once, and a watch resumes on the
/// new process with every event once.
@Suite("TimerClient across server restarts", .timeLimit(.minutes(3)))
struct RestartTests {
    /// Retries enough to wait out a restart.
    static let patient = RetryPolicy(maxAttempts: 200, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(200))

    @Test func safeCallsWaitOutARestartAndApplyOnce() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let port = try freePort()
            try await setup.startServer(port: port)
            let client = try setup.client(port: port, user: ada, retry: Self.patient)
            defer { client.close() }
            let timer = try #require(try await client.createTimer(accountID: ada.accountID, description: "Restart").timer)

            setup.stopServer(port: port)
            // Unsafe while down: one attempt, UNAVAILABLE at once.
            await expectFailure(.unavailable) { () async throws(TimerClientError) in _ = try await client.pause(timer.id) }
            #expect(client.statistics.retries == 0)

            // Safe while down: retried until the server is back.
            let read = Task { () async throws(TimerClientError) -> GetTimerResponse in
                try await client.getTimer(timer.id, options: CallOptions(timeout: .seconds(60)))
            }
            let pause = Task { () async throws(TimerClientError) -> PauseTimerResponse in
                try await client.pause(timer.id, expectedSyncVersion: timer.syncVersion, options: CallOptions(timeout: .seconds(60)))
            }
            #expect(await eventually { client.statistics.retries >= 4 })
            try await setup.startServer(port: port)

            let got = try await read.value
            #expect(got.timer?.id == timer.id)
            let paused = try await pause.value
            #expect(paused.timer?.status == .paused)
            #expect(paused.timer?.syncVersion == timer.syncVersion + 1)
            // One pause, one closed session.
            let sessions = try await client.sessions(timer.id)
            #expect(sessions.sessions.count == 1)
            #expect(sessions.sessions.first?.endedAt != nil)
        }
    }

    @Test func aWatchResumesOnTheRestartedServerWithEveryEventOnce() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let port = try freePort()
            try await setup.startServer(port: port)
            // A second instance on the same database and Redis stays up and
            // takes the changes made while the first is down.
            let other = try await setup.startServer()
            let watching = try setup.client(port: port, user: ada, retry: Self.patient)
            defer { watching.close() }
            let changing = try setup.client(port: other.port, user: ada)
            defer { changing.close() }

            let stream = watching.watchTimers(heartbeatSeconds: 1)
            let events = Collected<TimerEvent>()
            let reader = Task {
                for try await event in stream where event.type != .heartbeat { events.append(event) }
            }
            defer { reader.cancel() }
            #expect(await eventually { events.all.first?.type == .snapshot })

            let timer = try #require(try await changing.createTimer(accountID: ada.accountID, description: "Watched").timer)
            _ = try await changing.pause(timer.id)
            #expect(await eventually { events.all.count == 3 })

            // The watched server goes away; three changes happen meanwhile.
            setup.stopServer(port: port)
            _ = try await changing.resume(timer.id)
            _ = try await changing.pause(timer.id)
            _ = try await changing.resume(timer.id)
            #expect(await eventually { watching.statistics.watchReconnects >= 2 })
            try await setup.startServer(port: port)
            // Replayed after the restart, then live again.
            #expect(await eventually { events.all.count == 6 })
            _ = try await changing.stop(timer.id)
            #expect(await eventually { events.all.count == 7 })

            let seen = events.all
            let types = seen.map(\.type)
            #expect(types == [.snapshot, .started, .paused, .resumed, .paused, .resumed, .stopped])
            let versions = seen.dropFirst().map(\.syncVersion)
            #expect(versions == [1, 2, 3, 4, 5, 6])
            let ids = seen.dropFirst().map(\.eventID)
            #expect(Set(ids).count == 6 && !ids.contains(""))
            #expect(stream.lastEventID == ids.last)
        }
    }
}
