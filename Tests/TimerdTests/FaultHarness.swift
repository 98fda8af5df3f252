import ClientLib
import Codec
import Foundation
import LiveState
import RPC
import Storage
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A PostgreSQL and a Redis of the fault test's own, run by `scripts/services`
/// in a directory of their own (`TIMERD_RUN_DIR`) on free ports: crashing
/// them touches no other test. PostgreSQL keeps its WAL on disk, so a crash
/// loses nothing it acknowledged; Redis keeps nothing, as after losing its
/// memory.
final class FaultServices: Sendable {
    let directory: URL
    let pgPort: Int
    let redisPort: Int

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/services")

    init() async throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        directory = root.appendingPathComponent(".run/faults/\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        pgPort = try freePort()
        redisPort = try freePort()
        try await run("up")
    }

    var databaseURL: String { "postgresql://timerd@127.0.0.1:\(pgPort)/servicevault" }
    var redisURL: String { "redis://127.0.0.1:\(redisPort)/0" }

    /// Runs `scripts/services command` on these services; throws with its
    /// output when it fails.
    func run(_ command: String) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["TIMERD_RUN_DIR"] = directory.path
        environment["TIMERD_PG_PORT"] = String(pgPort)
        environment["TIMERD_REDIS_PORT"] = String(redisPort)
        let output = directory.appendingPathComponent("services-\(command).log")
        let status = try await spawnAndWait(["/bin/bash", Self.script.path, command], environment: environment, output: output.path)
        guard status == 0 else {
            throw TestFailure("scripts/services \(command) failed (\(status)): \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        }
    }

    /// Stops both and removes the directory.
    func remove() async {
        try? await run("down")
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Runs `arguments` to its end with `output` as its standard output and
/// error, and returns its exit status. Spawned with every signal unblocked
/// and at its default (this process may block some), so the daemons it
/// starts answer to SIGTERM; waited for on a thread of its own.
func spawnAndWait(_ arguments: [String], environment: [String: String], output: String) async throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
    guard spawned == 0 else { throw TestFailure("posix_spawn \(arguments[0]): \(String(cString: strerror(spawned)))") }
    let child = pid
    return await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS, which do not import.
            continuation.resume(returning: status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F))
        }
    }
}

/// One `timerd serve` on a fixed port, which can be killed and started again
/// on the same port (clients reconnect to it).
final class FaultInstance: Sendable {
    let name: String
    let port: Int
    private let environment: [String: String]
    private let current = Mutex<(process: Process, stdout: URL, stderr: URL, exited: AsyncStream<Void>)?>(nil)

    init(name: String, environment: [String: String]) throws {
        self.name = name
        port = try freePort()
        var environment = environment
        environment["TIMERD_LISTEN"] = "127.0.0.1:\(port)"
        environment["TIMERD_LOG_LEVEL"] = "warning"
        self.environment = environment
    }

    var address: String { "127.0.0.1:\(port)" }

    /// The running process's id.
    var pid: Int32? { current.withLock { $0?.process.processIdentifier } }

    /// Starts it and waits for READY.
    func start() async throws {
        let (exited, continuation) = AsyncStream.makeStream(of: Void.self)
        let (process, stdoutURL, stderrURL) = try Timerd.start(["serve"], environment: environment) { _ in continuation.finish() }
        current.withLock { $0 = (process, stdoutURL, stderrURL, exited) }
        func output() -> String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
        let ready = await eventually(within: .seconds(60)) { output().contains("READY ") || !process.isRunning }
        guard ready, process.isRunning else {
            throw TestFailure("timerd \(name) did not become ready: \((try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")")
        }
    }

    /// Sends `signal` and waits for the process to exit (without holding a
    /// thread while it shuts down).
    func stop(_ signal: Int32) async {
        guard let (process, stdoutURL, stderrURL, exited) = current.withLock({ current in defer { current = nil }; return current }) else { return }
        if process.isRunning { kill(process.processIdentifier, signal) }
        for await _ in exited {}
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }
}

/// What the fault run was told: every acknowledged result, every violation
/// of the rules, and counts for the report.
final class FaultLedger: Sendable {
    struct Ack: Sendable, Equatable {
        var version: Int64
        var status: TimerStatus
    }

