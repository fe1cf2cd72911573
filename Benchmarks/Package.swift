// swift-tools-version: 6.1
import Foundation
import PackageDescription

// SwiftPM names a package found by path after its folder, whatever the folder is called in this
// clone ("main", "switchboard", …): read it rather than spell it.
let parent = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

// Benchmarks live in their own package so the test suite and CI never build them.
// Run: swift run -c release --package-path Benchmarks
let package = Package(
    name: "SwitchboardBenchmarks",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "CallControlBenchmark",
            dependencies: [.product(name: "CallControl", package: parent.lowercased())]
        )
    ]
)
