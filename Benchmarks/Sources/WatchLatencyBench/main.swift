// WatchLatencyBench: how long a change made through one timerd takes to reach
// WatchTimers subscribers on another, with many users each watching from a
// few devices.
//
//   WatchLatencyBench --change HOST:PORT --watch HOST:PORT --users FILE
//                     [--devices 10] [--rate 1000] [--seconds 5] [--rounds 3]
//                     [--streams-per-channel 80] [--watch-pid PID] [--heartbeat-seconds 0]
//
// FILE has one user a line: `USER_ID ACCOUNT_ID TOKEN`. Each user gets one
// running timer (CreateTimer through --change), then DEVICES WatchTimers
// streams on --watch: users × devices subscribers, spread over as many
// connections as it takes to keep at most STREAMS-PER-CHANNEL streams on each
// (the server allows 100 per connection; a client asking for more would have
// them queued, not opened). Once every stream has its SNAPSHOT, ROUNDS rounds
// of SECONDS each make changes at a steady pace through --change, RATE ÷
// DEVICES a second (so about RATE events a second reach the subscribers):
// each pauses or resumes the timer of a random user whose timer is not being
// changed already. After each round it waits (30 s at most) until every
// subscriber of each changed user has that change's event. Streams ask for
// HEARTBEAT-SECONDS between heartbeats (0, the default: the server's, 15 s).
//
// Latency of a delivery: from the start of the change's call to the event's
// arrival at a subscriber (monotonic clock). A second figure, from the
// event's occurred_at to its arrival (wall clock): occurred_at is the timer's
// last_updated, the server's time as it began the change (before its
// transaction commits), to the microsecond.
//
// With --watch-pid (the --watch server's process), its VmRSS is read before
// the streams open (idle), once all have their snapshot (connected), every
// 100 ms while events flow (the peak is printed), and its VmHWM at the end;
// and its CPU time over the rounds is divided by the events delivered.
//
// Output, one line per round and one pooled over the rounds:
//   round R changes N deliveries D missing M duplicates U resyncs S skipped K
//     events_per_s E p50_ms P p99_ms Q max_ms X server_p50_ms … server_p99_ms … server_max_ms …
//   total changes N deliveries D missing M … (the same keys, every round's deliveries)
// then `setup subscribers W channels C users N snapshot_s T heartbeats H`
// and, with --watch-pid, `rss_kib idle I connected C flowing F hwm H cpu_us_per_event U`.
import ClientLib
import Codec
import Dispatch
import RPC
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    var line = "WatchLatencyBench: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

struct Settings: Sendable {
    var change = "", watch = "", usersFile = ""
    var devices = 10, rate = 1_000, seconds = 5, rounds = 3, streamsPerChannel = 80
    var watchPID: Int32 = 0
    var heartbeatSeconds: Int32 = 0
}

func parse() -> Settings {
    var settings = Settings()
    var arguments = CommandLine.arguments.dropFirst()
    while let flag = arguments.popFirst() {
        guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
        switch flag {
        case "--change": settings.change = value
        case "--watch": settings.watch = value
        case "--users": settings.usersFile = value
        case "--devices": settings.devices = Int(value) ?? 0
        case "--rate": settings.rate = Int(value) ?? 0
        case "--seconds": settings.seconds = Int(value) ?? 0
        case "--rounds": settings.rounds = Int(value) ?? 0
        case "--streams-per-channel": settings.streamsPerChannel = Int(value) ?? 0
        case "--watch-pid": settings.watchPID = Int32(value) ?? 0
        case "--heartbeat-seconds":
            guard let seconds = Int32(value), (0...300).contains(seconds) else { fail("--heartbeat-seconds must be 0 to 300") }
            settings.heartbeatSeconds = seconds
        default: fail("unknown flag \(flag)")
        }
    }
    guard !settings.change.isEmpty, !settings.watch.isEmpty, !settings.usersFile.isEmpty, settings.devices > 0,
          settings.rate > 0, settings.seconds > 0, settings.rounds > 0, (1...100).contains(settings.streamsPerChannel) else {
        fail("usage: WatchLatencyBench --change HOST:PORT --watch HOST:PORT --users FILE [--devices D] [--rate EVENTS_PER_S] "
             + "[--seconds S] [--rounds R] [--streams-per-channel 1-100] [--watch-pid PID] [--heartbeat-seconds 0-300]")
    }
    return settings
}

// MARK: - Clocks, files, /proc.

