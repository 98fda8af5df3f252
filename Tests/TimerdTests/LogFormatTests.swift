import ClientLib
import Codec
import Foundation
import RPC
import Storage
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `timerd serve --log-format json` through the binary: every line on
/// standard error is one JSON object, each call has its `call` line with the
/// request id it answered with and its audit rows recorded, and no line
/// carries a token, a description or a client_ref.
@Suite("timerd structured logs", .timeLimit(.minutes(2)))
struct LogFormatTests {
    /// Call options with the user's token and, when given, an `x-request-id`.
    func options(_ token: String, requestID: String? = nil) -> CallOptions {
        var options = bearer(token)
        if let requestID { options.metadata.add("x-request-id", requestID) }
        return options
    }

    func isGenerated(_ id: String?) -> Bool {
        guard let id else { return false }
        return id.count == 32 && id.utf8.allSatisfy { Array("0123456789abcdef".utf8).contains($0) }
    }

    @Test func jsonLinesCarryEachCallsRequestIDAndNoSecret() async throws {
        try await Timerd.withSchema { timerd, pool in
            let user = try await TestUser.create(timerd, name: "Logan")
            let description = "log-secret-description-\(UUID().uuidString)"
            let clientRef = UUID().uuidString.lowercased()

            let (exits, exited) = AsyncStream.makeStream(of: Int32.self)
            let (process, stdoutURL, stderrURL) = try Timerd.start(
                ["serve", "--listen", "127.0.0.1:0", "--event-loops", "1", "--log-level", "debug", "--log-format", "json"],
                environment: ["TIMERD_DATABASE_URL": timerd.databaseURL]
            ) { process in
                exited.yield(process.terminationStatus)
                exited.finish()
            }
            defer {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                try? FileManager.default.removeItem(at: stdoutURL)
                try? FileManager.default.removeItem(at: stderrURL)
            }
            func output() -> String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
            func logs() -> String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
            #expect(await eventually { output().contains("READY ") || !process.isRunning })
            let ready = try #require(output().split(separator: "\n").first { $0.hasPrefix("READY ") }, "stderr: \(logs())")
            let port = try #require(Int(ready.dropFirst("READY ".count)))
            let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(port)"))
            defer { channel.close() }

            // 1. CreateTimer with the client's request id: answered with it.
            var create = CreateTimerRequest()
            create.accountID = user.accountID
            create.description = description
            create.clientRef = clientRef
            create.deviceID = "laptop"
            let created: UnaryResponse<CreateTimerResponse> = try await channel.unaryWithMetadata(
                TimerServiceMethods.createTimer, request: create, options: options(user.token, requestID: "test-req-123"))
            #expect(created.initialMetadata["x-request-id"] == "test-req-123")
            let timerID = try #require(created.message.timer?.id)

            // 2. PauseTimer without one: a generated id.
            var pause = PauseTimerRequest()
            pause.id = timerID
            let paused: UnaryResponse<PauseTimerResponse> = try await channel.unaryWithMetadata(
                TimerServiceMethods.pauseTimer, request: pause, options: options(user.token))
            let pauseID = paused.initialMetadata["x-request-id"]
            #expect(isGenerated(pauseID), "\(String(describing: pauseID))")

            // 3. GetTimer of a timer that does not exist: NOT_FOUND, with the
            //    id in the trailers-only response.
            var get = GetTimerRequest()
            get.id = timerID + 1_000
            var notFound: RPCError?
            do throws(RPCError) {
                let _: GetTimerResponse = try await channel.unary(
                    TimerServiceMethods.getTimer, request: get, options: options(user.token, requestID: "test-req-404"))
            } catch {
                notFound = error
            }
            #expect(notFound?.code == .notFound)
            #expect(notFound?.metadata["x-request-id"] == "test-req-404")

            // 4. An id that is not sane (a space) is replaced by a generated one.
            let listed: UnaryResponse<ListTimersResponse> = try await channel.unaryWithMetadata(
                TimerServiceMethods.listTimers, request: ListTimersRequest(), options: options(user.token, requestID: "has space"))
            let listID = listed.initialMetadata["x-request-id"]
            #expect(isGenerated(listID))

            // 5. A token that is not the user's: UNAUTHENTICATED.
            var wrongToken: RPCError?
            do throws(RPCError) {
                let _: GetTimerResponse = try await channel.unary(
                    TimerServiceMethods.getTimer, request: get, options: options("svt_" + String(repeating: "B", count: 43)))
            } catch {
                wrongToken = error
            }
            #expect(wrongToken?.code == .unauthenticated)

            // 6. WatchTimers: one line when the stream ends (cancelled here).
            let stream = TimerServiceClient(channel: channel).watchTimers(
                WatchTimersRequest(), options: options(user.token, requestID: "test-req-watch"))
            var events = stream.makeAsyncIterator()
            let snapshot = try await events.next()
            #expect(snapshot?.type == .snapshot)
            #expect(snapshot?.timers.first?.description == description)
            stream.cancel()
            #expect(await eventually { logs().contains("\"WatchTimers\"") })

            // The audit rows carry the ids the calls answered with.
            #expect(try await scalar(pool, "SELECT request_id FROM audit_log WHERE action = 'created' AND timer_id = $1", [String(timerID)])
                    == "test-req-123")
            #expect(try await scalar(pool, "SELECT request_id FROM audit_log WHERE action = 'paused' AND timer_id = $1", [String(timerID)])
                    == pauseID)

