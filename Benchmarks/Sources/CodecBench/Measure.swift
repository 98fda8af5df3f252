/// Times a loop with `ContinuousClock`: one warm-up round, then `rounds`
/// measured rounds of `iterations` calls each.
struct Measure {
    /// Calls per round.
    var iterations: Int
    /// Measured rounds; the median of their per-call times is reported.
    var rounds: Int
    /// Sum of everything the measured calls returned, printed at the end so the
    /// optimizer cannot drop the work.
    var checksum: UInt64 = 0

    /// The median over the measured rounds of nanoseconds per call of `body`.
    mutating func nanosecondsPerCall(_ body: () throws -> UInt64) rethrows -> Double {
        let clock = ContinuousClock()
        var samples: [Double] = []
        for round in 0...rounds {
            var sum: UInt64 = 0
            let start = clock.now
            for _ in 0..<iterations {
                sum &+= try body()
            }
            let elapsed = start.duration(to: clock.now)
            checksum &+= sum
            if round > 0 {  // Round 0 warms up caches, the allocator and branch predictors.
                samples.append(Self.nanoseconds(elapsed) / Double(iterations))
            }
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    private static func nanoseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }
}

/// 64-bit FNV-1a of `bytes`, to show that two programs produced the same encoding.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
