import Cryptography

/// A WebRTC client's SDP offer (RFC 8829 JSEP, RFC 8843 BUNDLE, RFC 8839 ICE, RFC 8122 and
/// RFC 5763 DTLS-SRTP), read for what an ICE-lite, audio-only server needs: the audio section's
/// codecs, the ICE credentials, the DTLS fingerprints and role. Every other section (video, a data
/// channel) is declined in the answer; attributes we do not use are ignored.
public struct WebRTCOffer: Equatable, Sendable {
    /// One `m=` section, as offered.
    public struct Section: Equatable, Sendable {
        public var media: String
        public var port: Int
        public var proto: String
        public var formats: [String]
        public var mid: String?
    }

    public struct Fingerprint: Equatable, Sendable {
        public var function: HashFunction
        /// The digest's bytes (from `AA:BB:…`).
        public var digest: [UInt8]

        public init(function: HashFunction, digest: [UInt8]) { (self.function, self.digest) = (function, digest) }

        /// Whether a certificate (DER) is the one this fingerprint names.
        public func matches(certificate der: [UInt8]) -> Bool { Hash.digest(function, der) == digest }
    }

    public var sections: [Section]
    /// Index into `sections` of the audio section the server takes.
    public var audioIndex: Int
    public var iceUfrag: String
    public var icePassword: String
    public var fingerprints: [Fingerprint]
    /// `actpass` or `active`: either way the browser is the DTLS client and we answer `passive`.
    public var setup: String
    /// The offered payload types of the codecs we can carry: the first of PCMU/PCMA in the offer's
    /// order of preference, and `telephone-event/8000` when offered.
    public var law: Law
    public var lawPayloadType: UInt8
    public var eventPayloadType: UInt8?
    /// sendrecv, sendonly, recvonly or inactive (the browser's side).
    public var direction: String

    public enum Law: String, Equatable, Sendable { case pcmu, pcma }

    /// Why an offer is refused: each one a 4xx with this code.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        case noAudio
        case notDTLSSRTP
        case noCommonCodec
        case missingICECredentials
        case missingFingerprint
        case setupNotAllowed(String)
        case peerIsICELite
        case noRTCPMux

        public var code: String {
            switch self {
            case .malformed: "sdpMalformed"
            case .noAudio: "sdpNoAudio"
            case .notDTLSSRTP: "sdpNotDtlsSrtp"
            case .noCommonCodec: "sdpNoCommonCodec"
            case .missingICECredentials: "sdpNoIceCredentials"
            case .missingFingerprint: "sdpNoFingerprint"
            case .setupNotAllowed: "sdpSetupNotAllowed"
            case .peerIsICELite: "sdpPeerIceLite"
            case .noRTCPMux: "sdpNoRtcpMux"
            }
        }

