import Codec
import Testing
import VaultMetrics

@testable import RPC

/// The server's call metrics (`CallMetrics`), read back from a Prometheus
/// registry after real calls over sockets.
@Suite("Call metrics", .timeLimit(.minutes(1)))
struct CallMetricsTests {
    /// The value of the series `name{labels}` in `text`, or nil.
    func value(_ text: String, _ series: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.map { String($0.dropFirst(series.count + 1)) }
    }

    func labels(_ type: String, _ service: String, _ method: String, _ code: String? = nil) -> String {
        var text = "grpc_type=\"\(type)\",grpc_service=\"\(service)\",grpc_method=\"\(method)\""
        if let code { text += ",grpc_code=\"\(code)\"" }
        return text
    }

    @Test func everyCallIsCountedByMethodAndCodeAndTimed() async throws {
        let registry = PrometheusRegistry()
        var configuration = GRPCServer.Configuration(address: "127.0.0.1:0", eventLoops: 1)
        configuration.metricsFactory = registry
        let echo = EchoService()
        let server = GRPCServer(configuration: configuration, services: [echo, HealthService()])
        try server.start()
        let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
        defer { channel.close() }

        for id in 1...3 {
            let _: VaultTimer = try await channel.unary(EchoService.get, request: VaultTimer.with { $0.id = Int64(id) }, options: CallOptions())
        }
        await #expect(throws: RPCError.self) {
            let _: VaultTimer = try await channel.unary(EchoService.fail, request: VaultTimer(), options: CallOptions())
        }
        for method in ["Nope", "AlsoNope"] {
            await #expect(throws: RPCError.self) {
                let _: VaultTimer = try await channel.unary(MethodDescriptor(service: "test.Missing", method: method, kind: .unary),
                                                            request: VaultTimer(), options: CallOptions())
            }
        }
        var streamed = 0
        for try await _ in channel.serverStreaming(EchoService.stream, request: ListTimersRequest.with { $0.pageSize = 5 },
                                                   options: CallOptions()) as ResponseStream<VaultTimer> {
            streamed += 1
        }
        #expect(streamed == 5)
        // Answered on the event loop.
        _ = try await GRPCHealthV1.HealthClient(channel: channel).check(GRPCHealthV1.HealthCheckRequest())
        // Cancelled by the client while the handler waits.
        let hanging = Task {
            let _: VaultTimer = try await channel.unary(EchoService.hang, request: VaultTimer(), options: CallOptions())
        }
        await echo.hangStarted.wait(for: 1)
        hanging.cancel()
        _ = await hanging.result
        await echo.cancellations.wait(for: 1)

        let text = registry.render()
        let get = labels("unary", "test.Echo", "Get")
        #expect(value(text, "grpc_server_started_total{\(get)}") == "3")
        #expect(value(text, "grpc_server_handled_total{\(labels("unary", "test.Echo", "Get", "OK"))}") == "3")
        #expect(value(text, "grpc_server_handled_total{\(labels("unary", "test.Echo", "Get", "Internal"))}") == "0",
                "every code's series exists from the start")
        #expect(value(text, "grpc_server_handling_seconds_count{\(get)}") == "3")
        #expect(value(text, "grpc_server_handled_total{\(labels("unary", "test.Echo", "Fail", "FailedPrecondition"))}") == "1")
        #expect(value(text, "grpc_server_handled_total{\(labels("unary", "unknown", "unknown", "Unimplemented"))}") == "2",
                "methods not served share one series: a client cannot add series")
        #expect(!text.contains("test.Missing"))
        #expect(value(text, "grpc_server_handled_total{\(labels("server_stream", "test.Echo", "Stream", "OK"))}") == "1")
        #expect(value(text, "grpc_server_handled_total{\(labels("unary", "grpc.health.v1.Health", "Check", "OK"))}") == "1")
        #expect(value(text, "grpc_server_handled_total{\(labels("unary", "test.Echo", "Hang", "Canceled"))}") == "1")
        #expect(value(text, "grpc_server_started_total{\(labels("unary", "test.Echo", "Hang"))}") == "1")
        await server.shutdown(grace: .seconds(1))
    }
}
