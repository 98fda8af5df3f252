import RPC

extension TimerctlError {
    /// The failure of a call made to `action` (`pause timer 42`, `list
    /// timers`): the server's message and its status code, with a hint where
    /// the code suggests one. `target` is the server's address.
    package init(cannot action: String, _ error: RPCError, target: String) {
        var message = HumanText.sanitized(error.message)
        if message.isEmpty { message = "the call failed" }
        let hint: String
        switch error.code {
        case .unavailable: hint = "; is timerd running at \(target)?"
        case .unauthenticated: hint = "; check TIMERD_TOKEN or --token"
        case .permissionDenied: hint = "; the token lacks an ability this needs"
        case .deadlineExceeded: hint = "; timerd at \(target) did not answer in time"
        default: hint = ""
        }
        self.init("cannot \(action): \(message) (\(error.code)\(hint))")
    }
}
