import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// DTLS 1.2 (RFC 6347) with the SRTP extension (RFC 5764) on the system's OpenSSL, without
/// sockets, as WebRTC uses it: the browser's media keys come from a DTLS handshake on the media
/// port. Like `TLSConnection` it takes datagrams in and gives datagrams out; the shell owns the
/// socket and the retransmission timer (`nextTimeout`, `handleTimeout`).
public final class DTLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let isServer: Bool

    /// The one SRTP protection profile offered and accepted (RFC 5764 §4.1.2): AES-CM-128 with
    /// an 80-bit HMAC-SHA1 tag, what every browser supports and `Media`'s SRTP implements.
    public static let srtpProfile = "SRTP_AES128_CM_SHA1_80"
    public static let srtpProfileID: UInt = 0x0001

    /// A context presenting `certificatePEM` (a self-signed one made at start is usual: the peer
    /// checks its fingerprint from the SDP, not a chain). The peer must present a certificate
    /// too; it is not verified here but handed to the caller to check against its SDP.
    public init(certificatePEM: String, privateKeyPEM: String, isServer: Bool) throws {
        guard let context = SSL_CTX_new(isServer ? DTLS_server_method() : DTLS_client_method()) else {
            throw CryptographyError("SSL_CTX_new(DTLS)")
        }
        self.context = context
        self.isServer = isServer
        guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(DTLS1_2_VERSION), nil) == 1 else {
            throw CryptographyError("DTLS 1.2 as the lowest version")
        }
        try TLSContext.useCertificate(certificatePEM, key: privateKeyPEM, in: context)
        // SSL_CTX_set_tlsext_use_srtp returns 0 on success.
        guard SSL_CTX_set_tlsext_use_srtp(context, Self.srtpProfile) == 0 else { throw CryptographyError("use_srtp") }
        // Ask for the peer's certificate and accept any: its fingerprint is what is checked.
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) { _, _ in 1 }
        // Renegotiation has no place in DTLS-SRTP; an old, attackable feature.
        _ = SSL_CTX_set_options(context, switchboard_op_no_renegotiation)
    }

    deinit { SSL_CTX_free(context) }
}

