/// The state a slot's thread keeps between jobs: its connection and what it
/// knows about it. Lives on that thread only.
struct WorkerContext: ~Copyable {
    /// Where to connect.
    let url: String
    /// The live connection, if any.
    private(set) var connection: PostgresConnection?
    /// Cancels the connection's running statement from another thread.
    private(set) var canceller: PostgresCanceller?
    /// The lease whose first statement found the connection alive.
    private var checkedLease: UInt64 = 0
    /// Why the last replacement of a dead connection failed, in this lease.
    private var reconnectFailure: StorageError?

    init(url: String) {
        self.url = url
    }

    /// Opens a new connection, replacing the current one.
    mutating func connect() throws(StorageError) {
        close()
        let connection = try PostgresConnection(url: url)
        self.canceller = connection.makeCanceller()
        self.connection = connection
    }

    /// Closes the connection, if any.
    mutating func close() {
        connection = nil
        canceller = nil
    }

    /// The connection for a statement of lease `lease`.
    ///
    /// At the lease's first statement the connection is checked without a
    /// round trip (`isAliveWithoutBlocking`); one that died while idle (a
    /// terminated backend, a restarted server) is replaced by a new one before
    /// the statement runs, so the caller never sees it.
    ///
    /// - Throws: `unavailable` when the replacement cannot connect (the
    ///   connect error is kept in `reconnectFailure`); `connectionLost` when
    ///   the connection broke earlier in this lease.
    mutating func connection(forLease lease: UInt64) throws(StorageError) -> PostgresConnection {
        if checkedLease != lease {
            checkedLease = lease
            reconnectFailure = nil
            if connection?.isAliveWithoutBlocking() != true {
                do throws(StorageError) {
                    try connect()
                } catch {
                    reconnectFailure = error
                    throw StorageError(
                        code: .unavailable,
                        sqlState: error.sqlState,
                        message: "the database is unavailable: \(error.message)",
                        detail: error.detail
                    )
                }
            }
        }
        guard let connection, connection.isConnected else {
            throw StorageError(code: .connectionLost, message: "the connection to the database was lost")
        }
        return connection
    }

    /// Ends a lease: decides whether the connection can serve the next one.
    ///
    /// A connection left inside a transaction is rolled back (one round trip);
    /// one that is broken, that could not be rolled back, or that `discard`
    /// marks unsafe (a cancel request may still be on its way, or the session
    /// state was changed) is closed.
    mutating func finishLease(discard: Bool) -> PoolStateMachine.ReleaseOutcome {
        if let failure = reconnectFailure, connection == nil {
            reconnectFailure = nil
            return .connectFailed(failure)
        }
        reconnectFailure = nil
        guard !discard, let connection, connection.isConnected else {
            close()
            return .closed
        }
        switch connection.transactionStatus {
        case .idle:
            return .reusable
        case .inTransaction, .failedTransaction:
            let rolledBack = (try? connection.query("ROLLBACK")) != nil
            if rolledBack && connection.transactionStatus == .idle {
                return .reusable
            }
            close()
            return .closed
        case .unknown:
            close()
            return .closed
        }
    }
}
