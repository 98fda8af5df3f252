import Codec
import RPC
import Testing
@testable import TimerctlCore

func money(_ minor: Int64, _ currency: String = "USD", digits: UInt32 = 2) -> Money {
    var value = Money()
    value.amountMinor = minor
    value.currencyCode = currency
    value.minorUnitDigits = digits
    return value
}

@Suite("Durations, money and text for people")
struct FormattingTests {
    @Test(arguments: [
        (Int64(0), "0s"), (7, "7s"), (59, "59s"), (60, "1m 00s"), (125, "2m 05s"), (3_599, "59m 59s"),
        (3_600, "1h 00m 00s"), (3_723, "1h 02m 03s"), (93_600, "26h 00m 00s"), (-61, "-1m 01s"),
    ])
    func durationsReadAsHoursMinutesSeconds(seconds: Int64, text: String) {
        #expect(HumanText.duration(seconds) == text)
    }

    @Test func moneyKeepsItsCurrencysDigits() {
        #expect(HumanText.money(money(18_750)) == "187.50 USD")
        #expect(HumanText.money(money(5)) == "0.05 USD")
        #expect(HumanText.money(money(-5, "EUR")) == "-0.05 EUR")
        #expect(HumanText.money(money(1_500, "JPY", digits: 0)) == "1500 JPY")
        #expect(HumanText.money(money(125, "KWD", digits: 3)) == "0.125 KWD")
        #expect(HumanText.money([money(11_108), money(1_200, "EUR")]) == "111.08 USD, 12.00 EUR")
        #expect(HumanText.decimal(money(Int64.min)) == "-92233720368547758.08")
    }

    @Test func valuesAreRoundedAsTheServerRoundsThem() {
        let rate = money(9_000)  // 90.00 USD an hour: 2.5 cents a second
        #expect(MoneyMath.value(ofSeconds: 3_600, at: rate)?.amountMinor == 9_000)
        #expect(MoneyMath.value(ofSeconds: 1, at: rate)?.amountMinor == 3)  // 2.5 rounds away from zero
        #expect(MoneyMath.value(ofSeconds: 8, at: rate)?.amountMinor == 20)
        #expect(MoneyMath.value(ofSeconds: 9, at: rate)?.amountMinor == 23)  // 22.5
        #expect(MoneyMath.value(ofSeconds: -5, at: rate)?.amountMinor == 0)
        #expect(MoneyMath.value(ofSeconds: 3_600, at: rate)?.currencyCode == "USD")
        #expect(MoneyMath.value(ofSeconds: Int64.max, at: money(1_000_000_000_000)) == nil)
        let totals = MoneyMath.totals([money(3), money(1, "EUR"), money(4)])
        #expect(totals?.map(\.currencyCode) == ["EUR", "USD"])
        #expect(totals?.map(\.amountMinor) == [1, 7])
    }

    @Test func serverTextCannotDriveTheTerminal() {
        #expect(HumanText.sanitized("Design\u{1B}[2J review\n2") == "Design [2J review 2")
        #expect(HumanText.sanitized("plain") == "plain")
        #expect(HumanText.sanitized("a\u{9B}b") == "a b")
    }

    @Test func widthsCountWideCharactersTwice() {
        #expect(HumanText.width("abc") == 3)
        #expect(HumanText.width("日本") == 4)
        #expect(HumanText.truncated("Design review", to: 8) == "Design …")
        #expect(HumanText.truncated("日本語の説明", to: 5) == "日本…")
        #expect(HumanText.truncated("short", to: 10) == "short")
    }

    @Test func tablesAlignAndGiveWayAtTheLastColumn() {
        var table = Table([.init("ID", .right), .init("STATUS"), .init("DESCRIPTION")])
        table.append(["7", "running", "Design review"])
        table.append(["42", "paused", "Client call"])
        #expect(table.render() == [
            "ID  STATUS   DESCRIPTION",
            " 7  running  Design review",
            "42  paused   Client call",
        ])
        #expect(table.render(width: 20) == [
            "ID  STATUS   DESCRI…",
            " 7  running  Design…",
            "42  paused   Client…",
        ])
        #expect(table.render(header: false).count == 2)
    }

    @Test func callFailuresSayWhatCouldNotBeDoneAndWhy() {
        let notFound = TimerctlError(cannot: "pause timer 9", RPCError(code: .notFound, message: "timer not found"), target: "h:1")
        #expect(notFound.message == "cannot pause timer 9: timer not found (NOT_FOUND)")
        #expect(notFound.exitStatus == 1)
        let down = TimerctlError(cannot: "list timers", RPCError(code: .unavailable, message: "connect: refused"), target: "h:1")
        #expect(down.message == "cannot list timers: connect: refused (UNAVAILABLE; is timerd running at h:1?)")
        let hostile = TimerctlError(cannot: "x", RPCError(code: .internalError, message: "a\nb"), target: "h:1")
        #expect(!hostile.message.contains("\n"))
    }
}