            #expect(kill(process.processIdentifier, SIGTERM) == 0)
            var iterator = exits.makeAsyncIterator()
            #expect(await iterator.next() == 0)

            // Every line is one JSON object with the fixed keys.
            let lines = logs().split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(logs().hasSuffix("\n"))
            var objects: [[String: Any]] = []
            for line in lines {
                let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                let object = try #require(parsed, "not a JSON object: \(line)")
                #expect(object["ts"] is String && object["level"] is String && object["label"] is String && object["message"] is String,
                        "\(line)")
                let ts = try #require(object["ts"] as? String)
                #expect(ts.count == 24 && ts.hasSuffix("Z") && ts.dropFirst(19).hasPrefix("."), "\(ts)")
                objects.append(object)
            }
            #expect(objects.contains { $0["message"] as? String == "listening" })
            #expect(objects.contains { $0["message"] as? String == "shutting down" })

            // One `call` line per call, in order, with what it is about.
            let calls = objects.filter { $0["message"] as? String == "call" }
            func call(_ method: String) -> [String: Any]? { calls.first { $0["method"] as? String == method } }
            #expect(calls.count == 6, "\(calls)")
            for line in calls {
                #expect(line["label"] as? String == "timerd.rpc")
                #expect(line["duration_ms"] is Double || line["duration_ms"] is Int, "\(line)")
                #expect((line["peer"] as? String)?.hasPrefix("127.0.0.1:") == true, "\(line)")
            }
            let createLine = try #require(call("CreateTimer"))
            #expect(createLine["request_id"] as? String == "test-req-123")
            #expect(createLine["grpc_code"] as? String == "OK")
            #expect(createLine["user_id"] as? Int == Int(user.id))
            #expect(createLine["level"] as? String == "debug")
            let pauseLine = try #require(call("PauseTimer"))
            #expect(pauseLine["request_id"] as? String == pauseID)
            #expect(pauseLine["grpc_code"] as? String == "OK")
            let getLines = calls.filter { $0["method"] as? String == "GetTimer" }
            #expect(getLines.count == 2)
            #expect(getLines.first?["request_id"] as? String == "test-req-404")
            #expect(getLines.first?["grpc_code"] as? String == "NOT_FOUND")
            #expect(getLines.first?["user_id"] as? Int == Int(user.id))
            #expect(isGenerated(getLines.last?["request_id"] as? String))
            #expect(getLines.last?["grpc_code"] as? String == "UNAUTHENTICATED")
            #expect(getLines.last?["user_id"] == nil)
            let listLine = try #require(call("ListTimers"))
            #expect(listLine["request_id"] as? String == listID)
            #expect(listLine["grpc_code"] as? String == "OK")
            let watchLine = try #require(call("WatchTimers"))
            #expect(watchLine["request_id"] as? String == "test-req-watch")
            #expect(["CANCELLED", "UNAVAILABLE"].contains(watchLine["grpc_code"] as? String), "\(watchLine)")

            // Nothing secret, in any line.
            let all = logs()
            for secret in [user.token, String(user.token.dropFirst(4)), description, clientRef, "authorization", "Bearer"] {
                #expect(!all.contains(secret), "the log holds \(secret)")
            }
        }
    }

    @Test func textIsTheDefaultFormatAndAnUnknownOneIsOneLine() async throws {
        let outcome = try await Timerd.run(["serve", "--listen", "127.0.0.1:0", "--log-format", "yaml"],
                                           environment: ["TIMERD_DATABASE_URL": "postgresql://127.0.0.1:1/none"])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr == "timerd serve: --log-format must be text or json, got 'yaml'\n")
        let fromVariable = try await Timerd.run(["serve", "--listen", "127.0.0.1:0"],
                                                environment: ["TIMERD_DATABASE_URL": "postgresql://127.0.0.1:1/none", "TIMERD_LOG_FORMAT": "xml"])
        #expect(fromVariable.stderr == "timerd serve: --log-format must be text or json, got 'xml'\n")
    }
}
