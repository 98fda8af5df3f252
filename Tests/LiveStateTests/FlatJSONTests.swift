import Foundation
@testable import LiveState
import Testing
import TimerDomain

/// The live state's JSON: what it writes any JSON reader reads, and it reads
/// what any JSON writer makes of such an object.
@Suite("Flat JSON of the live timer state")
struct FlatJSONTests {
    static let awkwardStrings = [
        "", "plain", "quote \" and backslash \\", "slash / and \\/", "line\nbreak\ttab\rreturn",
        "controls \u{01}\u{1F}\u{7F}", "Grüße, 日本語, emoji 🧭 and 👩‍👩‍👧", "\u{2028}\u{2029}", String(repeating: "x", count: 3_000),
    ]

    func state(description: String, clientRef: String?, at seconds: Int64 = 1_700_000_000) throws -> LiveTimerState {
        let start = Instant(seconds: seconds), paused = Instant(seconds: seconds + 5)
        let state = try TimerState(status: .paused, startedAt: start, pausedAt: paused, stoppedAt: nil,
                                   currentSessionStartedAt: nil, closedSeconds: 5, lastUpdated: paused,
                                   syncVersion: Int64.max, deviceID: "dev \"1\"")
        return LiveTimerState(id: 1, userID: Int64.max, accountID: 3, projectID: 77, billingRateID: nil, description: description,
                              clientRef: clientRef, createdAt: start, state: state, rate: nil)
    }

    @Test(arguments: awkwardStrings)
    func foundationReadsWhatIsWrittenAndItReadsBack(text: String) throws {
        let live = try state(description: text, clientRef: text.isEmpty ? nil : text)
        let bytes = live.encoded()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["description"] as? String == text)
        #expect(object["user_id"] as? Int64 == Int64.max)
        #expect(object["stopped_at"] is NSNull)
        #expect(object.count == 21)
        #expect(try LiveTimerState(decoding: bytes) == live)
    }

    @Test(arguments: awkwardStrings)
    func whatFoundationWritesIsRead(text: String) throws {
        let live = try state(description: text, clientRef: "ref/\(text)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(live.encoded())) as? [String: Any])
        // Foundation escapes "/" and writes members in its own order, with
        // spaces when pretty-printed.
        for options in [JSONSerialization.WritingOptions(), [.prettyPrinted], [.sortedKeys, .prettyPrinted]] {
            let data = try JSONSerialization.data(withJSONObject: object, options: options)
            #expect(try LiveTimerState(decoding: Array(data)) == live)
        }
    }

    @Test func escapesOfEveryKindAreRead() throws {
        let members = try FlatJSON.members(of: Array(#" { "a" : "\u00e9\ud83e\udded\/\b\f\n\r\t\"\\" , "b":-9223372036854775808, "c" :null } "#.utf8))
        #expect(members.map(\.name) == ["a", "b", "c"])
        #expect(members.map(\.value) == [.string("é🧭/\u{08}\u{0C}\n\r\t\"\\"), .integer(Int64.min), .null])
        #expect(try FlatJSON.members(of: Array("{}".utf8)).isEmpty)
    }

    @Test(arguments: [
        ("", "expected '{'"), ("[]", "expected '{'"), ("{", "expected a member name"), (#"{"a":1"#, "expected ',' or '}'"),
        (#"{"a":1,}"#, "expected a member name"), (#"{"a":1} x"#, "bytes after the object"),
        (#"{"a":1,"a":2}"#, "appears twice"), (#"{"a":1.5}"#, "not an integer"), (#"{"a":1e3}"#, "not an integer"),
        (#"{"a":01}"#, "leading zero"), (#"{"a":-}"#, "expected digits"), (#"{"a":9223372036854775808}"#, "out of range"),
        (#"{"a":-9223372036854775809}"#, "out of range"), (#"{"a":99999999999999999999}"#, "out of range"),
        (#"{"a":true}"#, "expected an integer, a string or null"), (#"{"a":nul}"#, "expected null"),
        (#"{"a":{"b":1}}"#, "expected an integer"), (#"{"a":"x"#, "unterminated string"), ("{\"a\":\"\u{01}\"}", "control character"),
        (#"{"a":"\x"}"#, "unknown escape"), (#"{"a":"\u12"#, "short"), (#"{"a":"\u12g4"}"#, "not hexadecimal"),
        (#"{"a":"\ud83e"}"#, "lone surrogate"), (#"{"a":"\udded"}"#, "lone surrogate"), (#"{"a":"\ud83e\u0041"}"#, "lone surrogate"),
        (#"{"a":"#, "expected a value"),
    ])
    func malformedObjectsAreRefusedSayingWhere(text: String, reason: String) {
        #expect {
            _ = try FlatJSON.members(of: Array(text.utf8))
        } throws: { error in
            (error as? FlatJSON.Failure)?.description.contains(reason) == true
        }
    }

    @Test func invalidUTF8InAStringIsRefused() {
        let bytes = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: FlatJSON.Failure.self) { try FlatJSON.members(of: bytes) }
    }

    @Test func aStateMissingAMemberOrWithAWrongTypeIsMalformed() throws {
        let live = try state(description: "d", clientRef: nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(live.encoded())) as? [String: Any])
        for name in object.keys {
            var missing = object
            missing[name] = nil
            let withoutIt = Array(try JSONSerialization.data(withJSONObject: missing))
            let error = #expect(throws: LiveStateError.self, "without \(name)") { try LiveTimerState(decoding: withoutIt) }
            #expect(error?.code == .malformedValue)
            var retyped = object
            let stringMembers: Set = ["status", "device_id", "description", "client_ref", "currency"]
            retyped[name] = stringMembers.contains(name) ? 1 : "text"
            let wrongType = Array(try JSONSerialization.data(withJSONObject: retyped))
            #expect(throws: LiveStateError.self, "\(name) retyped") { try LiveTimerState(decoding: wrongType) }
        }
        var extra = object
        extra["added_later"] = "ignored"
        #expect(try LiveTimerState(decoding: Array(try JSONSerialization.data(withJSONObject: extra))) == live)
    }
}
