import Foundation
import Storage
import Testing

/// The `timerd` command line, run as operators and scripts run it.
@Suite struct TimerdCommandTests {
    @Test func migrateTwiceAppliesOnceThenReportsUpToDate() async throws {
        try await Timerd.withSchema { timerd, pool in
            let first = try await timerd("migrate")
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout == "applied migration 1 initial_schema\napplied migration 2 user_partitioning\n")
            let second = try await timerd("migrate")
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout == "schema up to date\n")
            #expect(try await scalar(pool, "SELECT count(*) FROM schema_migrations") == "2")
        }
    }

    @Test func databaseURLFlagWinsOverVariable() async throws {
        try await Timerd.withSchema { timerd, _ in
            let outcome = try await Timerd.run(
                ["migrate", "--database-url", timerd.databaseURL],
                environment: ["TIMERD_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.hasPrefix("applied migration 1"))
        }
    }

    @Test func adminCommandsCreateRowsAndPrintTheirIDs() async throws {
        try await Timerd.withSchema { timerd, pool in
            let user = try await timerd("admin", "create-user", "--name", "Ada Lovelace", "--email", "ada@example.com")
            #expect(user.status == 0, "\(user.stderr)")
            #expect(user.stdout.hasPrefix("created user "))
            let userID = user.lastWord
            #expect(try await scalar(pool, "SELECT email FROM users WHERE id = $1", [userID]) == "ada@example.com")

            let account = try await timerd("admin", "create-account", "--name", "Acme", "--max-running-seconds", "36000")
            #expect(account.status == 0, "\(account.stderr)")
            #expect(account.stdout.hasPrefix("created account "))
            let accountID = account.lastWord
            #expect(try await scalar(pool, "SELECT max_running_seconds FROM accounts WHERE id = $1", [accountID]) == "36000")

            let member = try await timerd("admin", "add-member", "--account", accountID, "--user", userID, "--role", "admin")
            #expect(member.status == 0, "\(member.stderr)")
            #expect(member.stdout == "added user \(userID) to account \(accountID) as admin\n")
            #expect(try await scalar(
                pool, "SELECT role FROM account_members WHERE user_id = $1 AND account_id = $2", [userID, accountID]) == "admin")

            let project = try await timerd("admin", "create-project", "--account", accountID, "--name", "Website")
            #expect(project.status == 0, "\(project.stderr)")
            #expect(project.stdout.hasPrefix("created project "))
            #expect(try await scalar(pool, "SELECT account_id FROM projects WHERE id = $1", [project.lastWord]) == accountID)

            let rate = try await timerd("admin", "create-rate", "--account", accountID, "--name", "Standard",
                                        "--rate", "90.50", "--currency", "USD")
            #expect(rate.status == 0, "\(rate.stderr)")
            #expect(rate.stdout.hasPrefix("created rate "))
            #expect(try await scalar(
                pool, "SELECT rate_minor_per_hour || ' ' || currency_code || ' ' || minor_unit_digits FROM billing_rates WHERE id = $1",
                [rate.lastWord]) == "9050 USD 2")

            let yen = try await timerd("admin", "create-rate", "--account", accountID, "--name", "Tokyo",
                                       "--rate", "12000", "--currency", "JPY")
            #expect(yen.status == 0, "\(yen.stderr)")
            #expect(try await scalar(
                pool, "SELECT rate_minor_per_hour || ' ' || minor_unit_digits FROM billing_rates WHERE id = $1",
                [yen.lastWord]) == "12000 0")

            // Each change to a user's data left an audit row.
            #expect(try await scalar(
                pool, "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE user_id = $1", [userID])
                == "user.create,member.add")
        }
    }

    @Test func createTokenStoresOnlyItsHashAndRevokeTokenRevokesIt() async throws {
        try await Timerd.withSchema { timerd, pool in
            let userID = try await timerd("admin", "create-user", "--name", "Grace", "--email", "grace@example.com").lastWord
            let created = try await timerd("admin", "create-token", "--user", userID,
                                           "--abilities", "timers:write, timers:read", "--expires-in", "30")
            #expect(created.status == 0, "\(created.stderr)")
            let token = created.lastWord
            #expect(token.hasPrefix("svt_") && token.count == 47)
            #expect(created.stdout.hasPrefix("created token "))
            #expect(!created.stderr.contains(token))

            let row = try await pool.withConnection { connection in
                try await connection.query(
                    """
                    SELECT id, token_hash = sha256(convert_to($1, 'UTF8')), abilities::text,
                           expires_at BETWEEN now() + interval '29 days' AND now() + interval '31 days', revoked_at IS NULL
                    FROM api_tokens WHERE user_id = $2
                    """, [token, userID]).rows
            }
            #expect(row.count == 1)
            #expect(row.first?[1] == "t", "the stored hash is the token's SHA-256")
            #expect(row.first?[2] == "{timers:read,timers:write}")
            #expect(row.first?[3] == "t")
            #expect(row.first?[4] == "t")
            let tokenID = try #require(row.first?[0] ?? nil)
            #expect(created.stdout.hasPrefix("created token \(tokenID) for user \(userID) "))

            let revoked = try await timerd("admin", "revoke-token", "--token", token)
            #expect(revoked.status == 0, "\(revoked.stderr)")
            #expect(revoked.stdout == "revoked token \(tokenID)\n")
            #expect(try await scalar(pool, "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = $1", [tokenID]) == "t")

            let again = try await timerd("admin", "revoke-token", "--token", token)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout == "already revoked token \(tokenID)\n")
            #expect(try await scalar(
                pool, "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE token_id = $1", [tokenID])
                == "token.create,token.revoke")
        }
    }

    /// A bad command, and a fragment of the one line it must print.
    struct BadInput: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badInputs: [BadInput] = [
        BadInput(arguments: ["admin", "create-user", "--name", "Again", "--email", "ADA@example.com"],
                 message: "a user with email 'ADA@example.com' already exists"),
        BadInput(arguments: ["admin", "create-user", "--name", "X", "--email", "not-an-address"],
                 message: "--email must be an address"),
        BadInput(arguments: ["admin", "create-project", "--account", "999", "--name", "P"],
                 message: "no account with id 999"),
        BadInput(arguments: ["admin", "add-member", "--account", "1", "--user", "999"],
                 message: "no user with id 999"),
        BadInput(arguments: ["admin", "add-member", "--account", "1", "--user", "1"],
                 message: "user 1 is already a member of account 1"),
        BadInput(arguments: ["admin", "create-account", "--name", "A", "--max-running-seconds", "0"],
                 message: "--max-running-seconds must be 1 to"),
        BadInput(arguments: ["admin", "create-rate", "--account", "1", "--name", "R", "--rate", "90.001", "--currency", "USD"],
                 message: "USD has 2 decimal places"),
        BadInput(arguments: ["admin", "create-rate", "--account", "1", "--name", "R", "--rate", "90", "--currency", "usd"],
                 message: "--currency must be a three-letter ISO 4217 code"),
        BadInput(arguments: ["admin", "create-rate", "--account", "999", "--name", "R", "--rate", "90", "--currency", "EUR"],
                 message: "no account with id 999"),
        BadInput(arguments: ["admin", "create-token", "--user", "1", "--abilities", "timers:read,timers:fly"],
                 message: "unknown ability 'timers:fly'"),
        BadInput(arguments: ["admin", "create-token", "--user", "999", "--abilities", "timers:read"],
                 message: "no user with id 999"),
        BadInput(arguments: ["admin", "create-token", "--user", "1", "--abilities", "timers:read", "--expires-in", "0"],
                 message: "--expires-in must be 1 to 3650 days"),
        BadInput(arguments: ["admin", "revoke-token", "--token", "svt_short"],
                 message: "--token: the token is not svt_ followed by 43 base64url characters"),
        BadInput(arguments: ["admin", "revoke-token", "--token", "svt_" + String(repeating: "A", count: 43)],
                 message: "no such token"),
        BadInput(arguments: ["serve", "--listen", "127.0.0.1", "--log-level", "info"],
                 message: "--listen must be HOST:PORT"),
        BadInput(arguments: ["serve", "--listen", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem"],
                 message: "--tls-cert and --tls-key go together"),
        BadInput(arguments: ["serve", "--listen", "127.0.0.1:0", "--redis-url", "redis-cluster://127.0.0.1:7001,,127.0.0.1:7003",
                             "--state-key", "k1:" + String(repeating: "ab", count: 32)],
                 message: "invalid Redis URL: seed 2 of redis-cluster:// is empty"),
        BadInput(arguments: ["serve", "--listen", "127.0.0.1:0", "--log-format", "yaml"],
                 message: "--log-format must be text or json, got 'yaml'"),
        BadInput(arguments: ["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "9464"],
                 message: "--metrics-listen must be HOST:PORT such as 127.0.0.1:9464, got '9464'"),
        BadInput(arguments: ["serve", "--listen", "127.0.0.1:0", "--redis-url", "redis-cluster://127.0.0.1:7001/2",
                             "--state-key", "k1:" + String(repeating: "ab", count: 32)],
                 message: "a Redis Cluster has only database 0, not '2'"),
    ]

    @Test(arguments: badInputs)
    func badInputGivesOneClearLineAndFailure(_ bad: BadInput) async throws {
        try await Timerd.withSchema { timerd, pool in
            // One user in one account, for the cases that need them to exist.
            #expect(try await timerd("admin", "create-user", "--name", "Ada", "--email", "ada@example.com").lastWord == "1")
            #expect(try await timerd("admin", "create-account", "--name", "Acme").lastWord == "1")
            #expect(try await timerd("admin", "add-member", "--account", "1", "--user", "1").status == 0)
            let auditRows = try await scalar(pool, "SELECT count(*) FROM audit_log")

            let outcome = try await Timerd.run(bad.arguments, environment: ["TIMERD_DATABASE_URL": timerd.databaseURL])
            #expect(outcome.status == 1)
            #expect(outcome.stdout.isEmpty)
            #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
            #expect(outcome.stderr.contains(bad.message), "\(outcome.stderr)")
            #expect(outcome.stderr.hasPrefix("timerd "))
            // Nothing changed.
            #expect(try await scalar(pool, "SELECT count(*) FROM audit_log") == auditRows)
            #expect(try await scalar(pool, "SELECT count(*) FROM users") == "1")
            #expect(try await scalar(pool, "SELECT count(*) FROM api_tokens") == "0")
        }
    }

    @Test func missingDatabaseIsOneClearLine() async throws {
        let outcome = try await Timerd.run(["migrate"], environment: [:])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "timerd migrate: no database given: pass --database-url or set TIMERD_DATABASE_URL\n")
    }

    @Test func unreachableDatabaseIsOneClearLine() async throws {
        let outcome = try await Timerd.run(
            ["admin", "create-user", "--name", "A", "--email", "a@example.com", "--database-timeout", "3"],
            environment: ["TIMERD_DATABASE_URL": "postgresql://timerd@127.0.0.1:1/none?connect_timeout=1"])
        #expect(outcome.status == 1)
        #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.hasPrefix("timerd admin create-user: "))
    }

    @Test func purgeDeletesOldStoppedTimersWithTheirSessionsAndAuditsEach() async throws {
        try await Timerd.withSchema { timerd, pool in
            #expect(try await timerd("migrate").status == 0)
            try await pool.withConnection { connection in
                _ = try await connection.executeScript(
                    """
                    INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com');
                    INSERT INTO accounts (name) VALUES ('Acme');
                    INSERT INTO timers (user_id, account_id, description, status, started_at, stopped_at, current_session_start) VALUES
                        (1, 1, 'old one', 'stopped', now() - interval '60 days', now() - interval '45 days', NULL),
                        (1, 1, 'old two', 'stopped', now() - interval '50 days', now() - interval '31 days', NULL),
                        (1, 1, 'recent', 'stopped', now() - interval '6 days', now() - interval '5 days', NULL),
                        (1, 1, 'running', 'running', now() - interval '90 days', NULL, now() - interval '90 days');
                    INSERT INTO timer_sessions (user_id, timer_id, started_at, ended_at, duration)
                        SELECT user_id, id, started_at, stopped_at, 60 FROM timers WHERE status = 'stopped';
                    """)
            }
            let purged = try await timerd("purge", "--older-than", "30", "--batch-size", "1")
            #expect(purged.status == 0, "\(purged.stderr)")
            #expect(purged.stdout == "purged 2 timers\n")
            #expect(try await scalar(pool, "SELECT string_agg(description, ',' ORDER BY id) FROM timers") == "recent,running")
            #expect(try await scalar(pool, "SELECT count(*) FROM timer_sessions") == "1")
            #expect(try await scalar(
                pool, "SELECT string_agg(timer_id::text, ',' ORDER BY timer_id) FROM audit_log WHERE action = 'timer.purge'")
                == "1,2")

            let again = try await timerd("purge", "--older-than", "30")
            #expect(again.stdout == "purged 0 timers\n")
        }
    }

    @Test func serveReportsReadyAnswersHealthAndStopsOnSIGTERM() async throws {
        try await Timerd.withSchema { timerd, pool in
            let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
            let (process, stdoutURL, stderrURL) = try Timerd.start(
                ["serve", "--listen", "127.0.0.1:0", "--event-loops", "1"],
                environment: ["TIMERD_DATABASE_URL": timerd.databaseURL, "TIMERD_LOG_LEVEL": "debug"]
            ) { process in
                continuation.yield(process.terminationStatus)
                continuation.finish()
            }
            defer {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                try? FileManager.default.removeItem(at: stdoutURL)
                try? FileManager.default.removeItem(at: stderrURL)
            }
            func output() -> String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
            let ready = await eventually { output().contains("\n") || !process.isRunning }
            #expect(ready)
            let line = output()
            #expect(line.hasPrefix("READY "), "stdout: \(line); stderr: \((try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")")
            let port = try #require(Int(line.dropFirst("READY ".count).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(port > 0)

            // Migrated before serving.
            #expect(try await scalar(pool, "SELECT count(*) FROM schema_migrations") == "2")
            // grpc.health.v1: the server and the timer service serve; an
            // unknown service gets NOT_FOUND.
            #expect(grpcHealthStatus(port: port, service: "") == 1)
            #expect(grpcHealthStatus(port: port, service: "servicevault.timer.v1.TimerService") == 1)
            #expect(grpcHealthStatus(port: port, service: "no.such.Service") == nil)

            #expect(kill(process.processIdentifier, SIGTERM) == 0)
            var iterator = stream.makeAsyncIterator()
            let status = await iterator.next()
            #expect(status == 0)
            #expect(process.terminationReason == .exit)
            let logs = try String(contentsOf: stderrURL, encoding: .utf8)
            #expect(logs.contains("shutting down"))
            #expect(output() == line, "nothing but READY on standard output")
        }
    }
}