@Suite("Times: RFC 3339, device times, local clock")
struct TimeTests {
    @Test func rfc3339RoundTrips() throws {
        #expect(Time.rfc3339(Timestamp(seconds: 0)) == "1970-01-01T00:00:00Z")
        #expect(Time.rfc3339(Timestamp(seconds: 951_782_400)) == "2000-02-29T00:00:00Z")
        #expect(Time.rfc3339(Timestamp(seconds: 1_777_629_600, nanos: 250_000_000)) == "2026-05-01T10:00:00.25Z")
        #expect(Time.rfc3339(Timestamp(seconds: -1)) == "1969-12-31T23:59:59Z")
        for seconds: Int64 in [0, 1, 951_782_400, 1_777_629_600, 4_102_444_800, -86_401] {
            let text = Time.rfc3339(Timestamp(seconds: seconds, nanos: 123_456_000))
            #expect(Time.parseRFC3339(text) == Timestamp(seconds: seconds, nanos: 123_456_000), "\(text)")
        }
    }

    @Test func rfc3339AcceptsOffsetsAndRefusesNonsense() {
        #expect(Time.parseRFC3339("2026-05-01T12:00:00+02:00") == Timestamp(seconds: 1_777_629_600))
        #expect(Time.parseRFC3339("2026-05-01 10:00:00z") == Timestamp(seconds: 1_777_629_600))
        #expect(Time.parseRFC3339("2026-05-01T10:00:00.5Z")?.nanos == 500_000_000)
        for bad in ["", "2026-05-01", "2026-05-01T10:00:00", "2026-02-30T10:00:00Z", "2026-13-01T10:00:00Z",
                    "2026-05-01T24:00:00Z", "2026-05-01T10:00:00.Z", "2026-05-01T10:00:00Zjunk", "yesterday"] {
            #expect(Time.parseRFC3339(bad) == nil, "\(bad)")
        }
    }

    @Test func deviceTimesMayBeSpansBeforeNow() {
        let now = Timestamp(seconds: 1_000_000, nanos: 7)
        #expect(Time.parseDeviceTime("now", now: now) == now)
        #expect(Time.parseDeviceTime("-15m", now: now) == Timestamp(seconds: 1_000_000 - 900, nanos: 7))
        // (Values computed before #expect: comparing optional Int64 inside it miscompiles.)
        let spans = ["-1h30m", "-2d", "-90s", "-1h 5m", "2026-05-01T10:00:00Z"].map { Time.parseDeviceTime($0, now: now)?.seconds ?? 0 }
        let expected: [Int64] = [1_000_000 - 5_400, 1_000_000 - 172_800, 1_000_000 - 90, 1_000_000 - 3_900, 1_777_629_600]
        #expect(spans == expected)
        for bad in ["-", "-15", "-m", "-15x", "-1m1h", "-1h1h", "soon", "+5m"] {
            #expect(Time.parseDeviceTime(bad, now: now) == nil, "\(bad)")
        }
    }

    @Test func localTimesUseTheGivenOffset() {
        let noon = Timestamp(seconds: 1_777_636_800)  // 2026-05-01T12:00:00Z
        #expect(Time.localDateTime(noon, offset: Time.utc) == "2026-05-01 12:00:00")
        let east = Time.localClock(noon, offset: { _ in 2 * 3_600 }) == "14:00:00"
        #expect(east)
        let west = Time.localDateTime(noon, offset: { _ in -13 * 3_600 }) == "2026-04-30 23:00:00"
        #expect(west)
    }
}

@Suite("Reconnect backoff")
struct BackoffTests {
    @Test func delaysDoubleUpToTheMaximumAndStartOverAfterAReset() {
        var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(10), jitter: 0.2)
        let delays = (0..<7).map { _ in backoff.nextDelay(random: 0.5) }
        #expect(delays == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
        #expect(backoff.attempts == 7)
        backoff.reset()
        #expect(backoff.nextDelay(random: 0.5) == .milliseconds(500))
    }

    @Test func jitterSpreadsEachDelay() {
        var low = Backoff(jitter: 0.2), high = Backoff(jitter: 0.2)
        let shortest = low.nextDelay(random: 0), longest = high.nextDelay(random: 1)
        let shortestError = abs((shortest - .milliseconds(400)) / .microseconds(1))
        let longestError = abs((longest - .milliseconds(600)) / .microseconds(1))
        #expect(shortestError < 1 && longestError < 1, "\(shortest), \(longest)")
    }
}
