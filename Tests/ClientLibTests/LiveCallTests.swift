import ClientLib
import Testing

/// Every call of `TimerClient` against a real `timerd serve` (PostgreSQL,
/// Redis), with deadlines and cancellation.
@Suite("TimerClient against a live timerd", .timeLimit(.minutes(3)))
struct LiveCallTests {
    @Test func everyCallDoesWhatTheServiceSays() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            guard let project = Int64(try await setup.admin("create-project", "--account", String(ada.accountID), "--name", "Website")),
                  let rate = Int64(try await setup.admin("create-rate", "--account", String(ada.accountID), "--name", "Standard",
                                                         "--rate", "90.00", "--currency", "USD")) else {
                throw SetupFailure("no project or rate id")
            }
            let server = try await setup.startServer()
            let client = try setup.client(port: server.port, user: ada, deviceID: "laptop")
            defer { client.close() }

            let health = try await client.health()
            #expect(health.databaseConnectivity == .ok)

            // Create, idempotent by client_ref.
            let ref = TimerClient.newClientRef()
            let created = try await client.createTimer(accountID: ada.accountID, description: "Design review", projectID: project,
                                                       billingRateID: rate, clientRef: ref)
            let timer = try #require(created.timer)
            #expect(created.created)
            #expect(timer.status == .running)
            #expect(timer.deviceID == "laptop")
            #expect(timer.hourlyRate?.amountMinor == 9_000)
            #expect(created.meta?.runningCount == 1)
            let again = try await client.createTimer(accountID: ada.accountID, description: "Design review", clientRef: ref)
            #expect(!again.created)
            #expect(again.timer?.id == timer.id)

            #expect(try await client.getTimer(timer.id).timer?.description == "Design review")
            #expect(try await client.activeTimers().timers.map(\.id) == [timer.id])
            #expect(try await client.activeTimers(accountID: ada.accountID + 1000).timers.isEmpty)

            // Transitions; a re-sent one with its expected version is answered OK once more.
            let paused = try await client.pause(timer.id, expectedSyncVersion: 1)
            #expect(paused.timer?.status == .paused)
            #expect(paused.timer?.syncVersion == 2)
            let resent = try await client.pause(timer.id, expectedSyncVersion: 1)
            #expect(resent.timer?.syncVersion == 2)
            await expectFailure(.failedPrecondition) { () async throws(TimerClientError) in _ = try await client.pause(timer.id) }
            #expect(try await client.resume(timer.id).timer?.status == .running)
            let updated = try await client.update(timer.id, description: "Design review (final)", expectedSyncVersion: 3)
            #expect(updated.timer?.description == "Design review (final)")
            #expect(updated.timer?.syncVersion == 4)
            let sessions = try await client.sessions(timer.id)
            #expect(sessions.sessions.count == 2)
            #expect(sessions.sessions.first?.endedAt != nil)
            let stopped = try await client.stop(timer.id, expectedSyncVersion: 4, deviceID: "phone")
            #expect(stopped.timer?.status == .stopped)
            #expect(stopped.timer?.deviceID == "phone")
            await expectFailure(.aborted) { () async throws(TimerClientError) in
                _ = try await client.stop(timer.id, expectedSyncVersion: 2)
            }

