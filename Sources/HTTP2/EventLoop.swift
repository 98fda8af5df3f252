import CLinux
import Glibc
import Synchronization

/// Something an event loop watches: a file descriptor with readiness events.
///
/// Called only on the loop's thread.
package protocol EventLoopSource: AnyObject {
    /// The descriptor is ready: `events` holds `EPOLLIN`, `EPOLLOUT`,
    /// `EPOLLERR`, `EPOLLHUP` bits.
    func handleEvents(_ events: UInt32)

    /// The loop is stopping with the source still registered: close the
    /// descriptor and let go of everything (called once, on the loop).
    func loopStopped()
}

/// One thread running an epoll loop: socket readiness, timers, and work handed
/// in from other threads through ``execute(_:)`` (woken by an eventfd, never by
/// polling).
///
/// Everything registered with a loop (connections, listeners, timers) is
/// touched only on the loop's thread. Other threads talk to it through
/// ``execute(_:)``, which is safe from anywhere.
package final class EventLoop: @unchecked Sendable {
    /// A scheduled timer; cancel it to stop it from firing.
    package final class Timer {
        let deadline: UInt64
        var callback: (() -> Void)?
        fileprivate init(deadline: UInt64, callback: @escaping () -> Void) {
            self.deadline = deadline
            self.callback = callback
        }
        /// Stops the timer if it has not fired. Loop thread only.
        package func cancel() { callback = nil }
        /// Whether it has fired or been cancelled.
        package var isDone: Bool { callback == nil }
    }

    /// The name, for thread names and logs.
    package let name: String

    private let epollFD: Int32
    private let wakeFD: Int32
    private var thread = pthread_t()
    private var threadID: pthread_t?

    private struct Inbox {
        var tasks: [@Sendable () -> Void] = []
        var wakeupPending = false
        /// Set once the loop has released everything: a task handed in
        /// later can never run, and is dropped at once rather than kept.
        var closed = false
    }
    private let inbox = Mutex(Inbox())
    /// Reused between rounds so running handed-in work allocates nothing.
    private var running: [@Sendable () -> Void] = []

    private var sources: [StreamKey: EventLoopSource] = [:]
    private var timers = TimerHeap()
    private var afterRound: [() -> Void] = []
    private let stopped = Atomic<Bool>(false)
    /// Where every connection of the loop reads into: input is handed to
    /// nghttp2 at once, so one buffer per loop serves them all.
    package let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)

    /// Creates the loop and starts its thread. With `startThread: false` the
    /// loop has no thread of its own: the creating thread owns it and drives
    /// it round by round with ``runRound(timeout:)`` (the server fuzzer does).
    package init(name: String, startThread: Bool = true) throws(HTTP2Error) {
        self.name = name
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw HTTP2Error.system("epoll_create1", errno) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            close(epollFD)
            throw HTTP2Error.system("eventfd", errno)
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0 else {
            let code = errno
            close(wakeFD)
            close(epollFD)
            throw HTTP2Error.system("epoll_ctl", code)
        }
        guard startThread else {
            threadID = pthread_self()
            return
        }
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            let loop = Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<EventLoop>.fromOpaque(context).release()
            close(wakeFD)
            close(epollFD)
            throw HTTP2Error.system("pthread_create", rc)
        }
    }

    deinit {
        close(wakeFD)
        close(epollFD)
        readBuffer.deallocate()
    }

    /// Whether the caller runs on this loop's thread.
    package var inLoop: Bool {
        guard let threadID else { return false }
        return pthread_equal(threadID, pthread_self()) != 0
    }

    /// Runs `task` on the loop's thread, soon. Safe from any thread; tasks run
    /// in the order they were handed in. Wakes the loop with one eventfd write
    /// however many tasks arrive before it runs them. A loop that has stopped
    /// runs nothing more: a task handed to it is released at once, with what
    /// it captured (kept, it would hold that memory, and any cycle through
    /// the loop, for good).
    package func execute(_ task: @escaping @Sendable () -> Void) {
        let wake = inbox.withLock { inbox -> Bool in
            guard !inbox.closed else { return false }
            inbox.tasks.append(task)
            if inbox.wakeupPending { return false }
            inbox.wakeupPending = true
            return true
        }
        if wake {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    /// Watches `fd` for `events` (EPOLLIN/EPOLLOUT bits, level-triggered) and
    /// keeps `source` alive until ``deregister(_:)``. Loop thread only.
    package func register(_ fd: Int32, events: UInt32, source: EventLoopSource) throws(HTTP2Error) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { throw HTTP2Error.system("epoll_ctl(ADD)", errno) }
        sources[StreamKey(fd)] = source
    }

    /// Changes the events watched on `fd`. Loop thread only.
    package func modify(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Stops watching `fd` and releases its source. Loop thread only. The
    /// caller closes the descriptor.
    package func deregister(_ fd: Int32) {
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        sources[StreamKey(fd)] = nil
    }

    /// Calls `callback` on the loop after `delay`. Loop thread only.
    @discardableResult
    package func schedule(after delay: Duration, _ callback: @escaping () -> Void) -> Timer {
        let (seconds, attoseconds) = delay.components
        let nanos = max(0, seconds) &* 1_000_000_000 &+ max(0, attoseconds / 1_000_000_000)
        let timer = Timer(deadline: Self.now() &+ UInt64(nanos), callback: callback)
        timers.push(timer)
        return timer
    }

    /// Calls `work` once at the end of the current round, after all events
    /// and tasks of the round: used to coalesce writes. Loop thread only.
    package func atEndOfRound(_ work: @escaping () -> Void) {
        afterRound.append(work)
    }

    /// Asks the loop to finish: it stops after the current round. Registered
    /// sources are released.
    package func stop() {
        stopped.store(true, ordering: .releasing)
        execute {}
    }

    /// Monotonic nanoseconds.
    package static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    private func run() {
        threadID = pthread_self()
        // A write to a socket the peer has closed (OpenSSL's writes have no
        // MSG_NOSIGNAL) must fail with EPIPE, not kill the process: SIGPIPE is
        // a synchronous signal, so blocking it on the loop threads is enough.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        var buffer = name.utf8.prefix(15).map { CChar(bitPattern: $0) } + [0]
        pthread_setname_np(pthread_self(), &buffer)
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while !stopped.load(ordering: .acquiring) {
            if !round(events, capacity: capacity, timeout: nextTimeout()) { break }
        }
        releaseEverything()
    }

    /// Waits up to `timeout` ms for events, then runs the ready sources, the
    /// handed-in tasks, the due timers and the end-of-round work. False when
    /// epoll fails.
    private func round(_ events: UnsafeMutablePointer<epoll_event>, capacity: Int, timeout: Int32) -> Bool {
        let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
        if count < 0 { return errno == EINTR }
        for i in 0..<Int(count) {
            let event = events[i]
            let fd = event.data.fd
            if fd == wakeFD {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
                continue
            }
            sources[StreamKey(fd)]?.handleEvents(event.events)
        }
        runTasks()
        runTimers()
        endRound()
        return true
    }

    private func releaseEverything() {
        // Close what is still registered, then break the cycles through the
        // loop (sources, timers and tasks hold connections, which hold the
        // loop) so everything is released.
        for source in Array(sources.values) { source.loopStopped() }
        sources.removeAll()
        afterRound.removeAll()
        // A timer's callback may hold the object that holds the timer.
        while let timer = timers.first {
            timer.cancel()
            timers.pop()
        }
        running.removeAll()
        let dropped = inbox.withLock { inbox in
            inbox.closed = true
            defer { inbox.tasks.removeAll() }
            return inbox.tasks
        }
        // Released outside the lock: a task's captures may hand work to this
        // loop as they go (`execute`, now dropped at once).
        _ = consume dropped
    }

    // MARK: A loop without a thread (driven by its owner)

    /// Runs one round on the calling thread, which must own the loop (made
    /// with `startThread: false`): the events ready within `timeout` ms, the
    /// handed-in tasks, the due timers and the end-of-round work.
    package func runRound(timeout: Int32 = 0) {
        withUnsafeTemporaryAllocation(of: epoll_event.self, capacity: 64) { events in
            _ = round(events.baseAddress!, capacity: 64, timeout: timeout)
        }
    }

    /// Whether tasks or end-of-round work wait for the next round.
    package var hasQueuedWork: Bool {
        !afterRound.isEmpty || inbox.withLock { !$0.tasks.isEmpty }
    }

    /// Timers that have neither fired nor been cancelled.
    package var liveTimers: Int { timers.liveCount }

    /// Timers the loop holds, cancelled ones not yet dropped included.
    package var timersHeld: Int { timers.count }

    /// Drops the fired and cancelled timers now rather than when the heap
    /// has doubled (a driven loop between two connections).
    package func dropCancelledTimers() { timers.dropCancelled() }

    /// Descriptors registered.
    package var registeredSources: Int { sources.count }

    /// What a stopping loop does last, for a loop without a thread: closes
    /// what is still registered and drops timers and tasks.
    package func releaseAll() {
        releaseEverything()
    }

    private func runTasks() {
        inbox.withLock { inbox in
            swap(&running, &inbox.tasks)
            inbox.wakeupPending = false
        }
        for task in running { task() }
        running.removeAll(keepingCapacity: true)
    }

    private func runTimers() {
        let now = Self.now()
        while let first = timers.first, first.deadline <= now {
            timers.pop()
            if let callback = first.callback {
                first.callback = nil
                callback()
            }
        }
    }

    private func endRound() {
        while !afterRound.isEmpty {
            let work = afterRound
            afterRound.removeAll(keepingCapacity: true)
            for item in work { item() }
        }
    }

    private func nextTimeout() -> Int32 {
        if !afterRound.isEmpty { return 0 }
        while let first = timers.first, first.callback == nil { timers.pop() }
        guard let first = timers.first else { return -1 }
        let now = Self.now()
        if first.deadline <= now { return 0 }
        // Round up so a timer never fires early.
        return Int32(min(60_000, (first.deadline - now + 999_999) / 1_000_000))
    }
}

/// A binary min-heap of timers by deadline.
struct TimerHeap {
    private var items: [EventLoop.Timer] = []
    /// The size at which cancelled timers are dropped (see ``push(_:)``).
    private var compactionSize = 64

    var first: EventLoop.Timer? { items.first }

    /// Timers in the heap that are still to fire.
    var liveCount: Int { items.reduce(0) { $0 + ($1.isDone ? 0 : 1) } }

    /// Timers in the heap, fired-and-cancelled ones not yet dropped included.
    var count: Int { items.count }

    mutating func push(_ timer: EventLoop.Timer) {
        // A cancelled timer stays in the heap until its deadline, which can be
        // hours away (a closed connection's keepalive, a finished call's
        // deadline): drop them once the heap has doubled, or a loop serving
        // many short connections keeps one per timer it ever armed.
        if items.count >= compactionSize { dropCancelled() }
        items.append(timer)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent].deadline <= items[child].deadline { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left].deadline < items[smallest].deadline { smallest = left }
            if right < items.count && items[right].deadline < items[smallest].deadline { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }

    /// Removes the fired and cancelled timers and restores the heap order.
    mutating func dropCancelled() {
        items.removeAll { $0.isDone }
        var index = items.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
        compactionSize = max(64, 2 * items.count)
    }
}

/// Gives memory freed inside the C library's allocator back to the system
/// (glibc's `malloc_trim`): freed memory otherwise stays in its arenas, so a
/// process's RSS stays at its peak after a burst. Takes milliseconds on a large
/// heap; call it now and then, not per request.
package func releaseFreedMemory() {
    _ = malloc_trim(0)
}
