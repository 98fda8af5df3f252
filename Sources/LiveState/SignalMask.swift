import Glibc

/// Signal settings for the threads that own Redis sockets.
enum SignalMask {
    /// Blocks `SIGPIPE` on the calling thread.
    ///
    /// hiredis writes with `write(2)`; writing to a connection the server has
    /// closed raises `SIGPIPE`, which kills a process that neither ignores nor
    /// blocks it (the server ignores it at start, a test runner does not).
    /// Blocked, the signal stays pending on this thread only and the write
    /// fails with `EPIPE`, which hiredis reports as an I/O error. Call first
    /// thing on every thread that writes to a Redis socket.
    static func blockBrokenPipeOnThisThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        let result = pthread_sigmask(SIG_BLOCK, &set, nil)
        precondition(result == 0, "pthread_sigmask failed: \(result)")
    }
}
