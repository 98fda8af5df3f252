import CLinux

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The terminal while `watch` draws on it: keys not echoed and read one at a
/// time, Ctrl-Z disabled (a stopped watch would leave the terminal in this
/// state), the alternate screen with the cursor hidden. `restore()` puts back
/// what was there: the settings, the cursor, the screen the user had.
///
/// Not Sendable: the watch loop owns it.
final class TerminalScreen {
    private let input: Int32
    private let output: Int32
    private var saved: termios?
    private var active = false

    /// Whether `fd` is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    init(input: Int32 = 0, output: Int32 = 1) {
        self.input = input
        self.output = output
    }

    /// Switches to the watch's screen and input settings.
    func enter() {
        guard !active else { return }
        active = true
        if Self.isTerminal(input) {
            var settings = termios()
            if tcgetattr(input, &settings) == 0 {
                saved = settings
                settings.c_lflag &= ~tcflag_t(ECHO | ICANON)
                withUnsafeMutableBytes(of: &settings.c_cc) { cc in
                    cc[Int(VMIN)] = 1
                    cc[Int(VTIME)] = 0
                    cc[Int(VSUSP)] = 0  // _POSIX_VDISABLE: Ctrl-Z does nothing here
                }
                _ = tcsetattr(input, TCSANOW, &settings)
            }
        }
        Output.emit("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J", to: output)
    }

    /// Puts the terminal back as it was (idempotent).
    func restore() {
        guard active else { return }
        active = false
        Output.emit("\u{1B}[?25h\u{1B}[?1049l", to: output)
        if var settings = saved {
            _ = tcsetattr(input, TCSANOW, &settings)
            saved = nil
        }
    }

    /// Rows and columns of the terminal (24 × 80 when it does not say).
    func size() -> (rows: Int, columns: Int) {
        var rows: UInt16 = 0, columns: UInt16 = 0
        guard clinux_window_size(output, &rows, &columns) == 0, rows > 0, columns > 0 else { return (24, 80) }
        return (Int(rows), Int(columns))
    }

    /// Draws a frame over the previous one, in one write: each line cleared
    /// to its end, the rest of the screen cleared after the last.
    func draw(_ lines: [String], clearFirst: Bool = false) {
        var frame = clearFirst ? "\u{1B}[2J\u{1B}[H" : "\u{1B}[H"
        frame += lines.joined(separator: "\u{1B}[K\n")
        frame += "\u{1B}[K\u{1B}[J"
        Output.emit(frame, to: output)
    }

    deinit { restore() }
}
