// swift-tools-version:6.1
import PackageDescription

/// Works offline on a device, syncs, and prints how the server settled each change, conflicts included.
///
/// A package of its own that depends on Service Vault Timers' `ClientLib`
/// product by path, as another service would (or by URL:
/// `.package(url: "https://…/service-vault-timers.git", from: "1.0.0")`).
let package = Package(
    name: "offline-device",
    dependencies: [
        .package(name: "ServiceVaultTimers", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "offline-device",
            dependencies: [.product(name: "ClientLib", package: "ServiceVaultTimers")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
