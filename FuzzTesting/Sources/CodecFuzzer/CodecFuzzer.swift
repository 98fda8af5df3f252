import Codec
import Foundation

// The codec fuzzer: decodes arbitrary bytes as one of the message types (chosen
// by the first byte) and traps if a decoded value does not round-trip
// (`RoundTripCheck`).
//
// Built by `make fuzz` with `-sanitize=fuzzer,address -DFUZZING`, `main` hands
// control to libFuzzer's driver. An ordinary build makes a replayer that runs
// the same check over the files named on the command line (FailCases/).

@main
struct CodecFuzzer {
    static func main() throws {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
        #else
        var failures = 0
        for path in CommandLine.arguments.dropFirst() {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            if let problem = RoundTripCheck.check(bytes) {
                print("\(path): \(problem)")
                failures += 1
            }
        }
        print("replayed \(CommandLine.arguments.count - 1) inputs: \(failures) broke the round-trip invariant")
        if failures > 0 { exit(1) }
        #endif
    }
}

#if FUZZING
/// libFuzzer's entry point when the program has its own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// One input: trap on a broken invariant, which libFuzzer records as a crash.
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    if let problem = RoundTripCheck.check(bytes) {
        fatalError(problem)
    }
    return 0
}
#endif
