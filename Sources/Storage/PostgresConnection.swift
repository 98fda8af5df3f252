import CLibPQ

/// One connection to PostgreSQL through libpq, in blocking mode.
///
/// Every call blocks the calling thread until the server answers (connecting
/// included), so a connection lives on a dedicated thread: never call it from
/// an I/O event loop or from Swift's cooperative thread pool, where a blocked
/// thread stalls unrelated work. The connection pool owns such threads and
/// hands results back through continuations.
///
/// A connection is owned by one thread at a time and is therefore not
/// `Sendable`; it may be handed to another thread as a whole (`sending`), never
/// shared. It closes itself when released.
///
/// After a `connectionLost` error the connection is dead (see `isConnected`)
/// and should be dropped; after `queryFailed`, `invalidArgument` or
/// `unsupported` it is ready for the next statement.
package final class PostgresConnection {
    /// The libpq connection; freed once, by `deinit`.
    let handle: OpaquePointer

    /// Statements prepared on this session, by name, with the SQL each was
    /// prepared from (see `execute(_:_:)`).
    var preparedStatements: [String: String] = [:]

    /// Connects to the server named by `url` and waits until the connection is
    /// ready.
    ///
    /// `url` is anything libpq accepts: a `postgresql://user@host:port/db?…`
    /// URI or a `key=value` connection string. The client encoding is set to
    /// UTF-8 so that text values round-trip as Swift strings.
    ///
    /// GSSAPI encryption is not tried unless `url` asks for it
    /// (`gssencmode=prefer` or `require`): libpq's default would load
    /// Kerberos for every connection, which costs a round of library calls
    /// and can abort a process that exits while a connection is being made
    /// (Kerberos' own exit handlers tear down locks another thread holds).
    ///
    /// - Throws: `invalidURL` when `url` cannot be parsed, `connectionFailed`
    ///   when the server cannot be reached or refuses the connection.
    package init(url: String) throws(StorageError) {
        try Self.validate(url: url)
        // The URL is expanded after gssencmode, so a setting in it wins.
        let keywords: [StaticString] = ["gssencmode", "dbname"]
        let connected: OpaquePointer? = "disable".withCString { disable in
            url.withCString { dbname in
                let values: [UnsafePointer<CChar>?] = [disable, dbname, nil]
                let names: [UnsafePointer<CChar>?] = keywords.map { UnsafeRawPointer($0.utf8Start).assumingMemoryBound(to: CChar.self) } + [nil]
                return PQconnectdbParams(names, values, 1)
            }
        }
        guard let handle = connected else {
            throw StorageError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.lastError(of: handle)
            PQfinish(handle)
            throw StorageError(code: .connectionFailed, message: message)
        }
        if Self.clientEncodingName(of: handle) != "UTF8" {
            guard PQsetClientEncoding(handle, "UTF8") == 0 else {
                let message = Self.lastError(of: handle)
                PQfinish(handle)
                throw StorageError(
                    code: .connectionFailed,
                    message: "could not set the client encoding to UTF8: \(message)"
                )
            }
        }
        // Notices (`… already exists, skipping`, the FATAL a terminated
        // backend sends before it closes) would otherwise go to stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        self.handle = handle
    }

    deinit {
        PQfinish(handle)
    }

    /// Whether the connection is still open. A connection that is not should be
    /// discarded; libpq does not reconnect by itself.
    package var isConnected: Bool {
        PQstatus(handle) == CONNECTION_OK
    }

    /// Runs one statement and returns its whole result.
    ///
    /// Parameters are sent separately from the statement, in text format, and
    /// referenced as `$1`, `$2`, …; `nil` is SQL `NULL`. The server infers
    /// each parameter's type from its use; cast where it cannot (`$1::int`).
    /// Only one statement may be given (the extended query protocol does not
    /// accept several separated by `;`).
    ///
    /// Blocks until the server has answered.
    ///
    /// - Throws: `queryFailed` with the server's SQLSTATE when the statement is
    ///   rejected; `invalidArgument` when the statement or a parameter contains
    ///   a NUL byte; `unsupported` for `COPY … FROM STDIN / TO STDOUT`;
    ///   `connectionLost` when the connection broke.
    package func query(_ sql: String, _ params: [String?] = []) throws(StorageError) -> QueryResult {
        guard !sql.utf8.contains(0) else {
            throw StorageError(code: .invalidArgument, message: "the statement contains a NUL byte")
        }
        let parameters = try TextParameters(params)
        let result = parameters.withValuePointers { values in
            PQexecParams(handle, sql, parameters.count, nil, values, nil, nil, 0)
        }
        return try finish(result)
    }

    /// Turns the result of one statement into a `QueryResult` or an error, and
    /// clears it.
    func finish(_ result: OpaquePointer?) throws(StorageError) -> QueryResult {
        guard let result else {
            throw failure(result: nil)
        }
        defer { PQclear(result) }

        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return QueryResult(copying: result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            try leaveCopy(status)
            throw StorageError(
                code: .unsupported,
                message: "COPY FROM STDIN and COPY TO STDOUT are not supported on this connection"
            )
        default:
            throw failure(result: result)
        }
    }

    // MARK: - Errors

    /// The error for a failed statement, from its result when there is one.
    func failure(result: OpaquePointer?) -> StorageError {
        let lost = PQstatus(handle) != CONNECTION_OK
        guard let result else {
            return StorageError(code: lost ? .connectionLost : .queryFailed, message: Self.lastError(of: handle))
        }
        let sqlState = Self.field(DiagnosticField.sqlState, of: result)
        let message =
            Self.field(DiagnosticField.primaryMessage, of: result)
            ?? PQresultErrorMessage(result).map { Self.trimmed(String(cString: $0)) }
            ?? "the statement failed"
        let detail = Self.field(DiagnosticField.detail, of: result)
        return StorageError(
            code: lost ? .connectionLost : .queryFailed,
            sqlState: sqlState,
            message: message.isEmpty ? "the statement failed" : message,
            detail: detail
        )
    }

    /// Brings the connection out of the COPY sub-protocol a statement entered,
    /// so that it is ready for the next statement.
    private func leaveCopy(_ status: ExecStatusType) throws(StorageError) {
        if status == PGRES_COPY_IN || status == PGRES_COPY_BOTH {
            // 1: the end (with an error, which aborts the COPY) was sent;
            // -1: the connection failed.
            guard PQputCopyEnd(handle, "COPY is not supported on this connection") == 1 else {
                throw StorageError(code: .connectionLost, message: Self.lastError(of: handle))
            }
        }
        if status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
            while true {
                var buffer: UnsafeMutablePointer<CChar>? = nil
                let length = PQgetCopyData(handle, &buffer, 0)
                if let buffer { PQfreemem(buffer) }
                if length == -1 { break }  // the COPY is complete
                if length == -2 {
                    throw StorageError(code: .connectionLost, message: Self.lastError(of: handle))
                }
            }
        }
        // The COPY's own final result (success or the abort above), then NULL.
        while let pending = PQgetResult(handle) {
            PQclear(pending)
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            throw StorageError(code: .connectionLost, message: Self.lastError(of: handle))
        }
    }

    /// Rejects what libpq cannot parse before any network activity.
    private static func validate(url: String) throws(StorageError) {
        guard !url.utf8.contains(0) else {
            throw StorageError(code: .invalidURL, message: "the connection URL contains a NUL byte")
        }
        var errorMessage: UnsafeMutablePointer<CChar>? = nil
        guard let options = PQconninfoParse(url, &errorMessage) else {
            let message = errorMessage.map { trimmed(String(cString: $0)) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            throw StorageError(code: .invalidURL, message: message)
        }
        PQconninfoFree(options)
    }

    /// `PQresultErrorField` codes. postgres_ext.h defines them as character
    /// literals (`'C'`), which Swift does not import.
    private enum DiagnosticField {
        static let sqlState = CInt(UInt8(ascii: "C"))  // PG_DIAG_SQLSTATE
        static let primaryMessage = CInt(UInt8(ascii: "M"))  // PG_DIAG_MESSAGE_PRIMARY
        static let detail = CInt(UInt8(ascii: "D"))  // PG_DIAG_MESSAGE_DETAIL
    }

    private static func field(_ code: CInt, of result: OpaquePointer) -> String? {
        PQresultErrorField(result, code).map { String(cString: $0) }
    }

    static func lastError(of handle: OpaquePointer) -> String {
        let message = PQerrorMessage(handle).map { trimmed(String(cString: $0)) } ?? ""
        return message.isEmpty ? "unknown libpq error" : message
    }

    private static func clientEncodingName(of handle: OpaquePointer) -> String {
        pg_encoding_to_char(PQclientEncoding(handle)).map { String(cString: $0) } ?? ""
    }

    /// libpq messages end with a newline and may span lines; logs want one.
    private static func trimmed(_ message: String) -> String {
        message
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingPrefix(while: \.isWhitespace) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}

/// A connection belongs to one thread at a time; it is never shared.
@available(*, unavailable)
extension PostgresConnection: Sendable {}
