import Codec
import Testing
@testable import TimerctlCore

@Suite("JSON documents")
struct JSONTests {
    @Test func parsesAndWritesBackTheSameDocument() throws {
        let text = #"{"a":[1,-2,3.5,true,false,null],"b":{"c":"d\"e\\f\n\u0001é😀"},"big":9007199254740993}"#
        let value = try JSONValue.parse(text)
        #expect(value["big"]?.integerValue == 9_007_199_254_740_993)  // exact beyond 2^53
        #expect(value["b"]?["c"]?.stringValue == "d\"e\\f\n\u{01}é😀")
        #expect(value["a"]?[2] == .number(3.5))
        #expect(value.serialized == text)
        #expect(try JSONValue.parse(" [ ] ") == .array([]))
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func refusesWhatIsNotJSONSayingWhere() {
        let cases: [(String, Int, Int)] = [
            ("{\"a\": }", 1, 7), ("[1,\n 2,\n ", 3, 2), ("{\"a\" 1}", 1, 6), ("01", 1, 2), ("\"a", 1, 3),
            ("[1] x", 1, 5), ("tru", 1, 1), ("\"\\ud800\"", 1, 8), ("{'a': 1}", 1, 2),
        ]
        for (text, line, column) in cases {
            do {
                _ = try JSONValue.parse(text)
                Issue.record("parsed \(text)")
            } catch {
                #expect(error.line == line && error.column == column, "\(text): \(error)")
            }
        }
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }

    @Test func aTimerHasEveryFieldInProtoOrderWithNullsAndExactMoney() throws {
        var timer = VaultTimer()
        timer.id = 42
        timer.userID = 1
        timer.accountID = 3
        timer.billingRateID = 5
        timer.description = "Design review"
        timer.status = .running
        timer.startedAt = Timestamp(seconds: 1_777_629_600)
        timer.totalDuration = 60
        timer.currentSessionDuration = 3
        timer.currentValue = money(158)
        timer.syncVersion = 2
        let json = JSONValue.timer(timer)
        let keys = json.members?.map(\.key)
        #expect(keys == ["id", "user_id", "account_id", "project_id", "billing_rate_id", "description", "status", "started_at",
                         "paused_at", "stopped_at", "total_duration", "current_session_duration", "last_updated", "device_id",
                         "sync_version", "current_session_started_at", "current_value", "hourly_rate", "client_ref",
                         "created_at", "deleted_at"])
        #expect(json["project_id"] == .null)
        #expect(json["status"] == .string("running"))
        #expect(json["started_at"] == .string("2026-05-01T10:00:00Z"))
        #expect(json["current_value"]?["amount"] == .string("1.58"))
        #expect(json["current_value"]?["amount_minor"] == .integer(158))
        #expect(json["hourly_rate"] == .null)
        let reparsed = try JSONValue.parse(json.serialized)
        #expect(reparsed == json)
    }

    @Test func enumValuesUseShortNamesAndUnknownNumbersStayNumbers() {
        var event = TimerEvent()
        event.type = .heartbeat
        event.cause = .autoPause
        #expect(JSONValue.event(event)["type"] == .string("heartbeat"))
        #expect(JSONValue.event(event)["cause"] == .string("auto_pause"))
        event.type = .unrecognized(42)
        #expect(JSONValue.event(event)["type"] == .integer(42))
        var response = SyncTimersResponse()
        var conflict = Conflict()
        conflict.conflictType = .statusMismatch
        conflict.resolution = .serverWins
        conflict.localStatus = .stopped
        response.conflicts = [conflict]
        let json = JSONValue.sync(response)
        #expect(json["conflicts"]?[0]?["conflict_type"] == .string("status_mismatch"))
        #expect(json["conflicts"]?[0]?["resolution"] == .string("server_wins"))
        #expect(json["conflicts"]?[0]?["local_status"] == .string("stopped"))
    }

    @Test func durationsAreWrittenAsProtobufJSONDoes() {
        #expect(JSONValue.duration(ProtoDuration(seconds: 0, nanos: 1_500_000)) == .string("0.001500s"))
        #expect(JSONValue.duration(ProtoDuration(seconds: 3)) == .string("3s"))
        #expect(JSONValue.duration(ProtoDuration(seconds: 1, nanos: 1)) == .string("1.000000001s"))
        #expect(JSONValue.duration(ProtoDuration(seconds: -2, nanos: -500_000_000)) == .string("-2.500s"))
    }
}
