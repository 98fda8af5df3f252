import ArgumentParser
import Codec
import TimerctlCore

/// `timerctl list`: timers, newest first, a page at a time.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List your timers, newest first.",
        discussion: "Follows pages until --limit timers; --page-token continues where a list stopped (JSON: next_page_token)."
    )

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Only timers in this state: running, paused or stopped (repeat for several).", valueName: "status"),
            transform: List.status)
    var status: [TimerStatus] = []
    @Option(help: ArgumentHelp("Only timers of this account.", valueName: "id")) var account: Int64?
    @Option(help: ArgumentHelp("Only timers of this project.", valueName: "id")) var project: Int64?
    @Option(help: ArgumentHelp("At most this many timers.", valueName: "n")) var limit: Int = 50
    @Option(name: .customLong("page-token"), help: ArgumentHelp("Continue a list from its next_page_token.", valueName: "token"))
    var pageToken: String?

    static func status(_ text: String) throws -> TimerStatus {
        switch text.lowercased() {
        case "running": .running
        case "paused": .paused
        case "stopped": .stopped
        default: throw ValidationError("expected running, paused or stopped")
        }
    }

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() async throws {
        let connection = try options.connect()
        defer { connection.close() }
        var request = ListTimersRequest()
        request.statuses = status
        request.accountID = account
        request.projectID = project
        request.pageToken = pageToken ?? ""
        var timers: [VaultTimer] = []
        var meta: Meta?
        var next = ""
        repeat {
            request.pageSize = Int32(min(limit - timers.count, 500))
            let page = try await connection.list(request)
            timers += page.timers
            meta = page.meta ?? meta
            next = page.nextPageToken
            request.pageToken = next
        } while !next.isEmpty && timers.count < limit

        if options.json {
            Output.json(.object(["timers": .timers(timers), "meta": .meta(meta), "next_page_token": .string(next)]))
        } else {
            var lines = TimerText.timers(timers, meta: meta, empty: "no timers")
            if !next.isEmpty { lines.append("more: timerctl list --limit \(limit) --page-token \(next)") }
            Output.lines(lines)
        }
    }
}
