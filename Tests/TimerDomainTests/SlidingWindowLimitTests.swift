import Testing

@testable import TimerDomain

@Suite("SlidingWindowLimit")
struct SlidingWindowLimitTests {
    @Test func admitsTheLimitPerWindowThenSaysHowLongToWait() {
        var limit = SlidingWindowLimit(limit: 120, windowSeconds: 60)
        let start = Instant(seconds: 1_000)
        for index in 0..<120 {
            #expect(limit.admit(7, at: start.advanced(bySeconds: Int64(index / 4))).admitted)
        }
        let refused = limit.admit(7, at: start.advanced(bySeconds: 30))
        #expect(!refused.admitted)
        #expect(refused.retryAfterMicroseconds == 30_000_000)
        // Another key has its own window.
        #expect(limit.admit(8, at: start.advanced(bySeconds: 30)).admitted)
        // Once the first admissions leave the window, calls are admitted again.
        #expect(limit.admit(7, at: start.advanced(bySeconds: 60)).admitted)
        limit.prune(at: start.advanced(bySeconds: 1_000))
        for _ in 0..<120 { #expect(limit.admit(7, at: start.advanced(bySeconds: 1_000)).admitted) }
        #expect(!limit.admit(7, at: start.advanced(bySeconds: 1_000)).admitted)
    }
}
