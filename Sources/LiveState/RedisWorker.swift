import Foundation
import Synchronization

/// The dedicated thread of one `RedisPool` slot: it owns the slot's
/// `RedisConnection` and makes every blocking hiredis call for it, one job at
/// a time, in submission order.
///
/// Jobs are closures that receive the thread's `RedisWorkerContext`; they hand
/// their results back through continuations, so no caller ever blocks. The
/// thread starts with the worker (with `SIGPIPE` blocked) and ends after the
/// `stop()` job, closing the connection.
final class RedisWorker: Sendable {
    /// A unit of work for the thread.
    typealias Job = @Sendable (inout RedisWorkerContext) -> Void

    private enum Item {
        case run(Job)
        case exit
    }

    private struct Queue {
        var items: [Item] = []
        var exited = false
        var joiners: [CheckedContinuation<Void, Never>] = []
    }

    /// The slot this thread serves (for thread names and diagnostics).
    let slot: Int
    private let queue = Mutex(Queue())
    /// Counts the queued items; the thread waits on it when the queue is empty.
    private let pending = DispatchSemaphore(value: 0)

    /// Starts the thread. Its first job is usually a connect.
    init(slot: Int, url: RedisURL, connectTimeout: Duration) {
        self.slot = slot
        let thread = Thread { [self] in
            SignalMask.blockBrokenPipeOnThisThread()
            self.run(context: RedisWorkerContext(url: url, connectTimeout: connectTimeout))
        }
        thread.name = "redis-\(slot)"
        thread.start()
    }

    /// Queues `job` to run on the thread after the jobs already queued.
    func submit(_ job: @escaping Job) {
        queue.withLock { $0.items.append(.run(job)) }
        pending.signal()
    }

    /// Queues the end of the thread: after the jobs already queued it closes
    /// the connection and exits. Call exactly once; no job may follow.
    func stop() {
        queue.withLock { $0.items.append(.exit) }
        pending.signal()
    }

    /// Waits (without blocking a thread) until the thread has exited.
    func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let exited = queue.withLock { queue in
                if !queue.exited { queue.joiners.append(continuation) }
                return queue.exited
            }
            if exited { continuation.resume() }
        }
    }

    private func run(context: consuming RedisWorkerContext) {
        var context = context
        while true {
            pending.wait()
            let item = queue.withLock { $0.items.removeFirst() }
            switch item {
            case .run(let job):
                job(&context)
            case .exit:
                context.close()
                let joiners = queue.withLock { queue in
                    queue.exited = true
                    defer { queue.joiners.removeAll() }
                    return queue.joiners
                }
                for joiner in joiners { joiner.resume() }
                return
            }
        }
    }
}
