import CLibPQ
import Glibc

/// What the pool needs from a connection beyond single statements: prepared
/// statements, scripts, the transaction status, a liveness check that does
/// not block, and a handle to cancel a running statement from another thread.
extension PostgresConnection {
    // MARK: - Prepared statements

    /// Runs a prepared statement, preparing it on this connection first if it
    /// is not yet.
    ///
    /// Parameters are text, as in `query(_:_:)`. When the server no longer
    /// knows the statement (someone ran `DEALLOCATE` or `DISCARD ALL`), it is
    /// prepared again and run once more: the failed attempt did not execute.
    ///
    /// Blocks until the server has answered.
    ///
    /// - Throws: what `query(_:_:)` throws; `invalidArgument` when another
    ///   statement was already prepared under the same name, or when the name
    ///   or SQL contains a NUL byte.
    package func execute(_ statement: PreparedStatement, _ params: [String?] = []) throws(StorageError) -> QueryResult {
        guard statement.isWellFormed else {
            throw StorageError(
                code: .invalidArgument,
                message: "prepared statement \"\(statement.name)\" has an empty name or a NUL byte"
            )
        }
        let parameters = try TextParameters(params)
        try prepareIfNeeded(statement)
        do throws(StorageError) {
            return try runPrepared(statement.name, parameters)
        } catch {
            // 26000 invalid_sql_statement_name: the server forgot it.
            guard error.sqlState == "26000", transactionStatus == .idle else { throw error }
            preparedStatements[statement.name] = nil
            try prepareIfNeeded(statement)
            return try runPrepared(statement.name, parameters)
        }
    }

    private func prepareIfNeeded(_ statement: PreparedStatement) throws(StorageError) {
        switch preparedStatements[statement.name] {
        case statement.sql?:
            return
        case .some:
            throw StorageError(
                code: .invalidArgument,
                message: "prepared statement \"\(statement.name)\" is declared twice with different SQL"
            )
        case nil:
            let result = PQprepare(handle, statement.name, statement.sql, 0, nil)
            _ = try finish(result)
            preparedStatements[statement.name] = statement.sql
        }
    }

    private func runPrepared(_ name: String, _ parameters: TextParameters) throws(StorageError) -> QueryResult {
        let result = parameters.withValuePointers { values in
            PQexecPrepared(handle, name, parameters.count, values, nil, nil, 0)
        }
        return try finish(result)
    }

    // MARK: - Scripts

    /// Runs several statements separated by `;` with the simple query
    /// protocol, as one round trip; returns the last statement's result.
    ///
    /// Meant for trusted SQL written in this program (migrations): there are
    /// no parameters. Outside a transaction block the statements run in one
    /// implicit transaction; inside one they join it. The first failing
    /// statement stops the script.
    ///
    /// - Throws: what `query(_:_:)` throws.
    package func executeScript(_ sql: String) throws(StorageError) -> QueryResult {
        guard !sql.utf8.contains(0) else {
            throw StorageError(code: .invalidArgument, message: "the script contains a NUL byte")
        }
        // PQexec returns the last statement's result; a failing statement
        // stops the script, and its error is the result.
        return try finish(PQexec(handle, sql))
    }

    // MARK: - Session state

    /// Where the session stands with respect to transactions.
    package enum TransactionStatus: Sendable, Hashable {
        /// Outside any transaction block.
        case idle
        /// Inside a transaction block that can still commit.
        case inTransaction
        /// Inside a transaction block that failed; only `ROLLBACK` helps.
        case failedTransaction
        /// A statement is running, or the connection is broken.
        case unknown
    }

    /// The session's transaction status, as of the last message from the
    /// server. Does not block.
    package var transactionStatus: TransactionStatus {
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: .idle
        case PQTRANS_INTRANS: .inTransaction
        case PQTRANS_INERROR: .failedTransaction
        default: .unknown
        }
    }

    /// Whether the connection still looks alive, checked without blocking.
    ///
    /// An idle session has nothing to read; when the socket is readable the
    /// server sent something on its own, typically the FATAL message of a
    /// terminated backend followed by end of file. That input is consumed
    /// (without waiting) and the connection is dead when libpq found it
    /// closed. A connection whose peer vanished without a word still passes;
    /// its next statement fails with `connectionLost`.
    package func isAliveWithoutBlocking() -> Bool {
        guard PQstatus(handle) == CONNECTION_OK else { return false }
        let socket = PQsocket(handle)
        guard socket >= 0 else { return false }
        // A few rounds: the FATAL message and the end of file may arrive as
        // separate reads.
        for _ in 0..<4 {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 0)
            if ready < 0 {
                if errno == EINTR { continue }
                return false
            }
            if ready == 0 { break }
            guard PQconsumeInput(handle) == 1 else { return false }
            // Parses what arrived: notices go to the notice processor,
            // notifications are queued.
            _ = PQisBusy(handle)
            guard PQstatus(handle) == CONNECTION_OK else { return false }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// A handle that can ask the server to cancel this session's running
    /// statement from any thread, or nil when libpq cannot make one.
    package func makeCanceller() -> PostgresCanceller? {
        PQgetCancel(handle).map(PostgresCanceller.init(owning:))
    }
}
