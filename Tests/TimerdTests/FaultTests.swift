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

/// Nothing acknowledged is lost: a mixed load from several clients, with
/// watchers attached, while `timerd`, Redis and PostgreSQL are killed and
/// started again. After each fault PostgreSQL holds every acknowledged
/// change and its rules; at the end every watcher agrees with PostgreSQL.
///
/// Both run only when asked (`TIMERD_FAULTS=1`, `TIMERD_SOAK_SECONDS`), on
/// their own after the other tests: their load would slow the rest of a
/// parallel run past its deadlines. `make test` runs one round of every
/// fault; `make faults` runs more (`TIMERD_FAULT_ROUNDS`,
/// `TIMERD_FAULT_LOAD_SECONDS` of load around each fault, `TIMERD_FAULT_RATE`
/// calls a second per client, 0 for no pacing; `TIMERD_FAULT_ONLY` picks the
/// faults whose description contains it). `make soak` runs the soak.
@Suite("Faults: acknowledged changes survive crashes and outages", .timeLimit(.minutes(30)))
struct FaultTests {
    static let environment = ProcessInfo.processInfo.environment
    static let rounds = environment["TIMERD_FAULT_ROUNDS"].flatMap { Int($0) } ?? 1
    static let only = environment["TIMERD_FAULT_ONLY"] ?? ""
    static let rate = environment["TIMERD_FAULT_RATE"].flatMap { Int($0) } ?? 20
    static let loadSeconds = environment["TIMERD_FAULT_LOAD_SECONDS"].flatMap { Int($0) } ?? 2
    static let soakSeconds = environment["TIMERD_SOAK_SECONDS"].flatMap { Int($0) }
    static let faults = environment["TIMERD_FAULTS"] == "1"

