// swift-tools-version:6.1
import PackageDescription

/// Service Vault Timers: a multi-timer service spoken to over gRPC.
///
/// Each C library sits behind one system-library target and is imported by one
/// Swift module only: `Codec` (protobuf-c; `Interop` uses its bridge for the
/// interop protos), `Storage` (libpq), `LiveState` (hiredis), the transport
/// modules (nghttp2, OpenSSL for TLS), and `VaultCrypto` (OpenSSL's EVP).
/// The modules every call passes through (HTTP/2 and gRPC framing) are built
/// for release without the run-time exclusivity checks: the compiler still
/// proves what it can statically, and debug and sanitizer builds (`make
/// test`) keep every dynamic check.
let hotPathSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "ServiceVaultTimers",
    products: [
        .library(name: "Codec", targets: ["Codec"]),
        .library(name: "RPC", targets: ["RPC"]),
        .library(name: "ClientLib", targets: ["ClientLib"]),
        .executable(name: "protoc-gen-vault", targets: ["protoc-gen-vault"]),
        .executable(name: "interop-server", targets: ["interop-server"]),
        .executable(name: "interop-client", targets: ["interop-client"]),
        .executable(name: "timerd", targets: ["timerd"]),
        .executable(name: "timerctl", targets: ["timerctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        // MARK: C libraries, one shim each.
        .systemLibrary(
            name: "CNGHTTP2",
            pkgConfig: "libnghttp2",
            providers: [.apt(["libnghttp2-dev"])]
        ),
        .systemLibrary(
            name: "CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // MARK: Generated C (protoc-c output, `make proto`).
        .target(
            name: "TimerProtoC",
            dependencies: ["CProtobufC"]
        ),

        // MARK: protoc-c output for grpc.testing, gRPC's interop test protocol.
        .target(
            name: "InteropProtoC",
            dependencies: ["CProtobufC"]
        ),

        // MARK: protoc-c output for descriptor.proto and plugin.proto (the generator's input).
        .target(
            name: "PluginProtoC",
            dependencies: ["CProtobufC"]
        ),
        .executableTarget(
            name: "protoc-gen-vault",
            dependencies: ["PluginProtoC", "CProtobufC"]
        ),

        // MARK: Swift modules.
        .target(name: "TimerDomain"),
        .target(
            name: "Codec",
            dependencies: ["CProtobufC", "TimerProtoC"]
        ),
        .target(
            name: "HTTP2",
            dependencies: ["CNGHTTP2", "COpenSSL", "CLinux"],
            swiftSettings: hotPathSettings
        ),
        // swift-metrics kept in memory and rendered for Prometheus.
        .target(
            name: "VaultMetrics",
            dependencies: [.product(name: "CoreMetrics", package: "swift-metrics")]
        ),
        .target(
            name: "RPC",
            dependencies: ["HTTP2", "Codec", "CZlib", .product(name: "CoreMetrics", package: "swift-metrics")],
            swiftSettings: hotPathSettings
        ),
        .target(
            name: "RPCServer",
            dependencies: ["RPC", "Codec", "TimerDomain", "VaultCrypto", "Storage", "LiveState",
                           .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "ClientLib",
            dependencies: ["RPC", "Codec"]
        ),
        .target(
            name: "VaultCrypto",
            dependencies: ["COpenSSL"]
        ),
        .target(
            name: "Storage",
            dependencies: ["CLibPQ", "TimerDomain"]
        ),
        .target(
            name: "LiveState",
            dependencies: ["CHiredis", "VaultCrypto", "TimerDomain"]
        ),

        // MARK: gRPC interop programs (grpc/grpc doc/interop-test-descriptions.md).
        .target(
            name: "Interop",
            dependencies: ["RPC", "Codec", "CProtobufC", "InteropProtoC"]
        ),
        .executableTarget(
            name: "interop-server",
            dependencies: ["Interop", "RPC", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "interop-client",
            dependencies: ["Interop", "RPC", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: The server and its operator commands.
        .executableTarget(
            name: "timerd",
            dependencies: [
                "RPCServer", "RPC", "Storage", "LiveState", "TimerDomain", "VaultCrypto", "HTTP2", "VaultMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),

        // MARK: Fuzzing (`make fuzz`); an ordinary build makes the input replayer.
        .executableTarget(
            name: "CodecFuzzer",
            dependencies: ["Codec"],
            path: "FuzzTesting/Sources/CodecFuzzer"
        ),
        .executableTarget(
            name: "ServerFuzzer",
            dependencies: ["RPC", "HTTP2", "Codec"],
            path: "FuzzTesting/Sources/ServerFuzzer"
        ),
        .testTarget(
            name: "FuzzReplayTests",
            dependencies: ["ServerFuzzer"],
            path: "FuzzTesting/Tests/FuzzReplayTests"
        ),

        // MARK: Tests.
        .testTarget(name: "TimerDomainTests", dependencies: ["TimerDomain"]),
        .testTarget(
            name: "VaultMetricsTests",
            dependencies: ["VaultMetrics", .product(name: "CoreMetrics", package: "swift-metrics")]
        ),
        .testTarget(
            name: "CodecTests",
            dependencies: ["Codec", "CProtobufC", "TimerProtoC"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "HTTP2Tests",
            dependencies: ["HTTP2"]
        ),
        .testTarget(
            name: "RPCTests",
            dependencies: ["RPC", "Codec", "HTTP2", "VaultMetrics"]
        ),
        .testTarget(
            name: "ProtocGenVaultTests",
            dependencies: ["protoc-gen-vault"],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "RPCServerTests",
            dependencies: ["RPCServer", "RPC", "Codec", "VaultCrypto", "Storage", "TimerDomain", "LiveState", "VaultMetrics",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "VaultCryptoTests",
            dependencies: ["VaultCrypto"]
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Storage", "TimerDomain"]
        ),
        .testTarget(
            name: "LiveStateTests",
            dependencies: ["LiveState", "VaultCrypto", "TimerDomain"]
        ),
        // MARK: timerctl: what it shows (text, tables, JSON, the watch screen) in
        // TimerctlCore; the executable parses arguments, calls and draws.
        .target(
            name: "TimerctlCore",
            dependencies: ["Codec", "RPC"]
        ),
        .executableTarget(
            name: "timerctl",
            dependencies: [
                "TimerctlCore", "ClientLib", "RPC", "Codec", "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Core unit tests, and the built timerctl against live timerd processes.
        .testTarget(
            name: "TimerctlTests",
            dependencies: ["TimerctlCore", "ClientLib", "RPC", "Codec", "Storage", "LiveState", "CLinux"]
        ),

        // Runs the built timerd binary; Storage sets up and inspects its database.
        .testTarget(
            name: "TimerdTests",
            dependencies: ["Storage", "LiveState", "RPC", "Codec", "ClientLib"]
        ),

        // The client runtime against a scripted in-process server and against
        // live timerd processes (Storage makes their schemas, LiveState checks their Redis).
        .testTarget(
            name: "ClientLibTests",
            dependencies: ["ClientLib", "RPC", "Codec", "Storage", "LiveState"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
