import Codec

/// The state of `watch`'s connection, as its screen reports it.
package enum WatchLink: Sendable, Hashable {
    /// Opening the stream (before its first message).
    case connecting
    /// The stream is open and up to date.
    case live
    /// The stream ended (`reason`); the next attempt is at `retryAt` on the
    /// client's monotonic clock.
    case reconnecting(reason: String, retryAt: Duration)
}

/// Draws `watch`'s screen: the frame as lines of at most `width` columns and
/// at most `height` lines. The caller puts them on the terminal.
package struct WatchScreen: Sendable {
    /// The server's address, shown in the title.
    package var target: String
    /// The terminal's size.
    package var width: Int
    package var height: Int
    /// The local time zone.
    package var offset: Time.UTCOffset

    package init(target: String, width: Int, height: Int, offset: @escaping Time.UTCOffset) {
        self.target = target
        self.width = max(width, 20)
        self.height = max(height, 5)
        self.offset = offset
    }

    /// The frame for `board` at `local` (monotonic) and `wallClock` (the
    /// client's time of day, for the title).
    package func render(_ board: WatchBoard, link: WatchLink, local: Duration, wallClock: Timestamp) -> [String] {
        let rows = board.rows(at: local)
        let totals = board.totals(of: rows)
        var table: [String]
        if !board.hasSnapshot {
            table = [link == .connecting ? "connecting to \(target)…" : "waiting for the server…"]
        } else if rows.isEmpty {
            table = ["no running or paused timers", "start one: timerctl start --account ID \"what you are doing\""]
        } else {
            var grid = TimerText.timerTable()
            for row in rows { grid.append(TimerText.timerRow(row.timer, seconds: row.seconds)) }
            table = grid.render(width: width)
        }
        var summary: [String] = []
        if board.hasSnapshot {
            summary = ["", TimerText.summary(active: totals.active, running: totals.running, paused: totals.paused,
                                             seconds: totals.seconds, values: totals.values)]
        }
        let changes = board.recent.isEmpty ? [] : ["", "latest changes:"] + board.recent.map(change)
        let footer = ["", "q or Ctrl-C to quit"]

        // Title, table and totals first; rows that do not fit are counted;
        // then the latest changes and the footer as room allows.
        var lines = [title(link: link, local: local, wallClock: wallClock), ""]
        var room = height - lines.count - summary.count
        if table.count > room, rows.count > 1 {
            let keep = max(room - 1, 2)
            table = Array(table.prefix(keep)) + ["… and \(table.count - keep) more"]
        }
        lines += table + summary
        room = height - lines.count
        if room >= footer.count + 3 { lines += changes.prefix(room - footer.count) }
        if height - lines.count >= footer.count { lines += footer }
        return lines.prefix(height).map { HumanText.truncated($0, to: width) }
    }

    /// `timerctl watch · 127.0.0.1:50051 · live` with the time on the right.
    func title(link: WatchLink, local: Duration, wallClock: Timestamp) -> String {
        let state: String
        switch link {
        case .connecting:
            state = "connecting…"
        case .live:
            state = "live"
        case .reconnecting(let reason, let retryAt):
            let (whole, fraction) = (retryAt - local).components
            let seconds = max(whole + (fraction > 0 ? 1 : 0), 1)
            let wait = retryAt <= local ? "reconnecting…" : "reconnecting in \(seconds)s"
            state = "\(wait) (\(HumanText.sanitized(reason)))"
        }
        let left = "timerctl watch · \(target) · \(state)"
        let clock = Time.localClock(wallClock, offset: offset)
        let room = width - HumanText.width(clock) - 2
        let shown = HumanText.truncated(left, to: max(room, 1))
        return shown + String(repeating: " ", count: max(width - HumanText.width(shown) - HumanText.width(clock), 1)) + clock
    }

    /// `12:00:01  paused   43  Client call  (laptop)`.
    func change(_ change: WatchBoard.Change) -> String {
        let time = change.occurredAt.map { Time.localClock($0, offset: offset) } ?? "--:--:--"
        let kind = (JSONNames.eventType(change.type) ?? "changed").padding(to: 8)
        var text = "\(time)  \(kind) \(change.timer.id)  \(HumanText.sanitized(change.timer.description))"
        if !change.source.isEmpty { text += "  (\(change.source))" }
        return text
    }
}

extension String {
    /// The string with spaces after it up to `width` characters.
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
