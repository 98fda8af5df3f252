import ClientLib
import Synchronization
import Testing

/// The runtime's own rules against an in-process server that answers as
/// each test scripts it: credentials and deadlines on every call, retries,
/// cancellation, watch resumption, closing.
@Suite("Client runtime against a scripted server", .timeLimit(.minutes(2)))
struct RuntimeTests {
    static let quick = RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50))

    func withServer(retry: RetryPolicy = quick, _ body: (ScriptedServer, TimerClient) async throws -> Void) async throws {
        let server = try ScriptedServer()
        // A default deadline long enough for a loaded machine; the tests that
        // need a deadline set their own.
        let client = try TimerClient(configuration: .init(address: server.address, token: "svt_test", defaultTimeout: .seconds(60),
                                                          retry: retry))
        do {
            try await body(server, client)
        } catch {
            client.close()
            await server.shutdown()
            throw error
        }
        client.close()
        await server.shutdown()
    }

    func unavailable(_ message: String = "try again") -> ScriptedServer.Reply {
        .fail(RPCError(code: .unavailable, message: message))
    }

    @Test func everyCallCarriesTheTokenTheDefaultDeadlineAndItsOwnMetadata() async throws {
        try await withServer { server, client in
            _ = try await client.getTimer(7)
            var metadata = Metadata()
            metadata.add("x-request-id", "r-1")
            _ = try await client.getTimer(8, options: CallOptions(timeout: .seconds(30), metadata: metadata))
            _ = try await client.service.getTimer(GetTimerRequest())
            var own = Metadata()
            own.add("authorization", "Bearer someone-else")
            _ = try await client.getTimer(9, options: CallOptions(metadata: own))

            let seen = server.seen
            try #require(seen.count == 4)
            #expect(seen[0].metadata["authorization"] == "Bearer svt_test")
            let defaultWindow = seen[0].deadline.map { $0 - seen[0].receivedAt }
            #expect(defaultWindow.map { $0 > .zero && $0 <= .seconds(60) } == true, "\(String(describing: defaultWindow))")
            #expect(seen[1].metadata["x-request-id"] == "r-1")
            #expect(seen[1].metadata["authorization"] == "Bearer svt_test")
            let ownWindow = seen[1].deadline.map { $0 - seen[1].receivedAt }
            #expect(ownWindow.map { $0 > .zero && $0 <= .seconds(30) } == true)
            #expect(seen[2].metadata["authorization"] == "Bearer svt_test")
            #expect(seen[3].metadata.values("authorization") == [.string("Bearer someone-else")])
        }
    }

    @Test func safeCallsAreRetriedAfterUnavailableUpToTheAttempts() async throws {
        try await withServer { server, client in
            server.script("GetTimer", unavailable(), unavailable())
            let timer = try await client.getTimer(5).timer
            #expect(timer?.id == 5)
            #expect(server.calls("GetTimer") == 3)
            #expect(client.statistics.retries == 2)

            // CreateTimer carries a client_ref of its own: safe.
            server.script("CreateTimer", unavailable())
            let created = try await client.createTimer(accountID: 1, description: "Retried")
            #expect(created.timer?.clientRef.isEmpty == false)
            #expect(server.calls("CreateTimer") == 2)

            // Transitions with expected_sync_version: safe.
            server.script("PauseTimer", unavailable())
            _ = try await client.pause(3, expectedSyncVersion: 1)
            #expect(server.calls("PauseTimer") == 2)

            // Four attempts, then the error, saying so.
            server.script("GetTimer", unavailable(), unavailable(), unavailable(), unavailable(), unavailable())
            do throws(TimerClientError) {
                _ = try await client.getTimer(5)
                Issue.record("a call failing five times succeeded")
            } catch {
                #expect(error.code == .unavailable)
                #expect(error.message == "try again (after 4 attempts)")
            }
            #expect(server.calls("GetTimer") == 3 + 4)
        }
    }

    @Test func unsafeCallsAndOtherCodesAreNotRetried() async throws {
        try await withServer { server, client in
            server.script("PauseTimer", unavailable())
            await expectFailure(.unavailable) { () async throws(TimerClientError) in _ = try await client.pause(3) }
            #expect(server.calls("PauseTimer") == 1)

            server.script("BulkTimers", unavailable())
            await expectFailure(.unavailable) { () async throws(TimerClientError) in _ = try await client.bulk(.stop, allActive: true) }
            #expect(server.calls("BulkTimers") == 1)

            // The raw client's CreateTimer without a client_ref: sent once.
            server.script("CreateTimer", unavailable())
            do throws(RPCError) {
                _ = try await client.service.createTimer(CreateTimerRequest())
                Issue.record("the create succeeded")
            } catch {
                #expect(error.code == .unavailable)
            }
            #expect(server.calls("CreateTimer") == 1)

            server.script("GetTimer", .fail(RPCError(code: .internalError, message: "boom")))
            await expectFailure(.internalError) { () async throws(TimerClientError) in _ = try await client.getTimer(1) }
            #expect(server.calls("GetTimer") == 1)
            #expect(client.statistics.retries == 0)
        }
    }

    @Test func retriesStayWithinTheCallsDeadline() async throws {
        let slow = RetryPolicy(maxAttempts: 10, initialBackoff: .seconds(90), maxBackoff: .seconds(90), jitter: 0)
        try await withServer(retry: slow) { server, client in
            server.script("GetTimer", unavailable())
            await expectFailure(.unavailable) { () async throws(TimerClientError) in
                _ = try await client.getTimer(1, options: CallOptions(timeout: .seconds(30)))
            }
            // The wait would outlast the deadline: no second attempt.
            #expect(server.calls("GetTimer") == 1)
        }
    }

    @Test func aCallPastItsDeadlineEndsAndTheServerStopsWorkingOnIt() async throws {
        try await withServer { server, client in
            server.script("GetTimer", .hang)
            await expectFailure(.deadlineExceeded) { () async throws(TimerClientError) in
                _ = try await client.getTimer(1, options: CallOptions(timeout: .milliseconds(200)))
            }
            #expect(await eventually { server.cancelled.contains("GetTimer") })
        }
    }

    @Test func cancellingTheTaskResetsTheStream() async throws {
        try await withServer { server, client in
            server.script("GetTimer", .hang)
            let task = Task { () async throws(TimerClientError) -> GetTimerResponse in try await client.getTimer(1) }
            #expect(await eventually { server.calls("GetTimer") == 1 })
            task.cancel()
            let result = await task.result
            guard case .failure(let error) = result else {
                Issue.record("the cancelled call succeeded")
                return
            }
            #expect((error as? TimerClientError)?.code == .cancelled)
            // The server's handler was cancelled: the stream was reset.
            #expect(await eventually { server.cancelled == ["GetTimer"] })
        }
    }

    @Test func cancellingDuringABackoffEndsTheCallAtOnce() async throws {
        let slow = RetryPolicy(maxAttempts: 3, initialBackoff: .seconds(60), maxBackoff: .seconds(60), jitter: 0)
        try await withServer(retry: slow) { server, client in
            server.script("GetTimer", unavailable())
            let task = Task { () async throws(TimerClientError) -> GetTimerResponse in
                try await client.getTimer(1, options: CallOptions(timeout: .seconds(600)))
            }
            #expect(await eventually { server.calls("GetTimer") == 1 })
            task.cancel()
            let result = await task.result
            guard case .failure(let error) = result else {
                Issue.record("the cancelled call succeeded")
                return
            }
            #expect((error as? TimerClientError)?.code == .cancelled)
            #expect(server.calls("GetTimer") == 1)
        }
    }

    @Test func aWatchResumesAfterTheLastEventEachTimeItsStreamEnds() async throws {
        try await withServer { server, client in
            server.planWatch([event(.snapshot, id: "10-0"), event(.started, id: "11-0", timer: 1)],
                             end: RPCError(code: .unavailable, message: "the server is shutting down"))
            server.planWatch([event(.heartbeat, id: ""), event(.paused, id: "12-0", timer: 1)],
                             end: RPCError(code: .internalError, message: "stream reset"))
            server.planWatch([], end: nil)  // Opens and stays open: nothing yielded.
            let stream = client.watchTimers()
            let seen = Collected<TimerEventType>()
            let reader = Task {
                for try await event in stream { seen.append(event.type) }
            }
            // The third stream is open (and silent) once the server saw it.
            #expect(await eventually { server.watchResumes.count == 3 })
            reader.cancel()
            _ = await reader.result
            let types = seen.all
            #expect(types == [.snapshot, .started, .heartbeat, .paused])
            #expect(stream.lastEventID == "12-0")
            #expect(server.watchResumes == ["", "11-0", "12-0"])
            #expect(client.statistics.watchReconnects == 2)
        }
    }

    @Test func aWatchStartsFromTheGivenEventAndEndsOnARefusal() async throws {
        try await withServer { server, client in
            server.planWatch([], end: RPCError(code: .unauthenticated, message: "the token is revoked"))
            let stream = client.watchTimers(resumingFrom: "9-0")
            #expect(stream.lastEventID == "9-0")
            do throws(TimerClientError) {
                for try await event in stream { Issue.record("got \(event.type)") }
                Issue.record("the refused watch ended without an error")
            } catch {
                #expect(error.code == .unauthenticated)
                #expect(error.message == "the token is revoked")
            }
            #expect(server.watchResumes == ["9-0"])
            #expect(client.statistics.watchReconnects == 0)
        }
    }

    @Test func cancellingOrDroppingAWatchResetsItsStream() async throws {
        try await withServer { server, client in
            server.planWatch([event(.snapshot, id: "1-0")], end: nil)
            let first = Task { () async throws(TimerClientError) -> Int in
                var count = 0
                for try await _ in client.watchTimers() { count += 1 }
                return count
            }
            #expect(await eventually { server.calls("WatchTimers") == 1 })
            first.cancel()
            let result = await first.result
            guard case .failure(let error) = result else {
                Issue.record("the cancelled watch ended without an error")
                return
            }
            #expect((error as? TimerClientError)?.code == .cancelled)
            #expect(await eventually { server.cancelled == ["WatchTimers"] })

            // An iterator dropped after one event.
            server.planWatch([event(.snapshot, id: "2-0")], end: nil)
            do {
                var iterator = client.watchTimers().makeAsyncIterator()
                let snapshot = try await iterator.next()
                #expect(snapshot?.eventID == "2-0")
            }
            #expect(await eventually { server.cancelled == ["WatchTimers", "WatchTimers"] })
            #expect(client.statistics.watchReconnects == 0)
        }
    }

    @Test func aClosedClientEndsItsWatchesAndRefusesCalls() async throws {
        try await withServer { server, client in
            server.planWatch([event(.snapshot, id: "1-0")], end: nil)
            let stream = client.watchTimers()
            var iterator = stream.makeAsyncIterator()
            let snapshot = try await iterator.next()
            #expect(snapshot?.type == .snapshot)
            client.close()
            let after = try await iterator.next()
            #expect(after == nil)
            #expect(client.isClosed)
            await expectFailure(.unavailable) { () async throws(TimerClientError) in _ = try await client.getTimer(1) }
            var fresh = client.watchTimers().makeAsyncIterator()
            let none = try await fresh.next()
            #expect(none == nil)
        }
    }

    @Test func aSilentWatchIsTakenForADeadConnectionAndOpenedAgain() async throws {
        try await withServer { server, client in
            // Heartbeats every second were asked for; the first stream sends
            // its snapshot and then nothing.
            server.planWatch([event(.snapshot, id: "1-0")], end: nil)
            server.planWatch([event(.started, id: "2-0", timer: 4)], end: nil)
            var iterator = client.watchTimers(heartbeatSeconds: 1).makeAsyncIterator()
            let first = try await iterator.next()
            let second = try await iterator.next()
            #expect(first?.type == .snapshot)
            #expect(second?.type == .started)
            #expect(server.watchResumes == ["", "1-0"])
            #expect(client.statistics.watchReconnects == 1)
        }
    }
}

/// Runs `body`, expecting it to fail with `code`.
func expectFailure(_ code: StatusCode, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () async throws(TimerClientError) -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    }
}
