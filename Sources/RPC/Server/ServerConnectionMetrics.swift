import CoreMetrics
import HTTP2

/// The metrics of the server's HTTP/2 connections, fed by the HTTP/2 layer
/// as their ``HTTP2ServerObserver``:
///
/// ```
/// grpc_server_connections                          gauge: open connections
/// grpc_server_connections_accepted_total           counter
/// grpc_server_streams                              gauge: open request streams (calls in progress)
/// grpc_server_goaways_sent_total{reason}           counter
/// grpc_server_connection_errors_total{reason}      counter
/// ```
/// `reason` is one of a fixed set (``HTTP2GoAwayReason``,
/// ``HTTP2ConnectionFailure``), every series there from the start at zero,
/// so a peer cannot add series and a rate never misses one.
///
/// Streams are counted where HTTP/2 opens and closes them, so calls answered
/// at once on the loop, rejected requests and calls still sending count too,
/// and the connection reports the change of their number at most once per
/// loop round: no call per frame, nor per stream under load. Handles are made
/// once; an update is an atomic operation in the handler, never a lock.
final class ServerConnectionMetrics: HTTP2ServerObserver {
    private let connections: Meter
    private let accepted: Counter
    private let streams: Meter
    private let goAways: [HTTP2GoAwayReason: Counter]
    private let failures: [HTTP2ConnectionFailure: Counter]

    /// The observer for a server whose metrics go to `factory`; nil when
    /// they go nowhere (swift-metrics' no-op factory), so that connections
    /// skip the calls.
    static func observer(factory: any MetricsFactory) -> ServerConnectionMetrics? {
        factory is NOOPMetricsHandler ? nil : ServerConnectionMetrics(factory: factory)
    }

    init(factory: any MetricsFactory) {
        connections = Meter(label: "grpc_server_connections", factory: factory)
        accepted = Counter(label: "grpc_server_connections_accepted_total", factory: factory)
        streams = Meter(label: "grpc_server_streams", factory: factory)
        var goAways: [HTTP2GoAwayReason: Counter] = [:]
        for reason in HTTP2GoAwayReason.allCases {
            goAways[reason] = Counter(label: "grpc_server_goaways_sent_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.goAways = goAways
        var failures: [HTTP2ConnectionFailure: Counter] = [:]
        for failure in HTTP2ConnectionFailure.allCases {
            failures[failure] = Counter(label: "grpc_server_connection_errors_total", dimensions: [("reason", failure.rawValue)], factory: factory)
        }
        self.failures = failures
    }

    func connectionOpened() {
        accepted.increment()
        connections.increment()
    }

    func connectionClosed(openStreams: Int) {
        connections.decrement()
        if openStreams != 0 { streams.decrement(by: Double(openStreams)) }
    }

    func streamsChanged(by delta: Int) {
        streams.increment(by: Double(delta))
    }

    func goAwaySent(_ reason: HTTP2GoAwayReason) {
        goAways[reason]?.increment()
    }

    func connectionFailed(_ failure: HTTP2ConnectionFailure) {
        failures[failure]?.increment()
    }
}
