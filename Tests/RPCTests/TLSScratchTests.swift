import Codec
import Foundation
import Testing
@testable import RPC

@Suite("TLS scratch", .timeLimit(.minutes(1)))
struct TLSScratchTests {
    @Test("scratch")
    func scratch() async throws {
        try await InteropServerTests().withGRPCIOServer(.h2c) { port, _ in
            let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(port)"))
            defer { channel.close() }
            let client = GRPCHealthV1.HealthClient(channel: channel)
            for (service, options) in [("", CallOptions()), ("servicevault.timer.v1.TimerService", CallOptions()), ("no.such.Service", CallOptions()), ("", CallOptions(timeout: .seconds(15))), ("no.such.Service", CallOptions(timeout: .seconds(15))), ("no.such.Service", CallOptions())] {
                do {
                    let r = try await client.check(.with { $0.service = service }, options: options)
                    print("RESULT \(service) \(options.timeout as Any): response \(r.status) \(r)")
                } catch {
                    print("RESULT \(service) \(options.timeout as Any): error \(error)")
                }
            }
            let stream: ResponseStream<GRPCHealthV1.HealthCheckResponse> = channel.serverStreaming(GRPCHealthV1.HealthMethods.check, request: GRPCHealthV1.HealthCheckRequest.with { $0.service = "zz" }, options: CallOptions())
            do {
                for try await m in stream { print("RESULT stream message \(m)") }
                print("RESULT stream end OK")
            } catch { print("RESULT stream error \(error)") }
        }
    }
}