        public var description: String {
            switch self {
            case .malformed(let why): "the SDP offer is malformed: \(why)"
            case .noAudio: "the offer has no audio section with a port"
            case .notDTLSSRTP: "the audio section is not DTLS-SRTP (UDP/TLS/RTP/SAVP or SAVPF)"
            case .noCommonCodec: "the audio section offers neither PCMU/8000 nor PCMA/8000"
            case .missingICECredentials: "the offer has no a=ice-ufrag and a=ice-pwd"
            case .missingFingerprint: "the offer has no a=fingerprint with sha-1, sha-256, sha-384 or sha-512"
            case .setupNotAllowed(let role): "a=setup:\(role): the server is the DTLS server (offer actpass or active)"
            case .peerIsICELite: "both sides ICE-lite: the offerer must be a full ICE agent"
            case .noRTCPMux: "the audio section must offer a=rtcp-mux (one port for RTP and RTCP)"
            }
        }
    }

    /// Largest offer read: a browser's audio-only offer is 2–5 KB, one with video 10 KB or so.
    public static let maximumSize = 32 * 1024

    public init(parsing text: String) throws(Refusal) {
        guard text.utf8.count <= Self.maximumSize else { throw .malformed("larger than \(Self.maximumSize) bytes") }
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { String($0) }
        guard lines.first == "v=0" else { throw .malformed("it does not start with v=0") }
        var session: [String] = []
        var sectionLines: [[String]] = []
        var sections: [Section] = []
        for line in lines {
            guard line.count >= 2, line.dropFirst().first == "=" else { throw .malformed("a line is not type=value") }
            if line.hasPrefix("m=") {
                let fields = line.dropFirst(2).split(separator: " ").map(String.init)
                guard fields.count >= 4, let port = Int(fields[1].split(separator: "/")[0]), (0...65535).contains(port) else {
                    throw .malformed("an m= line is not 'media port proto formats'")
                }
                sections.append(Section(media: fields[0], port: port, proto: fields[2], formats: Array(fields[3...]), mid: nil))
                sectionLines.append([])
            } else if sectionLines.isEmpty {
                session.append(line)
            } else {
                sectionLines[sectionLines.count - 1].append(line)
            }
        }
        for index in sections.indices { sections[index].mid = Self.attribute("mid", in: sectionLines[index]).first }
        guard sections.count <= 64 else { throw .malformed("more than 64 m= sections") }
        guard let audio = sections.indices.first(where: { sections[$0].media == "audio" && sections[$0].port != 0 }) else {
            throw .noAudio
        }
        let audioLines = sectionLines[audio]
        guard sections[audio].proto.hasPrefix("UDP/TLS/RTP/SAVP") else { throw .notDTLSSRTP }
        if Self.attribute("ice-lite", in: session) != [] { throw .peerIsICELite }
        // ICE and DTLS attributes may sit at the session level or in the section (the section wins).
        func value(_ name: String) -> String? { Self.attribute(name, in: audioLines).first ?? Self.attribute(name, in: session).first }
        guard let ufrag = value("ice-ufrag"), let password = value("ice-pwd"), !ufrag.isEmpty, !password.isEmpty,
            ufrag.utf8.count <= 256, password.utf8.count <= 256
        else { throw .missingICECredentials }
        let fingerprintLines = Self.attribute("fingerprint", in: audioLines).isEmpty
            ? Self.attribute("fingerprint", in: session) : Self.attribute("fingerprint", in: audioLines)
        let fingerprints = fingerprintLines.compactMap(Self.fingerprint)
        guard !fingerprints.isEmpty else { throw .missingFingerprint }
        let setup = value("setup") ?? "actpass"
        guard setup == "actpass" || setup == "active" else { throw .setupNotAllowed(setup) }
        guard Self.attribute("rtcp-mux", in: audioLines) != [] else { throw .noRTCPMux }

        // Codecs: rtpmap lines, plus the static payload types 0 and 8 when listed without one.
        var encodings: [String: String] = [:]
        for map in Self.attribute("rtpmap", in: audioLines) {
            let parts = map.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { encodings[parts[0]] = parts[1].lowercased() }
        }
        var chosen: (Law, UInt8)?
        var event: UInt8?
        for format in sections[audio].formats {
            guard let type = UInt8(format), type < 128 else { continue }
            let encoding = encodings[format] ?? (type == 0 ? "pcmu/8000" : type == 8 ? "pcma/8000" : "")
            // G.711 only under its static payload types: the media engine sends 0 and 8.
            if chosen == nil, encoding == "pcmu/8000", type == 0 { chosen = (.pcmu, type) }
            if chosen == nil, encoding == "pcma/8000", type == 8 { chosen = (.pcma, type) }
            if event == nil, encoding == "telephone-event/8000" { event = type }
        }
        guard let (law, type) = chosen else { throw .noCommonCodec }

        self.sections = sections
        audioIndex = audio
        iceUfrag = ufrag
        icePassword = password
        self.fingerprints = fingerprints
        self.setup = setup
        self.law = law
        lawPayloadType = type
        eventPayloadType = event
        direction = ["sendrecv", "sendonly", "recvonly", "inactive"].first { Self.attribute($0, in: audioLines) != [] } ?? "sendrecv"
    }

    /// The values of `a=name:value` (or `[""]`-like empty values for a flag `a=name`).
    static func attribute(_ name: String, in lines: [String]) -> [String] {
        lines.compactMap { line in
            guard line.hasPrefix("a=" + name) else { return nil }
            let rest = line.dropFirst(2 + name.count)
            if rest.isEmpty { return "" }
            guard rest.first == ":" else { return nil }
            return String(rest.dropFirst()).trimmingSpaces
        }
    }

    /// `sha-256 AB:CD:…` → the function and bytes, for a function we can compute.
    static func fingerprint(_ value: String) -> Fingerprint? {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        let function: HashFunction
        switch parts[0].lowercased() {
        case "sha-1": function = .sha1
        case "sha-256": function = .sha256
        case "sha-384": function = .sha384
        case "sha-512": function = .sha512
        default: return nil
        }
        let bytes = parts[1].split(separator: ":").map { UInt8($0, radix: 16) }
        guard bytes.count == function.outputSize, bytes.allSatisfy({ $0 != nil }) else { return nil }
        return Fingerprint(function: function, digest: bytes.map { $0! })
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}

