/// What arrived on a WebRTC port, by its first bytes (RFC 7983 §7; RTCP told from RTP by its
/// packet type, RFC 5761 §4): one port carries STUN, DTLS, SRTP and SRTCP.
public enum Datagram: Equatable, Sendable {
    case stun, dtls, rtp, rtcp, unknown

    public init(classifying bytes: some Collection<UInt8>) {
        guard let first = bytes.first else {
            self = .unknown
            return
        }
        switch first {
        case 0...3: self = .stun
        case 20...63: self = .dtls
        case 128...191:
            guard bytes.count >= 2 else {
                self = .unknown
                return
            }
            let second = bytes[bytes.index(after: bytes.startIndex)]
            self = (192...223).contains(second) ? .rtcp : .rtp
        default: self = .unknown
        }
    }
}

/// The server's side of ICE as a lite agent (RFC 8445 §2.5): one host candidate, always the
/// controlled agent, no checks of its own. It answers the browser's Binding requests that carry
/// our ICE username and pass MESSAGE-INTEGRITY under our password, and follows the browser's
/// choice: the first address that passes a check, then the one it nominates (USE-CANDIDATE).
/// Media and DTLS are accepted only from the selected address.
public struct ICELiteAgent: Equatable, Sendable {
    public let localUfrag: String
    public let localPassword: String
    public private(set) var remoteUfrag: String
    /// Where the browser is (host bytes, 4 or 16; port): the address checks passed from.
    public private(set) var selected: Address?
    public private(set) var nominated = false

    public struct Address: Hashable, Sendable {
        public var host: [UInt8]
        public var port: Int
        public init(host: [UInt8], port: Int) { (self.host, self.port) = (host, port) }
    }

    public enum Outcome: Equatable, Sendable {
        /// A Binding response to send back to the source; `selected` is true when the source is
        /// now (or still) the browser's address.
        case respond([UInt8], selected: Bool)
        /// Dropped (and counted by the shell).
        case drop(Drop)
    }

    public enum Drop: String, Equatable, Sendable {
        case malformed, notARequest, unknownUsername, badIntegrity, badFingerprint
    }

    /// `localUfrag`/`localPassword`: random, from the answer; `remoteUfrag`: the offer's.
    public init(localUfrag: String, localPassword: String, remoteUfrag: String) {
        (self.localUfrag, self.localPassword, self.remoteUfrag) = (localUfrag, localPassword, remoteUfrag)
    }

    /// Fresh credentials (RFC 8839 §5.4: a ufrag of at least 4 characters and a password of at
    /// least 22, from the ice-char set): 8 and 24 characters, each from 6 random bits.
    public static func credentials(random: (Int) -> [UInt8]) -> (ufrag: String, password: String) {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/")
        func text(_ count: Int) -> String { String(random(count).map { alphabet[Int($0) & 63] }) }
        return (text(8), text(24))
    }

    /// A new offer from the same browser (a renegotiation): its ufrag may change (an ICE restart).
    public mutating func renegotiated(remoteUfrag: String) {
        if remoteUfrag != self.remoteUfrag {
            self.remoteUfrag = remoteUfrag
            (selected, nominated) = (nil, false)
        }
    }

    /// A STUN datagram from `source`.
    public mutating func received(_ bytes: [UInt8], from source: Address) -> Outcome {
        guard let request = try? STUNMessage(parsing: bytes) else { return .drop(.malformed) }
        guard request.kind == .bindingRequest else {
            // Indications (keepalives) need no answer; responses we never asked for are ignored.
            return .drop(.notARequest)
        }
        guard let username = request.username, username.hasPrefix(localUfrag + ":") else { return .drop(.unknownUsername) }
        let key = Array(localPassword.utf8)
        switch STUNMessage.check(bytes, integrityKey: key) {
        case .valid: break
        case .missingIntegrity, .badIntegrity: return .drop(.badIntegrity)
        case .badFingerprint: return .drop(.badFingerprint)
        }
        let nominates = request.value(.useCandidate) != nil
        if selected == nil || (nominates && (selected != source || !nominated)) {
            selected = source
            nominated = nominated || nominates
        }
        let mapped = STUNMessage.xorMappedAddress(host: source.host, port: source.port, transactionID: request.transactionID)
        let response = STUNMessage(
            kind: .bindingSuccess, transactionID: request.transactionID,
            attributes: [(STUNMessage.Attribute.xorMappedAddress.rawValue, mapped)])
        return .respond(response.serialized(integrityKey: key, fingerprint: true), selected: selected == source)
    }
}
