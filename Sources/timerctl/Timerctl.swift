// timerctl: timers from the command line, over the TimerService API.
//
//   timerctl start --account A [--project P] [--rate R] "description"
//   timerctl pause|resume|stop ID
//   timerctl list | active
//
// TIMERD_ADDRESS (host:port, default 127.0.0.1:50051) and TIMERD_TOKEN say
// where and as whom; --address and --token override them. Errors are one
// line on stderr and a non-zero exit status.
import ArgumentParser
import ClientLib
import Codec
import RPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@main
struct Timerctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timerctl",
        abstract: "Start, pause, resume, stop and list timers on a timerd server.",
        subcommands: [Start.self, Pause.self, Resume.self, Stop.self, List.self, Active.self])
}

/// Where and as whom to call.
struct Connection: ParsableArguments {
    @Option(help: "The server, host:port (TIMERD_ADDRESS; default 127.0.0.1:50051).")
    var address: String?

    @Option(help: "The API token (TIMERD_TOKEN).")
    var token: String?

    func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Runs `body` with a client and call options; errors become one line and exit 1.
    func call<T>(_ body: (TimerServiceClient, CallOptions) async throws(RPCError) -> T) async throws -> T {
        guard let token = token ?? environment("TIMERD_TOKEN") else {
            fail("no token: set TIMERD_TOKEN or pass --token")
        }
        let target = address ?? environment("TIMERD_ADDRESS") ?? "127.0.0.1:50051"
        let channel: GRPCChannel
        do {
            channel = try GRPCChannel(configuration: .init(target: target))
        } catch {
            fail("cannot reach \(target): \(error.message)")
        }
        defer { channel.close() }
        var metadata = Metadata()
        metadata.add("authorization", "Bearer \(token)")
        do {
            return try await body(TimerServiceClient(channel: channel), CallOptions(timeout: .seconds(10), metadata: metadata))
        } catch {
            fail("\(error.code): \(error.message)")
        }
    }
}

func fail(_ message: String) -> Never {
    var line = "timerctl: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

/// `1h 02m 03s`.
func duration(_ seconds: Int64) -> String {
    let h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60
    func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return h > 0 ? "\(h)h \(two(m))m \(two(s))s" : m > 0 ? "\(m)m \(two(s))s" : "\(s)s"
}

/// `187.50 USD`.
func money(_ value: Money) -> String {
    let digits = Int(value.minorUnitDigits)
    guard digits > 0 else { return "\(value.amountMinor) \(value.currencyCode)" }
    var scale: Int64 = 1
    for _ in 0..<digits { scale *= 10 }
    let whole = value.amountMinor / scale, fraction = abs(value.amountMinor % scale)
    let fractionText = String(fraction)
    return "\(whole).\(String(repeating: "0", count: digits - fractionText.count))\(fractionText) \(value.currencyCode)"
}

func line(_ timer: VaultTimer) -> String {
    let status = switch timer.status {
    case .running: "running"
    case .paused: "paused"
    case .stopped: "stopped"
    default: "unknown"
    }
    let total = timer.totalDuration + timer.currentSessionDuration
    let value = timer.currentValue.map { "  " + money($0) } ?? ""
    return "\(timer.id)  \(status)  \(duration(total))\(value)  \(timer.description)"
}

func printTimers(_ timers: [VaultTimer], meta: Meta?) {
    for timer in timers { print(line(timer)) }
    if let meta {
        let values = meta.totalActiveValue.map(money).joined(separator: ", ")
        print("active \(meta.activeCount) (running \(meta.runningCount), paused \(meta.pausedCount)), \(duration(meta.totalActiveDuration))\(values.isEmpty ? "" : ", " + values)")
    }
}

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a timer and start it.")
    @OptionGroup var connection: Connection
    @Option(help: "The account the work is billed to.") var account: Int64
    @Option(help: "The project within the account.") var project: Int64?
    @Option(help: "The billing rate.") var rate: Int64?
    @Argument(help: "What is being worked on.") var description: String

    func run() async throws {
        var request = CreateTimerRequest()
        request.accountID = account
        request.projectID = project
        request.billingRateID = rate
        request.description = description
        request.deviceID = "timerctl"
        let response = try await connection.call { (client, options) async throws(RPCError) in
            try await client.createTimer(request, options: options)
        }
        if let timer = response.timer { print(line(timer)) }
    }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Pause a running timer.")
    @OptionGroup var connection: Connection
    @Argument(help: "The timer's id.") var id: Int64

    func run() async throws {
        var request = PauseTimerRequest()
        request.id = id
        request.deviceID = "timerctl"
        let response = try await connection.call { (client, options) async throws(RPCError) in
            try await client.pauseTimer(request, options: options)
        }
        if let timer = response.timer { print(line(timer)) }
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume a paused timer.")
    @OptionGroup var connection: Connection
    @Argument(help: "The timer's id.") var id: Int64

    func run() async throws {
        var request = ResumeTimerRequest()
        request.id = id
        request.deviceID = "timerctl"
        let response = try await connection.call { (client, options) async throws(RPCError) in
            try await client.resumeTimer(request, options: options)
        }
        if let timer = response.timer { print(line(timer)) }
    }
}

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a timer for good.")
    @OptionGroup var connection: Connection
    @Argument(help: "The timer's id.") var id: Int64

    func run() async throws {
        var request = StopTimerRequest()
        request.id = id
        request.deviceID = "timerctl"
        let response = try await connection.call { (client, options) async throws(RPCError) in
            try await client.stopTimer(request, options: options)
        }
        if let timer = response.timer { print(line(timer)) }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List your timers, newest first.")
    @OptionGroup var connection: Connection

    func run() async throws {
        let response = try await connection.call { (client, options) async throws(RPCError) in
            try await client.listTimers(ListTimersRequest(), options: options)
        }
        printTimers(response.timers, meta: response.meta)
    }
}

struct Active: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Your running and paused timers, with totals.")
    @OptionGroup var connection: Connection

    func run() async throws {
        let response = try await connection.call { (client, options) async throws(RPCError) in
            try await client.getActiveTimers(GetActiveTimersRequest(), options: options)
        }
        printTimers(response.timers, meta: response.meta)
    }
}