/// Nanoseconds on the monotonic clock.
func monotonicNow() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Microseconds since the epoch on the wall clock.
func wallMicroseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
}

/// The whole file at `path`, or nil.
func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 { return nil }
        if count == 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A `VmRSS:`-style line's KiB in /proc/PID/status.
func statusKiB(_ pid: Int32, _ key: String) -> Int {
    guard pid > 0, let text = readFile("/proc/\(pid)/status") else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
    return 0
}

/// utime + stime of PID in clock ticks.
func cpuTicks(_ pid: Int32) -> Int {
    guard pid > 0, let text = readFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 13 else { return 0 }
    return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
}

// MARK: - Setup.

struct User: Sendable {
    var id: Int64
    var account: Int64
    var options: CallOptions
    var streamOptions: CallOptions
}

let settings = parse()

func loadUsers() -> [User] {
    guard let text = readFile(settings.usersFile) else { fail("cannot read \(settings.usersFile)") }
    var users: [User] = []
    for line in text.split(separator: "\n") {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count == 3, let id = Int64(words[0]), let account = Int64(words[1]) else {
            fail("\(settings.usersFile): '\(line)' is not USER_ID ACCOUNT_ID TOKEN")
        }
        var metadata = Metadata()
        metadata.add("authorization", "Bearer \(words[2])")
        users.append(User(id: id, account: account, options: CallOptions(timeout: .seconds(30), metadata: metadata),
                          streamOptions: CallOptions(metadata: metadata)))
    }
    guard !users.isEmpty else { fail("\(settings.usersFile) names no user") }
    return users
}

func makeChannel(_ target: String) -> GRPCChannel {
    do {
        return try GRPCChannel(configuration: .init(target: target))
    } catch {
        fail("cannot make a channel to \(target): \(error.message)")
    }
}

let users = loadUsers()
let subscriberCount = users.count * settings.devices
let channelCount = (subscriberCount + settings.streamsPerChannel - 1) / settings.streamsPerChannel
let changer = TimerServiceClient(channel: makeChannel(settings.change))
let watchClients = (0..<channelCount).map { _ in TimerServiceClient(channel: makeChannel(settings.watch)) }

/// Each user's running timer, made through the --change instance, 16 at a time.
func createTimers() async -> [Int64] {
    var timers = [Int64](repeating: 0, count: users.count)
    await withTaskGroup(of: (Int, Int64?, String).self) { group in
        var next = 0
        func add() {
            guard next < users.count else { return }
            let index = next
            next += 1
            group.addTask {
                var create = CreateTimerRequest()
                create.accountID = users[index].account
                create.description = "Watch latency \(index + 1)"
                create.deviceID = "bench"
                do {
                    let timer = try await changer.createTimer(create, options: users[index].options).timer
                    return (index, timer?.status == .running ? timer?.id : nil, "no running timer returned")
                } catch {
                    return (index, nil, "\(error)")
                }
            }
        }
        for _ in 0..<16 { add() }
        for await (index, id, problem) in group {
            guard let id else { fail("CreateTimer for user \(users[index].id) failed: \(problem)") }
            timers[index] = id
            add()
        }
    }
    return timers
}

let timers = await createTimers()
/// User index by timer id.
let userOfTimer = Dictionary(uniqueKeysWithValues: timers.enumerated().map { ($1, $0) })

// MARK: - Subscribers.

struct Key: Hashable, Sendable {
    var timer: Int64
    var version: Int64
}

struct Receipt: Sendable {
    var key: Key
    var subscriber: Int
    var monotonic: UInt64
    var wallMicroseconds: Int64
    var occurredMicroseconds: Int64
}

struct Received: Sendable {
    var receipts: [Receipt] = []
    /// Receipts by change, duplicates included.
    var counts: [Key: Int] = [:]
}

let received = Mutex(Received())
let snapshots = Atomic<Int>(0)
let resyncs = Atomic<Int>(0)
let heartbeats = Atomic<Int>(0)
let failures = Mutex<[String]>([])

let idleRSS = statusKiB(settings.watchPID, "VmRSS")
let setupStarted = monotonicNow()