    private struct State {
        var acked: [Int64: (user: Int64, ack: Ack)] = [:]
        var violations: [String] = []
        var calls = 0
        var outcomes: [String: Int] = [:]
    }
    private let state = Mutex(State())

    /// A change the server acknowledged: `timer` as it answered.
    func acknowledged(_ timer: VaultTimer) {
        state.withLock { state in
            if let known = state.acked[timer.id], known.ack.version > timer.syncVersion { return }
            state.acked[timer.id] = (timer.userID, Ack(version: timer.syncVersion, status: timer.status))
        }
    }

    func violation(_ text: String) {
        state.withLock { $0.violations.append(text) }
    }

    func count(_ outcome: String) {
        state.withLock {
            $0.calls += 1
            $0.outcomes[outcome, default: 0] += 1
        }
    }

    var acked: [Int64: (user: Int64, ack: Ack)] { state.withLock { $0.acked } }
    var violations: [String] { state.withLock { $0.violations } }
    var calls: Int { state.withLock { $0.calls } }
    var outcomes: [String: Int] { state.withLock { $0.outcomes } }
}

/// One client's share of the load: its own timers of one user, through one
/// instance, created, paused, resumed, stopped and synced at random. Each
/// result is checked: a success must say what was asked; an error must be
/// UNAVAILABLE or DEADLINE_EXCEEDED (the server or a store was away), or a
/// refusal the client's own uncertainty explains; and no call may outlast
/// its deadline.
struct FaultWorker {
    let client: TimerClient
    let user: TestUser
    let ledger: FaultLedger
    let deadline: Duration
    let name: String
    /// Calls a second at most (nil: as fast as answers come).
    let rate: Int?
    /// One transition in this many stops its timer (the rest pause or resume).
    var stopOneIn = 5

    private struct Known {
        var version: Int64
        var status: TimerStatus
        /// False once a call on the timer ended without an answer.
        var certain: Bool
    }

    func run(until stop: @Sendable () -> Bool) async {
        var timers: [Int64: Known] = [:]
        var generator = SystemRandomNumberGenerator()
        var lastSync = ContinuousClock.now - .seconds(10)
        var creations = 0
        var next = ContinuousClock.now
        while !stop() {
            if let rate {
                // Paced, so that the load leaves the machine room for the rest.
                next += .seconds(1) / rate
                if next > .now { try? await Task.sleep(until: next) }
            }
            let active = timers.filter { $0.value.status != .stopped }
            if active.count < 3 {
                creations += 1
                await create(&timers, number: creations)
                continue
            }
            let (id, known) = active.randomElement(using: &generator)!
            if !known.certain {
                await refresh(id, &timers)
                continue
            }
            if ContinuousClock.now - lastSync > .seconds(2) {
                lastSync = ContinuousClock.now
                await sync(id, known, &timers)
                continue
            }
            let stopIt = Int.random(in: 0..<max(1, stopOneIn), using: &generator) == 0
            let target: TimerStatus = stopIt ? .stopped : (known.status == .running ? .paused : .running)
            await transition(id, known, to: target, &timers)
        }
    }

    private func options() -> CallOptions {
        CallOptions(timeout: deadline)
    }

    /// Runs one call, timing it and sorting its outcome.
    private func timed<T>(_ what: String, _ call: () async throws(TimerClientError) -> T) async -> Result<T, TimerClientError> {
        let started = ContinuousClock.now
        let result: Result<T, TimerClientError>
        do {
            result = .success(try await call())
        } catch {
            result = .failure(error)
        }
        let elapsed = ContinuousClock.now - started
        if elapsed > deadline + .seconds(3) {
            ledger.violation("\(name): \(what) took \(elapsed), past its deadline of \(deadline)")
        }
        switch result {
        case .success: ledger.count("ok")
        case .failure(let error): ledger.count(String(describing: error.code))
        }
        return result
    }

    /// Whether `error` is an outage: the outcome is unknown.
    private func isOutage(_ error: TimerClientError) -> Bool {
        error.code == .unavailable || error.code == .deadlineExceeded
    }

