import CoreMetrics
import Testing

@testable import VaultMetrics

@Suite("Prometheus registry")
struct PrometheusRegistryTests {
    @Test func countersGaugesAndHistogramsRenderInTheTextFormat() {
        let registry = PrometheusRegistry()
        registry.describe("timerd_calls_total", "gRPC calls answered, by method and status code")
        let ok = Counter(label: "timerd_calls_total", dimensions: [("method", "StartTimer"), ("code", "OK")], factory: registry)
        let denied = Counter(label: "timerd_calls_total", dimensions: [("method", "StartTimer"), ("code", "PERMISSION_DENIED")], factory: registry)
        ok.increment()
        ok.increment(by: 2)
        denied.increment()
        let open = Meter(label: "timerd_connections", factory: registry)
        open.increment()
        open.increment()
        open.decrement()
        let latency = CoreMetrics.Timer(label: "timerd_call_seconds", dimensions: [("method", "StartTimer")], factory: registry)
        latency.recordNanoseconds(200_000)     // 0.2 ms
        latency.recordNanoseconds(3_000_000)   // 3 ms
        latency.recordNanoseconds(20_000_000_000)  // 20 s: only +Inf
        #expect(registry.render() == """
            # HELP timerd_calls_total gRPC calls answered, by method and status code
            # TYPE timerd_calls_total counter
            timerd_calls_total{method="StartTimer",code="OK"} 3
            timerd_calls_total{method="StartTimer",code="PERMISSION_DENIED"} 1
            # TYPE timerd_connections gauge
            timerd_connections 1
            # TYPE timerd_call_seconds histogram
            timerd_call_seconds_bucket{method="StartTimer",le="0.0001"} 0
            timerd_call_seconds_bucket{method="StartTimer",le="0.00025"} 1
            timerd_call_seconds_bucket{method="StartTimer",le="0.0005"} 1
            timerd_call_seconds_bucket{method="StartTimer",le="0.001"} 1
            timerd_call_seconds_bucket{method="StartTimer",le="0.0025"} 1
            timerd_call_seconds_bucket{method="StartTimer",le="0.005"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="0.01"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="0.025"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="0.05"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="0.1"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="0.25"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="0.5"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="1"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="2.5"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="5"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="10"} 2
            timerd_call_seconds_bucket{method="StartTimer",le="+Inf"} 3
            timerd_call_seconds_sum{method="StartTimer"} 20.0032
            timerd_call_seconds_count{method="StartTimer"} 3

            """)
    }

    @Test func oneLabelAndDimensionsIsOneSeriesWhateverTheHandle() {
        let registry = PrometheusRegistry()
        Counter(label: "a_total", dimensions: [("k", "v")], factory: registry).increment()
        Counter(label: "a_total", dimensions: [("k", "v")], factory: registry).increment(by: 4)
        #expect(registry.render() == "# TYPE a_total counter\na_total{k=\"v\"} 5\n")
    }

    @Test func namesAreSanitisedAndValuesEscaped() {
        let registry = PrometheusRegistry()
        registry.describe("9 bad.name", "a help\\text\nwith a newline")
        Counter(label: "9 bad.name", dimensions: [("a:b", "quote \" backslash \\ newline \n end")], factory: registry).increment()
        #expect(registry.render() == """
            # HELP _9_bad_name a help\\\\text\\nwith a newline
            # TYPE _9_bad_name counter
            _9_bad_name{a_b="quote \\" backslash \\\\ newline \\n end"} 1

            """)
    }

    @Test func aLabelUsedForTwoKindsKeepsBoth() {
        let registry = PrometheusRegistry()
        Counter(label: "x", factory: registry).increment()
        Meter(label: "x", factory: registry).set(2.5)
        #expect(registry.render() == "# TYPE x counter\nx 1\n# TYPE x_gauge gauge\nx_gauge 2.5\n")
    }

    @Test func destroyedSeriesAreNotRendered() {
        let registry = PrometheusRegistry()
        let counter = Counter(label: "gone_total", factory: registry)
        counter.increment()
        counter.destroy()
        #expect(registry.render() == "")
    }

    @Test func concurrentUpdatesAreAllCounted() async {
        let registry = PrometheusRegistry()
        let counter = Counter(label: "many_total", factory: registry)
        let gauge = Meter(label: "level", factory: registry)
        let histogram = Recorder(label: "sizes", factory: registry)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<10_000 {
                        counter.increment()
                        gauge.increment(by: 0.5)
                        histogram.record(3)
                    }
                }
            }
        }
        let text = registry.render()
        #expect(text.contains("many_total 80000\n"))
        #expect(text.contains("level 40000\n"))
        #expect(text.contains("sizes_count 80000\n"))
        #expect(text.contains("sizes_sum 240000\n"))
        #expect(text.contains("sizes_bucket{le=\"5\"} 80000\n"))
        #expect(text.contains("sizes_bucket{le=\"2\"} 0\n"))
    }

    @Test func collectorsSetTheirGaugesBeforeEachRender() {
        let registry = PrometheusRegistry()
        defer { registry.removeCollectors() }
        let gauge = Meter(label: "pool_idle", factory: registry)
        let source = Counter(label: "renders_total", factory: registry)
        registry.addCollector {
            source.increment()
            gauge.set(7)
        }
        #expect(registry.render() == "# TYPE pool_idle gauge\npool_idle 7\n# TYPE renders_total counter\nrenders_total 1\n")
        #expect(registry.render().contains("renders_total 2\n"))
    }

    @Test func aFollowedCounterAddsWhatItsTotalGrewBy() {
        let registry = PrometheusRegistry()
        let followed = FollowedCounter(Counter(label: "failures_total", factory: registry))
        followed.follow(3)
        followed.follow(3)
        followed.follow(5)
        followed.follow(1)  // its keeper was replaced: nothing until past 5
        followed.follow(6)
        #expect(registry.render() == "# TYPE failures_total counter\nfailures_total 6\n")
    }

    @Test func numbersAreWrittenAsPrometheusReadsThem() {
        #expect(PrometheusRegistry.number(3) == "3")
        #expect(PrometheusRegistry.number(-2) == "-2")
        #expect(PrometheusRegistry.number(0.25) == "0.25")
        #expect(PrometheusRegistry.number(.infinity) == "+Inf")
        #expect(PrometheusRegistry.number(-.infinity) == "-Inf")
        #expect(PrometheusRegistry.number(.nan) == "NaN")
        #expect(PrometheusRegistry.number(1e20) == "1e+20")
    }
}
