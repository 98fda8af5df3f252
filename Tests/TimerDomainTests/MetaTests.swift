import Testing
@testable import TimerDomain

@Suite("Meta figures")
struct MetaTests {
    func rate(_ minorUnits: Int64, _ currency: Currency) throws -> HourlyRate {
        try HourlyRate(perHour: MoneyAmount(minorUnits: minorUnits, currency: currency))
    }

    @Test("counts, durations and one value per currency over the active timers")
    func mixed() throws {
        let now = at(10, 30)
        // Running since 09:00: 5,400 s at 90.00 USD/h = 135.00 USD.
        let a = runningTimer()
        // Paused with 4,500 s at 150.00 USD/h = 187.50 USD.
        let b = try TimerState(
            phase: .paused(since: at(10)), startedAt: at(8), closedSeconds: 4_500,
            lastUpdated: at(10), syncVersion: 4, deviceID: "laptop"
        )
        // 600 s closed + running since 10:00 (1,800 s) at 60.00 EUR/h = 40.00 EUR.
        let c = try TimerState(
            phase: .running(sessionStartedAt: at(10)), startedAt: at(8), closedSeconds: 600,
            lastUpdated: at(10), syncVersion: 3, deviceID: "laptop"
        )
        // Running since 10:15 without a rate: 900 s, no value.
        let d = TimerState.created(start: true, at: at(10, 15), deviceID: "phone").state
        // Paused with 7 s at 5000 JPY/h = 9.72 → 10 JPY.
        let g = try TimerState(
            phase: .paused(since: at(9)), startedAt: at(8), closedSeconds: 7,
            lastUpdated: at(9), syncVersion: 2, deviceID: "phone"
        )
        // Stopped and deleted timers do not count.
        let e = try stoppedTimer()
        let f = try deletedTimer()

        let meta = try TimerMeta(items: [
            TimerMeta.Item(state: a, rate: try rate(9_000, .usd)),
            TimerMeta.Item(state: b, rate: try rate(15_000, .usd)),
            TimerMeta.Item(state: c, rate: try rate(6_000, .eur)),
            TimerMeta.Item(state: d, rate: nil),
            TimerMeta.Item(state: e, rate: try rate(15_000, .usd)),
            TimerMeta.Item(state: f, rate: try rate(15_000, .usd)),
            TimerMeta.Item(state: g, rate: try rate(5_000, .jpy)),
        ], at: now)

        #expect(meta.activeCount == 5)
        #expect(meta.runningCount == 3)
        #expect(meta.pausedCount == 2)
        #expect(meta.totalActiveDuration == 5_400 + 4_500 + 2_400 + 900 + 7)
        #expect(meta.totalActiveValue == [
            MoneyAmount(minorUnits: 4_000, currency: .eur),
            MoneyAmount(minorUnits: 10, currency: .jpy),
            MoneyAmount(minorUnits: 32_250, currency: .usd),
        ])
        #expect(meta.syncTimestamp == now)
    }

    @Test("no timers: zeros and no values")
    func empty() throws {
        let meta = try TimerMeta(items: [TimerMeta.Item](), at: at(12))
        #expect(meta.activeCount == 0)
        #expect(meta.totalActiveDuration == 0)
        #expect(meta.totalActiveValue.isEmpty)
    }

    @Test("the total is the sum of each timer's rounded value")
    func sumOfRoundedValues() throws {
        // Two timers of 1 s at 18.00 USD/h are 0.5 cent each: 1 cent each as
        // displayed, so 2 cents in total (not round(1.0) = 1).
        let oneSecond = try TimerState(
            phase: .paused(since: at(9)), startedAt: at(9), closedSeconds: 1,
            lastUpdated: at(9), syncVersion: 2, deviceID: ""
        )
        let perHour = try rate(1_800, .usd)
        let single = try oneSecond.value(at: at(12), rate: perHour)
        #expect(single.minorUnits == 1)
        let meta = try TimerMeta(items: [
            TimerMeta.Item(state: oneSecond, rate: perHour),
            TimerMeta.Item(state: oneSecond, rate: perHour),
        ], at: at(12))
        #expect(meta.totalActiveValue == [MoneyAmount(minorUnits: 2, currency: .usd)])
    }

    @Test("a rate with a zero value still lists its currency")
    func zeroValue() throws {
        let meta = try TimerMeta(items: [TimerMeta.Item(state: runningTimer(), rate: try rate(0, .eur))], at: at(12))
        #expect(meta.totalActiveValue == [MoneyAmount.zero(.eur)])
    }
}
