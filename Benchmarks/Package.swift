// swift-tools-version:6.1
import PackageDescription

/// Micro-benchmarks of Service Vault Timers, kept in their own package so that
/// nothing they need reaches the product's dependency graph.
///
/// `CodecBench` measures the Swift codec (`Codec`) in release mode; its plain-C
/// counterpart is `c/codec_bench.c`. `scripts/bench-codec` builds and runs both.
///
/// `TimerCycleBench` drives create → pause → resume → stop cycles against a
/// running `timerd` (`scripts/bench-timers`, beside pgbench), and creates the
/// running timers `scripts/bench-rpc` reads with h2load.
///
/// `WatchLatencyBench` times changes made through one `timerd` until they
/// reach many `WatchTimers` subscribers, of many users, on another
/// (`scripts/bench-watch`).
///
/// `scripts/bench` runs them all (`make bench`); the gRPC health Check
/// comparison loads `timerd` itself with h2load, beside nghttpd and grpcio's
/// health server (`h2load/grpcio_health_server.py`).
let package = Package(
    name: "ServiceVaultTimersBenchmarks",
    dependencies: [
        .package(name: "ServiceVaultTimers", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "CodecBench",
            dependencies: [
                .product(name: "Codec", package: "ServiceVaultTimers"),
            ]
        ),
        .executableTarget(
            name: "TimerCycleBench",
            dependencies: [
                .product(name: "ClientLib", package: "ServiceVaultTimers"),
                .product(name: "Codec", package: "ServiceVaultTimers"),
                .product(name: "RPC", package: "ServiceVaultTimers"),
            ]
        ),
        .executableTarget(
            name: "WatchLatencyBench",
            dependencies: [
                .product(name: "ClientLib", package: "ServiceVaultTimers"),
                .product(name: "Codec", package: "ServiceVaultTimers"),
                .product(name: "RPC", package: "ServiceVaultTimers"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
