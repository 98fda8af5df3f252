import Codec
import Testing
@testable import TimerctlCore

/// A timer as the server sends it, with a rate of 90.00 USD an hour.
func timer(_ id: Int64, _ status: TimerStatus, total: Int64 = 0, session: Int64 = 0, sessionStart: Int64? = nil,
           version: Int64 = 1, description: String = "Work", device: String = "laptop") -> VaultTimer {
    var timer = VaultTimer()
    timer.id = id
    timer.status = status
    timer.description = description
    timer.totalDuration = total
    timer.currentSessionDuration = session
    timer.currentSessionStartedAt = sessionStart.map { Timestamp(seconds: $0) }
    timer.syncVersion = version
    timer.deviceID = device
    timer.hourlyRate = money(9_000)
    timer.currentValue = MoneyMath.value(ofSeconds: total + session, at: money(9_000))
    return timer
}

func event(_ type: TimerEventType, _ timer: VaultTimer? = nil, timers: [VaultTimer] = [], at seconds: Int64, id: String = "") -> TimerEvent {
    var event = TimerEvent()
    event.type = type
    event.timer = timer
    event.timers = timers
    event.eventID = id
    event.occurredAt = Timestamp(seconds: seconds)
    var meta = Meta()
    meta.syncTimestamp = Timestamp(seconds: seconds)
    event.meta = meta
    return event
}

@Suite("The watch board: events in, figures ticking")
struct WatchBoardTests {
    let t0: Int64 = 1_777_629_600

    @Test func runningTimersTickFromTheirSessionStartPausedOnesDoNot() {
        var board = WatchBoard()
        // At server time t0 + 100: one timer running since t0 (60 s closed before), one paused at 30 s.
        let running = timer(1, .running, total: 60, session: 100, sessionStart: t0)
        let paused = timer(2, .paused, total: 30)
        board.apply(event(.snapshot, timers: [paused, running], at: t0 + 100), at: .seconds(10))
        #expect(board.hasSnapshot)

        let now = board.rows(at: .seconds(10))
        #expect(now.map(\.timer.id) == [1, 2])
        #expect(now.map(\.seconds) == [160, 30])
        let later = board.rows(at: .seconds(10) + .milliseconds(2_500))
        #expect(later.map(\.seconds) == [162, 30])
        #expect(later.first?.value?.amountMinor == 405)  // 162 s at 90.00/h = 4.05
        let totals = board.totals(at: .seconds(12) + .milliseconds(500))
        #expect(totals.active == 2 && totals.running == 1 && totals.paused == 1)
        #expect(totals.seconds == 192)
        #expect(totals.values.map(\.amountMinor) == [405 + 75])
    }

    @Test func changesReplaceTimersAndStoppedOrDeletedOnesLeave() {
        var board = WatchBoard()
        board.apply(event(.snapshot, timers: [timer(1, .running, sessionStart: t0)], at: t0), at: .zero)
        board.apply(event(.started, timer(2, .running, sessionStart: t0 + 5, device: "phone"), at: t0 + 5, id: "5-0"), at: .seconds(5))
        board.apply(event(.paused, timer(1, .paused, total: 6, version: 2), at: t0 + 6, id: "6-0"), at: .seconds(6))
        #expect(board.rows(at: .seconds(8)).map(\.seconds) == [6, 3])
        #expect(board.recent.map(\.type) == [.paused, .started])
        #expect(board.recent.last?.source == "phone")

        board.apply(event(.stopped, timer(2, .stopped, total: 4, version: 2), at: t0 + 9, id: "9-0"), at: .seconds(9))
        var deleted = timer(1, .paused, total: 6, version: 3)
        deleted.deletedAt = Timestamp(seconds: t0 + 10)
        board.apply(event(.deleted, deleted, at: t0 + 10, id: "10-0"), at: .seconds(10))
        #expect(board.rows(at: .seconds(11)).isEmpty)
        #expect(board.recent.map(\.type) == [.deleted, .stopped, .paused, .started])
    }

    @Test func olderOrRepeatedChangesAreIgnored() {
        var board = WatchBoard()
        board.apply(event(.snapshot, timers: [timer(1, .paused, total: 10, version: 3)], at: t0), at: .zero)
        // Replayed after the snapshot: versions it already had.
        board.apply(event(.paused, timer(1, .paused, total: 10, version: 3), at: t0 - 5), at: .seconds(1))
        board.apply(event(.resumed, timer(1, .running, total: 5, sessionStart: t0 - 10, version: 2), at: t0 - 10), at: .seconds(1))
        #expect(board.rows(at: .seconds(2)).map(\.timer.status) == [.paused])
        #expect(board.recent.isEmpty)
        // A new change, then the same again (a resume may repeat one).
        let resumed = timer(1, .running, total: 10, sessionStart: t0 + 2, version: 4)
        board.apply(event(.resumed, resumed, at: t0 + 2), at: .seconds(2))
        board.apply(event(.resumed, resumed, at: t0 + 2), at: .seconds(3))
        #expect(board.recent.count == 1)
        for version in 5...12 {
            board.apply(event(.updated, timer(1, .running, total: 10, sessionStart: t0 + 2, version: Int64(version)), at: t0 + 3), at: .seconds(3))
        }
        #expect(board.recent.count == WatchBoard.recentLimit)
    }

