/// Checks of request fields. Each returns the value to use (normalised where
/// the rule says so) or throws INVALID_ARGUMENT with a message that names the
/// field and says what was wrong, e.g.
/// `description must be 1 to 1000 characters, got 0`.
///
/// Lengths count Unicode scalars, as the API's "characters" do. Invalid UTF-8
/// never reaches these checks: the codec refuses it.
package enum Validation {
    /// Most characters a description may have.
    package static let maximumDescriptionLength = 1_000
    /// Most characters a device id may have.
    package static let maximumDeviceIDLength = 200
    /// Most characters an admin's reason may have.
    package static let maximumReasonLength = 1_000
    /// Most ids one BulkTimers call may name.
    package static let maximumBulkIDs = 500
    /// Longest maximum running time an account may set: 366 days.
    package static let maximumRunningSecondsLimit: Int64 = 366 * 86_400

    /// A timer description: leading and trailing white space is removed, and
    /// the rest must be 1 to 1000 characters. Control characters are refused
    /// anywhere except tab, line feed and carriage return (a pasted note keeps
    /// its lines); NUL in particular, which PostgreSQL text cannot hold.
    /// Returns the trimmed description, which is what gets stored.
    package static func description(_ text: String, field: String = "description") throws(TimerDomainError) -> String {
        try refuseControlCharacters(in: text, field: field, allowing: ["\t", "\n", "\r"])
        let trimmed = trimmingWhitespace(text)
        let count = trimmed.unicodeScalars.count
        guard (1...maximumDescriptionLength).contains(count) else {
            throw .invalid(field, "\(field) must be 1 to \(maximumDescriptionLength) characters, got \(count)")
        }
        return trimmed
    }

    /// A device id, as the device names itself: kept exactly as given, at most
    /// 200 characters, no control characters; empty only when not `required`
    /// (SyncTimers requires one, the other calls do not).
    package static func deviceID(_ text: String, required: Bool = false, field: String = "device_id") throws(TimerDomainError) -> String {
        try refuseControlCharacters(in: text, field: field, allowing: [])
        let count = text.unicodeScalars.count
        let minimum = required ? 1 : 0
        guard (minimum...maximumDeviceIDLength).contains(count) else {
            throw .invalid(field, "\(field) must be \(minimum) to \(maximumDeviceIDLength) characters, got \(count)")
        }
        return text
    }

    /// An admin's reason for the audit trail: at most 1000 characters, may be
    /// empty, same control-character rule and trimming as a description.
    package static func reason(_ text: String, field: String = "reason") throws(TimerDomainError) -> String {
        try refuseControlCharacters(in: text, field: field, allowing: ["\t", "\n", "\r"])
        let trimmed = trimmingWhitespace(text)
        let count = trimmed.unicodeScalars.count
        guard count <= maximumReasonLength else {
            throw .invalid(field, "\(field) must be at most \(maximumReasonLength) characters, got \(count)")
        }
        return trimmed
    }

    /// An idempotency key: a UUID in its 8-4-4-4-12 hexadecimal form, any
    /// case, returned in lower case so `ABC…` and `abc…` are one key. Empty
    /// means "no key" (nil) unless `required`.
    package static func clientRef(_ text: String, required: Bool = false, field: String = "client_ref") throws(TimerDomainError) -> String? {
        if text.isEmpty && !required { return nil }
        let bytes = Array(text.utf8)
        let dashes: Set<Int> = [8, 13, 18, 23]
        let isUUID = bytes.count == 36 && bytes.indices.allSatisfy { index in
            dashes.contains(index) ? bytes[index] == UInt8(ascii: "-") : isHexDigit(bytes[index])
        }
        guard isUUID else {
            throw .invalid(field, "\(field) must be a UUID such as 123e4567-e89b-12d3-a456-426614174000, got \(quoted(text))")
        }
        return String(decoding: bytes.map { (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// A required id: positive.
    package static func id(_ value: Int64, field: String = "id") throws(TimerDomainError) -> Int64 {
        guard value > 0 else { throw .invalid(field, "\(field) must be positive, got \(value)") }
        return value
    }

    /// An optional id: absent is fine, present must be positive.
    package static func optionalID(_ value: Int64?, field: String) throws(TimerDomainError) -> Int64? {
        guard let value else { return nil }
        return try id(value, field: field)
    }

    /// The page-size rule of one list call: `0` means `defaultSize`.
    package struct PageSizeRule: Sendable, Hashable {
        /// The size used when the request says 0.
        package var defaultSize: Int
        /// The largest size accepted.
        package var maximum: Int

        /// A rule.
        package init(defaultSize: Int, maximum: Int) {
            self.defaultSize = defaultSize
            self.maximum = maximum
        }

        /// ListTimers and AdminListActiveTimers: 1 to 500, 0 means 50.
        package static let timers = PageSizeRule(defaultSize: 50, maximum: 500)
        /// ListTimerSessions: 1 to 1000, 0 means 100.
        package static let sessions = PageSizeRule(defaultSize: 100, maximum: 1_000)
    }

    /// A `page_size`: 0 gives the rule's default, 1 to the maximum is taken
    /// as it is, anything else is refused.
    package static func pageSize(_ value: Int32, _ rule: PageSizeRule, field: String = "page_size") throws(TimerDomainError) -> Int {
        if value == 0 { return rule.defaultSize }
        guard (1...rule.maximum).contains(Int(value)) else {
            throw .invalid(field, "\(field) must be 1 to \(rule.maximum) (or 0 for the default \(rule.defaultSize)), got \(value)")
        }
        return Int(value)
    }

    /// WatchTimers' `heartbeat_interval_seconds`: 1 to 300, 0 means 15.
    package static func heartbeatInterval(_ value: Int32, field: String = "heartbeat_interval_seconds") throws(TimerDomainError) -> Int {
        try pageSize(value, PageSizeRule(defaultSize: 15, maximum: 300), field: field)
    }

    /// What a BulkTimers call acts on.
    package enum BulkTargets: Sendable, Hashable {
        /// These timers, in request order.
        case ids([Int64])
        /// All of the caller's running and paused timers.
        case allActive
    }

    /// BulkTimers' `ids` and `all_active`: exactly one of them; ids are 1 to
    /// 500 distinct positive values.
    package static func bulkTargets(ids: [Int64], allActive: Bool) throws(TimerDomainError) -> BulkTargets {
        if allActive {
            guard ids.isEmpty else { throw .invalid("ids", "give either ids or all_active, not both") }
            return .allActive
        }
        guard (1...maximumBulkIDs).contains(ids.count) else {
            throw .invalid("ids", "ids must list 1 to \(maximumBulkIDs) timers (or set all_active), got \(ids.count)")
        }
        var seen = Set<Int64>()
        for (position, id) in ids.enumerated() {
            guard id > 0 else { throw .invalid("ids", "ids must be positive, got \(id) at position \(position)") }
            guard seen.insert(id).inserted else { throw .invalid("ids", "ids must be distinct, \(id) appears twice") }
        }
        return .ids(ids)
    }

    /// An account's maximum running time (`--max-running-seconds`): 1 second
    /// to 366 days.
    package static func maxRunningSeconds(_ value: Int64, field: String = "max_running_seconds") throws(TimerDomainError) -> Int64 {
        guard (1...maximumRunningSecondsLimit).contains(value) else {
            throw .invalid(field, "\(field) must be 1 to \(maximumRunningSecondsLimit) (366 days), got \(value)")
        }
        return value
    }

    /// ListTimers' `created_after`/`created_before`: when both are given, the
    /// first must be earlier.
    package static func createdRange(after: Instant?, before: Instant?) throws(TimerDomainError) {
        if let after, let before, after >= before {
            throw .invalid("created_after", "created_after must be before created_before, got \(after) and \(before)")
        }
    }

    // MARK: Helpers

    /// `text` in quotes for a message: escaped, cut after 40 characters.
    static func quoted(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > 40 else { return text.debugDescription }
        var prefix = String.UnicodeScalarView()
        prefix.append(contentsOf: scalars.prefix(40))
        return String(prefix).debugDescription + "…"
    }

    private static func refuseControlCharacters(in text: String, field: String, allowing allowed: Set<Unicode.Scalar>) throws(TimerDomainError) {
        for (position, scalar) in text.unicodeScalars.enumerated()
        where scalar.properties.generalCategory == .control && !allowed.contains(scalar) {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            throw .invalid(field, "\(field) must not contain control characters, found \(code) at character \(position + 1)")
        }
    }

    private static func trimmingWhitespace(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