            // Lists, a page at a time and whole.
            var others: [Int64] = []
            for name in ["Standup", "Code review", "Invoices"] {
                others.append(try #require(try await client.createTimer(accountID: ada.accountID, description: name).timer?.id))
            }
            let firstPage = try await client.listTimers(pageSize: 2)
            #expect(firstPage.timers.count == 2)
            #expect(!firstPage.nextPageToken.isEmpty)
            let secondPage = try await client.listTimers(pageSize: 2, pageToken: firstPage.nextPageToken)
            #expect(secondPage.timers.count == 2)
            let all = try await client.allTimers()
            #expect(Set(all.map(\.id)) == Set([timer.id] + others))
            #expect(try await client.allTimers(statuses: [.stopped]).map(\.id) == [timer.id])
            #expect(try await client.listTimers(projectID: project).timers.map(\.id) == [timer.id])

            // Bulk, delete.
            let bulk = try await client.bulk(.pause, ids: [others[0], others[1]])
            let codes = bulk.results.map { $0.status?.code ?? -1 }
            #expect(codes == [0, 0])
            let deleted = try await client.delete(others[2])
            #expect(deleted.timer?.deletedAt != nil)
            await expectFailure(.notFound) { () async throws(TimerClientError) in _ = try await client.getTimer(others[2]) }

            // Sync: a timer created offline.
            var offline = DeviceTimer()
            offline.clientRef = TimerClient.newClientRef()
            offline.accountID = ada.accountID
            offline.description = "Written on the train"
            offline.status = .running
            offline.startedAt = Timestamp.now.advanced(bySeconds: -600)
            var request = SyncTimersRequest()
            request.deviceID = "tablet"
            request.timers = [offline]
            let synced = try await client.sync(request)
            #expect(synced.results.map(\.resolution) == [.createOnServer])
            #expect(synced.results.first?.timer?.status == .running)

            // Admin calls need timers:admin: the error says so.
            await expectFailure(.permissionDenied) { () async throws(TimerClientError) in _ = try await client.adminActiveTimers() }

            // The watch opens with a snapshot of the active timers.
            var events = client.watchTimers().makeAsyncIterator()
            let snapshot = try await events.next()
            #expect(snapshot?.type == .snapshot)
            #expect(snapshot?.timers.count == 3)
        }
    }

    @Test func anAdministratorOverseesAnotherUsersTimers() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            guard let bossID = Int64(try await setup.admin("create-user", "--name", "Boss", "--email", "boss@example.com")) else {
                throw SetupFailure("no user id")
            }
            try await setup.admin("add-member", "--account", String(ada.accountID), "--user", String(bossID), "--role", "admin")
            let bossToken = try await setup.admin("create-token", "--user", String(bossID), "--abilities", "timers:read,timers:admin")
            let server = try await setup.startServer()
            let client = try setup.client(port: server.port, user: ada)
            defer { client.close() }
            let boss = try setup.client(port: server.port, user: TestUser(id: bossID, accountID: ada.accountID, token: bossToken))
            defer { boss.close() }
            let timer = try #require(try await client.createTimer(accountID: ada.accountID, description: "Left running").timer)

            let overseen = try await boss.adminActiveTimers(accountID: ada.accountID)
            #expect(overseen.timers.map(\.id) == [timer.id])
            #expect(overseen.timers.first?.userID == ada.id)
            #expect(try await boss.adminPause(timer.id, reason: "nobody is working at 3 am").timer?.status == .paused)
            #expect(try await boss.adminResume(timer.id, reason: "back").timer?.status == .running)
            #expect(try await boss.adminStop(timer.id, reason: "end of day").timer?.status == .stopped)
            #expect(try await client.getTimer(timer.id).timer?.status == .stopped)
        }
    }

    @Test func overTLSTheClientVerifiesTheServerAgainstItsRoots() async throws {
        let certificates = try await testCertificates()
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let server = try await setup.startServer(extra: ["TIMERD_TLS_CERT": certificates + "/server.pem",
                                                             "TIMERD_TLS_KEY": certificates + "/server.key"])
            let trusted = try TimerClient(configuration: .init(
                address: "127.0.0.1:\(server.port)", token: ada.token,
                tls: .init(trustRoots: certificates + "/ca.pem", serverName: "localhost")))
            defer { trusted.close() }
            let created = try await trusted.createTimer(accountID: ada.accountID, description: "Over TLS")
            #expect(created.timer?.description == "Over TLS")
            var events = trusted.watchTimers().makeAsyncIterator()
            let snapshot = try await events.next()
            #expect(snapshot?.timers.count == 1)

            // Another CA's roots: the handshake is refused, and not retried into success.
            let wary = try TimerClient(configuration: .init(
                address: "127.0.0.1:\(server.port)", token: ada.token,
                tls: .init(trustRoots: certificates + "/wrong-ca.pem", serverName: "localhost"), retry: .none))
            defer { wary.close() }
            await expectFailure(.unavailable) { () async throws(TimerClientError) in _ = try await wary.activeTimers() }
            // Plaintext to a TLS server fails too.
            let plain = try setup.client(port: server.port, user: ada, retry: .none)
            defer { plain.close() }
            do throws(TimerClientError) {
                _ = try await plain.activeTimers(options: CallOptions(timeout: .seconds(10)))
                Issue.record("h2c to a TLS server succeeded")
            } catch {
                #expect(error.code != .ok)
            }
        }
    }

    @Test func errorsCarryTheServersCodeAndMessage() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let reader = try await setup.user("Rae", abilities: "timers:read")
            let server = try await setup.startServer()
            let client = try setup.client(port: server.port, user: ada)
            defer { client.close() }

            do throws(TimerClientError) {
                _ = try await client.createTimer(accountID: ada.accountID, description: "")
                Issue.record("an empty description was taken")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("description"))
            }
            let readOnly = try setup.client(port: server.port, user: reader)
            defer { readOnly.close() }
            await expectFailure(.permissionDenied) { () async throws(TimerClientError) in
                _ = try await readOnly.createTimer(accountID: reader.accountID, description: "Nope")
            }
            let stranger = try TimerClient(configuration: .init(address: "127.0.0.1:\(server.port)", token: "svt_not-a-token"))
            defer { stranger.close() }
            await expectFailure(.unauthenticated) { () async throws(TimerClientError) in _ = try await stranger.activeTimers() }
            let anonymous = try TimerClient(configuration: .init(address: "127.0.0.1:\(server.port)"))
            defer { anonymous.close() }
            await expectFailure(.unauthenticated) { () async throws(TimerClientError) in _ = try await anonymous.activeTimers() }
            // A refused watch ends with the refusal instead of reconnecting.
            do throws(TimerClientError) {
                for try await _ in anonymous.watchTimers() {}
                Issue.record("the anonymous watch ended without an error")
            } catch {
                #expect(error.code == .unauthenticated)
            }
            #expect(anonymous.statistics.watchReconnects == 0)
            do throws(TimerClientError) {
                for try await _ in client.watchTimers(resumingFrom: "yesterday") {}
                Issue.record("a malformed resume point was taken")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("last_event_id"))
            }
        }
    }

    @Test func deadlinesAndCancellationEndCallsAsTheCallerAsks() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let server = try await setup.startServer()
            let client = try setup.client(port: server.port, user: ada)
            defer { client.close() }
            let timer = try #require(try await client.createTimer(accountID: ada.accountID, description: "Deadlines").timer)

            // A deadline no server can meet.
            await expectFailure(.deadlineExceeded) { () async throws(TimerClientError) in
                _ = try await client.getTimer(timer.id, options: CallOptions(timeout: .microseconds(1)))
            }
            // A generous one is no obstacle; the connection is still good.
            #expect(try await client.getTimer(timer.id, options: CallOptions(timeout: .seconds(30))).timer?.id == timer.id)

            // A task cancelled before its call: nothing is sent.
            let cancelled = Task { () async throws(TimerClientError) -> PauseTimerResponse in
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.pause(timer.id)
            }
            let outcome = await cancelled.result
            #expect((outcome.error as? TimerClientError)?.code == .cancelled)
            #expect(try await client.getTimer(timer.id).timer?.status == .running)

            // A watch whose task is cancelled ends with CANCELLED, without reconnecting.
            let gotSnapshot = Collected<TimerEventType>()
            let watcher = Task {
                for try await event in client.watchTimers() { gotSnapshot.append(event.type) }
            }
            #expect(await eventually { gotSnapshot.all == [.snapshot] })
            watcher.cancel()
            let ended = await watcher.result
            #expect((ended.error as? TimerClientError)?.code == .cancelled)
            #expect(client.statistics.watchReconnects == 0)
        }
    }
}

extension Result {
    /// The failure, if it is one.
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