    @Test func theServerClockIgnoresOldReadingsAndFollowsRealJumps() {
        var clock = ServerClock()
        #expect(clock.now(at: .zero) == nil)
        let base = Timestamp(seconds: t0)
        clock.observe(base, at: .seconds(1), current: true)
        #expect(clock.now(at: .seconds(3)) == (t0 + 2) * 1_000_000)
        // A replayed event from long ago, and a heartbeat a little behind: no change.
        clock.observe(Timestamp(seconds: t0 - 3_600), at: .seconds(3), current: false)
        clock.observe(Timestamp(seconds: t0 + 1), at: .seconds(3), current: true)
        #expect(clock.now(at: .seconds(3)) == (t0 + 2) * 1_000_000)
        // A reading ahead moves it forward.
        clock.observe(Timestamp(seconds: t0 + 10), at: .seconds(3), current: false)
        #expect(clock.now(at: .seconds(4)) == (t0 + 11) * 1_000_000)
        // The server's clock went back a minute: a heartbeat says so.
        clock.observe(Timestamp(seconds: t0 - 50), at: .seconds(4), current: true)
        #expect(clock.now(at: .seconds(5)) == (t0 - 49) * 1_000_000)
    }

    @Test func durationsNeverShowLessThanTheServerReported() {
        var board = WatchBoard()
        // The session started "in the future" of the clock reading (skewed clocks): the reported 7 s stand.
        board.apply(event(.snapshot, timers: [timer(1, .running, total: 0, session: 7, sessionStart: t0 + 30)], at: t0), at: .zero)
        #expect(board.rows(at: .seconds(1)).first?.seconds == 7)
    }
}

@Suite("The watch screen")
struct WatchScreenTests {
    let t0: Int64 = 1_777_629_600

    func board(timers count: Int) -> WatchBoard {
        var board = WatchBoard()
        let timers = (1...max(count, 1)).map { timer(Int64($0), .running, total: 3_600, sessionStart: t0 - 123, description: "Task \($0)") }
        board.apply(event(.snapshot, timers: count == 0 ? [] : timers, at: t0), at: .zero)
        return board
    }

    @Test func showsTheTableTotalsChangesAndHowToQuit() {
        var board = board(timers: 2)
        board.apply(event(.paused, timer(2, .paused, total: 3_723, version: 2, description: "Task 2"), at: t0 + 1), at: .seconds(1))
        let screen = WatchScreen(target: "127.0.0.1:50051", width: 79, height: 24, offset: Time.utc)
        let lines = screen.render(board, link: .live, local: .seconds(2), wallClock: Timestamp(seconds: t0 + 2))
        #expect(lines.first?.hasPrefix("timerctl watch · 127.0.0.1:50051 · live") == true)
        #expect(lines.first?.hasSuffix("10:00:02") == true)
        let fitsTheWidth = lines.allSatisfy { HumanText.width($0) <= 79 }
        #expect(fitsTheWidth)
        #expect(lines.contains("ID  STATUS     DURATION      VALUE  DESCRIPTION"))
        #expect(lines.contains(" 1  running  1h 02m 05s  93.13 USD  Task 1"))
        #expect(lines.contains(" 2  paused   1h 02m 03s  93.08 USD  Task 2"))
        #expect(lines.contains("2 active (1 running, 1 paused), 2h 04m 08s, 186.21 USD"))
        #expect(lines.contains("10:00:01  paused   2  Task 2  (laptop)"))
        #expect(lines.last == "q or Ctrl-C to quit")
    }

    @Test func rowsThatDoNotFitAreCounted() {
        let screen = WatchScreen(target: "h:1", width: 60, height: 12, offset: Time.utc)
        let lines = screen.render(board(timers: 30), link: .live, local: .zero, wallClock: Timestamp(seconds: t0))
        #expect(lines.count <= 12)
        let countsTheHidden = lines.contains { $0.hasPrefix("… and ") && $0.hasSuffix(" more") }
        #expect(countsTheHidden)
        #expect(lines.contains("30 active (30 running, 0 paused), 31h 01m 30s, 2792.40 USD"))
    }

    @Test func saysWhenItIsReconnectingOrEmpty() {
        let screen = WatchScreen(target: "h:1", width: 100, height: 20, offset: Time.utc)
        let lines = screen.render(board(timers: 0), link: .reconnecting(reason: "the connection was lost", retryAt: .milliseconds(2_500)),
                                  local: .seconds(1), wallClock: Timestamp(seconds: t0))
        #expect(lines.first?.contains("reconnecting in 2s (the connection was lost)") == true)
        #expect(lines.contains("no running or paused timers"))
        let connecting = screen.render(WatchBoard(), link: .connecting, local: .zero, wallClock: Timestamp(seconds: t0))
        #expect(connecting.contains("connecting to h:1…"))
    }
}
