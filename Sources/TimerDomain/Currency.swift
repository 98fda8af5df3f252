/// An ISO 4217 currency the service bills in, with the number of decimal
/// digits of its minor unit (2 for USD: cents; 0 for JPY; 3 for KWD: fils).
///
/// Only codes in `Currency.minorUnitDigitsByCode` are accepted: a code the
/// service cannot print correctly is refused when a billing rate is created,
/// not discovered on an invoice.
package struct Currency: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The three-letter ISO 4217 code, upper case.
    package let code: String
    /// Decimal digits of the minor unit: 0 to 4.
    package let minorUnitDigits: Int

    /// The currency for `code`, which must be a supported ISO 4217 code in
    /// upper case ("USD", not "usd" or "US$"). Throws INVALID_ARGUMENT naming
    /// `field`.
    package init(code: String, field: String = "currency") throws(TimerDomainError) {
        guard let digits = Self.minorUnitDigitsByCode[code] else {
            let shape = code.utf8.count == 3 && code.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
            let reason = shape ? "is not a supported ISO 4217 currency" : "must be a three-letter ISO 4217 code in upper case, such as USD"
            throw .invalid(field, "\(field) \(reason), got \(Validation.quoted(code))")
        }
        self.code = code
        self.minorUnitDigits = digits
    }

    private init(known code: String) {
        self.code = code
        self.minorUnitDigits = Self.minorUnitDigitsByCode[code]!
    }

    /// US dollar, 2 digits.
    package static let usd = Currency(known: "USD")
    /// Euro, 2 digits.
    package static let eur = Currency(known: "EUR")
    /// Japanese yen, 0 digits.
    package static let jpy = Currency(known: "JPY")
    /// Kuwaiti dinar, 3 digits.
    package static let kwd = Currency(known: "KWD")

    /// Orders by code, as `Meta.total_active_value` is ordered.
    package static func < (lhs: Currency, rhs: Currency) -> Bool {
        lhs.code < rhs.code
    }

    /// The code, e.g. `USD`.
    package var description: String { code }

    /// Minor-unit digits of the supported ISO 4217 codes (from the ISO 4217
    /// list: most currencies have 2; those listed with 0, 3 or 4 differ).
    package static let minorUnitDigitsByCode: [String: Int] = {
        var table: [String: Int] = [:]
        let two = [
            "AED", "ARS", "AUD", "BAM", "BDT", "BGN", "BOB", "BRL", "BWP", "CAD", "CHF", "CNY",
            "COP", "CRC", "CZK", "DKK", "DOP", "DZD", "EGP", "ETB", "EUR", "GBP", "GEL", "GHS",
            "GTQ", "HKD", "HNL", "HUF", "IDR", "ILS", "INR", "KES", "KZT", "LKR", "MAD", "MDL",
            "MKD", "MNT", "MUR", "MXN", "MYR", "NGN", "NOK", "NPR", "NZD", "PAB", "PEN", "PHP",
            "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SEK", "SGD", "THB", "TRY", "TTD",
            "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "ZAR",
        ]
        let zero = [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ]
        let three = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]
        let four = ["CLF", "UYW"]
        for code in two { table[code] = 2 }
        for code in zero { table[code] = 0 }
        for code in three { table[code] = 3 }
        for code in four { table[code] = 4 }
        return table
    }()
}
