import Foundation
import Testing
import TimerDomain

@testable import LiveState

@Suite("StateKeyring")
struct StateKeyringTests {
    static let hexKey = String(repeating: "0f", count: 32)
    static let otherHexKey = String(repeating: "a1", count: 32)

    @Test func hexAndBase64KeysParseToTheSameKey() throws {
        let hex = try StateKeyring(parsing: Self.hexKey)
        let base64 = Data(repeating: 0x0f, count: 32).base64EncodedString()
        let fromBase64 = try StateKeyring(parsing: base64)
        let urlAlphabetWithoutPadding = try StateKeyring(parsing: String(base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").dropLast()))
        #expect(hex.current.id == fromBase64.current.id)
        #expect(hex.current.id == urlAlphabetWithoutPadding.current.id)
        #expect(hex.current.id.hasPrefix("sha"))
        let sealed = try hex.seal(Array("x".utf8), for: "k")
        #expect(try fromBase64.open(sealed, from: "k") == Array("x".utf8))
    }

    @Test func explicitIDsAndRotation() throws {
        let old = try StateKeyring(parsing: "k1:\(Self.hexKey)")
        let rotated = try StateKeyring(parsing: "k2:\(Self.otherHexKey), k1:\(Self.hexKey)")
        #expect(rotated.current.id == "k2")
        #expect(rotated.ids == ["k2", "k1"])
        let sealedByOld = try old.seal(Array("state".utf8), for: "user:{1}:timer:{2}:state")
        #expect(try rotated.open(sealedByOld, from: "user:{1}:timer:{2}:state") == Array("state".utf8))
        let sealedByNew = try rotated.seal(Array("state".utf8), for: "key")
        let error = #expect(throws: LiveStateError.self) { try old.open(sealedByNew, from: "key") }
        #expect(error?.code == .cryptoFailed)
        #expect(error?.message.contains("\"k2\"") == true)
    }

    @Test func aWrongKeyWithTheSameIDIsReportedNotCrashedOn() throws {
        let right = try StateKeyring(parsing: "k:\(Self.hexKey)")
        let wrong = try StateKeyring(parsing: "k:\(Self.otherHexKey)")
        let sealed = try right.seal(Array("secret description".utf8), for: "key")
        let error = #expect(throws: LiveStateError.self) { try wrong.open(sealed, from: "key") }
        #expect(error?.code == .cryptoFailed)
    }

    @Test func aValueMovedToAnotherKeyOrAlteredDoesNotOpen() throws {
        let keyring = try StateKeyring(parsing: Self.hexKey)
        var sealed = try keyring.seal(Array("v".utf8), for: "user:{1}:timer:{1}:state")
        #expect(throws: LiveStateError.self) { try keyring.open(sealed, from: "user:{2}:timer:{1}:state") }
        sealed[sealed.count - 1] ^= 1
        #expect(throws: LiveStateError.self) { try keyring.open(sealed, from: "user:{1}:timer:{1}:state") }
        #expect(throws: LiveStateError.self) { try keyring.open([], from: "k") }
        #expect(throws: LiveStateError.self) { try keyring.open([9, 9, 9], from: "k") }
        #expect(throws: LiveStateError.self) { try keyring.open([1, 200, 1], from: "k") }
    }

    @Test(arguments: ["", " ", "abc", String(repeating: "0", count: 62), "k1:\(String(repeating: "0f", count: 32)),",
                      "bad id!:\(String(repeating: "0f", count: 32))",
                      "k:\(String(repeating: "0f", count: 32)),k:\(String(repeating: "a1", count: 32))"])
    func invalidConfigurationsAreRefusedWithoutEchoingKeys(text: String) {
        let error = #expect(throws: LiveStateError.self) { try StateKeyring(parsing: text) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("0f0f0f") == false)
    }

    @Test func generatedKeysParseAndDiffer() throws {
        let a = try StateKeyring.generateKey()
        let b = try StateKeyring.generateKey()
        #expect(a != b)
        #expect(a.count == 64)
        _ = try StateKeyring(parsing: a)
    }

    @Test func liveTimerStateRoundTripsThroughJSON() throws {
        let start = Instant(seconds: 1_700_000_000)
        let state = try TimerState(status: .running, startedAt: start, pausedAt: nil, stoppedAt: nil,
                                   currentSessionStartedAt: start, closedSeconds: 42, lastUpdated: start,
                                   syncVersion: 3, deviceID: "phone")
        let rate = try HourlyRate(perHour: MoneyAmount(minorUnits: 9_000, currency: Currency(code: "USD")))
        let live = LiveTimerState(id: 7, userID: 9, accountID: 1, projectID: nil, billingRateID: 4, description: "Grüße",
                                  clientRef: nil, createdAt: start, state: state, rate: rate)
        let decoded = try LiveTimerState(decoding: live.encoded())
        #expect(decoded == live)
        #expect(try decoded.timerState() == state)
        #expect(try decoded.hourlyRate() == rate)
        let json = String(decoding: live.encoded(), as: UTF8.self)
        for field in ["\"id\"", "\"user_id\"", "\"status\"", "\"started_at\"", "\"paused_at\"", "\"total_duration\"",
                      "\"current_session_start\"", "\"current_session_duration\"", "\"last_updated\"", "\"device_id\"", "\"sync_version\""] {
            #expect(json.contains(field), "missing \(field)")
        }
        #expect(throws: LiveStateError.self) { try LiveTimerState(decoding: Array("{}".utf8)) }
    }
}
