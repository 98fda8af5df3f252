import CoreMetrics
import Synchronization

/// A swift-metrics backend that keeps every value in memory and renders them
/// in Prometheus' text exposition format (version 0.0.4), for a scrape of
/// `GET /metrics`.
///
/// ```swift
/// let registry = PrometheusRegistry()
/// MetricsSystem.bootstrap(registry)
/// registry.describe("timerd_calls_total", "gRPC calls answered, by method and status code")
/// Counter(label: "timerd_calls_total", dimensions: [("method", "StartTimer"), ("code", "OK")]).increment()
/// let text = registry.render()
/// ```
///
/// **What each swift-metrics kind becomes.**
/// - `Counter`, `FloatingPointCounter`: a `counter`.
/// - `Meter` (and `Gauge`, a recorder that does not aggregate): a `gauge`.
/// - `Timer`: a `histogram` in seconds, with `latencyBuckets`.
/// - `Recorder` that aggregates: a `histogram` with `valueBuckets`.
///
/// A label is the family's name, sanitised to `[a-zA-Z_:][a-zA-Z0-9_:]*`;
/// dimensions are its series' labels. Asking twice for one label and
/// dimensions gives the same series, so every handle of it adds up.
///
/// **Cost.** Making a handle takes a lock and a lookup: make handles once
/// and keep them. Updating one is a few atomic operations and never locks;
/// `render` takes the lock and reads every series.
public final class PrometheusRegistry: MetricsFactory, Sendable {
    /// The bucket upper bounds of timers, in seconds: 100 µs to 10 s.
    public static let latencyBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// The bucket upper bounds of aggregating recorders.
    public static let valueBuckets: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000]

    private struct Family {
        var kind: Kind
        var help: String?
        /// By rendered label set (`{a="1",b="2"}` or ""), in creation order.
        var series: [String: any AnyObject & Sendable] = [:]
        var order: [String] = []
    }

    private enum Kind: String {
        case counter, gauge, histogram
    }

    private struct State {
        var families: [String: Family] = [:]
        var order: [String] = []
        /// Help texts given before the family's first series.
        var helps: [String: String] = [:]
    }

    private let state = Mutex(State())
    /// Run before each render, to read figures kept elsewhere into gauges.
    private let collectors = Mutex<[@Sendable () -> Void]>([])

    public init() {}

    /// Runs `collect` at the start of every `render`, outside the registry's
    /// lock: for figures another part keeps (a pool's open connections, the
    /// watchers registered), set into gauges just before a scrape reads them.
    /// It runs on the scraping thread (an event loop): it must be quick and
    /// never block.
    public func addCollector(_ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    /// Drops every collector. A collector that holds handles made by this
    /// registry forms a cycle with it (swift-metrics' handles keep their
    /// factory): a registry meant to be released, unlike a server's, calls
    /// this first.
    public func removeCollectors() {
        let dropped = collectors.withLock { collectors in
            defer { collectors.removeAll() }
            return collectors
        }
        _ = consume dropped
    }

    /// Sets the `# HELP` line of `name`'s family.
    public func describe(_ name: String, _ help: String) {
        let name = Self.sanitised(name)
        state.withLock { state in
            state.helps[name] = help
            state.families[name]?.help = help
        }
    }

    // MARK: - MetricsFactory

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        series(label, dimensions, .counter) { CounterSeries() }
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        series(label, dimensions, .counter) { FloatingPointSeries() }
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        series(label, dimensions, .gauge) { GaugeSeries() }
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        if aggregate {
            return series(label, dimensions, .histogram) { HistogramSeries(buckets: Self.valueBuckets) }
        }
        return series(label, dimensions, .gauge) { GaugeSeries() }
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        series(label, dimensions, .histogram) { DurationHistogramSeries(buckets: Self.latencyBuckets) }
    }

    public func destroyCounter(_ handler: CounterHandler) { remove(handler) }
    public func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) { remove(handler) }
    public func destroyMeter(_ handler: MeterHandler) { remove(handler) }
    public func destroyRecorder(_ handler: RecorderHandler) { remove(handler) }
    public func destroyTimer(_ handler: TimerHandler) { remove(handler) }

    /// The series of `label` and `dimensions`, made by `make` when new. A
    /// label already used for another kind gets a series of its own under
    /// the name with the kind appended, so nothing is lost or mistyped.
    private func series<Series: AnyObject & Sendable>(
        _ label: String, _ dimensions: [(String, String)], _ kind: Kind, make: () -> Series
    ) -> Series {
        let base = Self.sanitised(label)
        let labels = Self.labelSet(dimensions)
        let made = make()
        return state.withLock { state in
            var name = base
            if let family = state.families[name], family.kind != kind || (family.series[labels].map { !($0 is Series) } ?? false) {
                name += "_" + kind.rawValue
            }
            if let existing = state.families[name]?.series[labels] as? Series {
                return existing
            }
            if state.families[name] == nil {
                state.families[name] = Family(kind: kind, help: state.helps[name])
                state.order.append(name)
            }
            state.families[name]!.series[labels] = made
            state.families[name]!.order.append(labels)
            return made
        }
    }

    private func remove(_ handler: AnyObject) {
        let handler = ObjectIdentifier(handler)
        state.withLock { state in
            for name in state.order {
                guard let family = state.families[name],
                      let labels = family.order.first(where: { family.series[$0].map(ObjectIdentifier.init) == handler }) else { continue }
                state.families[name]!.series[labels] = nil
                state.families[name]!.order.removeAll { $0 == labels }
                return
            }
        }
    }

    // MARK: - Rendering

    /// Every family in the text exposition format, families and series in
    /// the order they were first made.
    public func render() -> String {
        for collect in collectors.withLock({ $0 }) { collect() }
        var out = ""
        out.reserveCapacity(16 * 1024)
        state.withLock { state in
            for name in state.order {
                guard let family = state.families[name], !family.order.isEmpty else { continue }
                if let help = family.help {
                    out += "# HELP \(name) \(Self.escapedHelp(help))\n"
                }
                out += "# TYPE \(name) \(family.kind.rawValue)\n"
                for labels in family.order {
                    switch family.series[labels] {
                    case let series as CounterSeries:
                        out += "\(name)\(labels) \(series.value)\n"
                    case let series as FloatingPointSeries:
                        out += "\(name)\(labels) \(Self.number(series.value))\n"
                    case let series as GaugeSeries:
                        out += "\(name)\(labels) \(Self.number(series.value))\n"
                    case let series as HistogramSeries:
                        series.render(name: name, labels: labels, into: &out)
                    case let series as DurationHistogramSeries:
                        series.render(name: name, labels: labels, into: &out)
                    default:
                        break
                    }
                }
            }
        }
        return out
    }

    /// A number as Prometheus writes it: integers without a fraction,
    /// `+Inf`, `-Inf`, `NaN`.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// A metric name made valid: characters outside `[a-zA-Z0-9_:]` become
    /// `_`, and a leading digit gets a `_` before it.
    static func sanitised(_ label: String) -> String {
        var name = String(String.UnicodeScalarView(label.unicodeScalars.map { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ":": scalar
            default: "_"
            }
        }))
        if name.isEmpty || name.first!.isNumber { name = "_" + name }
        return name
    }

    /// `{name="value",…}` with names sanitised (no colons) and values
    /// escaped; "" for no dimensions.
    static func labelSet(_ dimensions: [(String, String)]) -> String {
        guard !dimensions.isEmpty else { return "" }
        let parts = dimensions.map { name, value in
            "\(sanitised(name).replacingColons)=\"\(escapedValue(value))\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    static func escapedValue(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func escapedHelp(_ help: String) -> String {
        help.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }
}

