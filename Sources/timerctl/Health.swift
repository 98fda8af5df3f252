import ArgumentParser
import Codec
import TimerctlCore

/// `timerctl health`: the service's health figures.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The service's health: database, Redis, event bus, active timers, response time.",
        discussion: "Exit status 0 when the service is OK, 2 when it is degraded or down."
    )
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let connection = try options.connect()
        defer { connection.close() }
        let response = try await connection.health()
        if options.json {
            Output.json(.health(response))
        } else {
            Output.lines(TimerText.health(response, offset: LocalTime.offset))
        }
        if response.status != .ok { throw ExitCode(ExitStatus.attention) }
    }
}