    private func create(_ timers: inout [Int64: Known], number: Int) async {
        let clientRef = TimerClient.newClientRef()
        // Retried with the same client_ref until it has an answer: the timer
        // exists once, whatever happened in between.
        for _ in 0..<20 {
            let result = await timed("CreateTimer") { () async throws(TimerClientError) in
                try await client.createTimer(accountID: user.accountID, description: "\(name) timer \(number)", clientRef: clientRef,
                                             options: options())
            }
            switch result {
            case .success(let response):
                guard let timer = response.timer, timer.status == .running, timer.clientRef == clientRef else {
                    ledger.violation("\(name): CreateTimer answered \(String(describing: response.timer))")
                    return
                }
                ledger.acknowledged(timer)
                timers[timer.id] = Known(version: timer.syncVersion, status: timer.status, certain: true)
                return
            case .failure(let error) where isOutage(error):
                try? await Task.sleep(for: .milliseconds(100))
            case .failure(let error):
                ledger.violation("\(name): CreateTimer failed with \(error)")
                return
            }
        }
    }

    private func refresh(_ id: Int64, _ timers: inout [Int64: Known]) async {
        let result = await timed("GetTimer") { () async throws(TimerClientError) in try await client.getTimer(id, options: options()) }
        switch result {
        case .success(let response):
            guard let timer = response.timer, timer.id == id else {
                ledger.violation("\(name): GetTimer \(id) answered \(String(describing: response.timer))")
                return
            }
            timers[id] = Known(version: timer.syncVersion, status: timer.status, certain: true)
        case .failure(let error) where isOutage(error):
            try? await Task.sleep(for: .milliseconds(100))
        case .failure(let error):
            ledger.violation("\(name): GetTimer \(id) failed with \(error)")
        }
    }

    private func transition(_ id: Int64, _ known: Known, to target: TimerStatus, _ timers: inout [Int64: Known]) async {
        let what = "\(target == .stopped ? "StopTimer" : target == .paused ? "PauseTimer" : "ResumeTimer") \(id) at version \(known.version)"
        let result = await timed(what) { () async throws(TimerClientError) -> VaultTimer? in
            switch target {
            case .stopped: try await client.stop(id, expectedSyncVersion: known.version, options: options()).timer
            case .paused: try await client.pause(id, expectedSyncVersion: known.version, options: options()).timer
            default: try await client.resume(id, expectedSyncVersion: known.version, options: options()).timer
            }
        }
        switch result {
        case .success(let timer?) where timer.id == id && timer.status == target && timer.syncVersion > known.version:
            ledger.acknowledged(timer)
            timers[id] = Known(version: timer.syncVersion, status: timer.status, certain: true)
        case .success(let timer):
            ledger.violation("\(name): \(what) answered \(String(describing: timer))")
        case .failure(let error) where isOutage(error):
            timers[id]?.certain = false
        case .failure(let error):
            // The state was known for sure: nothing explains a refusal.
            ledger.violation("\(name): \(what) failed with \(error)")
            timers[id]?.certain = false
        }
    }

    /// A device's offline change of one timer, sent through SyncTimers.
    private func sync(_ id: Int64, _ known: Known, _ timers: inout [Int64: Known]) async {
        let action: TimerAction = known.status == .running ? .pause : .resume
        var transition = DeviceTransition()
        transition.action = action
        let now = Date().timeIntervalSince1970
        transition.at = Timestamp(seconds: Int64(now), nanos: Int32((now - now.rounded(.down)) * 1e9))
        var device = DeviceTimer()
        device.id = id
        device.accountID = user.accountID
        device.description = "\(name) synced"
        device.status = known.status == .running ? .paused : .running
        device.syncVersion = known.version
        device.lastUpdated = transition.at
        device.transitions = [transition]
        var request = SyncTimersRequest()
        request.deviceID = "\(name)-device"
        request.timers = [device]
        let result = await timed("SyncTimers \(id)") { () async throws(TimerClientError) in try await client.sync(request, options: options()) }
        switch result {
        case .success(let response):
            guard let first = response.results.first, let timer = first.timer, timer.id == id else {
                ledger.violation("\(name): SyncTimers \(id) answered no result for it: \(response.results)")
                return
            }
            guard first.resolution == .updateServer, timer.status == device.status, timer.syncVersion > known.version else {
                ledger.violation("\(name): SyncTimers \(id) at version \(known.version) answered \(first.resolution) \(timer.status) \(timer.syncVersion)")
                timers[id]?.certain = false
                return
            }
            ledger.acknowledged(timer)
            timers[id] = Known(version: timer.syncVersion, status: timer.status, certain: true)
        case .failure(let error) where isOutage(error):
            timers[id]?.certain = false
        case .failure(let error) where error.code == .resourceExhausted:
            break  // The sync rate limit: refused, nothing changed.
        case .failure(let error):
            ledger.violation("\(name): SyncTimers \(id) failed with \(error)")
            timers[id]?.certain = false
        }
    }
}

