import ArgumentParser
import Foundation
import LiveState
import RPCServer
import Storage
import TimerDomain

/// `timerd admin …`: the records a deployment needs before anyone can call
/// the service. Each command migrates first (so a fresh database works),
/// prints one line whose last word is the new id (`create-token`: the token),
/// and reports a failure as one line on standard error with exit status 1.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create users, accounts, members, projects, billing rates and API tokens.",
        subcommands: [
            CreateUser.self, CreateAccount.self, AddMember.self, CreateProject.self,
            CreateRate.self, CreateToken.self, RevokeToken.self, NewStateKey.self,
        ])
}

/// `timerd admin new-state-key`: prints a fresh random key for
/// `--state-key` / `TIMERD_STATE_KEY`. Touches no database.
struct NewStateKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a new random AES-256 state key (64 hex digits) for TIMERD_STATE_KEY.",
        discussion: """
            Every instance of a deployment needs the same key. To rotate, set TIMERD_STATE_KEY to \
            "new:NEWKEY,old:OLDKEY" everywhere, then after a day (the state TTL) to "new:NEWKEY".
            """)

    func run() throws {
        do {
            writeLine(try StateKeyring.generateKey())
        } catch {
            throw CommandFailure(error.message)
        }
    }
}

// MARK: - Shared checks

/// Fails with "no <what> with id N" unless `sql` (taking the id as $1) returns a row.
private func requireRow(_ connection: PooledConnection, _ sql: String, id: Int64, what: String) async throws {
    let result = try await connection.query(sql, [String(id)])
    guard !result.rows.isEmpty else { throw CommandFailure("no \(what) with id \(id)") }
}

private func requireUser(_ connection: PooledConnection, _ id: Int64) async throws {
    try await requireRow(connection, "SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL", id: id, what: "user")
}

private func requireAccount(_ connection: PooledConnection, _ id: Int64) async throws {
    try await requireRow(connection, "SELECT 1 FROM accounts WHERE id = $1 AND deleted_at IS NULL", id: id, what: "account")
}

/// The first column of the first row as an id.
private func returnedID(_ result: QueryResult) throws -> Int64 {
    guard let text = result.rows.first?.first ?? nil, let id = Int64(text) else {
        throw CommandFailure("the database returned no id")
    }
    return id
}

/// Checks a name given on the command line: 1 to 200 characters.
private func checkName(_ name: String, flag: String) throws {
    let count = name.unicodeScalars.count
    guard (1...200).contains(count), !name.allSatisfy(\.isWhitespace) else {
        throw CommandFailure("\(flag) must be 1 to 200 characters and not blank, got \(count) characters")
    }
}

/// Checks an id given on the command line.
private func checkID(_ id: Int64, flag: String) throws {
    guard id > 0 else { throw CommandFailure("\(flag) must be a positive id, got \(id)") }
}

/// Writes an audit row for a change the command line made to `userID`'s data.
private func audit(_ connection: PooledConnection, userID: Int64, action: String,
                   accountID: Int64? = nil, tokenID: Int64? = nil, details: String = "{}") async throws {
    _ = try await connection.query(
        """
        INSERT INTO audit_log (user_id, action, account_id, token_id, details)
        VALUES ($1, $2, $3, $4, $5::jsonb)
        """,
        [String(userID), action, accountID.map(String.init), tokenID.map(String.init), details])
}

/// A JSON string literal for `text`.
private func jsonString(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])) ?? Data("[\"\"]".utf8)
    let array = String(decoding: data, as: UTF8.self)
    return String(array.dropFirst().dropLast())
}

// MARK: - Commands

struct CreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-user",
        abstract: "Create a user. Prints \"created user <id>\".")

    @Option(help: "The user's name (1 to 200 characters).") var name: String
    @Option(help: "The user's email address; unique, whatever its case.") var email: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await reportingFailures("admin create-user") {
            try checkName(name, flag: "--name")
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, email.unicodeScalars.count <= 320,
                  !email.contains(where: \.isWhitespace) else {
                throw CommandFailure("--email must be an address such as ada@example.com, got '\(email)'")
            }
            let id = try await database.withMigratedPool { pool in
                try await pool.transaction { connection in
                    let existing = try await connection.query(
                        "SELECT id FROM users WHERE lower(email) = lower($1)", [email])
                    if let row = existing.rows.first, let other = row[0] {
                        throw CommandFailure("a user with email '\(email)' already exists (user \(other))")
                    }
                    let id: Int64
                    do {
                        id = try returnedID(try await connection.query(
                            "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id", [name, email]))
                    } catch let error as StorageError where error.sqlState == StorageError.uniqueViolation {
                        throw CommandFailure("a user with email '\(email)' already exists")
                    }
                    try await audit(connection, userID: id, action: "user.create")
                    return id
                }
            }
            writeLine("created user \(id)")
        }
    }
}