let subscriberTasks = (0..<subscriberCount).map { subscriber in
    Task {
        let user = users[subscriber % users.count]
        let timer = timers[subscriber % users.count]
        var request = WatchTimersRequest()
        request.heartbeatIntervalSeconds = settings.heartbeatSeconds
        let stream = watchClients[subscriber / settings.streamsPerChannel].watchTimers(request, options: user.streamOptions)
        var first = true
        do {
            for try await event in stream {
                let monotonic = monotonicNow()
                let wall = wallMicroseconds()
                switch event.type {
                case .snapshot:
                    if first { snapshots.add(1, ordering: .relaxed) } else { resyncs.add(1, ordering: .relaxed) }
                    first = false
                case .paused, .resumed:
                    guard event.timer?.id == timer else { continue }
                    let occurred = event.occurredAt.map { $0.seconds * 1_000_000 + Int64($0.nanos) / 1_000 } ?? 0
                    let key = Key(timer: timer, version: event.syncVersion)
                    received.withLock {
                        $0.receipts.append(Receipt(key: key, subscriber: subscriber, monotonic: monotonic,
                                                   wallMicroseconds: wall, occurredMicroseconds: occurred))
                        $0.counts[key, default: 0] += 1
                    }
                case .heartbeat:
                    heartbeats.add(1, ordering: .relaxed)
                default:
                    continue
                }
            }
            if !Task.isCancelled { failures.withLock { $0.append("subscriber \(subscriber): the stream ended") } }
        } catch {
            if !Task.isCancelled { failures.withLock { $0.append("subscriber \(subscriber): \(error)") } }
        }
    }
}

let setupDeadline = monotonicNow() + UInt64(60 + subscriberCount / 50) * 1_000_000_000
while snapshots.load(ordering: .relaxed) < subscriberCount {
    let problems = failures.withLock { $0 }
    if !problems.isEmpty || monotonicNow() > setupDeadline {
        fail("\(snapshots.load(ordering: .relaxed)) of \(subscriberCount) subscribers got their snapshot; \(problems.count) failed: \(problems.prefix(3))")
    }
    try await Task.sleep(for: .milliseconds(10))
}
let snapshotSeconds = Double(monotonicNow() - setupStarted) / 1e9
let connectedRSS = statusKiB(settings.watchPID, "VmRSS")

// MARK: - Changes.

/// A change made: its timer and version, when its call started, its round.
struct Sent: Sendable {
    var key: Key
    var started: UInt64
    var round: Int
}

/// Per user: whether a change of theirs is in flight, and whether their timer runs.
let userState = Mutex((busy: [Bool](repeating: false, count: users.count), running: [Bool](repeating: true, count: users.count)))
let sentChanges = Mutex<[Sent]>([])
let peakRSS = Atomic<Int>(0)

/// One pause or resume of user `index`'s timer through --change.
func change(_ index: Int, round: Int) async {
    let running = userState.withLock { $0.running[index] }
    let started = monotonicNow()
    do {
        let timer: VaultTimer?
        if running {
            var request = PauseTimerRequest()
            request.id = timers[index]
            timer = try await changer.pauseTimer(request, options: users[index].options).timer
        } else {
            var request = ResumeTimerRequest()
            request.id = timers[index]
            timer = try await changer.resumeTimer(request, options: users[index].options).timer
        }
        guard let timer else { fail("a change returned no timer") }
        sentChanges.withLock { $0.append(Sent(key: Key(timer: timer.id, version: timer.syncVersion), started: started, round: round)) }
    } catch {
        fail("\(running ? "PauseTimer" : "ResumeTimer") of timer \(timers[index]) failed: \(error)")
    }
    userState.withLock {
        $0.running[index].toggle()
        $0.busy[index] = false
    }
}

/// A random user with no change in flight, marked busy; nil after 16 tries.
func pickUser() -> Int? {
    userState.withLock { state in
        for _ in 0..<16 {
            let index = Int.random(in: 0..<users.count)
            if !state.busy[index] {
                state.busy[index] = true
                return index
            }
        }
        return nil
    }
}

struct RoundResult {
    var changes = 0, deliveries = 0, missing = 0, duplicates = 0, skipped = 0
    var seconds = 0.0
    var latencies: [Double] = []
    var serverLatencies: [Double] = []
}

