import Testing
@testable import RPC

@Suite("grpc-timeout")
struct WireTimeoutTests {
    @Test("each unit parses to its duration", arguments: [
        ("1H", Duration.seconds(3_600)),
        ("2M", .seconds(120)),
        ("3S", .seconds(3)),
        ("4m", .milliseconds(4)),
        ("5u", .microseconds(5)),
        ("6n", .nanoseconds(6)),
        ("250m", .milliseconds(250)),
        ("0n", .zero),
        ("0H", .zero),
        ("00000001S", .seconds(1)),
        ("99999999n", .nanoseconds(99_999_999)),
    ])
    func parsesUnits(value: String, expected: Duration) throws {
        #expect(try GRPCTimeout(parsing: value).duration == expected)
        #expect(try GRPCTimeout(parsing: Array(value.utf8)).duration == expected)
    }

    @Test("the largest value, 99999999H, does not overflow")
    func largestValue() throws {
        let timeout = try GRPCTimeout(parsing: "99999999H")
        #expect(timeout.amount == 99_999_999)
        #expect(timeout.unit == .hours)
        #expect(timeout.duration == .seconds(Int64(99_999_999) * 3_600))
        #expect(timeout.duration > .seconds(Int64(365 * 24 * 3_600) * 11_000))
    }

    @Test("malformed values are rejected with a message saying what is wrong", arguments: [
        ("", "empty value"),
        ("123456789S", "9 digits (at most 8)"),
        ("0000000001S", "10 digits (at most 8)"),
        ("-1S", "unexpected '-' at offset 0"),
        ("+1S", "unexpected '+' at offset 0"),
        (" 1S", "unexpected 0x20 at offset 0"),
        ("1 S", "unexpected 0x20 at offset 1"),
        ("1S ", "unexpected 0x20 after the unit, at offset 2"),
        ("1SS", "unexpected 'S' after the unit, at offset 2"),
        ("1x", "unknown unit 'x'"),
        ("1h", "unknown unit 'h'"),
        ("1s", "unknown unit 's'"),
        ("1.5S", "unexpected '.' at offset 1"),
        ("123", "missing unit"),
        ("S", "no digits before the unit"),
        ("1\u{0}", "unknown unit 0x00"),
        ("١S", "unexpected 0xD9 at offset 0"),  // an Arabic-Indic digit is not an ASCII digit
    ])
    func rejectsMalformed(value: String, reason: String) throws {
        let error = try #require(throws: RPCError.self) { try GRPCTimeout(parsing: value) }
        #expect(error.code == .internalError)
        #expect(error.message.hasPrefix("malformed grpc-timeout"))
        #expect(error.message.contains(reason), "\(error.message)")
    }

    @Test("the error message quotes the value, escaped and cut short")
    func errorQuotesValue() throws {
        let error = try #require(throws: RPCError.self) { try GRPCTimeout(parsing: "12\"x") }
        #expect(error.message == #"malformed grpc-timeout "12\"x": unexpected '"' at offset 2 (expected a digit)"#)
        let long = String(repeating: "9", count: 500) + "S"
        let longError = try #require(throws: RPCError.self) { try GRPCTimeout(parsing: long) }
        #expect(longError.message.count < 150)
        #expect(longError.message.contains("500 digits"))
    }

    static let formatCases: [(Duration, String)] = {
        let hour: Int64 = 3_600
        let maxHours: Int64 = 99_999_999
        var cases: [(Duration, String)] = [
            (.seconds(1), "1S"),
            (.milliseconds(1), "1m"),
            (.milliseconds(1_500), "1500m"),
            (.nanoseconds(1), "1n"),
            (.nanoseconds(100), "100n"),
            (.nanoseconds(99_999_999), "99999999n"),
            (.nanoseconds(100_000_000), "100m"),
            (.nanoseconds(123_456_789), "123457u"),  // rounded up
            (.seconds(60), "1M"),
            (.seconds(90 * 60), "90M"),
            (.seconds(hour), "1H"),
            (.seconds(100_000), "100000S"),
            (.seconds(maxHours * hour), "99999999H"),
            (.seconds(maxHours * 60 + 1), "1666667H"),
        ]
        let sevenThousandTwoHundredSeconds: Duration = .seconds(7_200)
        cases.append((sevenThousandTwoHundredSeconds + .nanoseconds(1), "7200001m"))
        let almostAHundredThousand: Duration = .seconds(99_999)
        cases.append((almostAHundredThousand + .nanoseconds(1), "99999001m"))
        let aHundredThousand: Duration = .seconds(100_000)
        cases.append((aHundredThousand + .nanoseconds(1), "100001S"))
        return cases
    }()

