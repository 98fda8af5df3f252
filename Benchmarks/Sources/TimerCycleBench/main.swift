// TimerCycleBench: timer mutations per second against a running timerd.
//
//   TimerCycleBench --target HOST:PORT --token T --account A [--concurrency C] [--seconds S]
//   TimerCycleBench --target HOST:PORT --token T --account A --create-running N
//
// C workers each repeat create → pause → resume → stop (four calls, four
// transactions) for S seconds on one channel, then the program prints one
// line: `cycles N seconds S cycles_per_s X calls_per_s Y p50_ms P p99_ms Q
// warmup_cycles W` (latency of whole cycles; W cycles, one per worker, were
// made before the measured S seconds). Errors end the run with a message on stderr.
//
// With --create-running N it only creates N running timers (the load of
// scripts/bench-rpc's timer calls) and prints `created ID…`.
import ClientLib
import Codec
import Dispatch
import RPC

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    var line = "TimerCycleBench: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

struct Settings: Sendable {
    var target = "127.0.0.1:50051", token = "", account: Int64 = 0, concurrency = 16, seconds = 10, createRunning = 0
}

func parse() -> Settings {
    var settings = Settings()
    var arguments = CommandLine.arguments.dropFirst()
    while let flag = arguments.popFirst() {
        guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
        switch flag {
        case "--target": settings.target = value
        case "--token": settings.token = value
        case "--account": settings.account = Int64(value) ?? 0
        case "--concurrency": settings.concurrency = Int(value) ?? 0
        case "--seconds": settings.seconds = Int(value) ?? 0
        case "--create-running": settings.createRunning = Int(value) ?? -1
        default: fail("unknown flag \(flag)")
        }
    }
    guard !settings.token.isEmpty, settings.account > 0, settings.concurrency > 0, settings.seconds > 0,
          settings.createRunning >= 0 else {
        fail("usage: TimerCycleBench --target HOST:PORT --token T --account A [--concurrency C] [--seconds S] [--create-running N]")
    }
    return settings
}

let settings = parse()
let account = settings.account, concurrency = settings.concurrency, seconds = settings.seconds, target = settings.target, token = settings.token

let channel: GRPCChannel
do {
    channel = try GRPCChannel(configuration: .init(target: target))
} catch {
    fail("cannot make the channel: \(error.message)")
}
let client = TimerServiceClient(channel: channel)
var metadata = Metadata()
metadata.add("authorization", "Bearer \(token)")
let options = CallOptions(timeout: .seconds(10), metadata: metadata)

/// One create → pause → resume → stop.
func cycle(_ worker: Int) async throws(RPCError) {
    var create = CreateTimerRequest()
    create.accountID = account
    create.description = "bench \(worker)"
    create.deviceID = "bench"
    let id = try await client.createTimer(create, options: options).timer?.id ?? 0
    var pause = PauseTimerRequest()
    pause.id = id
    _ = try await client.pauseTimer(pause, options: options)
    var resume = ResumeTimerRequest()
    resume.id = id
    _ = try await client.resumeTimer(resume, options: options)
    var stop = StopTimerRequest()
    stop.id = id
    _ = try await client.stopTimer(stop, options: options)
}

if settings.createRunning > 0 {
    var ids: [Int64] = []
    for index in 0..<settings.createRunning {
        var create = CreateTimerRequest()
        create.accountID = account
        create.description = "bench running \(index + 1)"
        create.deviceID = "bench"
        do {
            guard let timer = try await client.createTimer(create, options: options).timer, timer.status == .running else {
                fail("CreateTimer returned no running timer")
            }
            ids.append(timer.id)
        } catch {
            fail("CreateTimer failed: \(error)")
        }
    }
    print("created " + ids.map(String.init).joined(separator: " "))
    channel.close()
    exit(0)
}

// Warm-up: connections in the server's pool, prepared statements.
do {
    for worker in 0..<concurrency { try await cycle(worker) }
} catch {
    fail("warm-up failed: \(error)")
}

let clock = ContinuousClock()
let end = clock.now + .seconds(seconds)
let started = clock.now
let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
    for worker in 0..<concurrency {
        group.addTask {
            var mine: [Double] = []
            while clock.now < end {
                let began = clock.now
                try await cycle(worker)
                let elapsed = clock.now - began
                mine.append(Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            return mine
        }
    }
    var all: [Double] = []
    for try await part in group { all += part }
    return all
}
let elapsed = clock.now - started
let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let sorted = latencies.sorted()
func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
let rate = Double(sorted.count) / total
print("cycles \(sorted.count) seconds \(String(format: "%.2f", total)) cycles_per_s \(String(format: "%.1f", rate)) calls_per_s \(String(format: "%.1f", rate * 4)) p50_ms \(String(format: "%.2f", percentile(0.5))) p99_ms \(String(format: "%.2f", percentile(0.99))) warmup_cycles \(concurrency)")
channel.close()
