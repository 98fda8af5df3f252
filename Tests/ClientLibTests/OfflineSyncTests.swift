import ClientLib
import Testing

/// OfflineSync against a live timerd: changes queued offline, synced in one
/// call per interval, the server's verdicts adopted, conflicts reported.
@Suite("OfflineSync against a live timerd", .timeLimit(.minutes(3)))
struct OfflineSyncTests {
    /// The next `.synced` report from `events` (nil if the stream ends first).
    func nextReport(_ events: inout AsyncStream<SyncEvent>.Iterator) async -> SyncReport? {
        while let event = await events.next() {
            if case .synced(let report) = event { return report }
        }
        return nil
    }

    @Test func offlineChangesSyncWithTheServersVerdictsAndAConflict() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let server = try await setup.startServer()
            let client = try setup.client(port: server.port, user: ada)
            defer { client.close() }
            let device = OfflineSync(client: client, configuration: .init(deviceID: "laptop", interval: .milliseconds(200)))
            var events = device.events.makeAsyncIterator()

            // Online: a change syncs by itself.
            let call = await device.start(accountID: ada.accountID, description: "Client call")
            let first = try #require(await nextReport(&events))
            #expect(first.items.map(\.resolution) == [.createOnServer])
            let callID = try #require(first.items.first?.timer?.id)
            #expect(await device.timer(call.key)?.serverID == callID)
            #expect(await device.pendingCount == 0)

            // Offline: a pause, and a timer made and finished an hour ago.
            await device.setOnline(false)
            try await device.pause(call.key)
            let now = Timestamp.now
            let flight = await device.start(accountID: ada.accountID, description: "Flight notes", at: now.advanced(bySeconds: -7_200))
            try await device.stop(flight.key, at: now.advanced(bySeconds: -3_600))
            #expect(await device.pendingCount == 2)
            // Meanwhile another device stops the call on the server.
            _ = try await client.stop(callID, deviceID: "phone")

            // Back online: one sync with both.
            await device.setOnline(true)
            let second = try #require(await nextReport(&events))
            #expect(second.items.map(\.description) == ["Client call", "Flight notes"])
            #expect(second.items.map(\.resolution) == [.updateClient, .createOnServer])
            let conflict = try #require(second.items.first?.conflict)
            #expect(conflict.conflictType == .statusMismatch)
            #expect(conflict.localStatus == .paused)
            #expect(conflict.serverStatus == .stopped)
            #expect(conflict.resolution == .serverWins)
            #expect(second.conflicts.count == 1)
            let created = try #require(second.items.last?.timer)
            #expect(created.status == .stopped)
            #expect(created.totalDuration == 3_600)
            // Both settled (stopped, nothing to send): the device forgets them.
            #expect(await device.timers.isEmpty)
            #expect(await device.lastSync != nil)
            await device.close()
        }
    }

    @Test func changesWithinOneIntervalGoInOneSync() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let server = try await setup.startServer()
            let client = try setup.client(port: server.port, user: ada)
            defer { client.close() }
            // The default interval, 5 s: ample for three local changes.
            let device = OfflineSync(client: client, configuration: .init(deviceID: "laptop"))
            var events = device.events.makeAsyncIterator()

            let first = await device.start(accountID: ada.accountID, description: "First")
            let one = try #require(await nextReport(&events))
            #expect(one.items.count == 1)
            // Three changes right after a sync: they wait for the interval, together.
            try await device.pause(first.key)
            await device.start(accountID: ada.accountID, description: "Second")
            await device.start(accountID: ada.accountID, description: "Third")
            let two = try #require(await nextReport(&events))
            #expect(two.items.map(\.description) == ["First", "Second", "Third"])
            #expect(two.items.map(\.resolution) == [.updateServer, .createOnServer, .createOnServer])
            #expect(await device.pendingCount == 0)
            let active = try await client.activeTimers()
            #expect(active.meta?.pausedCount == 1)
            #expect(active.meta?.runningCount == 2)
            await device.close()
        }
    }

    @Test func aDeviceLearnsServerTimersAndChangesThemOffline() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada")
            let server = try await setup.startServer()
            let client = try setup.client(port: server.port, user: ada)
            defer { client.close() }
            let made = try #require(try await client.createTimer(accountID: ada.accountID, description: "From the web").timer)
            let device = OfflineSync(client: client, configuration: .init(deviceID: "phone", automatic: false))

            let learned = try await device.syncNow()
            #expect(learned.learned.map(\.id) == [made.id])
            let local = try #require(await device.timers.first)
            #expect(local.serverID == made.id)
            #expect(local.key == .clientRef(made.clientRef))

            // Local rules: a paused timer cannot be paused again.
            try await device.pause(local.key)
            do throws(TimerClientError) {
                try await device.pause(local.key)
                Issue.record("a paused timer was paused again")
            } catch {
                #expect(error.code == .failedPrecondition)
            }
            do throws(TimerClientError) {
                try await device.stop(.server(999_999))
                Issue.record("an unknown timer was stopped")
            } catch {
                #expect(error.code == .notFound)
            }

            // Not automatic: nothing is sent until asked.
            #expect(try await client.getTimer(made.id).timer?.status == .running)
            let report = try await device.syncNow()
            #expect(report.items.map(\.resolution) == [.updateServer])
            #expect(report.conflicts.isEmpty)
            #expect(try await client.getTimer(made.id).timer?.status == .paused)
            #expect(await device.timer(local.key)?.syncVersion == 2)

            // Offline, syncNow refuses; changes wait.
            await device.setOnline(false)
            try await device.resume(local.key)
            await expectFailure(.unavailable) { () async throws(TimerClientError) in _ = try await device.syncNow() }
            #expect(await device.pendingCount == 1)
            await device.close()
        }
    }

    @Test func aFailedSyncIsReportedAndItsChangesKept() async throws {
        try await LiveSetup.with { setup in
            let ada = try await setup.user("Ada", abilities: "timers:read,timers:write")  // no timers:sync
            let server = try await setup.startServer()
            let client = try setup.client(port: server.port, user: ada)
            defer { client.close() }
            let device = OfflineSync(client: client, configuration: .init(deviceID: "laptop", interval: .milliseconds(100)))
            var events = device.events.makeAsyncIterator()
            await device.start(accountID: ada.accountID, description: "Kept")
            guard case .failed(let error)? = await events.next() else {
                Issue.record("the sync without the ability did not fail")
                return
            }
            #expect(error.code == .permissionDenied)
            #expect(await device.pendingCount == 1)
            await device.close()
            // Closing finishes the events.
            while await events.next() != nil {}
        }
    }
}
