import Foundation
import LiveState
import Logging
import RPC
import Storage
import Synchronization
import Testing
import TimerDomain
@testable import RPCServer

/// The JSON log lines of `--log-format json`, the request ids calls carry,
/// and what a call's line may say about its failure.
@Suite("Structured logs")
struct JSONLogHandlerTests {
    /// The lines a handler wrote.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    /// A logger whose handler writes to `lines`, at 2026-11-29T16:14:49.007Z.
    func logger(_ lines: Lines, level: Logger.Level = .trace, label: String = "test",
                provider: Logger.MetadataProvider? = nil) -> Logger {
        Logger(label: label) { label in
            var handler = JSONLogHandler(label: label, metadataProvider: provider,
                                         clock: { (1_795_968_889, 7) }, sink: { lines.append($0) })
            handler.logLevel = level
            return handler
        }
    }

    /// The one object of a line, which must end with its only newline.
    func object(_ line: String) throws -> [String: Any] {
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false)
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(parsed as? [String: Any], "not an object: \(line)")
    }

    @Test func aLineHasTimeLevelLabelMessageAndMetadata() throws {
        let lines = Lines()
        var log = logger(lines, label: "timerd.rpc")
        log[metadataKey: "instance"] = "a"
        log.debug("call", metadata: [
            "method": "PauseTimer", "user_id": .stringConvertible(Int64(42)), "duration_ms": .stringConvertible(1.25),
            "cached": .stringConvertible(true),
        ])
        let line = try #require(lines.all.first)
        #expect(line == """
            {"ts":"2026-11-29T16:14:49.007Z","level":"debug","label":"timerd.rpc","message":"call",\
            "cached":true,"duration_ms":1.25,"instance":"a","method":"PauseTimer","user_id":42}

            """)
        let fields = try object(line)
        #expect(fields["user_id"] as? Int == 42)
        #expect(fields["duration_ms"] as? Double == 1.25)
    }

    @Test(arguments: [
        ("say \"hi\"", #""say \"hi\"""#),
        ("back\\slash", #""back\\slash""#),
        ("two\nlines\r\n", #""two\nlines\r\n""#),
        ("tab\tbell\u{07}nul\u{00}esc\u{1B}del\u{7F}", #""tab\tbell\u0007nul\u0000esc\u001bdel\u007f""#),
        ("\u{08}\u{0C}", #""\b\f""#),
        ("héllo wörld ✓ 日本 🙂", "\"héllo wörld ✓ 日本 🙂\""),
        ("sep\u{2028}par\u{2029}", #""sep\u2028par\u2029""#),
        ("", #""""#),
    ])
    func stringsAreEscaped(_ text: String, _ expected: String) throws {
        var out = ""
        JSONLogHandler.appendString(text, to: &out)
        #expect(out == expected)
        // And each such string, as a message and as metadata, comes back whole.
        let lines = Lines()
        logger(lines).info("\(text)", metadata: ["value": .string(text), "key\n\"\(text)": "x"])
        let fields = try object(try #require(lines.all.first))
        #expect(fields["message"] as? String == text)
        #expect(fields["value"] as? String == text)
        #expect(fields["key\n\"\(text)"] as? String == "x")
    }

    @Test func everyLevelIsNamedAndTheHandlersLevelFilters() throws {
        let lines = Lines()
        let all = logger(lines)
        for level in Logger.Level.allCases { all.log(level: level, "m") }
        #expect(try lines.all.map { try object($0)["level"] as? String } == Logger.Level.allCases.map(\.rawValue))
        #expect(lines.all.map { $0 } .allSatisfy { !$0.contains("metadata.") })

        let quiet = Lines()
        let warnings = logger(quiet, level: .warning)
        for level in Logger.Level.allCases { warnings.log(level: level, "m") }
        #expect(try quiet.all.map { try object($0)["level"] as? String } == ["warning", "error", "critical"])
    }

    @Test func nestedMetadataIsJSONAndLaterSourcesWin() throws {
        let lines = Lines()
        let provider = Logger.MetadataProvider { ["from": "provider", "provided": "yes"] }
        var log = logger(lines, provider: provider)
        log[metadataKey: "from"] = "logger"
        log.info("m", metadata: [
            "nested": ["list": ["1", .stringConvertible(2), ["deep": "x"]], "b": "c"],
            "from": "call",
            // A key of the fixed four does not hide them.
            "message": "not the message", "ts": "no",
            "text": .stringConvertible(StatusCode.notFound),
            "infinite": .stringConvertible(Double.infinity),
        ])
        let line = try #require(lines.all.first)
        let fields = try object(line)
        #expect(fields["message"] as? String == "m")
        #expect(fields["ts"] as? String == "2026-11-29T16:14:49.007Z")
        #expect(fields["metadata.message"] as? String == "not the message")
        #expect(fields["metadata.ts"] as? String == "no")
        #expect(fields["from"] as? String == "call")
        #expect(fields["provided"] as? String == "yes")
        #expect(fields["text"] as? String == "NOT_FOUND")
        #expect(fields["infinite"] as? String == "inf")
        let nested = try #require(fields["nested"] as? [String: Any])
        #expect(nested["b"] as? String == "c")
        let list = try #require(nested["list"] as? [Any])
        #expect(list.count == 3)
        #expect(list[0] as? String == "1")
        #expect(list[1] as? Int == 2)
        #expect((list[2] as? [String: String]) == ["deep": "x"])
        #expect(line.contains(#""nested":{"b":"c","list":["1",2,{"deep":"x"}]}"#))
    }

    @Test func copiesKeepTheirOwnLevelAndMetadata() throws {
        let lines = Lines()
        var first = logger(lines)
        var second = first
        first[metadataKey: "who"] = "first"
        second[metadataKey: "who"] = "second"
        second.logLevel = .error
        first.info("a")
        second.info("dropped")
        second.error("b")
        #expect(try lines.all.map { try object($0)["who"] as? String } == ["first", "second"])
    }

    @Test(arguments: [
        (Int64(0), 0, "1970-01-01T00:00:00.000Z"),
        (Int64(951_782_400), 5, "2000-02-29T00:00:00.005Z"),
        (Int64(1_795_968_889), 999, "2026-11-29T16:14:49.999Z"),
        (Int64(4_107_542_399), 123, "2100-02-28T23:59:59.123Z"),
        (Int64(-1), 0, "1969-12-31T23:59:59.000Z"),
        (Int64(253_402_300_799), 0, "9999-12-31T23:59:59.000Z"),
    ])
    func timestampsAreRFC3339InUTCWithMilliseconds(_ seconds: Int64, _ milliseconds: Int, _ expected: String) {
        #expect(JSONLogHandler.timestamp(seconds: seconds, milliseconds: milliseconds) == expected)
    }

    @Test func theSystemClockGivesTodaysTime() throws {
        let (seconds, milliseconds) = JSONLogHandler.systemTime()
        #expect(abs(Double(seconds) - Date().timeIntervalSince1970) < 5)
        #expect((0..<1_000).contains(milliseconds))
    }

    // MARK: Request ids

    @Test func aSaneClientRequestIDIsKept() {
        for id in ["test-req-123", "a", String(repeating: "x", count: 128), "!~{}[]:/=+_.", "0f8fad5b-d9cb-469f-a165-70867728950e"] {
            var metadata = Metadata()
            metadata.add("x-request-id", id)
            #expect(RequestID.of(metadata) == id)
        }
    }

    @Test func anInsaneOrMissingRequestIDIsReplacedByAGeneratedOne() {
        let insane = ["", " ", "has space", "new\nline", "tab\t", "é", "\u{7F}", String(repeating: "x", count: 129),
                      "svt_" + String(repeating: "A", count: 43)]
        for given in insane + [nil] {
            var metadata = Metadata()
            if let given { metadata.add("x-request-id", given) }
            let id = RequestID.of(metadata)
            #expect(id != given)
            #expect(id.count == 32 && id.utf8.allSatisfy { Array("0123456789abcdef".utf8).contains($0) }, "\(id)")
        }
        #expect(Set((0..<100).map { _ in RequestID.generate() }).count == 100)
    }

    // MARK: What a call's line says about its failure

    @Test func faultsAreWarningsOrErrorsAndTheCallersMistakesDebug() {
        typealias Service = TimerServiceImplementation
        func level(_ error: any Error) -> Logger.Level { Service.logLevel(for: Service.status(for: error), cause: error) }
        #expect(level(StorageError(code: .unavailable, message: "no connection")) == .warning)
        #expect(level(StorageError(code: .connectionLost, message: "server closed the connection")) == .warning)
        #expect(level(StorageError(code: .timedOut, message: "deadline")) == .warning)
        #expect(level(StorageError(code: .queryFailed, sqlState: "XX000", message: "boom")) == .error)
        #expect(level(LiveStateError(code: .ioFailed, message: "read failed")) == .error)
        #expect(level(RPCError(code: .internalError, message: "x")) == .error)
        #expect(level(StorageError(code: .cancelled, message: "cancelled")) == .debug)
        #expect(level(CancellationError()) == .debug)
        #expect(level(RPCError(code: .notFound, message: "no timer 9")) == .debug)
        #expect(level(RPCError(code: .unavailable, message: "the server is shutting down")) == .debug)
        #expect(level(TimerDomainError(code: .failedPrecondition, message: "the timer is stopped")) == .debug)
    }

    @Test func errorSummariesNeverQuoteWhatAStatementCarried() {
        let quoted = StorageError(code: .queryFailed, sqlState: "23505", message: "duplicate key value violates unique constraint",
                                  detail: "Key (client_ref)=(secret-ref) already exists.")
        #expect(LoggableError.summary(quoted) == "StorageError.queryFailed [23505]")
        let parse = StorageError(code: .invalidArgument, message: "text parameter holds a NUL byte: \"my description\"")
        #expect(LoggableError.summary(parse) == "StorageError.invalidArgument")
        #expect(LoggableError.summary(StorageError(code: .connectionFailed, message: "connection refused"))
                == "StorageError.connectionFailed: connection refused")
        #expect(LoggableError.summary(LiveStateError(code: .malformedValue, message: "field 'description' is \"x\""))
                == "LiveStateError.malformedValue")
        struct Opaque: Error { var secret = "svt_secret" }
        #expect(LoggableError.summary(Opaque()) == "Opaque")
    }
}
