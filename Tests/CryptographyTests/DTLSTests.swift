import Cryptography
import Testing

/// DTLS 1.2 with use_srtp, client and server both on the system OpenSSL, datagrams passed by hand.
@Suite struct DTLS {
    struct Pair {
        let server: DTLSConnection
        let client: DTLSConnection
        let serverCertificate: SelfSignedCertificate
        let clientCertificate: SelfSignedCertificate
        /// Datagrams each way, counted (to see the MTU kept and the flights' sizes).
        var toServer: [[UInt8]] = []
        var toClient: [[UInt8]] = []
    }

    static func pair(mtu: Int = 1200) throws -> Pair {
        let serverCertificate = try SelfSignedCertificate.make(commonName: "switchboard", names: [])
        let clientCertificate = try SelfSignedCertificate.make(commonName: "browser", names: [])
        let server = try DTLSConnection(
            DTLSContext(certificatePEM: serverCertificate.certificatePEM, privateKeyPEM: serverCertificate.privateKeyPEM, isServer: true), mtu: mtu)
        let client = try DTLSConnection(
            DTLSContext(certificatePEM: clientCertificate.certificatePEM, privateKeyPEM: clientCertificate.privateKeyPEM, isServer: false), mtu: mtu)
        return Pair(server: server, client: client, serverCertificate: serverCertificate, clientCertificate: clientCertificate)
    }

    /// Runs the handshake to its end (or 10 flights), recording every datagram.
    static func handshake(_ pair: inout Pair) throws {
        var toServer = try pair.client.start()
        for _ in 0..<10 where !(pair.client.handshakeDone && pair.server.handshakeDone) {
            pair.toServer += toServer
            var toClient: [[UInt8]] = []
            for datagram in toServer { toClient += try pair.server.receive(datagram) }
            pair.toClient += toClient
            toServer = []
            for datagram in toClient { toServer += try pair.client.receive(datagram) }
        }
        pair.toServer += toServer
        for datagram in toServer { _ = try pair.server.receive(datagram) }
    }

    static func fingerprint(_ der: [UInt8]) -> String {
        Hash.digest(.sha256, der).map { Hash.hex([$0]).uppercased() }.joined(separator: ":")
    }

    @Test func handshakeAgreesOnTheSameSRTPKeysOnBothSides() throws {
        var pair = try Self.pair()
        try Self.handshake(&pair)
        #expect(pair.server.handshakeDone && pair.client.handshakeDone)
        let serverKeys = try pair.server.srtpKeyingMaterial()
        let clientKeys = try pair.client.srtpKeyingMaterial()
        #expect(serverKeys.count == 60)
        #expect(serverKeys == clientKeys)
        #expect(Set(serverKeys).count > 20)  // not a constant
    }

    @Test func eachSideSeesTheOthersCertificateForItsFingerprint() throws {
        var pair = try Self.pair()
        try Self.handshake(&pair)
        #expect(pair.server.peerCertificate().map(Self.fingerprint) == pair.clientCertificate.fingerprint)
        #expect(pair.client.peerCertificate().map(Self.fingerprint) == pair.serverCertificate.fingerprint)
    }

    @Test func noDatagramIsLargerThanTheMTU() throws {
        var pair = try Self.pair(mtu: 600)
        try Self.handshake(&pair)
        #expect(pair.server.handshakeDone)
        #expect((pair.toServer + pair.toClient).allSatisfy { $0.count <= 600 })
    }

    @Test func theClientArmsARetransmissionTimerForItsFirstFlight() throws {
        let pair = try Self.pair()
        #expect(pair.client.nextTimeout() == nil)
        let hello = try pair.client.start()
        #expect(hello.first?.first == 22)  // a handshake record
        let timeout = try #require(pair.client.nextTimeout())
        #expect(timeout > .zero && timeout <= .seconds(1))  // RFC 6347 §4.2.4.1: 1 s at first
        // Not yet due: handling it sends nothing.
        #expect(try pair.client.handleTimeout().isEmpty)
    }

    @Test func garbageIsAFailureNotACrash() throws {
        let pair = try Self.pair()
        // A record header claiming a handshake, then nonsense.
        let garbage: [UInt8] = [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]
        #expect(throws: (any Error).self) {
            for _ in 0..<3 { _ = try pair.server.receive(garbage) }
            _ = try pair.server.srtpKeyingMaterial()
        }
        #expect(!pair.server.handshakeDone)
    }

    @Test func closeSendsAnAlertThePeerReadsAsClosed() throws {
        var pair = try Self.pair()
        try Self.handshake(&pair)
        let alert = pair.client.close()
        #expect(alert.first?.first == 21)  // an alert record
        for datagram in alert { _ = try pair.server.receive(datagram) }
        #expect(pair.server.closed)
    }
}
