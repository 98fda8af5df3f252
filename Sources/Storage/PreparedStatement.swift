/// A statement that a connection prepares once, by name, and then runs many
/// times with different parameters.
///
/// Declare each statement once, as a constant next to the code that runs it:
///
/// ```swift
/// static let timerByID = PreparedStatement(
///     name: "timer_by_id",
///     sql: "SELECT … FROM timers WHERE user_id = $1 AND id = $2"
/// )
/// ```
///
/// The first `execute` on a connection sends the SQL to the server
/// (`PQprepare`); every later one sends only the name and the parameters
/// (`PQexecPrepared`), so the server parses and plans the statement once per
/// connection. Names are per connection and must be unique in the program:
/// running two different statements under one name is an `invalidArgument`
/// error.
package struct PreparedStatement: Sendable, Hashable {
    /// The server-side name, unique in the program (for example
    /// `"timers.pause"`).
    package let name: String
    /// One SQL statement with `$1`, `$2`, … parameters.
    package let sql: String

    /// Declares a statement. Nothing is sent to the server until a connection
    /// first executes it.
    package init(name: String, sql: String) {
        self.name = name
        self.sql = sql
        self.isWellFormed = !name.isEmpty && !name.utf8.contains(0) && !sql.utf8.contains(0)
    }

    /// Whether the name is not empty and neither it nor the SQL has a NUL
    /// byte (which C strings cannot carry). Found once here: statements are
    /// declared once and run on every call, and scanning the SQL each time
    /// was the costliest of timerd's own functions on the timer calls.
    let isWellFormed: Bool
}