    @Test(.enabled(if: FaultTests.faults))
    func acknowledgedChangesSurviveCrashesRestartsAndOutages() async throws {
        try await FaultRig.run(userCount: 3, workingUsers: 3, watchersPerInstance: 1, rate: Self.rate > 0 ? Self.rate : nil) { rig in
            rig.startLoad()
            var faults: [String] = []
            var timings: [String] = []
            var problems: [String] = []
            func phase(_ fault: String, _ inject: () async throws -> Void) async throws {
                guard Self.only.isEmpty || fault.contains(Self.only) else { return }
                try await Task.sleep(for: .seconds(Self.loadSeconds))
                let started = ContinuousClock.now
                try await inject()
                let took = ContinuousClock.now - started
                faults.append(fault)
                timings.append("\(fault): \(took.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
                try await Task.sleep(for: .seconds(Self.loadSeconds))
                for problem in try await rig.invariantViolations() { problems.append("after \(fault): \(problem)") }
            }
            let services = rig.services, instances = rig.instances
            for _ in 0..<Self.rounds {
                try await phase("timerd A killed (SIGKILL) and started again") {
                    await instances[0].stop(SIGKILL)
                    try await instances[0].start()
                }
                try await phase("Redis killed (its data lost) and started again") {
                    try await services.run("crash-redis")
                    try await services.run("start-redis")
                }
                try await phase("Redis flushed (FLUSHALL)") {
                    _ = try RedisConnection(host: "127.0.0.1", port: services.redisPort, timeout: .seconds(5)).command(["FLUSHALL"])
                }
                try await phase("PostgreSQL crashed (immediate stop) and started again") {
                    try await services.run("crash-pg")
                    try await services.run("start-pg")
                }
                try await phase("timerd B stopped (SIGTERM) during calls and started again") {
                    await instances[1].stop(SIGTERM)
                    try await instances[1].start()
                }
            }
            await rig.stopLoad()
            // Quiet now: every watcher comes to hold what PostgreSQL holds.
            problems += try await rig.watcherDisagreements()
            for problem in try await rig.invariantViolations() { problems.append("at the end: \(problem)") }

            print("faults: \(faults.count) injected (\(Set(faults).count) kinds); \(rig.summary); "
                  + "violations \(rig.ledger.violations.count + problems.count)")
            for timing in timings { print("  \(timing)") }
            #expect(rig.ledger.violations.isEmpty, "\(rig.ledger.violations.prefix(20))")
            #expect(problems.isEmpty, "\(problems.prefix(20))")
            #expect(rig.ledger.acked.count > 10, "too little load to say anything: \(rig.ledger.acked.count) timers acknowledged")
            #expect((rig.ledger.outcomes["ok"] ?? 0) > 100, "too few successful calls: \(rig.ledger.outcomes)")
            // The faults were felt: watch streams broke and resumed.
            if Self.only.isEmpty { #expect(rig.watchReconnects >= rig.watchers.count / 2, "only \(rig.watchReconnects) watch reconnections") }
        }
    }

    /// What one sample of the soak reads.
    struct Sample {
        var seconds: Int
        var rssKiB: [Int]
        var fds: [Int]
        var redisBytes: Int
    }

    /// The soak: mixed load for `TIMERD_SOAK_SECONDS` with 1,000 watchers
    /// (100 users, 5 watchers of each on each instance) and 10 working users;
    /// after a warm-up of a quarter of the time, the instances' memory and
    /// descriptors and Redis' memory stay flat, and at the end every rule
    /// holds and every watcher agrees with PostgreSQL.
    @Test(.enabled(if: FaultTests.soakSeconds != nil))
    func soakKeepsMemoryAndDescriptorsFlat() async throws {
        let seconds = Self.soakSeconds ?? 0
        try await FaultRig.run(userCount: 100, workingUsers: 10, watchersPerInstance: 5, rate: 5, stopOneIn: 50,
                               environment: ["TIMERD_EVENT_LOG_LENGTH": "100"]) { rig in
            let redis = try RedisConnection(host: "127.0.0.1", port: rig.services.redisPort, timeout: .seconds(5))
            func sample(_ elapsed: Int) throws -> Sample {
                var rss: [Int] = [], fds: [Int] = []
                for instance in rig.instances {
                    guard let pid = instance.pid else { continue }
                    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
                    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
                    rss.append(Int(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "") ?? 0)
                    fds.append((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0)
                }
                guard case .string(let info) = try redis.command(["INFO", "memory"]) else { return Sample(seconds: elapsed, rssKiB: rss, fds: fds, redisBytes: 0) }
                let used = String(decoding: info, as: UTF8.self).split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }
                return Sample(seconds: elapsed, rssKiB: rss, fds: fds, redisBytes: Int(used?.dropFirst(12) ?? "") ?? 0)
            }
            let start = ContinuousClock.now
            var samples = [try sample(0)]
            rig.startLoad()
            let every = max(1, seconds / 40)
            while ContinuousClock.now - start < .seconds(seconds) {
                try await Task.sleep(for: .seconds(every))
                samples.append(try sample(Int((ContinuousClock.now - start).components.seconds)))
            }
            await rig.stopLoad()
            var problems = try await rig.watcherDisagreements()
            problems += try await rig.invariantViolations()

            // After the warm-up: the mean of the last three samples against
            // the mean of the three at the end of the warm-up.
            let warm = samples.filter { $0.seconds >= seconds / 4 }
            let early = Array(warm.prefix(3)), late = Array(warm.suffix(3))
            func mean(_ values: [Int]) -> Double { values.isEmpty ? 0 : Double(values.reduce(0, +)) / Double(values.count) }
            for index in rig.instances.indices {
                let before = mean(early.map { $0.rssKiB[index] }), after = mean(late.map { $0.rssKiB[index] })
                if after > before * 1.15 + 4_096 { problems.append("timerd \(rig.instances[index].name) RSS grew from \(Int(before)) KiB to \(Int(after)) KiB") }
                let fdsBefore = mean(early.map { $0.fds[index] }), fdsAfter = mean(late.map { $0.fds[index] })
                if fdsAfter > fdsBefore + 10 { problems.append("timerd \(rig.instances[index].name) descriptors grew from \(fdsBefore) to \(fdsAfter)") }
            }
            let redisBefore = mean(early.map(\.redisBytes)), redisAfter = mean(late.map(\.redisBytes))
            if redisAfter > redisBefore * 1.25 + 2_097_152 { problems.append("Redis memory grew from \(Int(redisBefore)) to \(Int(redisAfter)) bytes") }

            print("soak: \(seconds) s, \(rig.watchers.count) watchers; \(rig.summary)")
            for sample in samples {
                print("  \(sample.seconds) s: timerd RSS \(sample.rssKiB.map { "\($0 / 1024) MiB" }.joined(separator: ", ")), "
                      + "fds \(sample.fds.map(String.init).joined(separator: ", ")), Redis \(sample.redisBytes / 1024) KiB")
            }
            print("  acknowledged changes lost: \(problems.filter { $0.contains("acknowledged") }.count)")
            #expect(rig.ledger.violations.isEmpty, "\(rig.ledger.violations.prefix(20))")
            #expect(problems.isEmpty, "\(problems.prefix(20))")
        }
    }
}
