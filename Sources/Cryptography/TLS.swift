import COpenSSL

/// TLS on the system's OpenSSL, without sockets: a `TLSConnection` takes the bytes that arrived
/// and gives back the plaintext inside and the bytes to send, so the shell (a SwiftNIO handler
/// for SIP over TLS; DTLS for the browser next) moves bytes and OpenSSL does the protocol.
/// Measured: swift-nio-ssl would add 1:48 to a cold debug build here (its own BoringSSL, a second
/// crypto provider beside this one); this costs nothing to build.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let isServer: Bool

    /// A server's context with its certificate chain and key (PEM), TLS 1.2 at least.
    public init(serverCertificatePEM certificate: String, privateKeyPEM key: String) throws {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw CryptographyError("SSL_CTX_new") }
        self.context = context
        isServer = true
        try configure()
        try Self.useCertificate(certificate, key: key, in: context)
    }

    /// A client's context. Without `trustedPEM` the peer's certificate is not verified (a test's
    /// own server); with it, the peer must present a certificate chaining to one of them.
    public init(clientTrusting trustedPEM: String? = nil) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw CryptographyError("SSL_CTX_new") }
        self.context = context
        isServer = false
        try configure()
        if let trustedPEM {
            let store = SSL_CTX_get_cert_store(context)
            try Self.readPEM(trustedPEM) { bio in
                while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                    defer { X509_free(certificate) }
                    X509_STORE_add_cert(store, certificate)
                }
                ERR_clear_error()
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        }
    }

    deinit { SSL_CTX_free(context) }

    /// Loads a certificate (and any chain after it) and its private key (PEM) into a context.
    static func useCertificate(_ certificate: String, key: String, in context: OpaquePointer) throws {
        try Self.readPEM(certificate) { bio in
            guard let first = PEM_read_bio_X509(bio, nil, nil, nil) else { throw CryptographyError("the certificate (PEM)") }
            defer { X509_free(first) }
            guard SSL_CTX_use_certificate(context, first) == 1 else { throw CryptographyError("SSL_CTX_use_certificate") }
            // Any further certificates in the file are the chain, sent after it.
            while let next = PEM_read_bio_X509(bio, nil, nil, nil) {
                guard SSL_CTX_ctrl(context, SSL_CTRL_EXTRA_CHAIN_CERT, 0, UnsafeMutableRawPointer(next)) == 1 else {
                    X509_free(next)
                    throw CryptographyError("the certificate chain")
                }
            }
            ERR_clear_error()  // reading past the last certificate leaves a "no start line"
        }
        try Self.readPEM(key) { bio in
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else { throw CryptographyError("the private key (PEM)") }
            defer { EVP_PKEY_free(key) }
            guard SSL_CTX_use_PrivateKey(context, key) == 1 else { throw CryptographyError("SSL_CTX_use_PrivateKey") }
        }
        guard SSL_CTX_check_private_key(context) == 1 else { throw CryptographyError("the key does not match the certificate") }
    }

    private func configure() throws {
        // SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl.
        guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1 else {
            throw CryptographyError("TLS 1.2 as the lowest version")
        }
        // A write may be retried with a moved buffer (the shell's arrays move).
        _ = SSL_CTX_ctrl(context, SSL_CTRL_MODE, Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE), nil)
    }

    static func readPEM(_ text: String, _ body: (OpaquePointer) throws -> Void) throws {
        let bytes = Array(text.utf8)
        guard let bio = bytes.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else {
            throw CryptographyError("BIO_new_mem_buf")
        }
        defer { BIO_free(bio) }
        try body(bio)
    }
}

