import ArgumentParser
import Codec
import TimerctlCore

/// `timerctl sessions ID`: the running spans of one timer.
struct Sessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The sessions (running spans) of one timer, oldest first.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The timer's id.", transform: TimerID.parse) var id: Int64

    func run() async throws {
        let connection = try options.connect()
        defer { connection.close() }
        var request = ListTimerSessionsRequest()
        request.id = id
        request.pageSize = 500
        var sessions: [TimerSession] = []
        repeat {
            let page = try await connection.sessions(request)
            sessions += page.sessions
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty
        if options.json {
            Output.json(.object(["timer_id": .integer(id), "sessions": .array(sessions.map { .session($0) })]))
        } else {
            Output.lines(TimerText.sessions(sessions, offset: LocalTime.offset))
        }
    }
}