/// A user's active timers as one WatchTimers subscriber sees them: from the
/// SNAPSHOT and every change after it, across the stream's reconnections.
final class FaultWatcher: Sendable {
    let name: String
    let user: Int64
    private final class Box: Sendable {
        let active = Mutex<[Int64: FaultLedger.Ack]>([:])
        let failure = Mutex<String?>(nil)
        let snapshots = Atomic<Int>(0)
    }
    private let box = Box()
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(name: String, user: Int64, client: TimerClient) {
        self.name = name
        self.user = user
        let box = self.box
        let started = Task {
            do {
                for try await event in client.watchTimers(heartbeatSeconds: 2) {
                    box.active.withLock { active in
                        switch event.type {
                        case .snapshot:
                            box.snapshots.add(1, ordering: .relaxed)
                            active = Dictionary(event.timers.map { ($0.id, FaultLedger.Ack(version: $0.syncVersion, status: $0.status)) },
                                                uniquingKeysWith: { $1 })
                        case .stopped, .deleted:
                            if let timer = event.timer { active[timer.id] = nil }
                        case .started, .updated, .paused, .resumed:
                            if let timer = event.timer, (active[timer.id]?.version ?? 0) < timer.syncVersion {
                                active[timer.id] = FaultLedger.Ack(version: timer.syncVersion, status: timer.status)
                            }
                        default:
                            break
                        }
                    }
                }
            } catch {
                if !Task.isCancelled { box.failure.withLock { $0 = "\(error)" } }
            }
        }
        task.withLock { $0 = started }
    }

    var state: [Int64: FaultLedger.Ack] { box.active.withLock { $0 } }
    /// SNAPSHOTs received: 1 once the stream is open.
    var snapshots: Int { box.snapshots.load(ordering: .relaxed) }
    var error: String? { box.failure.withLock { $0 } }

    func cancel() {
        task.withLock { $0?.cancel() }
    }
}

/// Set once, read by every worker: the load is to stop.
final class FaultStop: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// The rules PostgreSQL must hold after any fault, as one statement per
/// rule (each sees one snapshot). Returns what breaks them.
func faultInvariantViolations(_ pool: PostgresPool, acked: [Int64: (user: Int64, ack: FaultLedger.Ack)]) async throws -> [String] {
    var problems: [String] = []
    try await pool.withConnection { connection in
        let totals = try await connection.query("""
            SELECT t.id, t.total_duration, coalesce(s.closed, 0)
            FROM timers t
            LEFT JOIN (SELECT user_id, timer_id, sum(duration) AS closed FROM timer_sessions
                       WHERE ended_at IS NOT NULL GROUP BY user_id, timer_id) s
                   ON s.user_id = t.user_id AND s.timer_id = t.id
            WHERE t.total_duration <> coalesce(s.closed, 0)
            """)
        for row in totals.rows {
            problems.append("timer \(row[0] ?? "?"): total \(row[1] ?? "?") s, but its closed sessions add up to \(row[2] ?? "?") s")
        }
        let overlaps = try await connection.query("""
            SELECT a.timer_id, a.id, b.id
            FROM timer_sessions a JOIN timer_sessions b
              ON a.user_id = b.user_id AND a.timer_id = b.timer_id AND a.id < b.id
             AND tstzrange(a.started_at, coalesce(a.ended_at, 'infinity')) && tstzrange(b.started_at, coalesce(b.ended_at, 'infinity'))
            """)
        for row in overlaps.rows {
            problems.append("timer \(row[0] ?? "?"): sessions \(row[1] ?? "?") and \(row[2] ?? "?") overlap")
        }
        let open = try await connection.query("""
            SELECT t.id, t.status, count(s.id)
            FROM timers t LEFT JOIN timer_sessions s
              ON s.user_id = t.user_id AND s.timer_id = t.id AND s.ended_at IS NULL
            GROUP BY t.user_id, t.id, t.status
            HAVING count(s.id) <> CASE WHEN t.status = 'running' THEN 1 ELSE 0 END
            """)
        for row in open.rows {
            problems.append("timer \(row[0] ?? "?") is \(row[1] ?? "?") with \(row[2] ?? "?") open sessions")
        }
        // Acknowledged before this read: each is there, or a later version is.
        let rows = try await connection.query("SELECT id, sync_version, status FROM timers")
        var stored: [Int64: (Int64, String)] = [:]
        for row in rows.rows {
            if let id = row[0].flatMap({ Int64($0) }), let version = row[1].flatMap({ Int64($0) }) {
                stored[id] = (version, row[2] ?? "")
            }
        }
        for (id, entry) in acked {
            guard let (version, status) = stored[id] else {
                problems.append("timer \(id) was acknowledged at version \(entry.ack.version) and is missing")
                continue
            }
            if version < entry.ack.version {
                problems.append("timer \(id) was acknowledged at version \(entry.ack.version) but PostgreSQL holds version \(version)")
            } else if version == entry.ack.version && status != faultStatusName(entry.ack.status) {
                problems.append("timer \(id) version \(version) was acknowledged \(entry.ack.status) but PostgreSQL holds \(status)")
            }
        }
    }
    return problems
}

