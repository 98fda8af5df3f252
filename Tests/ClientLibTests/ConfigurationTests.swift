@testable import ClientLib
import Testing

@Suite("Configuration, errors and client refs")
struct ConfigurationTests {
    @Test func theEnvironmentNamesTheServerTheTokenAndTLS() {
        let plain = TimerClient.Configuration.fromEnvironment { ["TIMERD_TOKEN": "svt_abc", "TIMERD_ADDRESS": ""][$0] }
        #expect(plain.address == "127.0.0.1:50051")
        #expect(plain.token == "svt_abc")
        #expect(plain.tls == nil)
        #expect(plain.defaultTimeout == .seconds(10))
        #expect(plain.retry == RetryPolicy())

        let secure = TimerClient.Configuration.fromEnvironment {
            ["TIMERD_ADDRESS": "timers.internal:443", "TIMERD_TLS_ROOTS": "/etc/ca.pem", "TIMERD_TLS_SERVER_NAME": "timers",
             "TIMERD_DEVICE_ID": "billing"][$0]
        }
        #expect(secure.address == "timers.internal:443")
        #expect(secure.token == nil)
        #expect(secure.tls?.trustRoots == "/etc/ca.pem")
        #expect(secure.tls?.serverName == "timers")
        #expect(secure.deviceID == "billing")

        let system = TimerClient.Configuration.fromEnvironment { ["TIMERD_TLS": "true"][$0] }
        #expect(system.tls != nil)
        #expect(system.tls?.trustRoots == nil)
    }

    @Test func aBadAddressIsRefusedAtOnce() {
        do {
            _ = try TimerClient(configuration: .init(address: "no port here"))
            Issue.record("an address without a port was taken")
        } catch {
            #expect(error.code == .invalidArgument)
        }
    }

    @Test func clientRefsAreVersion4UUIDs() {
        let refs = (0..<100).map { _ in TimerClient.newClientRef() }
        #expect(Set(refs).count == 100)
        for ref in refs {
            let groups = ref.split(separator: "-").map(\.count)
            #expect(groups == [8, 4, 4, 4, 12])
            #expect(ref == ref.lowercased())
            let version = ref[ref.index(ref.startIndex, offsetBy: 14)]
            let variant = ref[ref.index(ref.startIndex, offsetBy: 19)]
            #expect(version == "4")
            #expect("89ab".contains(variant))
        }
    }

    @Test func errorsSayTheirCodeAndTheWaitTheServerAskedFor() {
        var metadata = Metadata()
        metadata.add("retry-after", "12")
        let limited = TimerClientError(code: .resourceExhausted, message: "120 syncs per minute", metadata: metadata)
        #expect(limited.description == "RESOURCE_EXHAUSTED: 120 syncs per minute")
        #expect(limited.retryAfter == .seconds(12))
        var pushback = Metadata()
        pushback.add("grpc-retry-pushback-ms", "1500")
        pushback.add("retry-after", "2")
        #expect(TimerClientError(code: .resourceExhausted, message: "", metadata: pushback).retryAfter == .milliseconds(1_500))
        #expect(TimerClientError(code: .unavailable, message: "").description == "UNAVAILABLE")
        #expect(TimerClientError(code: .unavailable, message: "").retryAfter == nil)
    }

    @Test func onlyRequestsThatCarryTheirOwnKeyAreRetried() {
        #expect(GetTimerRequest().isSafeToRetry)
        #expect(ListTimersRequest().isSafeToRetry)
        #expect(SyncTimersRequest().isSafeToRetry)
        #expect(!CreateTimerRequest().isSafeToRetry)
        #expect(CreateTimerRequest.with { $0.clientRef = TimerClient.newClientRef() }.isSafeToRetry)
        #expect(!PauseTimerRequest().isSafeToRetry)
        #expect(PauseTimerRequest.with { $0.expectedSyncVersion = 3 }.isSafeToRetry)
        #expect(DeleteTimerRequest.with { $0.expectedSyncVersion = 1 }.isSafeToRetry)
        #expect(!((BulkTimersRequest() as Any) is any RetrySafeRequest))
        #expect(!((AdminPauseTimerRequest() as Any) is any RetrySafeRequest))
    }
}
