// swift-tools-version:6.1
import PackageDescription

/// Lists an account's timers over the API and prints an invoice by project and billing rate.
///
/// A package of its own that depends on Service Vault Timers' `ClientLib`
/// product by path, as another service would (or by URL:
/// `.package(url: "https://…/service-vault-timers.git", from: "1.0.0")`).
let package = Package(
    name: "billing-service",
    dependencies: [
        .package(name: "ServiceVaultTimers", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "billing-service",
            dependencies: [.product(name: "ClientLib", package: "ServiceVaultTimers")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