    @Test("formats to the shortest exact value", arguments: formatCases)
    func formats(duration: Duration, expected: String) {
        #expect(GRPCTimeout(roundingUp: duration).headerValue == expected)
    }

    @Test("sub-nanosecond, zero and negative durations become 1n")
    func tinyDurations() {
        #expect(GRPCTimeout(roundingUp: Duration(secondsComponent: 0, attosecondsComponent: 1)).headerValue == "1n")
        #expect(GRPCTimeout(roundingUp: .zero).headerValue == "1n")
        #expect(GRPCTimeout(roundingUp: .seconds(-5)).headerValue == "1n")
        #expect(GRPCTimeout(roundingUp: .nanoseconds(-1)).headerValue == "1n")
    }

    @Test("durations past 99999999H saturate")
    func saturates() {
        #expect(GRPCTimeout(roundingUp: .seconds(Int64(99_999_999) * 3_600 + 1)).headerValue == "99999999H")
        #expect(GRPCTimeout(roundingUp: .seconds(Int64.max)).headerValue == "99999999H")
        #expect(GRPCTimeout(roundingUp: Duration(secondsComponent: .max, attosecondsComponent: 999_999_999_999_999_999)).headerValue
            == "99999999H")
    }

    @Test("formatting never shortens and stays within 8 digits")
    func roundTripsDurations() throws {
        var random = WireRandom(seed: 7)
        for _ in 0..<5_000 {
            // Magnitudes from nanoseconds to centuries.
            let exponent = random.next(below: 19)
            var scale: Int64 = 1
            for _ in 0..<exponent { scale *= 10 }
            let duration = Duration.nanoseconds(1 + Int64(random.next(below: UInt64(scale * 9))))  // positive: 0 becomes 1n
                + .seconds(random.next(below: 4) == 0 ? Int64(random.next(below: 10_000_000_000)) : 0)
            let timeout = GRPCTimeout(roundingUp: duration)
            let value = timeout.headerValue
            #expect(value.count <= 9)
            let parsed = try GRPCTimeout(parsing: value)
            #expect(parsed == timeout)
            #expect(parsed.duration >= duration)
            // Never more than one unit of the finest unit that fits, past the duration.
            #expect(parsed.duration - duration < .nanoseconds(timeout.unit.nanoseconds))
        }
    }

    @Test("every header value round-trips to the same duration")
    func roundTripsValues() throws {
        var random = WireRandom(seed: 11)
        for unit in GRPCTimeout.Unit.allCases {
            for _ in 0..<500 {
                let amount = Int64(random.next(below: 100_000_000))
                let value = "\(amount)\(unit.letter)"
                let duration = try GRPCTimeout(parsing: value).duration
                #expect(GRPCTimeout(roundingUp: duration).duration == duration || amount == 0, "\(value)")
            }
        }
        #expect(try GRPCTimeout(parsing: GRPCTimeout(roundingUp: .milliseconds(1_000)).headerValue).duration == .seconds(1))
    }

    @Test("amounts outside 0...99999999 make no timeout")
    func amountRange() {
        #expect(GRPCTimeout(amount: 99_999_999, unit: .seconds) != nil)
        #expect(GRPCTimeout(amount: 100_000_000, unit: .seconds) == nil)
        #expect(GRPCTimeout(amount: -1, unit: .seconds) == nil)
        #expect(GRPCTimeout(amount: 5, unit: .minutes)?.description == "5M")
    }
}
