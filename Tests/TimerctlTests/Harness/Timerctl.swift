import Foundation
import Testing
@testable import TimerctlCore

/// Runs the built `timerctl` as a user would: a server address and a token
/// in the environment, arguments, and maybe standard input.
struct TimerctlRunner: Sendable {
    var address: String
    var token: String?

    var environment: [String: String] {
        var environment = ["TIMERD_ADDRESS": address]
        if let token { environment["TIMERD_TOKEN"] = token }
        return environment
    }

    func callAsFunction(_ arguments: String..., input: String? = nil) async throws -> Outcome {
        try await run(arguments, input: input)
    }

    func run(_ arguments: [String], input: String? = nil) async throws -> Outcome {
        try await Products.run("timerctl", arguments, environment: environment, input: input)
    }

    /// Runs with `--json`; fails the test unless it exits 0 with one JSON
    /// document on standard output and nothing on standard error.
    func json(_ arguments: String..., input: String? = nil, status: Int32 = 0) async throws -> JSONValue {
        let outcome = try await run(arguments + ["--json"], input: input)
        try #require(outcome.status == status, "timerctl \(arguments.joined(separator: " ")) --json: \(outcome.status) \(outcome.stderr)")
        #expect(outcome.stderr.isEmpty, "\(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n")
        #expect(lines.count == 1, "one document on one line: \(outcome.stdout)")
        return try JSONValue.parse(outcome.stdout)
    }
}

extension Outcome {
    /// Whether the command failed the way timerctl fails: `status`, nothing
    /// on standard output, and exactly one line on standard error that
    /// starts with `timerctl: ` and contains `text`.
    func failed(with status: Int32, saying text: String) -> Bool {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        return self.status == status && stdout.isEmpty && lines.count == 1 && stderr.hasSuffix("\n")
            && lines[0].hasPrefix("timerctl: ") && lines[0].contains(text)
    }
}
