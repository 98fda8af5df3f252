import Logging
import Synchronization
import TimerDomain

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A swift-log handler writing one JSON object per line (`timerd serve
/// --log-format json`): `ts` (RFC 3339, UTC, milliseconds), `level`, `label`,
/// `message`, then every metadata key, sorted.
///
/// Metadata comes from the metadata provider, then the logger, then the log
/// call (a later source wins for the same key). Strings stay strings,
/// dictionaries become objects and arrays arrays; a `stringConvertible` value
/// that is an integer, a finite floating-point number or a Bool is written as
/// a JSON number or boolean, anything else as its description. A metadata
/// key equal to one of the four fixed keys is written as `metadata.KEY`, so
/// no object has a key twice. Every string is escaped as RFC 8259 requires:
/// `"` and `\`, and every control character (U+0000 to U+001F; newlines as
/// `\n`), so a line never breaks; other characters are written as UTF-8.
///
/// Value semantics as swift-log asks: a copy's level and metadata are its own.
package struct JSONLogHandler: LogHandler {
    /// Receives one finished line (with its newline); called concurrently
    /// from any thread.
    package typealias Sink = @Sendable (_ line: String) -> Void
    /// The wall-clock time of an event: whole seconds since 1970 (UTC) and
    /// the milliseconds into that second.
    package typealias WallTime = @Sendable () -> (seconds: Int64, milliseconds: Int)

    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    package var logLevel: Logger.Level = .info
    private let label: String
    private let sink: Sink
    private let clock: WallTime

    /// A handler for `label` writing its lines to `sink`, timed by `clock`.
    package init(label: String, metadataProvider: Logger.MetadataProvider? = nil,
                 clock: @escaping WallTime = JSONLogHandler.systemTime, sink: @escaping Sink) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.clock = clock
        self.sink = sink
    }

    /// A handler for `label` writing to standard error, each line whole with
    /// one `write` (lines of concurrent loggers never interleave).
    package static func standardError(label: String, metadataProvider: Logger.MetadataProvider? = nil) -> JSONLogHandler {
        JSONLogHandler(label: label, metadataProvider: metadataProvider, sink: StandardError.sink)
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadataProvider?.get() ?? [:]
        if !metadata.isEmpty { merged.merge(metadata) { $1 } }
        if let extra = event.metadata, !extra.isEmpty { merged.merge(extra) { $1 } }
        let (seconds, milliseconds) = clock()
        sink(Self.line(timestamp: Self.timestamp(seconds: seconds, milliseconds: milliseconds), level: event.level,
                       label: label, message: event.message.description, metadata: merged))
    }

    // MARK: Rendering

    /// The keys every line starts with, in order.
    static let fixedKeys: Set<String> = ["ts", "level", "label", "message"]

    /// One line: the JSON object and a newline.
    package static func line(timestamp: String, level: Logger.Level, label: String, message: String,
                             metadata: Logger.Metadata) -> String {
        var out = "{\"ts\":"
        appendString(timestamp, to: &out)
        out += ",\"level\":"
        appendString(level.rawValue, to: &out)
        out += ",\"label\":"
        appendString(label, to: &out)
        out += ",\"message\":"
        appendString(message, to: &out)
        for key in metadata.keys.sorted() {
            out += ","
            appendString(fixedKeys.contains(key) ? "metadata." + key : key, to: &out)
            out += ":"
            appendValue(metadata[key]!, to: &out)
        }
        out += "}\n"
        return out
    }

    static func appendValue(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let text):
            appendString(text, to: &out)
        case .stringConvertible(let convertible):
            switch convertible {
            case let flag as Bool:
                out += flag ? "true" : "false"
            case let number as any BinaryInteger:
                out += number.description
            case let number as Double where number.isFinite:
                out += number.description
            case let number as Float where number.isFinite:
                out += number.description
            default:
                appendString(convertible.description, to: &out)
            }
        case .dictionary(let dictionary):
            out += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                appendValue(dictionary[key]!, to: &out)
            }
            out += "}"
        case .array(let values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                appendValue(element, to: &out)
            }
            out += "]"
        }
    }

    /// `text` as a JSON string, quoted and escaped.
    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        var plainStart = text.unicodeScalars.startIndex
        var index = plainStart
        let scalars = text.unicodeScalars
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape: String? = switch scalar {
            case "\"": "\\\""
            case "\\": "\\\\"
            case "\n": "\\n"
            case "\r": "\\r"
            case "\t": "\\t"
            case "\u{08}": "\\b"
            case "\u{0C}": "\\f"
            case "\u{00}"..."\u{1F}", "\u{7F}": unicodeEscape(scalar.value)
            // Line and paragraph separators: valid JSON, but some readers
            // take them for line ends.
            case "\u{2028}", "\u{2029}": unicodeEscape(scalar.value)
            default: nil
            }
            if let escape {
                out.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                out += escape
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        out.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
        out += "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var bytes = Array("\\u".utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            bytes.append(hex[Int(value >> UInt32(shift) & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Time

    /// Now, from the system's real-time clock.
    package static let systemTime: WallTime = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Int64(now.tv_sec), Int(now.tv_nsec / 1_000_000))
    }

    /// `seconds` since 1970 (UTC) and `milliseconds` as RFC 3339 in UTC:
    /// `2026-11-29T16:14:49.123Z`.
    package static func timestamp(seconds: Int64, milliseconds: Int) -> String {
        // Instant writes microseconds (`.123456Z`); a log line keeps three digits.
        let instant = Instant(seconds: seconds, nanos: Int32(min(max(milliseconds, 0), 999) * 1_000_000))
        return String(instant.description.dropLast(4)) + "Z"
    }
}

/// Standard error, written a whole line at a time.
private enum StandardError {
    private static let lock = Mutex(())

    static let sink: JSONLogHandler.Sink = { line in
        var line = line
        line.withUTF8 { bytes in
            lock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }
}
