// timerctl: timers from the command line, over the TimerService API.
//
//   timerctl start --account A [--project P] [--rate R] "description"
//   timerctl pause|resume|stop ID
//   timerctl list | active | sessions ID | health
//   timerctl sync --file changes.json | sync --id ID --version N --transition pause@-20m
//   timerctl watch
//
// TIMERD_ADDRESS (host:port, default 127.0.0.1:50051) and TIMERD_TOKEN say
// where and as whom; --address and --token override them. --json prints one
// JSON document (watch: one per event line). Errors are one line on standard
// error and a non-zero exit status (TimerctlError).
import ArgumentParser
import TimerctlCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@main
struct Timerctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timerctl",
        abstract: "Start, pause, resume, stop, list and watch timers on a timerd server.",
        discussion: """
            The server and the token come from TIMERD_ADDRESS (host:port, default 127.0.0.1:50051) and \
            TIMERD_TOKEN, or from --address and --token. Every command takes --json to print one JSON \
            document instead of text (watch: one JSON object per event, one per line).

            Exit status: 0 done; 1 the command failed (one line on standard error says why); 2 the call \
            worked but the answer needs attention (health not OK, sync with rejected timers); 64 the \
            command line is wrong.
            """,
        subcommands: [Start.self, Pause.self, Resume.self, Stop.self, List.self, Active.self, Sessions.self,
                      Sync.self, Watch.self, Health.self]
    )

    /// Parses the command line and runs the command; every failure ends as
    /// one line on standard error and its exit status.
    static func main() async {
        tzset()
        let status: Int32
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            status = ExitStatus.success
        } catch let error as TimerctlError {
            Output.error(error.message)
            status = error.exitStatus
        } catch let exit as ExitCode {
            status = exit.rawValue
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                Output.line(fullMessage(for: error))  // --help, --version
            } else {
                Output.error(usageLine(for: error))
            }
            status = code.rawValue
        }
        Glibc.exit(status)
    }

    /// A command-line error on one line: what is wrong, and where to look.
    static func usageLine(for error: any Error) -> String {
        var message = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid command line"
        if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
        if let first = message.first, first.isUppercase, !message.hasPrefix("TIMERD") {
            message = first.lowercased() + message.dropFirst()
        }
        let command = CommandLine.arguments.dropFirst().first { !$0.hasPrefix("-") }
            .flatMap { name in configuration.subcommands.contains { $0._commandName == name } ? name : nil }
        return "\(message) (see timerctl \(command.map { $0 + " " } ?? "")--help)"
    }
}

/// Options every command takes: where, as whom, and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The server, host:port (TIMERD_ADDRESS; default 127.0.0.1:50051).", valueName: "host:port"))
    var address: String?

    @Option(help: ArgumentHelp("The API token (TIMERD_TOKEN).", valueName: "token"))
    var token: String?

    @Flag(help: "Print JSON: one document (watch: one object per event, one per line).")
    var json = false

    /// The server's address: --address, TIMERD_ADDRESS, or the default.
    var target: String {
        address ?? Self.environment("TIMERD_ADDRESS") ?? "127.0.0.1:50051"
    }

    /// A connection to the server as the token's holder; fails when there is no token.
    func connect() throws(TimerctlError) -> TimerConnection {
        guard let token = token ?? Self.environment("TIMERD_TOKEN") else {
            throw TimerctlError("no token: set TIMERD_TOKEN or pass --token")
        }
        return try TimerConnection(target: target, token: token)
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A timer id on the command line: a positive whole number.
enum TimerID {
    static func parse(_ text: String) throws -> Int64 {
        guard let id = Int64(text), id > 0 else {
            throw ValidationError("expected a positive whole number")
        }
        return id
    }
}
