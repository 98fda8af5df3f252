import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Actions run at their deadlines by one thread: for the many deadlines that
/// guard each database and Redis call and are nearly all cancelled long
/// before they pass.
///
/// Scheduling is a lock, a heap insertion and — only when the new deadline
/// is the earliest — a signal; cancelling is a lock and a removal. The
/// thread sleeps until the earliest live deadline, so cancelled ones cost it
/// nothing until it next wakes (they are dropped then). Compared with a task
/// sleeping per deadline this saves, per call, a task, a dispatch timer and
/// the thread wake-ups of starting and cancelling them.
///
/// Actions run on the timer thread, one at a time, outside the lock: they
/// must be short and must not block. An instance and its thread live as long
/// as the process: use `shared`.
package final class DeadlineTimers: @unchecked Sendable {
    /// The timers of the process.
    package static let shared = DeadlineTimers()

    /// A scheduled action, to cancel it.
    package struct Token: Hashable, Sendable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        var deadline: ContinuousClock.Instant
        var id: UInt64
    }

    private struct State {
        var heap: [Entry] = []
        var actions: [UInt64: @Sendable () -> Void] = [:]
        var nextID: UInt64 = 0
        var started = false
    }

    // A pthread mutex and condition (the thread waits with a timeout), so the
    // state is guarded by hand: every access is between lock() and unlock().
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var state = State()

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        // The default (real-time) clock: the sanitizers' interceptors do not
        // honour a condition's clock attribute. A wake-up early or late by a
        // clock step is harmless, as deadlines are checked on the continuous
        // clock after every wake-up.
        pthread_cond_init(condition, nil)
    }

    /// Runs `action` at `deadline` unless cancelled first; at once (on the
    /// timer thread) when the deadline has passed.
    package func schedule(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> Token {
        pthread_mutex_lock(mutex)
        state.nextID &+= 1
        let id = state.nextID
        state.actions[id] = action
        push(Entry(deadline: deadline, id: id))
        let earliest = state.heap[0].id == id
        let start = !state.started
        state.started = true
        pthread_mutex_unlock(mutex)
        if start { self.start() } else if earliest { pthread_cond_signal(condition) }
        return Token(id: id)
    }

    /// Drops the action of `token` if it has not begun to run; returns
    /// whether it was dropped.
    @discardableResult
    package func cancel(_ token: Token) -> Bool {
        pthread_mutex_lock(mutex)
        let removed = state.actions.removeValue(forKey: token.id) != nil
        pthread_mutex_unlock(mutex)
        return removed
    }

    /// Actions scheduled and neither run nor cancelled.
    package var pendingCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return state.actions.count
    }

    private func start() {
        // The thread keeps the timers alive: the shared one lives as long as
        // the process anyway.
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { argument in
            let timers = Unmanaged<DeadlineTimers>.fromOpaque(argument!).takeRetainedValue()
            var name = Array("deadlines".utf8CString)
            _ = name.withUnsafeMutableBufferPointer { pthread_setname_np(pthread_self(), $0.baseAddress!) }
            timers.run()
            return nil
        }, box.toOpaque())
        precondition(created == 0, "cannot start the deadline thread: error \(created)")
        pthread_detach(thread)
    }

    private func run() {
        pthread_mutex_lock(mutex)
        while true {
            // Cancelled entries at the top are dropped without waiting for them.
            while let top = state.heap.first, state.actions[top.id] == nil { pop() }
            guard let top = state.heap.first else {
                pthread_cond_wait(condition, mutex)
                continue
            }
            let now = ContinuousClock.now
            if top.deadline > now {
                var until = timespec()
                clock_gettime(CLOCK_REALTIME, &until)
                let wait = top.deadline - now
                let nanoseconds = Int64(until.tv_nsec) + wait.components.attoseconds / 1_000_000_000
                until.tv_sec += Int(wait.components.seconds + nanoseconds / 1_000_000_000)
                until.tv_nsec = Int(nanoseconds % 1_000_000_000)
                pthread_cond_timedwait(condition, mutex, &until)
                continue
            }
            var due: [@Sendable () -> Void] = []
            while let first = state.heap.first, first.deadline <= now {
                pop()
                if let action = state.actions.removeValue(forKey: first.id) { due.append(action) }
            }
            pthread_mutex_unlock(mutex)
            for action in due { action() }
            pthread_mutex_lock(mutex)
        }
    }

    // MARK: Heap (earliest deadline first; ties by id)

    private static func earlier(_ a: Entry, _ b: Entry) -> Bool {
        (a.deadline, a.id) < (b.deadline, b.id)
    }

    private func push(_ entry: Entry) {
        state.heap.append(entry)
        var child = state.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.earlier(state.heap[child], state.heap[parent]) else { break }
            state.heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() {
        let last = state.heap.removeLast()
        guard !state.heap.isEmpty else { return }
        state.heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < state.heap.count, Self.earlier(state.heap[left], state.heap[smallest]) { smallest = left }
            if right < state.heap.count, Self.earlier(state.heap[right], state.heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            state.heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
