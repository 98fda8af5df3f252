import Testing
@testable import TimerDomain

@Suite("Instant and clocks")
struct InstantTests {
    @Test("calendar constructor and RFC 3339 text agree")
    func calendarRoundTrip() {
        let instant = Instant(2024, 12, 1, 9, 30, 15, microsecond: 42)
        #expect(instant.microsecondsSinceEpoch == 1_733_045_415_000_042)
        #expect(instant.description == "2024-12-01T09:30:15.000042Z")
        #expect(Instant.epoch.description == "1970-01-01T00:00:00.000000Z")
        #expect(Instant(2000, 2, 29, 23, 59, 59).description == "2000-02-29T23:59:59.000000Z")
        // The edges of four-digit years, and beyond them.
        #expect(Instant(0, 1, 1, 0, 0, 0).description == "0000-01-01T00:00:00.000000Z")
        #expect(Instant(9999, 12, 31, 23, 59, 59, microsecond: 999_999).description == "9999-12-31T23:59:59.999999Z")
        #expect(Instant(10000, 1, 1, 0, 0, 0).description == "10000-01-01T00:00:00.000000Z")
        #expect(Instant(-1, 12, 31, 0, 0, 0).description == "-0001-12-31T00:00:00.000000Z")
        // Any instant's text names the calendar fields it was made from.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let (y, mo, d) = (Int64.random(in: 1...9_999, using: &generator), Int64.random(in: 1...12, using: &generator),
                              Int64.random(in: 1...28, using: &generator))
            let (h, mi, se, us) = (Int64.random(in: 0...23, using: &generator), Int64.random(in: 0...59, using: &generator),
                                   Int64.random(in: 0...59, using: &generator), Int64.random(in: 0...999_999, using: &generator))
            func padded(_ value: Int64, _ width: Int) -> String {
                String(repeating: "0", count: width - String(value).count) + String(value)
            }
            let expected = "\(padded(y, 4))-\(padded(mo, 2))-\(padded(d, 2))T\(padded(h, 2)):\(padded(mi, 2)):\(padded(se, 2)).\(padded(us, 6))Z"
            #expect(Instant(y, mo, d, h, mi, se, microsecond: us).description == expected)
        }
    }

    @Test("protobuf Timestamp fields both ways, before and after the epoch")
    func timestampFields() {
        let fromNanos = Instant(seconds: 1_733_045_415, nanos: 999_999_999)
        #expect(fromNanos.microsecondsSinceEpoch == 1_733_045_415_999_999)
        #expect(fromNanos.timestampSeconds == 1_733_045_415)
        #expect(fromNanos.timestampNanos == 999_999_000)

        let beforeEpoch = Instant(microsecondsSinceEpoch: -1)
        #expect(beforeEpoch.timestampSeconds == -1)
        #expect(beforeEpoch.timestampNanos == 999_999_000)
        #expect(beforeEpoch.description == "1969-12-31T23:59:59.999999Z")
        #expect(Instant(seconds: -1, nanos: 999_999_000) == beforeEpoch)
    }

    @Test("whole seconds round down and never go negative")
    func wholeSeconds() {
        let start = at(9)
        #expect(Instant.wholeSeconds(from: start, to: at(9, 0, 1, micro: 999_999)) == 1)
        #expect(Instant.wholeSeconds(from: start, to: at(9, 0, 0, micro: 999_999)) == 0)
        #expect(Instant.wholeSeconds(from: start, to: at(10)) == 3_600)
        #expect(Instant.wholeSeconds(from: at(10), to: start) == 0)
        let extreme = Instant.wholeSeconds(
            from: Instant(microsecondsSinceEpoch: .min), to: Instant(microsecondsSinceEpoch: .max)
        )
        #expect(extreme == Int64.max / 1_000_000)
    }

    @Test("arithmetic saturates instead of trapping")
    func saturation() {
        let late = Instant(microsecondsSinceEpoch: .max - 5)
        #expect(late.advanced(bySeconds: 1).microsecondsSinceEpoch == .max)
        #expect(Instant.epoch.advanced(bySeconds: .min).microsecondsSinceEpoch == .min)
        #expect(Instant(seconds: .max, nanos: 0).microsecondsSinceEpoch == .max)
        #expect(at(9).advanced(bySeconds: 90) == at(9, 1, 30))
    }

    @Test("the manual clock moves only when told, backwards too")
    func manualClock() {
        let clock = ManualWallClock(at(9))
        #expect(clock.now == at(9))
        clock.advance(bySeconds: 90)
        #expect(clock.now == at(9, 1, 30))
        clock.advance(byMicroseconds: -1)
        #expect(clock.now == at(9, 1, 29, micro: 999_999))
        clock.set(at(8))
        #expect(clock.now == at(8))
    }

    @Test("the system clock reads the present")
    func systemClock() {
        let now = SystemWallClock().now
        #expect(now > Instant(2024, 1, 1))
        #expect(now < Instant(2200, 1, 1))
    }
}
