/// What `timerctl` ends with when something went wrong: one line for
/// standard error and the exit status.
///
/// Exit statuses: 0 success; 1 the command failed (the server refused the
/// call, it could not be reached, the input could not be read); 2 the call
/// succeeded but its answer needs attention (`health` not OK, `sync` with
/// rejected timers); 64 the command line is wrong (`ExitStatus`).
package struct TimerctlError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for people: one line, without the `timerctl: ` prefix.
    package var message: String
    /// The process's exit status.
    package var exitStatus: Int32

    /// A failure with `message`, ending with `exitStatus`.
    package init(_ message: String, exitStatus: Int32 = ExitStatus.failure) {
        self.message = message
        self.exitStatus = exitStatus
    }

    package var description: String { message }
}

/// The exit statuses of `timerctl`.
package enum ExitStatus {
    /// Done, all well.
    package static let success: Int32 = 0
    /// The command failed.
    package static let failure: Int32 = 1
    /// The call succeeded, but its answer needs attention.
    package static let attention: Int32 = 2
    /// The command line is wrong (EX_USAGE, as swift-argument-parser uses).
    package static let usage: Int32 = 64
}
