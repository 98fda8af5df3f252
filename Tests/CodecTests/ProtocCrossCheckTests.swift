import Foundation
import Testing
@testable import Codec

/// Cross-checks against an implementation written elsewhere: Google's `protoc`.
/// Bytes `protoc --encode` makes from text format decode to the expected Swift
/// values, and the bytes Swift encodes decode with `protoc --decode` to the
/// same text as the fixture does.
@Suite("Cross-check with protoc")
struct ProtocCrossCheckTests {
    static let protoArguments = ["-Iproto", "-I/usr/include", "servicevault/timer/v1/timer_service.proto"]

    func fixture(_ name: String) throws -> [UInt8] {
        let url = repositoryRoot.appendingPathComponent("Tests/CodecTests/Fixtures/\(name)")
        return try [UInt8](Data(contentsOf: url))
    }

    func protocEncode(_ type: String, _ text: [UInt8]) throws -> [UInt8] {
        try run("protoc", ["--encode=\(type)"] + Self.protoArguments, input: text)
    }

    func protocDecode(_ type: String, _ bytes: [UInt8]) throws -> String {
        String(decoding: try run("protoc", ["--decode=\(type)"] + Self.protoArguments, input: bytes), as: UTF8.self)
    }

    func crossCheck<M: ProtoMessage>(_ fixtureName: String, expected: M) throws {
        let text = try fixture(fixtureName)
        let protocBytes = try protocEncode(M.protoMessageName, text)
        let decoded = try M(serializedBytes: protocBytes)
        #expect(decoded == expected)

        let ours = try expected.serializedBytes()
        #expect(try protocDecode(M.protoMessageName, ours) == protocDecode(M.protoMessageName, protocBytes))
    }

    @Test("Timer with every field")
    func timer() throws {
        let expected = VaultTimer.with {
            $0.id = .max
            $0.userID = 456
            $0.accountID = 12
            $0.projectID = 0
            $0.billingRateID = 3
            $0.description = "Réunion client — 東京 🧭"
            $0.status = .running
            $0.startedAt = Timestamp(seconds: 1_733_043_600)
            $0.totalDuration = 7_200
            $0.currentSessionDuration = 3_600
            $0.lastUpdated = Timestamp(seconds: 1_733_054_400, nanos: 250_000_000)
            $0.deviceID = "web_browser_v1.0"
            $0.syncVersion = 15
            $0.currentSessionStartedAt = Timestamp(seconds: 1_733_050_800)
            $0.currentValue = Money.with { $0.currencyCode = "USD"; $0.amountMinor = 18_750; $0.minorUnitDigits = 2 }
            $0.hourlyRate = Money.with { $0.currencyCode = "USD"; $0.amountMinor = 6_250; $0.minorUnitDigits = 2 }
            $0.clientRef = "0b8f2c7e-3c1a-4a53-9d2e-6f1f4d2b9a10"
            $0.createdAt = Timestamp(seconds: -62_135_596_800)
        }
        try crossCheck("timer.txtpb", expected: expected)
    }

    @Test("SyncTimersRequest with offline transitions")
    func syncRequest() throws {
        let expected = SyncTimersRequest.with {
            $0.deviceID = "phone-ios-17"
            $0.timers = [
                DeviceTimer.with {
                    $0.clientRef = "5f1c9a4e-8d2b-4c1e-9f3a-1b2c3d4e5f60"
                    $0.accountID = 7
                    $0.description = "Offline notes"
                    $0.status = .stopped
                    $0.startedAt = Timestamp(seconds: 1_733_040_000)
                    $0.lastUpdated = Timestamp(seconds: 1_733_047_200)
                    $0.transitions = [
                        DeviceTransition.with { $0.action = .pause; $0.at = Timestamp(seconds: 1_733_043_600) },
                        DeviceTransition.with { $0.action = .resume; $0.at = Timestamp(seconds: 1_733_045_400) },
                        DeviceTransition.with { $0.action = .stop; $0.at = Timestamp(seconds: 1_733_047_200) },
                    ]
                },
                DeviceTimer.with {
                    $0.id = 123
                    $0.status = .paused
                    $0.lastUpdated = Timestamp(seconds: 1_733_047_000, nanos: 1)
                    $0.syncVersion = 14
                    $0.transitions = [DeviceTransition.with { $0.action = .pause; $0.at = Timestamp(seconds: 1_733_047_000, nanos: 1) }]
                },
            ]
            $0.deviceTime = Timestamp(seconds: 1_733_047_300)
        }
        try crossCheck("sync_request.txtpb", expected: expected)
        #expect(expected.timers[0].id == nil)
    }

    @Test("TimerEvent snapshot with two currencies")
    func event() throws {
        let expected = TimerEvent.with {
            $0.eventID = "1733047300000-0"
            $0.type = .snapshot
            $0.meta = Meta.with {
                $0.activeCount = 2
                $0.runningCount = 1
                $0.pausedCount = 1
                $0.totalActiveDuration = 9_000
                $0.totalActiveValue = [
                    Money.with { $0.currencyCode = "EUR"; $0.amountMinor = 4_200; $0.minorUnitDigits = 2 },
                    Money.with { $0.currencyCode = "JPY"; $0.amountMinor = 15_000; $0.minorUnitDigits = 0 },
                ]
                $0.syncTimestamp = Timestamp(seconds: 1_733_047_300)
            }
            $0.timers = [
                VaultTimer.with { $0.id = 1; $0.status = .running; $0.description = "A"; $0.syncVersion = 3 },
                VaultTimer.with { $0.id = 2; $0.status = .paused; $0.description = "B"; $0.syncVersion = 8 },
            ]
            $0.occurredAt = Timestamp(seconds: 1_733_047_300)
            $0.cause = .autoPause
        }
        try crossCheck("event.txtpb", expected: expected)
    }

    @Test("every message type exists in Swift", arguments: ["timer", "event", "sync", "health", "timer_service"])
    func everyMessageHasASwiftType(file: String) throws {
        let source = try String(contentsOf: repositoryRoot.appendingPathComponent("proto/servicevault/timer/v1/\(file).proto"), encoding: .utf8)
        let names = source.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("message ") else { return nil }
            return String(line.dropFirst("message ".count).prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        }
        #expect(!names.isEmpty)
        for name in names {
            #expect(MessageTypes.named("servicevault.timer.v1.\(name)") != nil, "no Swift type for \(name)")
        }
    }
}
