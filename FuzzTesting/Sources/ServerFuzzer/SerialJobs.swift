import Glibc

/// Runs every Swift concurrency job (handler tasks, resumed continuations) on
/// the thread that drives the fuzzer, when ``drain()`` is called, instead of
/// on the global pool: the server's handlers then interleave with its event
/// loop in one order fixed by the input, and a run can tell when no task is
/// left to run.
///
/// It replaces the global executor through the runtime's
/// `swift_task_enqueueGlobal_hook`, so it is installed once, in the fuzzer
/// process only (never in a test process, whose other tests need the pool).
enum SerialJobs {
    private typealias Original = @convention(thin) (UnownedJob) -> Void
    private typealias Hook = @convention(thin) (UnownedJob, Original) -> Void

    /// Jobs waiting to run; touched only by the driving thread (the hook is
    /// called where a job is enqueued, and every job runs on that thread).
    nonisolated(unsafe) private static var queue: [UnownedJob] = []
    nonisolated(unsafe) private static var installed = false
    nonisolated(unsafe) private static var owner = pthread_t()

    private final class Executor: SerialExecutor {
        func enqueue(_ job: consuming ExecutorJob) { SerialJobs.push(UnownedJob(job)) }
    }
    private static let executor = Executor()

    private static func push(_ job: UnownedJob) {
        precondition(pthread_equal(owner, pthread_self()) != 0, "a job was enqueued from another thread")
        queue.append(job)
    }

    /// Takes over the global executor for the calling thread.
    static func install() {
        guard !installed else { return }
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook") else {
            fatalError("swift_task_enqueueGlobal_hook not found: cannot run tasks serially")
        }
        owner = pthread_self()
        installed = true
        symbol.assumingMemoryBound(to: Hook?.self).pointee = { job, _ in SerialJobs.push(job) }
    }

    /// Whether jobs wait to run.
    static var isEmpty: Bool { queue.isEmpty }

    /// Runs the queued jobs, and those they enqueue, up to `limit` jobs.
    /// Returns how many ran.
    @discardableResult
    static func drain(limit: Int = 10_000) -> Int {
        var ran = 0
        while ran < limit, !queue.isEmpty {
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            for job in batch {
                job.runSynchronously(on: executor.asUnownedSerialExecutor())
                ran += 1
            }
        }
        return ran
    }
}
