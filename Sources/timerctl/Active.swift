import ArgumentParser
import Codec
import TimerctlCore

/// `timerctl active`: running and paused timers with totals.
struct Active: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Your running and paused timers, with totals.")
    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Only timers of this account.", valueName: "id")) var account: Int64?

    func run() async throws {
        let connection = try options.connect()
        defer { connection.close() }
        var request = GetActiveTimersRequest()
        request.accountID = account
        let response = try await connection.active(request)
        if options.json {
            Output.json(.object(["timers": .timers(response.timers), "meta": .meta(response.meta)]))
        } else {
            Output.lines(TimerText.timers(response.timers, meta: response.meta, empty: "no active timers"))
        }
    }
}
