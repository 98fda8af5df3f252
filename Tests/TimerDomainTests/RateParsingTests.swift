import Testing
@testable import TimerDomain

@Suite("Rate parsing")
struct RateParsingTests {
    func parse(_ text: String, _ currency: Currency = .usd) throws -> Int64 {
        try HourlyRate(parsing: text, currency: currency).perHour.minorUnits
    }

    func refusal(_ text: String, _ currency: Currency = .usd) -> String? {
        caught { () throws(TimerDomainError) in try HourlyRate(parsing: text, currency: currency) }?.message
    }

    @Test("decimal strings become exact minor units")
    func accepted() throws {
        #expect(try parse("90.00") == 9_000)
        #expect(try parse("90") == 9_000)
        #expect(try parse("90.5") == 9_050)
        #expect(try parse("0.01") == 1)
        #expect(try parse("007.50") == 750)
        #expect(try parse("0") == 0)
        #expect(try parse("5000", .jpy) == 5_000)
        #expect(try parse("1.234", .kwd) == 1_234)
        #expect(try parse("1.2", .kwd) == 1_200)
        #expect(try parse("10000000000.00") == HourlyRate.maximumMinorUnitsPerHour)
    }

    @Test("more fraction digits than the currency has are refused")
    func tooPrecise() {
        #expect(refusal("90.001") == "USD has 2 decimal places, so rate can have at most 2, got \"90.001\"")
        #expect(refusal("5000.0", .jpy) == "JPY has no minor unit, so rate must be a whole number, got \"5000.0\"")
        #expect(refusal("1.2345", .kwd) == "KWD has 3 decimal places, so rate can have at most 3, got \"1.2345\"")
    }

    @Test("malformed text is refused", arguments: [
        "", "-1", "+1", "1e3", " 90", "90 ", "90.", ".5", "1,000", "9 0", "1.2.3", "٩٠", "NaN", "0x10",
    ])
    func malformed(text: String) {
        let message = refusal(text)
        #expect(message == "rate must be a decimal number such as 90.00, got \(text.debugDescription)")
    }

    @Test("the example follows the currency")
    func exampleFollowsCurrency() {
        #expect(refusal("abc", .jpy) == "rate must be a decimal number such as 90, got \"abc\"")
        #expect(refusal("abc", .kwd) == "rate must be a decimal number such as 90.000, got \"abc\"")
    }

    @Test("rates above the maximum are refused, however long")
    func tooLarge() {
        #expect(refusal("10000000000.01") == "rate must be at most 10000000000.00 USD per hour, got \"10000000000.01\"")
        let huge = String(repeating: "9", count: 60)
        #expect(refusal(huge) == "rate must be at most 10000000000.00 USD per hour, got \"\(String(repeating: "9", count: 40))\"…")
    }
}
