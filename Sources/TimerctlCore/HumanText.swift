import Codec

/// Values as people read them: durations as `1h 02m 03s`, money with its
/// currency, states in lower case, and server text made safe for a terminal.
package enum HumanText {
    /// `1h 02m 03s`, `2m 05s`, `7s`; hours grow past a day (`26h 00m 00s`).
    /// Negative spans (never sent by the server) read as `-` and their length.
    package static func duration(_ seconds: Int64) -> String {
        if seconds < 0 { return "-" + duration(seconds == .min ? .max : -seconds) }
        let hours = seconds / 3_600, minutes = seconds % 3_600 / 60, rest = seconds % 60
        let mm = String(minutes).leftPadded(to: 2), ss = String(rest).leftPadded(to: 2)
        if hours > 0 { return "\(hours)h \(mm)m \(ss)s" }
        if minutes > 0 { return "\(minutes)m \(ss)s" }
        return "\(rest)s"
    }

    /// `187.50 USD`, `1500 JPY`, `-0.05 EUR`.
    package static func money(_ value: Money) -> String {
        decimal(value) + " " + sanitized(value.currencyCode)
    }

    /// The amount alone as a decimal: `187.50` (USD), `1500` (JPY), `0.125` (KWD).
    package static func decimal(_ value: Money) -> String {
        let digits = Int(min(value.minorUnitDigits, 18))
        let magnitude = String(value.amountMinor.magnitude)
        let sign = value.amountMinor < 0 ? "-" : ""
        guard digits > 0 else { return sign + magnitude }
        let padded = magnitude.leftPadded(to: digits + 1)
        let point = padded.index(padded.endIndex, offsetBy: -digits)
        return sign + padded[..<point] + "." + padded[point...]
    }

    /// Amounts in several currencies: `111.08 USD, 12.00 EUR`.
    package static func money(_ values: [Money]) -> String {
        values.map(money).joined(separator: ", ")
    }

    /// `running`, `paused`, `stopped`.
    package static func status(_ status: TimerStatus) -> String {
        switch status {
        case .running: "running"
        case .paused: "paused"
        case .stopped: "stopped"
        case .unspecified: "unknown"
        case .unrecognized(let number): "status \(number)"
        }
    }

    /// Text from the server as it may be shown on a terminal: control
    /// characters (which could move the cursor or change colours) become
    /// spaces; tabs and line breaks too, so a row stays one line.
    package static func sanitized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { scalars.append(isControl(scalar) ? " " : scalar) }
        return String(scalars)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// Columns `text` takes on a terminal: 2 for wide (East Asian, emoji)
    /// characters, 1 for the others. (An approximation good for tables.)
    package static func width(_ text: String) -> Int {
        text.reduce(0) { $0 + width(of: $1) }
    }

    static func width(of character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    /// `text` cut to at most `columns` terminal columns, ending with `…` when cut.
    package static func truncated(_ text: String, to columns: Int) -> String {
        guard columns > 0 else { return "" }
        guard width(text) > columns else { return text }
        var result = ""
        var used = 0
        for character in text {
            let w = width(of: character)
            if used + w > columns - 1 { break }
            result.append(character)
            used += w
        }
        return result + "…"
    }
}
