import ArgumentParser
import Codec
import TimerctlCore

/// `timerctl watch`: the caller's timers live. On a terminal, a table that
/// redraws every second, durations and values ticking between events; with
/// --json, one JSON object per event and line; otherwise one line per event.
/// Reconnects with backoff and resumes after the last event; Ctrl-C (or q)
/// restores the terminal and exits 0.
struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch your timers live (q or Ctrl-C to quit).",
        discussion: """
            On a terminal: a table of running and paused timers that redraws every second, with the latest \
            changes from any device. Otherwise one line per event, or with --json one JSON object per event \
            (snapshot, started, paused, resumed, stopped, updated, deleted, heartbeat), one per line. A lost \
            connection is retried with backoff and resumed after the last event received; notices go to \
            standard error when not drawing on a terminal.
            """
    )

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Seconds between the server's heartbeats (1 to 300); three missed mean the connection is lost.",
                               valueName: "seconds"))
    var heartbeat: Int32 = 5

    func validate() throws {
        guard (1...300).contains(heartbeat) else { throw ValidationError("--heartbeat must be 1 to 300 seconds, got \(heartbeat)") }
    }

    /// What the loop reacts to.
    enum Input: Sendable {
        case update(TimerConnection.LiveUpdate)
        case tick
        case signal(WatchSignals.Event)
    }

    enum Mode {
        case screen, lines, json
    }

    func run() async throws {
        let connection = try options.connect()
        defer { connection.close() }
        let mode: Mode = options.json ? .json : TerminalScreen.isTerminal(1) ? .screen : .lines
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let signals = WatchSignals(keys: mode == .screen && TerminalScreen.isTerminal(0)) { continuation.yield(.signal($0)) }
        defer { signals.cancel() }

        let feed = Task {
            for await update in connection.events(heartbeatSeconds: heartbeat) { continuation.yield(.update(update)) }
        }
        defer { feed.cancel() }
        let ticker: Task<Void, Never>? = mode != .screen ? nil : Task {
            var next = ContinuousClock.now
            while !Task.isCancelled {
                next += .seconds(1)
                try? await Task.sleep(until: next, clock: .continuous)
                continuation.yield(.tick)
            }
        }
        defer { ticker?.cancel() }

        let terminal = mode == .screen ? TerminalScreen() : nil
        terminal?.enter()
        defer { terminal?.restore() }
        let start = ContinuousClock.now
        var board = WatchBoard()
        var link = WatchLink.connecting
        func draw(clearFirst: Bool = false) {
            guard let terminal else { return }
            let (rows, columns) = terminal.size()
            // One column spare: a line filling the last column would wrap.
            let screen = WatchScreen(target: connection.target, width: columns - 1, height: rows, offset: LocalTime.offset)
            terminal.draw(screen.render(board, link: link, local: ContinuousClock.now - start, wallClock: LocalTime.now()),
                          clearFirst: clearFirst)
        }
        draw()

        loop: for await input in inputs {
            switch input {
            case .update(.event(let event)):
                switch mode {
                case .json:
                    Output.json(.event(event))
                case .lines:
                    if let line = TimerText.event(event, offset: LocalTime.offset) { Output.line(line) }
                case .screen:
                    board.apply(event, at: ContinuousClock.now - start)
                    link = .live
                    draw()
                }
            case .update(.connectionLost(let reason, let retryIn)):
                if mode == .screen {
                    link = .reconnecting(reason: reason, retryAt: ContinuousClock.now - start + retryIn)
                    draw()
                } else {
                    Output.error("connection lost: \(HumanText.sanitized(reason)); reconnecting in \(Self.seconds(retryIn))")
                }
            case .update(.failed(let error)):
                terminal?.restore()
                throw error
            case .tick:
                draw()
            case .signal(.resize):
                draw(clearFirst: true)
            case .signal(.quit):
                break loop
            }
        }
    }

    /// `0.5s`, `2s`.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1_000 == 0 ? "\(milliseconds / 1_000)s" : "\(milliseconds / 1_000).\(milliseconds % 1_000 / 100)s"
    }
}
