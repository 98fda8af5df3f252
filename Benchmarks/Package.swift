// swift-tools-version:6.1
import PackageDescription

/// Micro-benchmarks of Service Vault Timers, kept in their own package so that
/// nothing they need reaches the product's dependency graph.
///
/// `CodecBench` measures the Swift codec (`Codec`) in release mode; its plain-C
/// counterpart is `c/codec_bench.c`. `scripts/bench-codec` builds and runs both.
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
    ],
    swiftLanguageModes: [.v6]
)
