import Cryptography
import Testing

/// TLS as a byte transformer: a client and a server connection, pumped into each other with no
/// socket between them.
@Suite struct TLSTests {
    static let certificate = try! SelfSignedCertificate.make(commonName: "switchboard", names: ["127.0.0.1"])

    /// Moves bytes both ways until neither side has anything to send; returns what each side read.
    func pump(client: TLSConnection, server: TLSConnection, first: [UInt8]) throws -> (client: [UInt8], server: [UInt8]) {
        var toServer = first, toClient: [UInt8] = []
        var readByClient: [UInt8] = [], readByServer: [UInt8] = []
        for _ in 0..<20 where !toServer.isEmpty || !toClient.isEmpty {
            if !toServer.isEmpty {
                let (plain, reply) = try server.receive(toServer)
                readByServer += plain
                toServer = []
                toClient += reply
            }
            if !toClient.isEmpty {
                let (plain, reply) = try client.receive(toClient)
                readByClient += plain
                toClient = []
                toServer += reply
            }
        }
        return (readByClient, readByServer)
    }

    @Test func aClientAndAServerShakeHandsAndCarryPlaintextBothWaysThenCloseNotify() throws {
        let server = try TLSConnection(try TLSContext(serverCertificatePEM: Self.certificate.certificatePEM,
                                                      privateKeyPEM: Self.certificate.privateKeyPEM))
        let client = try TLSConnection(try TLSContext(clientTrusting: Self.certificate.certificatePEM), serverName: "127.0.0.1")
        // The client writes before the handshake is done: its words wait, then go.
        let hello = try client.start()
        _ = try client.send(Array("REGISTER sip:127.0.0.1 SIP/2.0\r\n".utf8))
        _ = try pump(client: client, server: server, first: hello)
        #expect(client.handshakeDone && server.handshakeDone)
        let request = try client.send(Array("OPTIONS sip:127.0.0.1 SIP/2.0\r\n".utf8))
        #expect(!request.isEmpty && !request.starts(with: Array("OPTIONS".utf8)), "encrypted on the wire")
        let (_, readByServer) = try pump(client: client, server: server, first: request)
        #expect(String(decoding: readByServer, as: UTF8.self) == "OPTIONS sip:127.0.0.1 SIP/2.0\r\n")
        let answer = try server.send(Array("SIP/2.0 200 OK\r\n".utf8))
        let (plain, _) = try client.receive(answer)
        #expect(String(decoding: plain, as: UTF8.self) == "SIP/2.0 200 OK\r\n")
        let goodbye = server.close()
        _ = try client.receive(goodbye)
        #expect(client.closed)
    }

    @Test func aClientThatTrustsAnotherCertificateFailsTheHandshake() throws {
        let other = try SelfSignedCertificate.make(commonName: "someone else", names: [])
        let server = try TLSConnection(try TLSContext(serverCertificatePEM: Self.certificate.certificatePEM,
                                                      privateKeyPEM: Self.certificate.privateKeyPEM))
        let client = try TLSConnection(try TLSContext(clientTrusting: other.certificatePEM))
        #expect(throws: TLSConnection.Failure.self) { _ = try pump(client: client, server: server, first: try client.start()) }
    }

    @Test func aKeyThatIsNotTheCertificatesIsRefused() throws {
        let other = try SelfSignedCertificate.make(commonName: "someone else", names: [])
        #expect(throws: CryptographyError.self) {
            try TLSContext(serverCertificatePEM: Self.certificate.certificatePEM, privateKeyPEM: other.privateKeyPEM)
        }
    }

    @Test func bytesThatAreNotTLSFailTheHandshake() throws {
        let server = try TLSConnection(try TLSContext(serverCertificatePEM: Self.certificate.certificatePEM,
                                                      privateKeyPEM: Self.certificate.privateKeyPEM))
        #expect(throws: TLSConnection.Failure.self) { _ = try server.receive(Array("REGISTER sip:x SIP/2.0\r\n\r\n".utf8)) }
    }
}
