import Foundation
import Synchronization
import Testing

@testable import Storage

/// Access to the project-local test database (`scripts/services up`), with a
/// private schema per test so that tests run in parallel without seeing each
/// other's tables.
enum TestDatabase {
    /// The test database's URL; the test fails when the environment lacks it.
    static func url() throws -> String {
        let url = ProcessInfo.processInfo.environment["TIMERD_TEST_DATABASE_URL"]
        return try #require(
            url.flatMap { $0.isEmpty ? nil : $0 },
            "TIMERD_TEST_DATABASE_URL is not set: run scripts/services up and eval \"$(scripts/services env)\""
        )
    }

    /// The layout the repository suites migrate with: the partition count in
    /// TIMERD_TEST_DATABASE_PARTITIONS runs them on hash-partitioned tables;
    /// unset, they run on plain ones.
    static func layout() throws -> SchemaLayout? {
        guard let text = ProcessInfo.processInfo.environment["TIMERD_TEST_DATABASE_PARTITIONS"], !text.isEmpty else {
            return nil
        }
        return try SchemaLayout.hashPartitioned(parsing: text)
    }

    /// `url` with libpq options appended (already percent-encoded).
    static func url(_ base: String, adding query: String) -> String {
        base + (base.contains("?") ? "&" : "?") + query
    }

    /// A URL whose sessions start with `schema` alone on their search path.
    static func url(schema: String) throws -> String {
        url(try url(), adding: "options=-csearch_path%3D\(schema)")
    }

    /// A small pool on the test database, shut down after `body`.
    static func withPool<T>(
        url: String? = nil,
        maximumConnections: Int = 2,
        defaultTimeout: Duration = .seconds(20),
        _ body: (PostgresPool) async throws -> T
    ) async throws -> T {
        let pool = PostgresPool(configuration: .init(
            url: try url ?? Self.url(),
            maximumConnections: maximumConnections,
            defaultTimeout: defaultTimeout
        ))
        do {
            let value = try await body(pool)
            await pool.shutdown()
            return value
        } catch {
            await pool.shutdown()
            throw error
        }
    }

    /// Creates a fresh schema, runs `body` with a URL whose sessions use it,
    /// and drops the schema afterwards (whether `body` succeeded or not).
    static func withSchema<T>(_ body: (_ url: String, _ schema: String) async throws -> T) async throws -> T {
        let schema = "test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await withPool(maximumConnections: 1) { admin in
            try await admin.withConnection { _ = try await $0.query("CREATE SCHEMA \(schema)") }
        }
        let schemaURL = try url(schema: schema)
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body(schemaURL, schema))
        } catch {
            outcome = .failure(error)
        }
        try await withPool(maximumConnections: 1) { admin in
            try await admin.withConnection { _ = try await $0.query("DROP SCHEMA \(schema) CASCADE") }
        }
        return try outcome.get()
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it
    /// held. For waiting on another task's progress, never for a fixed delay.
    static func eventually(
        within timeout: Duration = .seconds(10),
        _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return try await condition()
    }
}

/// A one-shot gate: tasks wait until it opens.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Waits until `open()` is called (returns at once if it was).
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if isOpen { continuation.resume() }
        }
    }

    /// Lets every waiting and future task through.
    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Collects values from concurrent tasks, in arrival order.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) {
        values.withLock { $0.append(value) }
    }

    var all: [Value] {
        values.withLock { $0 }
    }
}

/// An error a test body throws on purpose.
struct DeliberateFailure: Error, Equatable {}