extension String {
    fileprivate var replacingColons: String { replacing(":", with: "_") }
}

// MARK: - Series

/// An integer counter.
final class CounterSeries: CounterHandler, Sendable {
    private let count = Atomic<Int64>(0)
    var value: Int64 { count.load(ordering: .relaxed) }
    func increment(by amount: Int64) { count.add(amount, ordering: .relaxed) }
    func reset() { count.store(0, ordering: .relaxed) }
}

/// A double held in an atomic as its bit pattern.
struct AtomicDouble: ~Copyable {
    private let bits = Atomic<UInt64>(0)

    var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }

    func store(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }

    func add(_ amount: Double) {
        var current = bits.load(ordering: .relaxed)
        while true {
            let (exchanged, original) = bits.compareExchange(
                expected: current, desired: (Double(bitPattern: current) + amount).bitPattern, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}

/// A floating-point counter.
final class FloatingPointSeries: FloatingPointCounterHandler, Sendable {
    private let total = AtomicDouble()
    var value: Double { total.value }
    func increment(by amount: Double) { if amount > 0 { total.add(amount) } }
    func reset() { total.store(0) }
}

/// A gauge: set, or moved up and down.
final class GaugeSeries: MeterHandler, RecorderHandler, Sendable {
    private let current = AtomicDouble()
    var value: Double { current.value }
    func set(_ value: Int64) { current.store(Double(value)) }
    func set(_ value: Double) { current.store(value) }
    func increment(by amount: Double) { current.add(amount) }
    func decrement(by amount: Double) { current.add(-amount) }
    func record(_ value: Int64) { current.store(Double(value)) }
    func record(_ value: Double) { current.store(value) }
}

/// `count` zeroed atomic counts in memory that never moves: a histogram's
/// buckets. Release them with `releaseBucketCounts`.
private func allocateBucketCounts(_ count: Int) -> UnsafeMutablePointer<Atomic<Int64>> {
    let counts = UnsafeMutablePointer<Atomic<Int64>>.allocate(capacity: count)
    for index in 0..<count {
        (counts + index).initialize(to: Atomic(0))
    }
    return counts
}

private func releaseBucketCounts(_ counts: UnsafeMutablePointer<Atomic<Int64>>, _ count: Int) {
    counts.deinitialize(count: count)
    counts.deallocate()
}

/// A histogram: counts per bucket (not cumulative; summed when rendered),
/// their total and the sum of the values. The counts are atomics in memory
/// the series owns and never moves, updated only through their atomic
/// operations: that is what makes it Sendable.
final class HistogramSeries: RecorderHandler, @unchecked Sendable {
    let buckets: [Double]
    /// One count per bucket, and one past the last (+Inf).
    private let counts: UnsafeMutablePointer<Atomic<Int64>>
    private let sum = AtomicDouble()

    init(buckets: [Double]) {
        self.buckets = buckets
        counts = allocateBucketCounts(buckets.count + 1)
    }

    deinit {
        releaseBucketCounts(counts, buckets.count + 1)
    }

    func record(_ value: Int64) { record(Double(value)) }

    func record(_ value: Double) {
        guard !value.isNaN else { return }
        var index = 0
        while index < buckets.count, value > buckets[index] { index += 1 }
        counts[index].add(1, ordering: .relaxed)
        sum.add(value)
    }

    func render(name: String, labels: String, into out: inout String) {
        renderHistogram(name: name, labels: labels, buckets: buckets, counts: counts, sum: sum.value, into: &out)
    }
}

/// A histogram of durations, kept in integer nanoseconds so that an
/// observation is integer compares and two atomic adds (no floating point,
/// no compare-and-swap loop): what every gRPC call records.
final class DurationHistogramSeries: TimerHandler, @unchecked Sendable {
    let buckets: [Double]
    private let bounds: [Int64]
    /// One count per bucket, and one past the last (+Inf).
    private let counts: UnsafeMutablePointer<Atomic<Int64>>
    private let sum = Atomic<Int64>(0)

    init(buckets: [Double]) {
        self.buckets = buckets
        bounds = buckets.map { Int64(($0 * 1_000_000_000).rounded()) }
        counts = allocateBucketCounts(buckets.count + 1)
    }

    deinit {
        releaseBucketCounts(counts, buckets.count + 1)
    }

    func recordNanoseconds(_ duration: Int64) {
        let duration = max(0, duration)
        var index = 0
        while index < bounds.count, duration > bounds[index] { index += 1 }
        counts[index].add(1, ordering: .relaxed)
        sum.add(duration, ordering: .relaxed)
    }

    func render(name: String, labels: String, into out: inout String) {
        renderHistogram(name: name, labels: labels, buckets: buckets, counts: counts,
                        sum: Double(sum.load(ordering: .relaxed)) / 1_000_000_000, into: &out)
    }
}

/// Moves a counter along with a total kept elsewhere (a pool's count of
/// failures since it was made), for collectors: each `follow` adds what the
/// total grew by since the last. A total that shrinks (its keeper was
/// replaced) adds nothing until it grows past what was seen.
public final class FollowedCounter: Sendable {
    private let counter: Counter
    private let seen = Mutex<Int64>(0)

    public init(_ counter: Counter) {
        self.counter = counter
    }

    public func follow(_ total: Int) {
        let grown = seen.withLock { seen -> Int64 in
            let total = Int64(total)
            guard total > seen else { return 0 }
            defer { seen = total }
            return total - seen
        }
        if grown > 0 { counter.increment(by: grown) }
    }
}

/// A histogram's lines: cumulative buckets (from per-bucket `counts`, one
/// past the last bound for +Inf), the sum and the count.
private func renderHistogram(
    name: String, labels: String, buckets: [Double], counts: UnsafeMutablePointer<Atomic<Int64>>, sum: Double, into out: inout String
) {
    let inner = labels.isEmpty ? "" : String(labels.dropFirst().dropLast()) + ","
    var cumulative: Int64 = 0
    for index in 0...buckets.count {
        cumulative += counts[index].load(ordering: .relaxed)
        let bound = index < buckets.count ? PrometheusRegistry.number(buckets[index]) : "+Inf"
        out += "\(name)_bucket{\(inner)le=\"\(bound)\"} \(cumulative)\n"
    }
    out += "\(name)_sum\(labels) \(PrometheusRegistry.number(sum))\n"
    out += "\(name)_count\(labels) \(cumulative)\n"
}