func faultStatusName(_ status: TimerStatus) -> String {
    switch status {
    case .running: "running"
    case .paused: "paused"
    case .stopped: "stopped"
    default: "unspecified"
    }
}

/// The active timers of `user` in PostgreSQL.
func faultActiveTimers(_ pool: PostgresPool, user: Int64) async throws -> [Int64: FaultLedger.Ack] {
    try await pool.withConnection { connection in
        let rows = try await connection.query(
            "SELECT id, sync_version, status FROM timers WHERE user_id = $1 AND deleted_at IS NULL AND status <> 'stopped'", [String(user)])
        var active: [Int64: FaultLedger.Ack] = [:]
        for row in rows.rows {
            guard let id = row[0].flatMap({ Int64($0) }), let version = row[1].flatMap({ Int64($0) }) else { continue }
            active[id] = FaultLedger.Ack(version: version, status: row[2] == "running" ? .running : .paused)
        }
        return active
    }
}

/// The whole setting of a fault or soak run: a PostgreSQL and a Redis of its
/// own, two `timerd` instances, users with tokens, working clients and
/// watchers on both instances, and what they were told.
final class FaultRig {
    let services: FaultServices
    private(set) var instances: [FaultInstance] = []
    private(set) var users: [TestUser] = []
    private(set) var clients: [TimerClient] = []
    private(set) var watchers: [FaultWatcher] = []
    private(set) var workers: [FaultWorker] = []
    let ledger = FaultLedger()
    let pool: PostgresPool
    private let stopping = FaultStop()
    private var load: Task<Void, Never>?

    /// Runs `body` with a rig of `userCount` users; the first `workingUsers`
    /// get a working client on each instance, every user `watchersPerInstance`
    /// watchers on each. Everything is stopped and removed afterwards.
    static func run(userCount: Int, workingUsers: Int, watchersPerInstance: Int, rate: Int?, stopOneIn: Int = 5,
                    environment extra: [String: String] = [:], _ body: (FaultRig) async throws -> Void) async throws {
        let rig = FaultRig(services: try await FaultServices())
        do {
            try await rig.setUp(userCount: userCount, workingUsers: workingUsers, watchersPerInstance: watchersPerInstance, rate: rate,
                                stopOneIn: stopOneIn, environment: extra)
            try await body(rig)
        } catch {
            await rig.tearDown()
            throw error
        }
        await rig.tearDown()
    }

    private init(services: FaultServices) {
        self.services = services
        pool = PostgresPool(configuration: .init(url: services.databaseURL, maximumConnections: 2, defaultTimeout: .seconds(20)))
    }

