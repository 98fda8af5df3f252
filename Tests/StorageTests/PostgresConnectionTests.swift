import Foundation
import Testing

@testable import Storage

/// Integration tests against the project-local PostgreSQL (`scripts/services up`).
@Suite("PostgresConnection")
struct PostgresConnectionTests {
    /// The test database's URL; the test fails when the environment lacks it.
    private func databaseURL() throws -> String {
        let url = ProcessInfo.processInfo.environment["TIMERD_TEST_DATABASE_URL"]
        return try #require(
            url.flatMap { $0.isEmpty ? nil : $0 },
            "TIMERD_TEST_DATABASE_URL is not set: run scripts/services up and eval \"$(scripts/services env)\""
        )
    }

    private func connect() throws -> PostgresConnection {
        try PostgresConnection(url: databaseURL())
    }

    @Test func connectsAndAnswersASimpleQuery() throws {
        let connection = try connect()
        #expect(connection.isConnected)
        let result = try connection.query("SELECT 1 AS one, 'two' AS two")
        #expect(result.columns == ["one", "two"])
        #expect(result.rows == [["1", "two"]])
        #expect(result.affectedRows == 1)
        #expect(result.commandTag == "SELECT 1")
        #expect(result.columnIndex("two") == 1)
    }

    @Test func gssapiEncryptionIsNotTriedUnlessTheURLAsksForIt() throws {
        let connection = try connect()
        let encrypted = try connection.query("SELECT encrypted FROM pg_stat_gssapi WHERE pid = pg_backend_pid()")
        #expect(encrypted.rows == [["f"]])
        // The URL's own setting wins: requiring it from a server without
        // Kerberos fails to connect.
        let url = try databaseURL()
        #expect(throws: StorageError.self) {
            _ = try PostgresConnection(url: url + (url.contains("?") ? "&" : "?") + "gssencmode=require")
        }
    }

    @Test func bindsTextParameters() throws {
        let connection = try connect()
        let result = try connection.query("SELECT $1::int + 1 AS next", ["41"])
        #expect(result.rows == [["42"]])
    }

    @Test func nullComesBackAsNilBothWays() throws {
        let connection = try connect()
        let result = try connection.query(
            "SELECT NULL::text AS a, $1::text AS b, $2::text IS NULL AS c, '' AS d",
            [nil, nil]
        )
        #expect(result.rows == [[nil, nil, "t", ""]])
    }

    @Test func syntaxErrorCarriesSQLState42601() throws {
        let connection = try connect()
        let error = #expect(throws: StorageError.self) {
            try connection.query("SELEC 1")
        }
        #expect(error?.code == .queryFailed)
        #expect(error?.sqlState == "42601")
        #expect(error?.message.contains("syntax error") == true)
        // A rejected statement leaves the connection usable.
        #expect(connection.isConnected)
        #expect(try connection.query("SELECT 2").rows == [["2"]])
    }

    @Test func constraintViolationCarriesSQLStateAndDetail() throws {
        let connection = try connect()
        _ = try connection.query("CREATE TEMP TABLE unique_things (id int PRIMARY KEY)")
        _ = try connection.query("INSERT INTO unique_things VALUES (1)")
        let error = #expect(throws: StorageError.self) {
            try connection.query("INSERT INTO unique_things VALUES ($1)", ["1"])
        }
        #expect(error?.code == .queryFailed)
        #expect(error?.sqlState == "23505")
        #expect(error?.detail?.contains("(id)=(1)") == true)
    }

    @Test func closedPortGivesConnectionFailed() throws {
        // Port 1 (tcpmux) is not served on this loopback.
        let error = #expect(throws: StorageError.self) {
            try PostgresConnection(url: "postgresql://timerd@127.0.0.1:1/servicevault_test?connect_timeout=5")
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.isEmpty == false)
    }

    @Test func unknownDatabaseGivesConnectionFailed() throws {
        let url = try databaseURL()
        let base = try #require(url.range(of: "/", options: .backwards)).lowerBound
        let error = #expect(throws: StorageError.self) {
            try PostgresConnection(url: url[..<base] + "/no_such_database_\(UUID().uuidString.prefix(8))")
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("does not exist") == true)
    }

    @Test(arguments: [
        "postgresql://timerd@127.0.0.1:54329/x?no_such_option=1",
        "postgresql://[::1",
        "host=127.0.0.1 port",
    ])
    func malformedURLGivesInvalidURL(_ url: String) throws {
        let error = #expect(throws: StorageError.self) {
            try PostgresConnection(url: url)
        }
        #expect(error?.code == .invalidURL)
        #expect(error?.message.isEmpty == false)
    }

    @Test func roundTripsNonASCIITextThroughATable() throws {
        let connection = try connect()
        _ = try connection.query(
            "CREATE TEMP TABLE notes (id serial PRIMARY KEY, body text, amount numeric)"
        )
        let bodies = ["Zürich café ☕️", "日本語のメモ", "emoji 👩‍💻 and \"quotes\" 'here'", "tab\tand\nnewline"]
        for body in bodies {
            let insert = try connection.query(
                "INSERT INTO notes (body, amount) VALUES ($1, $2)",
                [body, nil]
            )
            #expect(insert.affectedRows == 1)
            #expect(insert.commandTag == "INSERT 0 1")
            #expect(insert.columns.isEmpty)
        }
        let select = try connection.query("SELECT body, amount, length(body) FROM notes ORDER BY id")
        #expect(select.rows.map { $0[0] } == bodies)
        #expect(select.rows.allSatisfy { $0[1] == nil })
        #expect(select.rows.map { $0[2] } == bodies.map { String($0.unicodeScalars.count) })

        let update = try connection.query("UPDATE notes SET amount = 1.50 WHERE body <> $1", [bodies[0]])
        #expect(update.affectedRows == bodies.count - 1)
        let returning = try connection.query("DELETE FROM notes WHERE amount = $1::numeric RETURNING id", ["1.5"])
        #expect(returning.affectedRows == bodies.count - 1)
        #expect(returning.rows.count == bodies.count - 1)
    }

    @Test func nulBytesAreRejectedBeforeSending() throws {
        let connection = try connect()
        let parameterError = #expect(throws: StorageError.self) {
            try connection.query("SELECT $1::text", ["a\u{0}b"])
        }
        #expect(parameterError?.code == .invalidArgument)
        let statementError = #expect(throws: StorageError.self) {
            try connection.query("SELECT 1\u{0}")
        }
        #expect(statementError?.code == .invalidArgument)
        #expect(try connection.query("SELECT 3").rows == [["3"]])
    }

    @Test func copyIsRefusedAndLeavesTheConnectionUsable() throws {
        let connection = try connect()
        let copyOut = #expect(throws: StorageError.self) {
            try connection.query("COPY (SELECT generate_series(1, 1000)) TO STDOUT")
        }
        #expect(copyOut?.code == .unsupported)
        #expect(try connection.query("SELECT 4").rows == [["4"]])

        _ = try connection.query("CREATE TEMP TABLE copy_target (n int)")
        let copyIn = #expect(throws: StorageError.self) {
            try connection.query("COPY copy_target FROM STDIN")
        }
        #expect(copyIn?.code == .unsupported)
        #expect(try connection.query("SELECT count(*) FROM copy_target").rows == [["0"]])
    }

    @Test func emptyStatementReturnsNothing() throws {
        let connection = try connect()
        let result = try connection.query("")
        #expect(result.columns.isEmpty)
        #expect(result.rows.isEmpty)
        #expect(result.affectedRows == 0)
    }

    @Test func terminatedBackendGivesConnectionLost() throws {
        let victim = try connect()
        let pid = try #require(victim.query("SELECT pg_backend_pid()").rows.first?.first ?? nil)
        let killer = try connect()
        // The test role owns both sessions, so it may terminate its own backend.
        _ = try killer.query("SELECT pg_terminate_backend($1::int, 5000)", [pid])
        let error = #expect(throws: StorageError.self) {
            try victim.query("SELECT 1")
        }
        #expect(error?.code == .connectionLost)
        #expect(!victim.isConnected)
    }
}
