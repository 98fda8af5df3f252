import CLibPQ

/// The complete, copied result of one statement: nothing in it refers to
/// libpq memory, so it can cross threads and outlive the connection.
///
/// Values are in PostgreSQL's text format (`42`, `t`, `2024-01-01 10:00:00+00`);
/// SQL `NULL` is `nil`.
package struct QueryResult: Sendable, Hashable {
    /// The result's column names, in order; empty for statements that return
    /// no rows (`INSERT` without `RETURNING`, `CREATE TABLE`, ...).
    package var columns: [String]
    /// The rows, each with one value per column.
    package var rows: [[String?]]
    /// Rows inserted, updated, deleted, merged, copied, moved, fetched or
    /// selected, as the server reports in the command tag; 0 for other commands.
    package var affectedRows: Int
    /// The server's command tag, such as `INSERT 0 1` or `SELECT 3`; empty for
    /// an empty statement.
    package var commandTag: String

    /// Creates a result from its parts.
    package init(columns: [String], rows: [[String?]], affectedRows: Int, commandTag: String) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    /// Copies a successful libpq result. The caller still owns `result` and
    /// clears it.
    init(copying result: OpaquePointer) {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)

        var columns: [String] = []
        columns.reserveCapacity(Int(columnCount))
        for column in 0..<columnCount {
            columns.append(PQfname(result, column).map { String(cString: $0) } ?? "")
        }

        var rows: [[String?]] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(nil)
                    continue
                }
                let length = Int(PQgetlength(result, row, column))
                guard let start = PQgetvalue(result, row, column) else {
                    values.append(nil)
                    continue
                }
                let bytes = UnsafeRawBufferPointer(start: start, count: length)
                values.append(String(decoding: bytes, as: UTF8.self))
            }
            rows.append(values)
        }

        self.columns = columns
        self.rows = rows
        self.affectedRows = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
        self.commandTag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
    }

    /// The index of the first column called `name`, if any.
    package func columnIndex(_ name: String) -> Int? {
        columns.firstIndex(of: name)
    }
}