struct CreateAccount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-account",
        abstract: "Create an account. Prints \"created account <id>\".")

    @Option(help: "The account's name (1 to 200 characters).") var name: String
    @Option(name: .customLong("max-running-seconds"), help: ArgumentHelp(
        "Pause a timer that has run this long without a break (1 to 31622400, 366 days). Default: no limit.",
        valueName: "seconds"))
    var maxRunningSeconds: Int64?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await reportingFailures("admin create-account") {
            try checkName(name, flag: "--name")
            if let maxRunningSeconds {
                do throws(TimerDomainError) {
                    _ = try Validation.maxRunningSeconds(maxRunningSeconds, field: "--max-running-seconds")
                } catch {
                    throw CommandFailure(error.message)
                }
            }
            let id = try await database.withMigratedPool { pool in
                try await pool.withConnection { connection in
                    try returnedID(try await connection.query(
                        "INSERT INTO accounts (name, max_running_seconds) VALUES ($1, $2) RETURNING id",
                        [name, maxRunningSeconds.map(String.init)]))
                }
            }
            writeLine("created account \(id)")
        }
    }
}

struct AddMember: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-member",
        abstract: "Make a user a member of an account. Prints \"added user <id> to account <id> as <role>\".")

    enum Role: String, ExpressibleByArgument, CaseIterable {
        case member, admin
    }

    @Option(help: ArgumentHelp("The account's id.", valueName: "id")) var account: Int64
    @Option(help: ArgumentHelp("The user's id.", valueName: "id")) var user: Int64
    @Option(help: "member, or admin (may oversee the account's timers with timers:admin).") var role: Role = .member
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await reportingFailures("admin add-member") {
            try checkID(account, flag: "--account")
            try checkID(user, flag: "--user")
            try await database.withMigratedPool { pool in
                try await pool.transaction { connection in
                    try await requireAccount(connection, account)
                    try await requireUser(connection, user)
                    let inserted = try await connection.query(
                        """
                        INSERT INTO account_members (user_id, account_id, role) VALUES ($1, $2, $3)
                        ON CONFLICT (user_id, account_id) DO NOTHING
                        """,
                        [String(user), String(account), role.rawValue])
                    guard inserted.affectedRows == 1 else {
                        throw CommandFailure("user \(user) is already a member of account \(account)")
                    }
                    try await audit(connection, userID: user, action: "member.add", accountID: account,
                                    details: "{\"role\": \(jsonString(role.rawValue))}")
                }
            }
            writeLine("added user \(user) to account \(account) as \(role.rawValue)")
        }
    }
}

struct CreateProject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-project",
        abstract: "Create a project in an account. Prints \"created project <id>\".")

    @Option(help: ArgumentHelp("The account's id.", valueName: "id")) var account: Int64
    @Option(help: "The project's name (1 to 200 characters).") var name: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await reportingFailures("admin create-project") {
            try checkID(account, flag: "--account")
            try checkName(name, flag: "--name")
            let id = try await database.withMigratedPool { pool in
                try await pool.transaction { connection in
                    try await requireAccount(connection, account)
                    return try returnedID(try await connection.query(
                        "INSERT INTO projects (account_id, name) VALUES ($1, $2) RETURNING id",
                        [String(account), name]))
                }
            }
            writeLine("created project \(id)")
        }
    }
}

struct CreateRate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-rate",
        abstract: "Create a billing rate in an account. Prints \"created rate <id>\".")

    @Option(help: ArgumentHelp("The account's id.", valueName: "id")) var account: Int64
    @Option(help: "The rate's name (1 to 200 characters).") var name: String
    @Option(help: ArgumentHelp(
        "Amount per hour as a decimal number, at most as many decimals as the currency has (90.00).",
        valueName: "amount"))
    var rate: String
    @Option(help: "ISO 4217 currency code in upper case (USD, EUR, JPY, …).") var currency: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await reportingFailures("admin create-rate") {
            try checkID(account, flag: "--account")
            try checkName(name, flag: "--name")
            let hourly: HourlyRate
            do throws(TimerDomainError) {
                hourly = try HourlyRate(parsing: rate, currency: try Currency(code: currency, field: "--currency"),
                                        field: "--rate")
            } catch {
                throw CommandFailure(error.message)
            }
            let id = try await database.withMigratedPool { pool in
                try await pool.transaction { connection in
                    try await requireAccount(connection, account)
                    return try returnedID(try await connection.query(
                        """
                        INSERT INTO billing_rates (account_id, name, rate_minor_per_hour, currency_code, minor_unit_digits)
                        VALUES ($1, $2, $3, $4, $5) RETURNING id
                        """,
                        [String(account), name, String(hourly.perHour.minorUnits), hourly.currency.code,
                         String(hourly.currency.minorUnitDigits)]))
                }
            }
            writeLine("created rate \(id)")
        }
    }
}

