// swift-tools-version:6.1
import PackageDescription

/// Starts a timer, then prints every change to the caller's timers as it happens, on any device.
///
/// A package of its own that depends on Service Vault Timers' `ClientLib`
/// product by path, as another service would (or by URL:
/// `.package(url: "https://…/service-vault-timers.git", from: "1.0.0")`).
let package = Package(
    name: "live-subscriber",
    dependencies: [
        .package(name: "ServiceVaultTimers", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "live-subscriber",
            dependencies: [.product(name: "ClientLib", package: "ServiceVaultTimers")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
