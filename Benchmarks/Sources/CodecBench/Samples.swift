import Codec

/// The messages measured. `c/codec_bench.c` builds the very same ones field by
/// field; the two programs print the size and a hash of each encoding so the
/// runner can check that they agree.
enum Samples {
    /// Seconds since the epoch that every timestamp is placed around.
    static let epoch: Int64 = 1_750_000_000

    /// 42 characters, 47 bytes of UTF-8.
    static let description = "Überarbeitung Angebot für Zürich – Phase 2"

    /// A timer with every field set. `index` shifts the id and the timestamps,
    /// so the timers of a list differ.
    static func timer(index: Int64) -> VaultTimer {
        let base = epoch + index * 60
        return VaultTimer.with {
            $0.id = 1_000_000 + index
            $0.userID = 42
            $0.accountID = 7
            $0.projectID = 12
            $0.billingRateID = 3
            $0.description = description
            $0.status = .running
            $0.startedAt = Timestamp(seconds: base, nanos: 125_000_000)
            $0.pausedAt = Timestamp(seconds: base + 3_600, nanos: 250_000_000)
            $0.stoppedAt = Timestamp(seconds: base + 7_200, nanos: 375_000_000)
            $0.totalDuration = 12_345
            $0.currentSessionDuration = 678
            $0.lastUpdated = Timestamp(seconds: base + 7_300, nanos: 500_000_000)
            $0.deviceID = "macbook-pro-7f3a"
            $0.syncVersion = 17
            $0.currentSessionStartedAt = Timestamp(seconds: base + 5_400, nanos: 625_000_000)
            $0.currentValue = Money.with { $0.currencyCode = "EUR"; $0.amountMinor = 18_750; $0.minorUnitDigits = 2 }
            $0.hourlyRate = Money.with { $0.currencyCode = "EUR"; $0.amountMinor = 9_500; $0.minorUnitDigits = 2 }
            $0.clientRef = "6f1c2a9e-3b4d-4e8f-9a2b-1c3d5e7f9a0b"
            $0.createdAt = Timestamp(seconds: base - 86_400, nanos: 750_000_000)
            $0.deletedAt = Timestamp(seconds: base + 90_000, nanos: 875_000_000)
        }
    }

    /// One page of 100 timers with the caller's figures and a page token.
    static func list() -> ListTimersResponse {
        ListTimersResponse.with {
            $0.timers = (0..<100).map { timer(index: $0) }
            $0.meta = Meta.with {
                $0.activeCount = 100
                $0.runningCount = 60
                $0.pausedCount = 40
                $0.totalActiveDuration = 1_234_567
                $0.totalActiveValue = [
                    Money.with { $0.currencyCode = "EUR"; $0.amountMinor = 1_875_000; $0.minorUnitDigits = 2 },
                    Money.with { $0.currencyCode = "USD"; $0.amountMinor = 420_042; $0.minorUnitDigits = 2 },
                ]
                $0.syncTimestamp = Timestamp(seconds: epoch + 9_000, nanos: 999_000_000)
            }
            $0.nextPageToken = "eyJjcmVhdGVkX2F0IjoxNzUwMDAwMDAwLCJpZCI6MTAwMDA5OX0"
        }
    }
}
