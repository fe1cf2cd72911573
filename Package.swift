// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Switchboard",
    products: [
        .library(name: "CallControl", targets: ["CallControl"]),
        .executable(name: "switchboard", targets: ["switchboard"]),
    ],
    targets: [
        // The pure call-control core: no I/O, no clock, no dependencies.
        .target(name: "CallControl"),
        .executableTarget(name: "switchboard", dependencies: ["CallControl"]),
        .testTarget(name: "CallControlTests", dependencies: ["CallControl"]),
    ]
)