struct CreateToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-token",
        abstract: "Create an API token for a user; the token is shown once, as the last word of the output.",
        discussion: """
            Prints "created token <id> for user <id> (<abilities>; <expiry>): <token>". Only the \
            token's SHA-256 is stored: keep the token, it cannot be shown again.
            """)

    @Option(help: ArgumentHelp("The user's id.", valueName: "id")) var user: Int64
    @Option(help: ArgumentHelp(
        "Comma-separated abilities: \(Ability.allCases.map(\.rawValue).joined(separator: ", ")).",
        valueName: "list"))
    var abilities: String
    @Option(name: .customLong("expires-in"), help: ArgumentHelp(
        "Days until the token expires (1 to 3650). Default: it does not expire.", valueName: "days"))
    var expiresIn: Int?
    @Option(help: "A label for the token (up to 200 characters).") var label: String = ""
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await reportingFailures("admin create-token") {
            try checkID(user, flag: "--user")
            let parsed: Set<Ability>
            do throws(AuthError) {
                parsed = try Ability.parseList(abilities)
            } catch {
                throw CommandFailure("--abilities: \(error.message)")
            }
            if let expiresIn, !(1...3650).contains(expiresIn) {
                throw CommandFailure("--expires-in must be 1 to 3650 days, got \(expiresIn)")
            }
            guard label.unicodeScalars.count <= 200 else {
                throw CommandFailure("--label must be at most 200 characters")
            }
            let token: APIToken
            do throws(AuthError) {
                token = try APIToken.generate()
            } catch {
                throw CommandFailure(error.message)
            }
            let names = parsed.map(\.rawValue).sorted()
            let hashHex = Bytea.parameter(token.hash)
            let (id, expiry) = try await database.withMigratedPool { pool in
                try await pool.transaction { connection in
                    try await requireUser(connection, user)
                    let result = try await connection.query(
                        """
                        INSERT INTO api_tokens (user_id, name, token_hash, abilities, expires_at)
                        VALUES ($1, $2, $3::bytea, $4::text[],
                                CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(days => $5::int) END)
                        RETURNING id, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                        """,
                        [String(user), label, hashHex, "{" + names.joined(separator: ",") + "}",
                         expiresIn.map(String.init)])
                    let id = try returnedID(result)
                    try await audit(connection, userID: user, action: "token.create", tokenID: id,
                                    details: "{\"abilities\": [\(names.map(jsonString).joined(separator: ", "))]}")
                    return (id, result.rows.first?[1] ?? nil)
                }
            }
            let expiryText = expiry.map { "expires \($0)" } ?? "no expiry"
            writeLine("created token \(id) for user \(user) (\(names.joined(separator: ",")); \(expiryText)): \(token.text)")
        }
    }
}

struct RevokeToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke-token",
        abstract: "Revoke an API token at once. Prints \"revoked token <id>\" (\"already revoked token <id>\").",
        discussion: "The token is looked up by its SHA-256, as the server does; revoking it twice is not an error.")

    @Option(help: ArgumentHelp("The token (svt_…).", valueName: "token")) var token: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await reportingFailures("admin revoke-token") {
            let parsed: APIToken
            do throws(AuthError) {
                parsed = try APIToken(parsing: token)
            } catch {
                throw CommandFailure("--token: \(error.message)")
            }
            let hashHex = Bytea.parameter(parsed.hash)
            let (id, already) = try await database.withMigratedPool { pool in
                try await pool.transaction { connection in
                    let found = try await connection.query(
                        "SELECT id, user_id, revoked_at IS NOT NULL FROM api_tokens WHERE token_hash = $1::bytea FOR UPDATE",
                        [hashHex])
                    guard let row = found.rows.first, let id = row[0].flatMap({ Int64($0) }),
                          let userID = row[1].flatMap({ Int64($0) }) else {
                        throw CommandFailure("no such token")
                    }
                    if row[2] == "t" { return (id, true) }
                    _ = try await connection.query("UPDATE api_tokens SET revoked_at = now() WHERE id = $1", [String(id)])
                    try await audit(connection, userID: userID, action: "token.revoke", tokenID: id)
                    return (id, false)
                }
            }
            writeLine(already ? "already revoked token \(id)" : "revoked token \(id)")
        }
    }
}
