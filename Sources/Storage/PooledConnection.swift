import Foundation
import Synchronization

/// A connection lent by `PostgresPool` to one `withConnection` or
/// `transaction` body.
///
/// Statements run on the slot's own thread; the calling task suspends until
/// the result comes back, so no thread of Swift's cooperative pool ever
/// blocks on the database. Statements sent concurrently on one lease run one
/// after the other, in the order they were sent.
///
/// The lease ends when the body returns: using the value afterwards throws
/// `invalidArgument`. The lease is also abandoned when its deadline passes or
/// the task is cancelled while a statement runs: the waiting statement fails
/// at once (`timedOut`, `cancelled`), the server is asked to cancel it, every
/// later statement fails the same way, and the connection is closed rather
/// than reused.
package final class PooledConnection: Sendable {
    private struct State {
        /// Set once the lease has ended or been abandoned; every later
        /// statement fails with it.
        var failure: StorageError?
        /// Statements sent and not yet answered, by number.
        var waiting: [UInt64: CheckedContinuation<Result<QueryResult, StorageError>, Never>] = [:]
        var nextStatement: UInt64 = 0
        /// The statement the slot's thread is running, with the means to
        /// cancel it.
        var running: (statement: UInt64, canceller: PostgresCanceller?)?
        /// The connection must be closed when the lease ends.
        var discard = false
    }

    /// The slot the connection belongs to.
    let slot: Int
    /// Distinguishes this lease from the slot's earlier ones.
    let id: UInt64
    /// When the lease is abandoned at the latest.
    package let deadline: ContinuousClock.Instant
    private let worker: ConnectionWorker
    private let state = Mutex(State())

    init(slot: Int, id: UInt64, deadline: ContinuousClock.Instant, worker: ConnectionWorker) {
        self.slot = slot
        self.id = id
        self.deadline = deadline
        self.worker = worker
    }

    /// Runs one SQL statement with text parameters (`$1`, `$2`, …; `nil` is
    /// `NULL`), parsed by the server each time. Prefer `execute(_:_:)` for
    /// statements that run often.
    ///
    /// - Throws: what `PostgresConnection.query(_:_:)` throws; `unavailable`
    ///   when the connection had died while idle and no new one could be
    ///   opened; `timedOut` or `cancelled` as described on the type.
    package func query(_ sql: String, _ params: [String?] = []) async throws(StorageError) -> QueryResult {
        try await run { connection throws(StorageError) in try connection.query(sql, params) }
    }

    /// Runs a prepared statement, preparing it on this connection the first
    /// time (see `PreparedStatement`).
    ///
    /// - Throws: as `query(_:_:)`.
    package func execute(_ statement: PreparedStatement, _ params: [String?] = []) async throws(StorageError) -> QueryResult {
        try await run { connection throws(StorageError) in try connection.execute(statement, params) }
    }

    /// Runs several `;`-separated statements without parameters in one round
    /// trip (the simple query protocol), returning the last one's result. For
    /// trusted SQL written in this program, such as migrations.
    ///
    /// - Throws: as `query(_:_:)`.
    package func executeScript(_ sql: String) async throws(StorageError) -> QueryResult {
        try await run { connection throws(StorageError) in try connection.executeScript(sql) }
    }

    /// Asks for the connection to be closed instead of reused when the lease
    /// ends: for a body that changed session state the next borrower must not
    /// see (a session-level advisory lock left held after an error, `SET`
    /// without `LOCAL`, temporary tables).
    package func discardAfterUse() {
        state.withLock { $0.discard = true }
    }

    // MARK: - Pool side

    /// Sends `body` to the slot's thread and waits for its result, the
    /// deadline, or cancellation, whichever comes first.
    private func run(
        _ body: @escaping @Sendable (PostgresConnection) throws(StorageError) -> QueryResult
    ) async throws(StorageError) -> QueryResult {
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<QueryResult, StorageError>, Never>) in
                let admitted: Result<UInt64, StorageError> = state.withLock { state in
                    if let failure = state.failure { return .failure(failure) }
                    state.nextStatement += 1
                    state.waiting[state.nextStatement] = continuation
                    return .success(state.nextStatement)
                }
                switch admitted {
                case .failure(let error):
                    continuation.resume(returning: .failure(error))
                case .success(let statement):
                    let lease = id
                    worker.submit { [self] context in
                        perform(statement, lease: lease, body, context: &context)
                    }
                }
            }
        } onCancel: {
            abandon(StorageError(code: .cancelled, message: "the call was cancelled while a statement ran"))
        }
        return try result.get()
    }

    /// Runs on the slot's thread.
    private func perform(
        _ statement: UInt64,
        lease: UInt64,
        _ body: @Sendable (PostgresConnection) throws(StorageError) -> QueryResult,
        context: inout WorkerContext
    ) {
        let result: Result<QueryResult, StorageError>
        if isAbandoned {
            // Abandoned before its turn (its caller was already answered):
            // do not run it.
            result = .failure(StorageError(code: .cancelled, message: "the statement was not sent"))
        } else {
            do throws(StorageError) {
                let connection = try context.connection(forLease: lease)
                let canceller = context.canceller
                let startNow = state.withLock { state -> Bool in
                    guard state.failure == nil else { return false }
                    state.running = (statement, canceller)
                    return true
                }
                guard startNow else {
                    throw StorageError(code: .cancelled, message: "the statement was not sent")
                }
                defer { state.withLock { $0.running = nil } }
                result = .success(try body(connection))
            } catch {
                if error.code == .connectionLost || error.code == .unavailable {
                    state.withLock { $0.discard = true }
                }
                result = .failure(error)
            }
        }
        let continuation = state.withLock { $0.waiting.removeValue(forKey: statement) }
        continuation?.resume(returning: result)
    }

    /// Abandons the lease: fails every waiting statement with `error`, asks
    /// the server to cancel the running one, and marks the connection for
    /// closing. Nothing happens when the lease has already ended.
    func abandon(_ error: StorageError) {
        let (waiting, canceller) = state.withLock { state -> ([CheckedContinuation<Result<QueryResult, StorageError>, Never>], PostgresCanceller?) in
            guard state.failure == nil else { return ([], nil) }
            state.failure = error
            let waiting = Array(state.waiting.values)
            state.waiting.removeAll()
            guard let running = state.running else { return (waiting, nil) }
            // The cancel request may arrive after the statement ended; the
            // connection must not serve anyone else then.
            state.discard = true
            return (waiting, running.canceller)
        }
        for continuation in waiting {
            continuation.resume(returning: .failure(error))
        }
        if let canceller {
            // PQcancel opens its own connection and blocks: not on this thread.
            Thread.detachNewThread { canceller.cancel() }
        }
    }

    /// Ends the lease: the body returned. Later statements fail.
    func end() {
        state.withLock { state in
            if state.failure == nil {
                state.failure = StorageError(
                    code: .invalidArgument,
                    message: "a pooled connection was used after its withConnection or transaction body returned"
                )
            }
        }
    }

    /// Whether the connection must be closed rather than reused. Read by the
    /// release job on the slot's thread, after every statement of the lease.
    var mustDiscard: Bool {
        state.withLock { $0.discard }
    }

    /// Whether the lease was abandoned (deadline or cancellation) or ended.
    var isAbandoned: Bool {
        state.withLock { $0.failure != nil }
    }

    /// The thread that runs this lease's statements.
    var slotWorker: ConnectionWorker { worker }
}
