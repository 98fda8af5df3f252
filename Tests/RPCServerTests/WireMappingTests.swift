import Codec
import RPC
import Testing
import TimerDomain
@testable import RPCServer

@Suite("Domain values on the wire", .timeLimit(.minutes(1)))
struct WireMappingTests {
    let start = Instant(seconds: 1_700_000_000)

    func identity() -> TimerIdentity {
        TimerIdentity(id: 42, userID: 7, accountID: 3, projectID: 5, billingRateID: 9,
                      description: "Design review", clientRef: "0b6c2f58-3c52-4c52-9b63-6b0f7b1c9e11",
                      createdAt: Instant(seconds: 1_699_999_000))
    }

    @Test("a running timer: durations and value as of now, rate and currency on the timer")
    func runningTimer() throws {
        let created = try TimerState.created(start: true, at: start, deviceID: "laptop")
        let rate = try HourlyRate(parsing: "90.00", currency: Currency(code: "USD"))
        let now = start.advanced(bySeconds: 1_800)
        let timer = try VaultTimer(identity(), state: created.state, rate: rate, at: now)
        #expect(timer.id == 42 && timer.userID == 7 && timer.accountID == 3)
        #expect(timer.projectID == 5 && timer.billingRateID == 9)
        #expect(timer.status == .running)
        #expect(timer.startedAt == Timestamp(start))
        #expect(timer.currentSessionStartedAt == Timestamp(start))
        #expect(timer.pausedAt == nil && timer.stoppedAt == nil)
        #expect(timer.totalDuration == 0)
        #expect(timer.currentSessionDuration == 1_800)
        #expect(timer.syncVersion == 1)
        #expect(timer.deviceID == "laptop")
        // Half an hour at 90.00 USD an hour.
        #expect(timer.currentValue?.amountMinor == 4_500)
        #expect(timer.currentValue?.currencyCode == "USD")
        #expect(timer.currentValue?.minorUnitDigits == 2)
        #expect(timer.hourlyRate?.amountMinor == 9_000)
        #expect(timer.createdAt == Timestamp(Instant(seconds: 1_699_999_000)))
    }

    @Test("a paused timer without a rate has no value; its open session is gone")
    func pausedTimer() throws {
        let created = try TimerState.created(start: true, at: start, deviceID: "laptop")
        let paused = try created.state.applying(.pause, at: start.advanced(bySeconds: 600), deviceID: "phone")
        let timer = try VaultTimer(identity(), state: paused.state, rate: nil, at: start.advanced(bySeconds: 5_000))
        #expect(timer.status == .paused)
        #expect(timer.totalDuration == 600)
        #expect(timer.currentSessionDuration == 0)
        #expect(timer.pausedAt == Timestamp(start.advanced(bySeconds: 600)))
        #expect(timer.currentSessionStartedAt == nil)
        #expect(timer.currentValue == nil && timer.hourlyRate == nil)
        #expect(timer.syncVersion == 2)
        #expect(timer.deviceID == "phone")
    }

    @Test("statuses both ways; UNSPECIFIED and unknown numbers match no status")
    func statuses() {
        for status in [TimerState.Status.running, .paused, .stopped] {
            #expect(TimerState.Status(wire: status.wire) == status)
        }
        #expect(TimerState.Status(wire: .unspecified) == nil)
        #expect(TimerState.Status(wire: .unrecognized(9)) == nil)
    }

    @Test("timestamps: valid ones convert exactly, invalid ones are INVALID_ARGUMENT naming the field")
    func timestamps() throws {
        var wire = Timestamp()
        wire.seconds = 1_700_000_000
        wire.nanos = 123_456_000
        let instant = try Instant(wire, field: "created_after")
        #expect(instant.microsecondsSinceEpoch == 1_700_000_000_123_456)
        #expect(Timestamp(instant) == wire)

        var bad = Timestamp()
        bad.nanos = -1
        var failure: RPCError?
        do { _ = try Instant(bad, field: "created_after") } catch { failure = error }
        #expect(failure?.code == .invalidArgument)
        #expect(failure?.message.hasPrefix("created_after is not a valid timestamp") == true)
    }

    @Test("domain errors keep their gRPC status and message")
    func errors() {
        let stale = TimerDomainError(code: .aborted, message: "sync_version is 4, the request expected 3", field: "expected_sync_version")
        let status = RPCError(domain: stale)
        #expect(status.code == .aborted)
        #expect(status.message == "sync_version is 4, the request expected 3")
        let refused = RPCError(domain: TimerDomainError(code: .failedPrecondition, message: "timer is stopped"))
        #expect(refused.code == .failedPrecondition)
    }
}
