import ArgumentParser
import Codec
import TimerctlCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `timerctl sync`: sends a device's offline changes and prints how each
/// timer was reconciled, the conflicts, and the server's timers the device
/// did not mention.
struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a device's offline changes; print the resolutions and conflicts.",
        discussion: """
            The changes come from a JSON file (--file, - for standard input), or describe one timer with flags:
              timerctl sync --id 42 --version 3 --transition pause@-20m
              timerctl sync --account 1 --description Notes --started-at -1h

            The file: {"device_id": "laptop", "last_sync": TIME, "timers": [{"id": 42, "sync_version": 3, \
            "transitions": [{"action": "pause", "at": "-20m"}]}, {"client_ref": UUID, "account_id": 1, \
            "description": "…", "started_at": "-1h", "status": "running"}]}. A timer's status may be left out \
            (its last transition's result; running for a new timer without transitions).

            Times: RFC 3339 (2026-05-01T10:00:00Z), now, or a span before now (-15m, -1h30m, -2d), resolved \
            when sent: a file meant to be sent again should give absolute times. Exit status 2 when the server \
            rejected a timer.
            """
    )

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Read the changes from this JSON file (- for standard input).", valueName: "path"))
    var file: String?
    @Option(help: ArgumentHelp("The syncing device's name (default: the file's device_id, else timerctl).", valueName: "name"))
    var device: String?
    @Option(name: .customLong("last-sync"), parsing: .unconditional, help: ArgumentHelp(
        "The sync_timestamp of the device's previous sync: server timers changed since are returned.", valueName: "time"))
    var lastSync: String?

    @Option(help: ArgumentHelp("The timer's server id (absent for a timer created offline).", valueName: "id"),
            transform: TimerID.parse)
    var id: Int64?
    @Option(help: ArgumentHelp("The sync_version the device last saw of it.", valueName: "n")) var version: Int64?
    @Option(name: .customLong("client-ref"), help: ArgumentHelp(
        "The device's key for a timer created offline (a UUID; made up and printed when absent).", valueName: "uuid"))
    var clientRef: String?
    @Option(help: ArgumentHelp("For a timer created offline: its account.", valueName: "id")) var account: Int64?
    @Option(help: ArgumentHelp("For a timer created offline: its project.", valueName: "id")) var project: Int64?
    @Option(help: ArgumentHelp("For a timer created offline: its billing rate.", valueName: "id")) var rate: Int64?
    @Option(help: ArgumentHelp("For a timer created offline: what is being worked on.", valueName: "text")) var description: String?
    @Option(help: ArgumentHelp("The state the device ends in (default: from the last transition).", valueName: "status"))
    var status: String?
    @Option(name: .customLong("started-at"), parsing: .unconditional, help: ArgumentHelp("When the device started the timer.", valueName: "time"))
    var startedAt: String?
    @Option(name: .customLong("last-updated"), parsing: .unconditional, help: ArgumentHelp(
        "When the device last changed it (default: the last transition's time).", valueName: "time"))
    var lastUpdated: String?
    @Option(help: ArgumentHelp("An offline transition, ACTION@TIME (pause, resume, stop); repeat in order.", valueName: "action@time"))
    var transition: [String] = []

    var flags: SyncInput.TimerFlags {
        var flags = SyncInput.TimerFlags()
        flags.id = id
        flags.syncVersion = version
        flags.clientRef = clientRef
        flags.accountID = account
        flags.projectID = project
        flags.billingRateID = rate
        flags.description = description
        flags.status = status
        flags.startedAt = startedAt
        flags.lastUpdated = lastUpdated
        flags.transitions = transition
        return flags
    }

    func validate() throws {
        if file != nil, !flags.isEmpty {
            throw ValidationError("give --file or the flags of one timer, not both")
        }
        if file == nil, flags.isEmpty {
            throw ValidationError("say what to sync: --file PATH, or one timer's flags (--id and --transition, or --account for a new one)")
        }
    }

    func run() async throws {
        let now = LocalTime.now()
        var request: SyncTimersRequest
        var madeClientRef: String?
        if let file {
            request = try SyncInput.request(json: try Self.read(file), device: device, now: now)
        } else {
            request = SyncTimersRequest()
            request.deviceID = device ?? "timerctl"
            request.deviceTime = now
            request.timers = [try SyncInput.deviceTimer(flags, now: now) {
                let made = Self.randomUUID()
                madeClientRef = made
                return made
            }]
        }
        if let lastSync {
            guard let time = Time.parseDeviceTime(lastSync, now: now) else {
                throw TimerctlError("--last-sync \"\(HumanText.sanitized(lastSync))\": \(SyncInput.timeHelp)", exitStatus: ExitStatus.usage)
            }
            request.lastSync = time
        }

        let connection = try options.connect()
        defer { connection.close() }
        let response = try await connection.sync(request)
        if options.json {
            Output.json(.sync(response))
        } else {
            var lines = TimerText.sync(response, device: request.deviceID)
            if let madeClientRef {
                lines.append("")
                lines.append("client_ref \(madeClientRef): pass --client-ref \(madeClientRef) to send this timer again")
            }
            Output.lines(lines)
        }
        if response.results.contains(where: { $0.resolution == .rejected }) { throw ExitCode(ExitStatus.attention) }
    }

    /// The whole of a file (or standard input for `-`) as UTF-8 text.
    static func read(_ path: String) throws(TimerctlError) -> String {
        let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TimerctlError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { if fd != 0 { close(fd) } }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TimerctlError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes += buffer[..<n]
            guard bytes.count <= 16 << 20 else { throw TimerctlError("cannot read \(path): larger than 16 MiB") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A random (version 4) UUID in lower case.
    static func randomUUID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
