import ArgumentParser
import Codec
import TimerctlCore

/// `timerctl start`: creates a timer, running.
struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a timer and start it.",
        discussion: "Prints the new timer: id, status, duration, value, description (the id comes first, for scripts)."
    )

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("The account the work is billed to.", valueName: "id")) var account: Int64
    @Option(help: ArgumentHelp("The project within the account.", valueName: "id")) var project: Int64?
    @Option(help: ArgumentHelp("The billing rate that values the time.", valueName: "id")) var rate: Int64?
    @Option(name: .customLong("client-ref"), help: ArgumentHelp(
        "An idempotency key (a UUID): starting again with the same key returns the same timer.", valueName: "uuid"))
    var clientRef: String?
    @Option(help: ArgumentHelp("The device to record as making the change.", valueName: "name")) var device = "timerctl"
    @Argument(help: "What is being worked on.") var description: String

    func run() async throws {
        var request = CreateTimerRequest()
        request.accountID = account
        request.projectID = project
        request.billingRateID = rate
        request.description = description
        request.clientRef = clientRef ?? ""
        request.deviceID = device
        let connection = try options.connect()
        defer { connection.close() }
        let response = try await connection.start(request)
        if options.json {
            Output.json(.object(["timer": .timer(response.timer), "meta": .meta(response.meta), "created": .bool(response.created)]))
        } else if let timer = response.timer {
            Output.line(TimerText.line(timer))
        }
    }
}
