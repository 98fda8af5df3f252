import Synchronization
import Testing
@testable import HTTP2

/// Shared, lock-protected state for closures running on a loop.
final class Box<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func update<R: Sendable>(_ body: (inout sending Value) -> sending R) -> R { value.withLock(body) }
}

@Suite("Event loop")
struct EventLoopTests {
    @Test("tasks from many threads run on the loop, in order per sender")
    func executeFromManyTasks() async throws {
        let loop = try EventLoop(name: "test-loop")
        defer { loop.stop() }
        let seen = Box<[Int: [Int]]>([:])
        await withTaskGroup(of: Void.self) { group in
            for sender in 0..<8 {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        for i in 0..<1_000 {
                            loop.execute {
                                precondition(loop.inLoop)
                                seen.update { $0[sender, default: []].append(i) }
                                if i == 999 { done.resume() }
                            }
                        }
                    }
                }
            }
        }
        let result = seen.update { $0 }
        #expect(result.count == 8)
        for (_, values) in result { #expect(values == Array(0..<1_000)) }
    }

    @Test("timers fire in deadline order and cancelled ones never")
    func timers() async throws {
        let loop = try EventLoop(name: "test-timers")
        defer { loop.stop() }
        let fired = Box<[Int]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            loop.execute {
                loop.schedule(after: .milliseconds(30)) { fired.update { $0.append(3) }; done.resume() }
                loop.schedule(after: .milliseconds(10)) { fired.update { $0.append(1) } }
                let cancelled = loop.schedule(after: .milliseconds(5)) { fired.update { $0.append(99) } }
                loop.schedule(after: .milliseconds(20)) { fired.update { $0.append(2) } }
                cancelled.cancel()
            }
        }
        #expect(fired.update { $0 } == [1, 2, 3])
    }
}