/// The server's answer: ICE-lite, DTLS passive, one host candidate per address, BUNDLE over the
/// one audio section, rtcp-mux, the chosen G.711 law and telephone-event; other sections declined.
public struct WebRTCAnswer: Sendable {
    public var offer: WebRTCOffer
    public var sessionID: UInt64
    /// Addresses the server is reached at (the first in `c=`), and the port of the session.
    public var addresses: [String]
    public var port: Int
    public var iceUfrag: String
    public var icePassword: String
    /// The server certificate's SHA-256 fingerprint, `AA:BB:…`.
    public var fingerprint: String

    public init(
        offer: WebRTCOffer, sessionID: UInt64, addresses: [String], port: Int, iceUfrag: String, icePassword: String, fingerprint: String
    ) {
        (self.offer, self.sessionID, self.addresses, self.port) = (offer, sessionID, addresses, port)
        (self.iceUfrag, self.icePassword, self.fingerprint) = (iceUfrag, icePassword, fingerprint)
    }

    /// Our direction for the browser's: it sends only → we receive only, and so on.
    var direction: String {
        switch offer.direction {
        case "sendonly": "recvonly"
        case "recvonly": "sendonly"
        case "inactive": "inactive"
        default: "sendrecv"
        }
    }

    public var text: String {
        let first = addresses.first ?? "0.0.0.0"
        let family = first.contains(":") ? "IP6" : "IP4"
        let audio = offer.sections[offer.audioIndex]
        var lines = [
            "v=0", "o=- \(sessionID) 1 IN \(family) \(first)", "s=switchboard", "t=0 0", "a=ice-lite",
        ]
        if let mid = audio.mid { lines.append("a=group:BUNDLE \(mid)") }
        lines.append("a=msid-semantic: WMS switchboard")
        for (index, section) in offer.sections.enumerated() {
            guard index == offer.audioIndex else {
                // Declined: port 0, the first format, the mid kept so the browser can match it.
                lines.append("m=\(section.media) 0 \(section.proto) \(section.formats.first ?? "0")")
                lines.append("c=IN \(family) \(first)")
                if let mid = section.mid { lines.append("a=mid:\(mid)") }
                lines.append("a=inactive")
                continue
            }
            var formats = [String(offer.lawPayloadType)]
            if let event = offer.eventPayloadType { formats.append(String(event)) }
            lines.append("m=audio \(port) \(section.proto) \(formats.joined(separator: " "))")
            lines.append("c=IN \(family) \(first)")
            lines.append("a=rtcp:\(port) IN \(family) \(first)")
            lines.append("a=ice-ufrag:\(iceUfrag)")
            lines.append("a=ice-pwd:\(icePassword)")
            lines.append("a=fingerprint:sha-256 \(fingerprint)")
            lines.append("a=setup:passive")
            if let mid = section.mid { lines.append("a=mid:\(mid)") }
            lines.append("a=\(direction)")
            lines.append("a=msid:switchboard audio")
            lines.append("a=rtcp-mux")
            lines.append("a=rtpmap:\(offer.lawPayloadType) \(offer.law == .pcmu ? "PCMU" : "PCMA")/8000")
            if let event = offer.eventPayloadType {
                lines.append("a=rtpmap:\(event) telephone-event/8000")
                lines.append("a=fmtp:\(event) 0-15")
            }
            lines.append("a=ptime:20")
            for (number, address) in addresses.enumerated() {
                // RFC 8445 §5.1.2: host type preference 126, local preference by order, component 1.
                let priority = (126 << 24) | ((65535 - number) << 8) | 255
                lines.append("a=candidate:\(number + 1) 1 udp \(priority) \(address) \(port) typ host")
            }
            lines.append("a=end-of-candidates")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
