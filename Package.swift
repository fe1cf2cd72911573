// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Switchboard",
    products: [
        .library(name: "CallControl", targets: ["CallControl"]),
        .executable(name: "switchboard", targets: ["switchboard"]),
    ],
    traits: [
        // PostgreSQL as the event store (`serve --database postgres://…`): postgres-nio brings
        // swift-nio-ssl and swift-crypto (two copies of BoringSSL) and adds minutes to a cold
        // build, so the default build leaves it out. `swift build --traits PostgreSQL`.
        .trait(name: "PostgreSQL", description: "The PostgreSQL event store (postgres-nio), for two nodes on one database."),
        .default(enabledTraits: []),
    ],
    dependencies: [
        // Hummingbird's default traits pull in swift-configuration and full Foundation: not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0", traits: []),
        // SQLite, embedded: builds faster than GRDB and needs nothing installed.
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // HeapModule: the server's one queue of deadlines (already resolved for SwiftNIO).
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        // Only with the PostgreSQL trait.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // The pure call-control core: no I/O, no clock, no dependencies.
        .target(name: "CallControl"),
        // The event log: its encoding and schema, kept in memory or in SQLite.
        .target(
            name: "Store",
            dependencies: [
                "CallControl",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The shell around the core: the ContactCenter actor, event streams, timers on an injected
        // clock, the telephony port (and the simulator behind it), metrics, services. No HTTP.
        .target(
            name: "Center",
            dependencies: [
                "Reports",
                "CallControl", "Store",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP API and the event stream's WebSocket (Hummingbird), sessions, buildApplication.
        .target(
            name: "HTTPAPI",
            dependencies: [
                "Recordings", "Reports",
                "CallControl", "Store", "Center", "Cryptography", "SecureChannels",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // SIP (RFC 3261) as pure values: the message syntax, the transaction machines and layer,
        // the registrar, digest authentication. No I/O, no clock.
        .target(name: "SIP", dependencies: ["Cryptography"]),
        // The B2BUA's call legs as pure machines (a caller's leg; our INVITE to a phone or number):
        // SIP messages, line actions, media-port results and timers in; actions out.
        .target(name: "B2BUA", dependencies: ["SIP", "CallControl", "Media"]),
        // RTP media as pure values: packets, G.711, the jitter buffer, the N−1 mixer, who hears whom.
        .target(name: "Media", dependencies: ["CallControl", "Cryptography"]),
        // The event store on PostgreSQL, with the lease that fences a former active node (empty
        // without the PostgreSQL trait).
        .target(
            name: "PostgresStore",
            dependencies: [
                "CallControl", "Store",
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Contact-center reports as a projection of the event log (pure): the queues' figures per
        // 15-minute interval, kept current as events are committed.
        .target(name: "Reports", dependencies: ["CallControl"]),
        // Call recordings on disk: a stereo WAV per interaction, written as the call goes, made
        // playable again after a crash, removed by retention.
        .target(name: "Recordings", dependencies: ["CallControl"]),
        // The media on the wire: a port pair per leg, symmetric RTP, the 20 ms clock (SwiftNIO UDP).
        .target(
            name: "MediaService",
            dependencies: [
                "Media", "CallControl", "WebRTC", "Cryptography", "Recordings",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The system's OpenSSL 3 (Debian's libssl-dev, on the image): the one C library linked.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Hashes, HMAC, AES for SRTP, random bytes, self-signed certificates: one crypto provider,
        // OpenSSL, already on the machine (swift-crypto's BoringSSL would cost minutes per clean build).
        .target(name: "Cryptography", dependencies: ["COpenSSL"]),
        // TLS on SwiftNIO channels, on the system OpenSSL: SIP over TLS and HTTPS.
        .target(name: "SecureChannels", dependencies: ["Cryptography", .product(name: "NIOCore", package: "swift-nio")]),
        // WebRTC's pieces as pure values: STUN and the server's ICE-lite side, the browser's SDP
        // offer and our answer, the port's demultiplexing (DTLS itself is in Cryptography).
        .target(name: "WebRTC", dependencies: ["Cryptography"]),
        // The center's telephony over SIP: UDP and TCP on SwiftNIO, the transaction layer's timers on
        // the center's clock, the registrar, and the B2BUA that turns line actions into SIP and back.
        .target(
            name: "SIPTelephony",
            dependencies: [
                "SIP", "B2BUA", "Center", "CallControl", "Store", "Media", "MediaService", "Cryptography", "WebRTC", "SecureChannels",
                "Recordings",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A lean HTTP and WebSocket client of the API, for the simulate and load commands.
        .target(
            name: "APIClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "CallControl", "Store", "Center", "HTTPAPI", "APIClient", "SIP", "B2BUA", "SIPTelephony", "Media", "MediaService",
                "Cryptography", "WebRTC", "Recordings", "PostgresStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Test doubles (a store that can hold or fail its writes, a telephony that records).
        .target(name: "TestSupport", dependencies: ["CallControl", "Store", "Center"], path: "Tests/TestSupport"),
        .testTarget(name: "CallControlTests", dependencies: ["CallControl", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "CallControl"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "CallControl", "TestSupport"]),
        .testTarget(
            name: "MediaServiceTests",
            dependencies: [
                "MediaService", "Media", "CallControl", "WebRTC", "Cryptography", "Recordings",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "SIPTests", dependencies: ["SIP", "Cryptography", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CryptographyTests", dependencies: ["Cryptography"]),
        .testTarget(name: "WebRTCTests", dependencies: ["WebRTC", "Cryptography"]),
        .testTarget(name: "B2BUATests", dependencies: ["B2BUA", "SIP", "CallControl", "Media", "Cryptography"]),
        .testTarget(
            name: "SIPTelephonyTests",
            dependencies: ["SIPTelephony", "SIP", "Media", "MediaService", "Center", "Store", "CallControl", "TestSupport"]
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "PostgresStore", "CallControl", .product(name: "SQLiteNIO", package: "sqlite-nio")]
        ),
        .testTarget(
            name: "CenterTests",
            dependencies: [
                "Center", "Store", "CallControl", "TestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                "HTTPAPI", "Center", "Store", "CallControl", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