let changesPerSecond = Double(settings.rate) / Double(settings.devices)
let changesPerRound = max(1, Int((changesPerSecond * Double(settings.seconds)).rounded()))
let interval = 1e9 / changesPerSecond
let sampler = Task {
    while !Task.isCancelled {
        let rss = statusKiB(settings.watchPID, "VmRSS")
        if rss > peakRSS.load(ordering: .relaxed) { peakRSS.store(rss, ordering: .relaxed) }
        try? await Task.sleep(for: .milliseconds(100))
    }
}
let cpuBefore = cpuTicks(settings.watchPID)
let resyncsBefore = resyncs.load(ordering: .relaxed)
var results: [RoundResult] = []
for round in 1...settings.rounds {
    var result = RoundResult()
    let roundStart = monotonicNow()
    await withTaskGroup(of: Void.self) { group in
        for k in 0..<changesPerRound {
            let due = roundStart + UInt64(Double(k) * interval)
            let now = monotonicNow()
            if due > now { try? await Task.sleep(for: .nanoseconds(Int64(due - now))) }
            guard let index = pickUser() else {
                result.skipped += 1
                continue
            }
            group.addTask { await change(index, round: round) }
        }
    }
    let mine = sentChanges.withLock { $0.filter { $0.round == round } }
    result.changes = mine.count
    // Every subscriber of each changed user gets that change's event.
    let expected = mine.count * settings.devices
    let drainDeadline = monotonicNow() + 30_000_000_000
    while monotonicNow() < drainDeadline {
        let arrived = received.withLock { state in mine.reduce(0) { $0 + min(state.counts[$1.key] ?? 0, settings.devices) } }
        if arrived >= expected { break }
        try await Task.sleep(for: .milliseconds(5))
    }
    let started = Dictionary(uniqueKeysWithValues: mine.map { ($0.key, $0.started) })
    var seen = Set<[Int64]>()
    var lastArrival = roundStart
    for receipt in received.withLock({ $0.receipts }) {
        guard let start = started[receipt.key] else { continue }
        guard seen.insert([receipt.key.timer, receipt.key.version, Int64(receipt.subscriber)]).inserted else {
            result.duplicates += 1
            continue
        }
        result.latencies.append(Double(receipt.monotonic &- start) / 1e6)
        result.serverLatencies.append(Double(receipt.wallMicroseconds - receipt.occurredMicroseconds) / 1e3)
        lastArrival = max(lastArrival, receipt.monotonic)
    }
    result.deliveries = result.latencies.count
    result.missing = expected - result.deliveries
    // The pace's span, or longer when the last event came later.
    result.seconds = max(Double(changesPerRound) * interval, Double(lastArrival - roundStart)) / 1e9
    result.latencies.sort()
    result.serverLatencies.sort()
    results.append(result)
}
let cpuAfter = cpuTicks(settings.watchPID)
sampler.cancel()
let finalResyncs = resyncs.load(ordering: .relaxed) - resyncsBefore
let hwm = statusKiB(settings.watchPID, "VmHWM")
for task in subscriberTasks { task.cancel() }

// MARK: - Report.

func percentile(_ p: Double, of sorted: [Double]) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func line(_ prefix: String, _ result: RoundResult, resyncs: Int) -> String {
    let rate = Double(result.deliveries) / max(result.seconds, 0.001)
    return prefix + String(
        format: " changes %d deliveries %d missing %d duplicates %d resyncs %d skipped %d events_per_s %.0f"
            + " p50_ms %.3f p99_ms %.3f max_ms %.3f server_p50_ms %.3f server_p99_ms %.3f server_max_ms %.3f",
        result.changes, result.deliveries, result.missing, result.duplicates, resyncs, result.skipped, rate,
        percentile(0.50, of: result.latencies), percentile(0.99, of: result.latencies), result.latencies.last ?? 0,
        percentile(0.50, of: result.serverLatencies), percentile(0.99, of: result.serverLatencies),
        result.serverLatencies.last ?? 0)
}

var total = RoundResult()
for (index, result) in results.enumerated() {
    print(line("round \(index + 1)", result, resyncs: 0))
    total.changes += result.changes
    total.deliveries += result.deliveries
    total.missing += result.missing
    total.duplicates += result.duplicates
    total.skipped += result.skipped
    total.seconds += result.seconds
    total.latencies += result.latencies
    total.serverLatencies += result.serverLatencies
}
total.latencies.sort()
total.serverLatencies.sort()
print(line("total", total, resyncs: finalResyncs))
print(String(format: "setup subscribers %d channels %d users %d snapshot_s %.2f heartbeats %d",
             subscriberCount, channelCount, users.count, snapshotSeconds, heartbeats.load(ordering: .relaxed)))
if settings.watchPID > 0 {
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    let cpuPerEvent = total.deliveries > 0 ? Double(cpuAfter - cpuBefore) / ticks * 1e6 / Double(total.deliveries) : 0
    print(String(format: "rss_kib idle %d connected %d flowing %d hwm %d cpu_us_per_event %.1f",
                 idleRSS, connectedRSS, peakRSS.load(ordering: .relaxed), hwm, cpuPerEvent))
}
exit(0)
