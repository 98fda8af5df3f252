import Testing
@testable import TimerDomain

@Suite("Device time clamping")
struct DeviceTimeTests {
    @Test("a device time inside the window is kept")
    func inside() {
        #expect(DeviceTime.clamp(at(10), notAfter: at(11), notBefore: at(9)) == at(10))
        #expect(DeviceTime.clamp(at(11), notAfter: at(11), notBefore: at(9)) == at(11))
        #expect(DeviceTime.clamp(at(9), notAfter: at(11), notBefore: at(9)) == at(9))
    }

    @Test("a device clock ahead of the server is pulled back to the server's now")
    func future() {
        #expect(DeviceTime.clamp(at(13), notAfter: at(11), notBefore: at(9)) == at(11))
    }

    @Test("a device time before the timer's last change is moved up to it")
    func beforeLastChange() {
        #expect(DeviceTime.clamp(at(8), notAfter: at(11), notBefore: at(9)) == at(9))
    }

    @Test("when the bounds cross, the last known change wins")
    func crossedBounds() {
        #expect(DeviceTime.clamp(at(10), notAfter: at(8), notBefore: at(9)) == at(9))
    }

    @Test("clock skew in whole seconds, truncated toward zero")
    func skew() {
        #expect(DeviceTime.clockSkewSeconds(deviceTime: at(10, 1, 30, micro: 500_000), serverNow: at(10)) == 90)
        #expect(DeviceTime.clockSkewSeconds(deviceTime: at(9, 58, 29, micro: 500_000), serverNow: at(10)) == -90)
        #expect(DeviceTime.clockSkewSeconds(deviceTime: at(10), serverNow: at(10)) == 0)
    }
}
