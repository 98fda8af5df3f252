// CodecBench: nanoseconds per encode, decode and encode + decode of a full
// `VaultTimer` and of a 100-timer `ListTimersResponse`, through the Swift codec.
//
//   CodecBench [--iterations N] [--rounds R] [--only timer|list]
//
// N calls per round for the timer, N / 100 for the list (same number of timers
// either way); R measured rounds after one warm-up; the median is printed.
// --only measures one of the two (to profile it alone).
// Output is one `key value` line per figure, read by scripts/bench-codec; the
// C counterpart (c/codec_bench.c) prints the same keys.
import Codec

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes `message` to standard error and exits with `status`.
func fail(_ message: String, status: Int32 = 1) -> Never {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(status)
}

let usage = "usage: CodecBench [--iterations N] [--rounds R] [--only timer|list]"
var iterations = 5_000
var rounds = 7
var only: String?
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    if flag == "--only" {
        guard let name = arguments.popFirst(), name == "timer" || name == "list" else { fail(usage, status: 2) }
        only = name
        continue
    }
    guard let value = arguments.popFirst().flatMap({ Int($0) }), value > 0 else { fail(usage, status: 2) }
    switch flag {
    case "--iterations": iterations = value
    case "--rounds": rounds = value
    default: fail(usage, status: 2)
    }
}

/// Measures one message type and prints `<name>.bytes`, `<name>.fnv1a` and the
/// three `<name>.*_ns` figures.
func bench<M: ProtoMessage>(_ name: String, _ message: M, iterations: Int, measure: inout Measure,
                            summary: (M) -> UInt64) throws {
    let encoded = try message.serializedBytes()
    guard try M(serializedBytes: encoded) == message else {
        fail("\(name): the decoded message differs from the encoded one")
    }
    measure.iterations = iterations

    let roundTrip = try measure.nanosecondsPerCall {
        let bytes = try message.serializedBytes()
        return summary(try M(serializedBytes: bytes)) &+ UInt64(bytes.count)
    }
    let encode = try measure.nanosecondsPerCall {
        UInt64(try message.serializedBytes().count)
    }
    let decode = try measure.nanosecondsPerCall {
        summary(try M(serializedBytes: encoded))
    }

    print("\(name).bytes \(encoded.count)")
    print("\(name).fnv1a \(String(fnv1a(encoded), radix: 16))")
    print("\(name).roundtrip_ns \(formatted(roundTrip))")
    print("\(name).encode_ns \(formatted(encode))")
    print("\(name).decode_ns \(formatted(decode))")
}

func formatted(_ nanoseconds: Double) -> String {
    String((nanoseconds * 10).rounded() / 10)
}

let listIterations = max(1, iterations / 100)
print("# swift: Codec (Swift values over protobuf-c), \(iterations) timer / \(listIterations) list calls per round, "
      + "median of \(rounds) rounds after 1 warm-up")
var measure = Measure(iterations: iterations, rounds: rounds)
if only != "list" {
    try bench("timer", Samples.timer(index: 0), iterations: iterations, measure: &measure) {
        UInt64(bitPattern: $0.id) &+ UInt64(bitPattern: $0.syncVersion)
    }
}
if only != "timer" {
    try bench("list", Samples.list(), iterations: listIterations, measure: &measure) {
        UInt64($0.timers.count) &+ UInt64(bitPattern: $0.timers.last?.id ?? 0)
    }
}
print("checksum \(measure.checksum)")
