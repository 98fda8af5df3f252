// WatchLatencyBench: how long a change made through one timerd takes to reach
// WatchTimers subscribers on another.
//
//   WatchLatencyBench --change HOST:PORT --watch HOST:PORT --token T --account A
//                     [--watchers 1000] [--channels 16] [--changes 200] [--interval-ms 20]
//
// Opens W watch streams on the --watch instance (spread over C connections),
// waits for every SNAPSHOT, then makes N changes one after another (pause,
// resume, …, paced by the interval) through the --change instance. Each
// change is timed from the moment its call starts until each watcher has its
// event. Prints one line:
// `watchers W changes N deliveries D missing M p50_ms P p99_ms Q max_ms X events_per_s E`.
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
    var change = "", watch = "", token = "", account: Int64 = 0
    var watchers = 1_000, channels = 16, changes = 200, intervalMilliseconds = 20
}

func parse() -> Settings {
    var settings = Settings()
    var arguments = CommandLine.arguments.dropFirst()
    while let flag = arguments.popFirst() {
        guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
        switch flag {
        case "--change": settings.change = value
        case "--watch": settings.watch = value
        case "--token": settings.token = value
        case "--account": settings.account = Int64(value) ?? 0
        case "--watchers": settings.watchers = Int(value) ?? 0
        case "--channels": settings.channels = Int(value) ?? 0
        case "--changes": settings.changes = Int(value) ?? 0
        case "--interval-ms": settings.intervalMilliseconds = Int(value) ?? -1
        default: fail("unknown flag \(flag)")
        }
    }
    guard !settings.change.isEmpty, !settings.watch.isEmpty, !settings.token.isEmpty, settings.account > 0,
          settings.watchers > 0, settings.channels > 0, settings.changes > 0, settings.intervalMilliseconds >= 0 else {
        fail("usage: WatchLatencyBench --change HOST:PORT --watch HOST:PORT --token T --account A [--watchers W] [--channels C] [--changes N] [--interval-ms I]")
    }
    return settings
}

/// Nanoseconds on the monotonic clock.
func nanosecondsNow() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

let settings = parse()

func makeChannel(_ target: String) -> GRPCChannel {
    do {
        return try GRPCChannel(configuration: .init(target: target))
    } catch {
        fail("cannot make a channel to \(target): \(error.message)")
    }
}

var metadata = Metadata()
metadata.add("authorization", "Bearer \(settings.token)")
let callOptions = CallOptions(timeout: .seconds(10), metadata: metadata)
let streamOptions = CallOptions(metadata: metadata)

let changer = TimerServiceClient(channel: makeChannel(settings.change))
let watchClients = (0..<settings.channels).map { _ in TimerServiceClient(channel: makeChannel(settings.watch)) }

/// Receive times by sync_version, for every watcher.
let received = Mutex<[Int64: [UInt64]]>([:])
let snapshots = Atomic<Int>(0)
let failures = Mutex<[String]>([])

// One running timer whose pauses and resumes are the changes.
var create = CreateTimerRequest()
create.accountID = settings.account
create.description = "Watch latency"
let timer: VaultTimer
do {
    guard let created = try await changer.createTimer(create, options: callOptions).timer else { fail("CreateTimer returned no timer") }
    timer = created
} catch {
    fail("CreateTimer failed: \(error)")
}

let watchTasks = (0..<settings.watchers).map { index in
    Task {
        let stream = watchClients[index % settings.channels].watchTimers(WatchTimersRequest(), options: streamOptions)
        do {
            for try await event in stream {
                let now = nanosecondsNow()
                switch event.type {
                case .snapshot:
                    snapshots.add(1, ordering: .relaxed)
                case .paused, .resumed:
                    guard event.timer?.id == timer.id else { continue }
                    received.withLock { $0[event.syncVersion, default: []].append(now) }
                default:
                    continue
                }
            }
        } catch {
            if !Task.isCancelled { failures.withLock { $0.append("\(error)") } }
        }
    }
}

let setupDeadline = nanosecondsNow() + 60_000_000_000
while snapshots.load(ordering: .relaxed) < settings.watchers {
    if nanosecondsNow() > setupDeadline {
        fail("only \(snapshots.load(ordering: .relaxed)) of \(settings.watchers) watchers got their snapshot; errors: \(failures.withLock { $0.prefix(3) })")
    }
    try await Task.sleep(for: .milliseconds(10))
}

var sent: [Int64: UInt64] = [:]
let firstChange = nanosecondsNow()
for index in 0..<settings.changes {
    let started = nanosecondsNow()
    do {
        let version: Int64
        if index % 2 == 0 {
            var request = PauseTimerRequest()
            request.id = timer.id
            version = try await changer.pauseTimer(request, options: callOptions).timer?.syncVersion ?? 0
        } else {
            var request = ResumeTimerRequest()
            request.id = timer.id
            version = try await changer.resumeTimer(request, options: callOptions).timer?.syncVersion ?? 0
        }
        sent[version] = started
    } catch {
        fail("change \(index) failed: \(error)")
    }
    if settings.intervalMilliseconds > 0 { try await Task.sleep(for: .milliseconds(settings.intervalMilliseconds)) }
}
let lastChange = nanosecondsNow()

// Wait (at most 10 s) for every watcher to have every event.
let expected = settings.changes * settings.watchers
let drainDeadline = nanosecondsNow() + 10_000_000_000
while received.withLock({ $0.values.reduce(0) { $0 + $1.count } }) < expected && nanosecondsNow() < drainDeadline {
    try await Task.sleep(for: .milliseconds(10))
}
let drained = nanosecondsNow()
for task in watchTasks { task.cancel() }

var latencies: [Double] = []
latencies.reserveCapacity(expected)
for (version, times) in received.withLock({ $0 }) {
    guard let start = sent[version] else { continue }
    for time in times { latencies.append(Double(time &- start) / 1_000_000) }
}
latencies.sort()
func percentile(_ p: Double, of sorted: [Double]) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
let seconds = Double(drained - firstChange) / 1_000_000_000
let rate = Double(latencies.count) / max(seconds, 0.001)
_ = lastChange
print(String(
    format: "watchers %d changes %d deliveries %d missing %d p50_ms %.2f p99_ms %.2f max_ms %.2f events_per_s %.0f",
    settings.watchers, settings.changes, latencies.count, expected - latencies.count,
    percentile(0.50, of: latencies), percentile(0.99, of: latencies), latencies.last ?? 0, rate))
exit(0)
