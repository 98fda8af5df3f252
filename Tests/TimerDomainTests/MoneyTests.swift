import Testing
@testable import TimerDomain

@Suite("Money")
struct MoneyTests {
    func rate(_ minorUnits: Int64, _ currency: Currency = .usd) throws -> HourlyRate {
        try HourlyRate(perHour: MoneyAmount(minorUnits: minorUnits, currency: currency))
    }

    @Test("the seed's figure: 1 h 15 min at 150.00 USD/h is 187.50 USD")
    func seedExample() throws {
        let value = try rate(15_000).value(ofSeconds: 4_500)
        #expect(value.minorUnits == 18_750)
        #expect(value.description == "187.50 USD")
        #expect(value.minorUnitDigits == 2)
    }

    @Test("rounding to the nearest minor unit, halves away from zero")
    func rounding() throws {
        #expect(try rate(1_800).value(ofSeconds: 1).minorUnits == 1)  // 0.5 → 1
        #expect(try rate(1_799).value(ofSeconds: 1).minorUnits == 0)  // 0.4997 → 0
        #expect(try rate(5_400).value(ofSeconds: 1).minorUnits == 2)  // 1.5 → 2
        #expect(try rate(9_000).value(ofSeconds: 1).minorUnits == 3)  // 2.5 → 3
        #expect(try rate(9_000).value(ofSeconds: 0).minorUnits == 0)
        #expect(try rate(9_000).value(ofSeconds: -60).minorUnits == 0)
        #expect(try rate(0).value(ofSeconds: 86_400).minorUnits == 0)
    }

    @Test("signed rounding of the integer core: halves go away from zero both ways")
    func signedCore() {
        #expect(Int64.product(1, 1_800, dividedRoundingBy: 3_600) == 1)
        #expect(Int64.product(-1, 1_800, dividedRoundingBy: 3_600) == -1)
        #expect(Int64.product(-1, 1_799, dividedRoundingBy: 3_600) == 0)
        #expect(Int64.product(-1, 5_400, dividedRoundingBy: 3_600) == -2)
        #expect(Int64.product(3, -3_000, dividedRoundingBy: 3_600) == -3)  // -2.5 → -3
        #expect(Int64.product(.max, 3_600, dividedRoundingBy: 3_600) == .max)
        #expect(Int64.product(.max, 3_601, dividedRoundingBy: 3_600) == nil)
        #expect(Int64.product(.min, 1, dividedRoundingBy: 1) == .min)
        #expect(Int64.product(.min, -1, dividedRoundingBy: 1) == nil)
    }

    @Test("a 0-digit currency: JPY")
    func yen() throws {
        let perHour = try rate(5_000, .jpy)
        #expect(try perHour.value(ofSeconds: 1).minorUnits == 1)  // 1.39 → 1
        #expect(try perHour.value(ofSeconds: 7).minorUnits == 10)  // 9.72 → 10
        let hour = try perHour.value(ofSeconds: 3_600)
        #expect(hour.description == "5000 JPY")
    }

    @Test("a 3-digit currency: KWD")
    func dinar() throws {
        let value = try rate(12_345, .kwd).value(ofSeconds: 1_800)  // 6172.5 fils → 6173
        #expect(value.minorUnits == 6_173)
        #expect(value.description == "6.173 KWD")
    }

    @Test("tiny and huge values stay exact")
    func extremes() throws {
        // A second at a cent an hour is 1/3600 of a cent.
        #expect(try rate(1).value(ofSeconds: 1).minorUnits == 0)
        // 2,562,047,788,015,215 remainder 1,807 of 3,600: rounds up.
        #expect(try rate(1).value(ofSeconds: .max).minorUnits == 2_562_047_788_015_216)
        // The documented bound: 1,000 years at the maximum rate.
        let maximum = try rate(HourlyRate.maximumMinorUnitsPerHour)
        #expect(try maximum.value(ofSeconds: 31_557_600_000).minorUnits == 8_766_000_000_000_000_000)
    }

    @Test("a value beyond 64 bits is OUT_OF_RANGE, not a wrap")
    func overflow() throws {
        let maximum = try rate(HourlyRate.maximumMinorUnitsPerHour)
        let error = caught { () throws(TimerDomainError) in try maximum.value(ofSeconds: .max) }
        #expect(error?.code == .outOfRange)
        #expect(error?.code.grpcStatusCode == 11)

        let big = MoneyAmount(minorUnits: .max, currency: .usd)
        let sum = caught { () throws(TimerDomainError) in try big.adding(MoneyAmount(minorUnits: 1, currency: .usd)) }
        #expect(sum?.code == .outOfRange)
    }

    @Test("rates outside 0 to the maximum are refused")
    func rateRange() {
        let negative = caught { () throws(TimerDomainError) in
            try HourlyRate(perHour: MoneyAmount(minorUnits: -1, currency: .usd))
        }
        #expect(negative?.message == "rate must be 0 to 10000000000.00 USD per hour, got -0.01")
    }

    @Test("decimal text of amounts")
    func decimalText() {
        #expect(MoneyAmount(minorUnits: 18_750, currency: .usd).decimalString == "187.50")
        #expect(MoneyAmount(minorUnits: 5, currency: .usd).decimalString == "0.05")
        #expect(MoneyAmount(minorUnits: -5, currency: .usd).decimalString == "-0.05")
        #expect(MoneyAmount.zero(.eur).decimalString == "0.00")
        #expect(MoneyAmount(minorUnits: 1_500, currency: .jpy).decimalString == "1500")
        #expect(MoneyAmount(minorUnits: 7, currency: .kwd).decimalString == "0.007")
        #expect(MoneyAmount(minorUnits: .min, currency: .usd).decimalString == "-92233720368547758.08")
    }

    @Test("currency codes: the table and the refusals")
    func currencies() throws {
        #expect(try Currency(code: "USD").minorUnitDigits == 2)
        #expect(try Currency(code: "EUR").minorUnitDigits == 2)
        #expect(try Currency(code: "JPY").minorUnitDigits == 0)
        #expect(try Currency(code: "KRW").minorUnitDigits == 0)
        #expect(try Currency(code: "KWD").minorUnitDigits == 3)
        #expect(try Currency(code: "BHD").minorUnitDigits == 3)
        #expect(try Currency(code: "CLF").minorUnitDigits == 4)

        let lower = caught { () throws(TimerDomainError) in try Currency(code: "usd") }
        #expect(lower == TimerDomainError(
            code: .invalidArgument,
            message: "currency must be a three-letter ISO 4217 code in upper case, such as USD, got \"usd\"",
            field: "currency"
        ))
        let unknown = caught { () throws(TimerDomainError) in try Currency(code: "XYZ", field: "currency_code") }
        #expect(unknown?.message == "currency_code is not a supported ISO 4217 currency, got \"XYZ\"")
        #expect(unknown?.field == "currency_code")
        let empty = caught { () throws(TimerDomainError) in try Currency(code: "") }
        #expect(empty?.code == .invalidArgument)
    }
}