    private func setUp(userCount: Int, workingUsers: Int, watchersPerInstance: Int, rate: Int?, stopOneIn: Int,
                       environment extra: [String: String]) async throws {
        let runner = Timerd.Runner(databaseURL: services.databaseURL)
        let migrated = try await runner("migrate")
        try #require(migrated.status == 0, "migrate: \(migrated.stderr)")
        for index in 0..<userCount { users.append(try await TestUser.create(runner, name: "User\(index)")) }
        let environment = [
            "TIMERD_DATABASE_URL": services.databaseURL,
            "TIMERD_REDIS_URL": services.redisURL,
            "TIMERD_STATE_KEY": "fault-test:" + String(repeating: "6b", count: 32),
            "TIMERD_MAX_DATABASE_CONNECTIONS": "4",
        ].merging(extra) { $1 }
        instances = [try FaultInstance(name: "A", environment: environment), try FaultInstance(name: "B", environment: environment)]
        for instance in instances { try await instance.start() }
        func client(_ user: TestUser, _ instance: FaultInstance, _ device: String) throws -> TimerClient {
            var configuration = TimerClient.Configuration(address: instance.address, token: user.token, defaultTimeout: .seconds(5))
            configuration.deviceID = device
            let made = try TimerClient(configuration: configuration)
            clients.append(made)
            return made
        }
        for (index, user) in users.enumerated() {
            for instance in instances {
                let name = "\(user.id)@\(instance.name)"
                let watching = try client(user, instance, "watch-\(name)")
                for number in 0..<watchersPerInstance {
                    watchers.append(FaultWatcher(name: "\(name)#\(number)", user: user.id, client: watching))
                }
                if index < workingUsers {
                    workers.append(FaultWorker(client: try client(user, instance, "work-\(name)"), user: user, ledger: ledger,
                                               deadline: .seconds(5), name: name, rate: rate, stopOneIn: stopOneIn))
                }
            }
        }
    }

    /// Starts the workers.
    func startLoad() {
        let workers = self.workers, stopping = self.stopping
        load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in workers {
                    group.addTask { await worker.run { stopping.isSet } }
                }
            }
        }
    }

    /// Stops the workers and waits for their last calls.
    func stopLoad() async {
        stopping.set()
        await load?.value
        load = nil
    }

    /// The rules PostgreSQL must hold, with every change acknowledged so far.
    func invariantViolations() async throws -> [String] {
        let acked = ledger.acked  // Read before PostgreSQL is.
        return try await faultInvariantViolations(pool, acked: acked)
    }

    /// Once the load has stopped: waits until every watcher holds what
    /// PostgreSQL holds, and says where one does not.
    func watcherDisagreements() async throws -> [String] {
        var expected: [Int64: [Int64: FaultLedger.Ack]] = [:]
        for user in users { expected[user.id] = try await faultActiveTimers(pool, user: user.id) }
        _ = await eventually(within: .seconds(60)) {
            watchers.allSatisfy { $0.state == expected[$0.user] }
        }
        var problems: [String] = []
        for watcher in watchers where watcher.state != expected[watcher.user] {
            let held = watcher.state, stored = expected[watcher.user] ?? [:]
            let differences = Set(held.keys).union(stored.keys).sorted().compactMap { id -> String? in
                held[id] == stored[id] ? nil : "timer \(id): watcher \(held[id].map { "v\($0.version) \($0.status)" } ?? "none"), "
                    + "PostgreSQL \(stored[id].map { "v\($0.version) \($0.status)" } ?? "not active")"
            }
            problems.append("watcher \(watcher.name) differs from PostgreSQL: \(differences.joined(separator: "; "))"
                            + (watcher.error.map { " (its stream failed: \($0))" } ?? ""))
        }
        return problems
    }

    var retries: Int { clients.reduce(0) { $0 + $1.statistics.retries } }
    var watchReconnects: Int { clients.reduce(0) { $0 + $1.statistics.watchReconnects } }

    /// One line: calls, outcomes, retries.
    var summary: String {
        "\(ledger.calls) calls, \(ledger.acked.count) timers acknowledged; "
            + "outcomes \(ledger.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); "
            + "retries \(retries), watch reconnections \(watchReconnects)"
    }

    private func tearDown() async {
        await stopLoad()
        for watcher in watchers { watcher.cancel() }
        for client in clients { client.close() }
        for instance in instances { await instance.stop(SIGKILL) }
        await pool.shutdown()
        await services.remove()
    }
}
