import CLinux
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A program running on a pseudo-terminal, as in a terminal window: it is
/// the leader of a new session whose controlling terminal is the pty, so
/// Ctrl-C typed on it (`type([0x03])`) reaches it as SIGINT. Everything it
/// writes is collected; the test keeps the terminal side open to read its
/// settings after the program exits.
final class PseudoTerminal: Sendable {
    let pid: pid_t
    /// The terminal (slave) side, kept open by the test.
    let terminal: Int32
    /// The terminal's settings before the program started.
    let initialSettings: termios
    private let controller: Int32
    private let output = Mutex<[UInt8]>([])
    private let stopped = Atomic(false)
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable arguments` on a new `rows` × `columns` pty.
    init(_ executable: URL, _ arguments: [String], environment: [String: String], rows: UInt16 = 30, columns: UInt16 = 100) throws {
        var controller: Int32 = -1, terminal: Int32 = -1
        guard clinux_open_pty(&controller, &terminal, rows, columns) == 0 else { throw TestFailure("openpty: \(errno)") }
        for fd in [controller, terminal] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var settings = termios()
        _ = tcgetattr(terminal, &settings)
        initialSettings = settings
        var name = [CChar](repeating: 0, count: 256)
        guard ttyname_r(terminal, &name, name.count) == 0 else { throw TestFailure("ttyname_r: \(errno)") }
        let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Opened after setsid() (glibc applies POSIX_SPAWN_SETSID before the
        // file actions), without O_NOCTTY: the pty becomes the controlling terminal.
        posix_spawn_file_actions_addopen(&actions, 0, path, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGWINCH, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        let newSession: Int16 = 0x80  // POSIX_SPAWN_SETSID (glibc 2.26+; not in Swift's Glibc module)
        posix_spawnattr_setflags(&attributes, newSession | Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            Glibc.close(controller)
            Glibc.close(terminal)
            throw TestFailure("posix_spawn \(executable.path): \(spawned)")
        }
        self.pid = pid
        self.controller = controller
        self.terminal = terminal
        let thread = Thread { [self] in readLoop() }
        thread.name = "pty-reader"
        thread.start()
    }

    /// Collects what the program writes until `close()`.
    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while !stopped.load(ordering: .relaxed) {
            var poller = pollfd(fd: controller, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 50)
            if ready <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(controller, $0.baseAddress, $0.count) }
            if n > 0 {
                output.withLock { $0 += buffer[..<n] }
            } else if n < 0 && errno != EINTR && errno != EAGAIN {
                usleep(10_000)  // EIO while no process has the terminal open
            }
        }
    }

    /// Everything written so far, as raw text (escape sequences and all).
    var raw: String {
        String(decoding: output.withLock { $0 }, as: UTF8.self)
    }

    /// Types `bytes` on the terminal (0x03 is Ctrl-C).
    func type(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(controller, $0.baseAddress, $0.count) }
    }

    /// Changes the terminal's size (the program gets SIGWINCH).
    func resize(rows: UInt16, columns: UInt16) {
        _ = clinux_set_window_size(controller, rows, columns)
    }

    /// The program's exit status once it has exited (128 + n when signal n
    /// ended it); nil while it runs.
    func exited() -> Int32? {
        if let status = exitStatus.withLock({ $0 }) { return status }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        exitStatus.withLock { $0 = code }
        return code
    }

    /// The terminal's current settings.
    func settings() -> termios {
        var settings = termios()
        _ = tcgetattr(terminal, &settings)
        return settings
    }

    /// Stops reading, kills the program if it still runs, closes the pty.
    func close() {
        if exited() == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        stopped.store(true, ordering: .relaxed)
    }

    deinit {
        Glibc.close(controller)
        Glibc.close(terminal)
    }
}

/// What a full-screen program drew, read back from its output.
enum ScreenText {
    /// The output without escape sequences (CSI, OSC and two-byte ones) and
    /// carriage returns.
    static func stripped(_ raw: String) -> String {
        var result = String.UnicodeScalarView()
        var scalars = raw.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar {
            case "\u{1B}":
                guard let kind = scalars.next() else { break }
                if kind == "[" {
                    while let next = scalars.next(), !(0x40...0x7E).contains(next.value) {}
                } else if kind == "]" {
                    while let next = scalars.next(), next != "\u{07}" {}
                }
            case "\r":
                continue
            default:
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// The frames `timerctl watch` drew (each starts with cursor home and
    /// ends with clear-to-end-of-screen), as lines without escape sequences;
    /// a frame still being written is left out.
    static func frames(_ raw: String) -> [[String]] {
        raw.components(separatedBy: "\u{1B}[H").dropFirst().compactMap { chunk in
            guard let end = chunk.range(of: "\u{1B}[J") else { return nil }
            return stripped(String(chunk[..<end.lowerBound])).components(separatedBy: "\n")
        }
    }
}
