// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so the test suite and CI never build them.
// Run: swift run -c release --package-path Benchmarks
let package = Package(
    name: "SwitchboardBenchmarks",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "CallControlBenchmark",
            dependencies: [.product(name: "CallControl", package: "main")]
        )
    ]
)
