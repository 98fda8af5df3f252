import Codec
import Foundation
import RPC
import Testing

/// timerd's `/metrics` after a scripted scenario, read by Prometheus' own
/// text-format parser (`prometheus_client` in the project's venv, which
/// `make test` installs): each counter moved by what the scenario did.
@Suite("timerd metrics after a scenario", .timeLimit(.minutes(3)))
struct MetricsScenarioTests {
    /// The project's venv interpreter.
    static let python = FaultServices.script.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".run/venv/bin/python")

    /// Every sample of a scrape as Prometheus reads it: `name{label="value",…}`
    /// (labels sorted) to value.
    static func parse(_ text: String) async throws -> [String: Double] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("scrape.txt")
        let output = directory.appendingPathComponent("samples.txt")
        try text.write(to: input, atomically: true, encoding: .utf8)
        let program = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            with open(sys.argv[1]) as f:
                text = f.read()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(sample.labels.items()))
                    print("%s{%s} %r" % (sample.name, labels, sample.value))
            """
        let status = try await spawnAndWait([python.path, "-c", program, input.path], environment: ProcessInfo.processInfo.environment,
                                            output: output.path)
        let printed = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw TestFailure("prometheus_client could not parse the scrape (\(status)): \(printed)") }
        var samples: [String: Double] = [:]
        for line in printed.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw TestFailure("unexpected parser output: \(line)")
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    static func scrape(_ port: Int) throws -> String {
        let response = try #require(httpExchange(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        guard response.hasPrefix("HTTP/1.1 200 OK\r\n"), let body = response.range(of: "\r\n\r\n") else {
            throw TestFailure("scrape: \(response.prefix(300))")
        }
        return String(response[body.upperBound...])
    }

    static func call(_ method: String, _ code: String) -> String {
        "grpc_server_handled_total{grpc_code=\"\(code)\",grpc_method=\"\(method)\",grpc_service=\"servicevault.timer.v1.TimerService\",grpc_type=\"unary\"}"
    }

    @Test func countersMoveByWhatTheScenarioDid() async throws {
        try await withLiveSetup { run, _, _, base in
            var environment = base
            environment["TIMERD_METRICS_LISTEN"] = "127.0.0.1:0"
            environment["TIMERD_SYNC_RATE_LIMIT"] = "2"
            let ada = try await TestUser.create(run, name: "Ada")
            let server = try await ServerInstance(environment: environment)
            defer { server.stop() }
            let metricsPort = try #require(server.metricsPort, "no METRICS line")
            // Until its first rebuild of Redis, an instance reads PostgreSQL.
            var trusted = false
            let until = ContinuousClock.now + .seconds(30)
            while !trusted && ContinuousClock.now < until {
                trusted = (try? await server.client.getSystemHealth(GetSystemHealthRequest(), options: bearer(ada.token)).status) == .ok
                if !trusted { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(trusted)
            let before = try await Self.parse(try Self.scrape(metricsPort))
            func delta(_ after: [String: Double], _ series: String) -> Double {
                (after[series] ?? 0) - (before[series] ?? 0)
            }

            // A watcher, two timers, one paused: three events.
            var watch = WatchTimersRequest()
            watch.heartbeatIntervalSeconds = 0
            let watcher = EventCollector(server.client.watchTimers(watch, options: bearer(ada.token, timeout: nil)), keepingAlive: server)
            defer { watcher.cancel() }
            #expect(await watcher.wait { $0.first?.type == .snapshot })
            let descriptions = ["Quarterly board pack", "Vendor contract redlines"]
            var timers: [VaultTimer] = []
            for description in descriptions {
                var create = CreateTimerRequest()
                create.accountID = ada.accountID
                create.description = description
                create.deviceID = "laptop"
                timers.append(try #require(try await server.client.createTimer(create, options: bearer(ada.token)).timer))
            }
            var pause = PauseTimerRequest()
            pause.id = timers[1].id
            _ = try await server.client.pauseTimer(pause, options: bearer(ada.token))
            #expect(await watcher.wait { $0.filter { $0.type != .snapshot && $0.type != .heartbeat }.count == 3 })

            // A sync whose device stopped the timer the server paused: a
            // status mismatch. Then one more sync, and one past the limit of 2.
            var device = DeviceTimer()
            device.id = timers[1].id
            device.status = .stopped
            device.syncVersion = 1
            var stop = DeviceTransition()
            stop.action = .stop
            stop.at = Timestamp(seconds: Int64(Date().timeIntervalSince1970), nanos: 0)
            device.transitions = [stop]
            var sync = SyncTimersRequest()
            sync.deviceID = "tablet"
            sync.timers = [device]
            let answered = try await server.client.syncTimers(sync, options: bearer(ada.token))
            #expect(answered.conflicts.map(\.conflictType) == [.statusMismatch])
            _ = try await server.client.syncTimers(SyncTimersRequest.with { $0.deviceID = "tablet" }, options: bearer(ada.token))
            let refused = await #expect(throws: RPCError.self) {
                _ = try await server.client.syncTimers(SyncTimersRequest.with { $0.deviceID = "tablet" }, options: bearer(ada.token))
            }
            #expect(refused?.code == .resourceExhausted)
            // GetSystemHealth reads the active figures the metrics report.
            let health = try await server.client.getSystemHealth(GetSystemHealthRequest(), options: bearer(ada.token))
            #expect(health.activeTimersCount == 2)

            let afterText = try Self.scrape(metricsPort)
            let after = try await Self.parse(afterText)
            #expect(delta(after, Self.call("CreateTimer", "OK")) == 2)
            #expect(delta(after, Self.call("PauseTimer", "OK")) == 1)
            #expect(delta(after, Self.call("SyncTimers", "OK")) == 2)
            #expect(delta(after, Self.call("SyncTimers", "ResourceExhausted")) == 1)
            #expect(delta(after, "timerd_syncs_total{}") == 2)
            #expect(delta(after, "timerd_sync_items_total{}") == 1)
            #expect(delta(after, "timerd_syncs_refused_total{}") == 1)
            #expect(delta(after, "timerd_sync_conflicts_total{type=\"status_mismatch\"}") == 1)
            #expect(delta(after, "timerd_sync_conflicts_total{type=\"concurrent_change\"}") == 0)
            #expect(delta(after, "timerd_events_published_total{via=\"redis\"}") == 3)
            #expect(delta(after, "timerd_events_received_total{}") == 3)
            #expect(delta(after, "timerd_events_delivered_total{}") == 3)
            #expect(delta(after, "timerd_event_delivery_lag_seconds_count{}") == 3)
            #expect(after["timerd_watch_subscribers{}"] == 1)
            #expect((after["timerd_response_time_average_seconds{}"] ?? 0) > 0)
            #expect(after["timerd_active_timers{status=\"running\"}"] == 1)
            #expect(after["timerd_active_timers{status=\"paused\"}"] == 1)
            #expect(after["timerd_active_users{}"] == 1)
            #expect(after["timerd_redis_degraded{}"] == 0)
            #expect(after["timerd_redis_pubsub_connected{}"] == 1)
            #expect((after["timerd_database_pool_connections{state=\"idle\"}"] ?? 0) >= 1)
            #expect(after["timerd_database_pool_failures_total{}"] == 0)
            #expect(after["timerd_redis_pool_failures_total{}"] == 0)
            #expect(after["timerd_database_pool_waits_total{}"] != nil)

            // What is not a scrape is refused and counts nothing.
            let garbage = try #require(httpExchange(port: metricsPort, "GET /metrics HTTP/9.9\r\n\r\n"))
            #expect(garbage.hasPrefix("HTTP/1.1 505 ") || garbage.hasPrefix("HTTP/1.1 400 "), "\(garbage)")
            let malformed = try #require(httpExchange(port: metricsPort, "GET metrics\r\n\r\n"))
            #expect(malformed.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(malformed)")
            let counted = countedSamples(afterText)
            #expect(counted.contains { $0.hasPrefix("grpc_server_handled_total{") } && counted.contains { $0.hasPrefix("timerd_event_delivery_lag_seconds_count ") })
            #expect(!counted.contains { $0.hasPrefix("timerd_watch_subscribers") })
            let moved = countedSamplesMoved(from: afterText, to: try Self.scrape(metricsPort))
            #expect(moved.isEmpty, "moved: \(moved)")

            // Nothing the scenario said in confidence reached the log.
            let log = server.stderr
            #expect(!log.contains(ada.token))
            for description in descriptions { #expect(!log.contains(description)) }
        }
    }
}