/// One TLS connection as a byte transformer (memory BIOs in and out). Not for sharing between
/// threads: the shell uses it on its connection's event loop.
public final class TLSConnection: @unchecked Sendable {
    private let ssl: OpaquePointer
    private let incoming: OpaquePointer
    private let outgoing: OpaquePointer
    /// Plaintext written before the handshake finished, sent once it has.
    private var pending: [UInt8] = []
    public private(set) var handshakeDone = false
    public private(set) var closed = false

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case handshake(String)
        case protocolError(String)
        public var description: String {
            switch self {
            case .handshake(let why): "TLS handshake failed: \(why)"
            case .protocolError(let why): "TLS error: \(why)"
            }
        }
    }

    /// `serverName`: for a client, the name sent in SNI.
    public init(_ context: TLSContext, serverName: String? = nil) throws {
        guard let ssl = SSL_new(context.context) else { throw CryptographyError("SSL_new") }
        guard let incoming = BIO_new(BIO_s_mem()), let outgoing = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw CryptographyError("BIO_new")
        }
        SSL_set_bio(ssl, incoming, outgoing)  // the SSL owns both BIOs from here
        (self.ssl, self.incoming, self.outgoing) = (ssl, incoming, outgoing)
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            if let serverName {
                // SSL_set_tlsext_host_name is a macro over SSL_ctrl.
                _ = serverName.withCString { SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
            }
            SSL_set_connect_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    /// A client starts the handshake: its ClientHello, to send.
    public func start() throws -> [UInt8] {
        try advanceHandshake()
        return drainOutgoing()
    }

    /// Bytes from the peer: the plaintext they carried (none during the handshake) and the bytes
    /// to send back (the handshake's, and plaintext written before it finished). `closed` is true
    /// once the peer has said close_notify.
    public func receive(_ bytes: [UInt8]) throws -> (plaintext: [UInt8], toSend: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { BIO_write(incoming, $0.baseAddress, Int32($0.count)) }
            guard written > 0 else { throw Failure.protocolError("could not buffer \(bytes.count) bytes") }
            offset += Int(written)
        }
        var plaintext: [UInt8] = []
        if !handshakeDone { try advanceHandshake() }
        if handshakeDone {
            try readPlaintext(into: &plaintext)
            if !pending.isEmpty {
                let waiting = pending
                pending = []
                try write(waiting)
            }
        }
        return (plaintext, drainOutgoing())
    }

    /// Encrypts plaintext to send (kept until the handshake is done if it is not yet).
    public func send(_ plaintext: [UInt8]) throws -> [UInt8] {
        guard handshakeDone else {
            pending += plaintext
            return drainOutgoing()
        }
        try write(plaintext)
        return drainOutgoing()
    }

    /// close_notify, to send before closing the socket.
    public func close() -> [UInt8] {
        if handshakeDone && !closed { _ = SSL_shutdown(ssl) }
        closed = true
        return drainOutgoing()
    }

    private func advanceHandshake() throws {
        switch SSLStep.handshake(ssl) {
        case .success(let done): handshakeDone = done
        case .failure(let why): throw Failure.handshake(why.description)
        }
    }

    private func readPlaintext(into plaintext: inout [UInt8]) throws {
        switch SSLStep.read(ssl, bufferSize: 16_384, into: { plaintext += $0 }) {
        case .success(let peerClosed): closed = closed || peerClosed
        case .failure(let why): throw Failure.protocolError(why.description)
        }
    }

    private func write(_ plaintext: [UInt8]) throws {
        var offset = 0
        while offset < plaintext.count {
            let written = plaintext[offset...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
            guard written > 0 else { throw Failure.protocolError(openSSLError()) }
            offset += Int(written)
        }
    }

    private func drainOutgoing() -> [UInt8] {
        let waiting = BIO_ctrl_pending(outgoing)
        guard waiting > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: Int(waiting))
        let read = out.withUnsafeMutableBytes { BIO_read(outgoing, $0.baseAddress, Int32($0.count)) }
        return read > 0 ? Array(out.prefix(Int(read))) : []
    }
}

/// A handshake step or a read on an SSL, for TLS and DTLS alike: what `SSL_get_error` says of a
/// result that is not a success (waiting for the peer is not a failure).
enum SSLStep {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// `SSL_do_handshake` once: true when the handshake is done, false while it waits for the peer.
    static func handshake(_ ssl: OpaquePointer) -> Result<Bool, Failure> {
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .success(true) }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .success(false)
        default: return .failure(Failure(description: openSSLError()))
        }
    }

    /// Reads the plaintext there is, a chunk at a time; true when the peer said close_notify.
    static func read(_ ssl: OpaquePointer, bufferSize: Int, into take: (ArraySlice<UInt8>) -> Void) -> Result<Bool, Failure> {
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                take(buffer.prefix(Int(count)))
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .success(false)
            case SSL_ERROR_ZERO_RETURN: return .success(true)
            default: return .failure(Failure(description: openSSLError()))
            }
        }
    }
}