public final class DTLSConnection: @unchecked Sendable {
    private let ssl: OpaquePointer
    private let incoming: OpaquePointer
    private let outgoing: OpaquePointer
    public let mtu: Int
    public private(set) var handshakeDone = false
    public private(set) var closed = false

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case handshake(String)
        case noSRTPProfile
        case protocolError(String)
        public var description: String {
            switch self {
            case .handshake(let why): "DTLS handshake failed: \(why)"
            case .noSRTPProfile: "DTLS: the peer agreed no SRTP profile (use_srtp)"
            case .protocolError(let why): "DTLS error: \(why)"
            }
        }
    }

    /// `mtu`: the largest datagram sent (handshake messages are fragmented to fit): 1200 bytes
    /// leaves room for IPv6 and tunnels on any path.
    public init(_ context: DTLSContext, mtu: Int = 1200) throws {
        guard let ssl = SSL_new(context.context) else { throw CryptographyError("SSL_new") }
        guard let incoming = BIO_new(BIO_s_mem()), let outgoing = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw CryptographyError("BIO_new")
        }
        SSL_set_bio(ssl, incoming, outgoing)
        (self.ssl, self.incoming, self.outgoing, self.mtu) = (ssl, incoming, outgoing, mtu)
        // A memory BIO has no path MTU to ask: ours is set (SSL_set_mtu is a macro over SSL_ctrl).
        _ = SSL_set_options(ssl, switchboard_op_no_query_mtu)
        _ = SSL_ctrl(ssl, SSL_CTRL_SET_MTU, mtu - 28, nil)  // less IPv4 + UDP headers, as OpenSSL counts
        if context.isServer { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
    }

    deinit { SSL_free(ssl) }

    /// A client's first flight (the ClientHello), as datagrams to send.
    public func start() throws -> [[UInt8]] {
        try advance()
        return drain()
    }

    /// A datagram from the peer; returns the datagrams to send back. Application data (none is
    /// expected in DTLS-SRTP) is read and discarded.
    public func receive(_ datagram: [UInt8]) throws -> [[UInt8]] {
        guard !closed else { return [] }
        let written = datagram.withUnsafeBytes { BIO_write(incoming, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(datagram.count) else { throw Failure.protocolError("could not buffer a datagram") }
        if !handshakeDone { try advance() }
        if handshakeDone { try readAndDiscard() }
        return drain()
    }

    /// How long until the handshake's retransmission timer falls due (nil: none running).
    public func nextTimeout() -> Duration? {
        var time = timeval()
        // DTLSv1_get_timeout is a macro over SSL_ctrl.
        guard SSL_ctrl(ssl, DTLS_CTRL_GET_TIMEOUT, 0, &time) == 1 else { return nil }
        return .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec))
    }

    /// The timer fell due: the flight to send again (empty when nothing was due).
    public func handleTimeout() throws -> [[UInt8]] {
        guard !handshakeDone, !closed else { return [] }
        let result = SSL_ctrl(ssl, DTLS_CTRL_HANDLE_TIMEOUT, 0, nil)
        if result < 0 { throw Failure.handshake(openSSLError()) }
        return drain()
    }

    /// The SRTP master keys and salts from the handshake (RFC 5764 §4.2): the client's key, the
    /// server's key, the client's salt, the server's salt — 60 bytes for AES-CM-128.
    public func srtpKeyingMaterial() throws -> [UInt8] {
        guard handshakeDone else { throw Failure.protocolError("the handshake is not done") }
        guard let profile = SSL_get_selected_srtp_profile(ssl), profile.pointee.id == DTLSContext.srtpProfileID else {
            throw Failure.noSRTPProfile
        }
        var material = [UInt8](repeating: 0, count: 60)
        let label = "EXTRACTOR-dtls_srtp"
        let done = material.withUnsafeMutableBufferPointer { out in
            label.withCString { SSL_export_keying_material(ssl, out.baseAddress, 60, $0, label.utf8.count, nil, 0, 0) }
        }
        guard done == 1 else { throw Failure.protocolError("exporting the SRTP keys: \(openSSLError())") }
        return material
    }

    /// The certificate the peer presented (DER), to check against the fingerprint in its SDP.
    public func peerCertificate() -> [UInt8]? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_X509(certificate, &cursor)
        }
        return written == length ? der : nil
    }

    /// close_notify, to send when the session ends.
    public func close() -> [[UInt8]] {
        if handshakeDone && !closed { _ = SSL_shutdown(ssl) }
        closed = true
        return drain()
    }

    private func advance() throws {
        switch SSLStep.handshake(ssl) {
        case .success(let done): handshakeDone = done
        case .failure(let why): throw Failure.handshake(why.description)
        }
    }

    /// DTLS-SRTP carries no application data: whatever comes is read and dropped.
    private func readAndDiscard() throws {
        switch SSLStep.read(ssl, bufferSize: 2048, into: { _ in }) {
        case .success(let peerClosed): closed = closed || peerClosed
        case .failure(let why): throw Failure.protocolError(why.description)
        }
    }

    /// What OpenSSL wrote, as datagrams: the memory BIO runs records together, so they are split
    /// at record boundaries (13-byte header, length in its last two bytes) and packed up to the MTU.
    private func drain() -> [[UInt8]] {
        let waiting = BIO_ctrl_pending(outgoing)
        guard waiting > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(waiting))
        let read = bytes.withUnsafeMutableBytes { BIO_read(outgoing, $0.baseAddress, Int32($0.count)) }
        guard read > 0 else { return [] }
        return Self.datagrams(Array(bytes.prefix(Int(read))), mtu: mtu)
    }

    static func datagrams(_ bytes: [UInt8], mtu: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var current: [UInt8] = []
        var offset = 0
        while offset + 13 <= bytes.count {
            let length = Int(bytes[offset + 11]) << 8 | Int(bytes[offset + 12])
            let end = min(bytes.count, offset + 13 + length)
            if !current.isEmpty, current.count + (end - offset) > mtu {
                out.append(current)
                current = []
            }
            current += bytes[offset..<end]
            offset = end
        }
        if offset < bytes.count { current += bytes[offset...] }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
