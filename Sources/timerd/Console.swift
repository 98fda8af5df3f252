import ArgumentParser
import Foundation
import Storage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes `text` and a newline to file descriptor `fd` at once (unbuffered),
/// so that a process reading the output sees the line when it is written.
func writeLine(_ text: String, to fd: Int32 = 1) {
    var line = text + "\n"
    line.withUTF8 { bytes in
        var rest = UnsafeRawBufferPointer(bytes)
        while !rest.isEmpty {
            let n = write(fd, rest.baseAddress, rest.count)
            if n < 0 { if errno == EINTR { continue } else { return } }
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(n))
        }
    }
}

/// A failure a command reports as one line on standard error.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension StorageError {
    /// The SQLSTATE of a unique violation.
    static let uniqueViolation = "23505"
    /// The SQLSTATE of a foreign key violation.
    static let foreignKeyViolation = "23503"
    /// The SQLSTATE of a check constraint violation.
    static let checkViolation = "23514"
}

/// Runs a command's body and turns any failure into one line on standard
/// error (`timerd <command>: <message>`) and exit status 1.
func reportingFailures(_ command: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CommandFailure {
        writeLine("timerd \(command): \(failure.message)", to: 2)
        throw ExitCode(1)
    } catch let error as StorageError {
        writeLine("timerd \(command): \(describe(error))", to: 2)
        throw ExitCode(1)
    } catch let exit as ExitCode {
        throw exit
    } catch {
        writeLine("timerd \(command): \(String(describing: error).split(separator: "\n").first ?? "")", to: 2)
        throw ExitCode(1)
    }
}

/// A database failure in words for an operator, on one line.
func describe(_ error: StorageError) -> String {
    let text: String
    switch error.code {
    case .invalidURL:
        text = "the database URL is not valid: \(error.message)"
    case .connectionFailed, .unavailable:
        text = "cannot reach the database: \(error.message)"
    case .timedOut:
        text = "the database did not answer in time: \(error.message)"
    default:
        text = error.message + (error.detail.map { " (\($0))" } ?? "")
    }
    return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
}
