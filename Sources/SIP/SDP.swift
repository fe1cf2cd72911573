import Cryptography

/// SDP offer/answer for one audio stream (RFC 3264, RFC 4566): enough to agree on G.711 (PCMU,
/// PCMA) and telephone-event with a phone, and to point every peer at the server's own media
/// address, so the media layer can relay, mix and play music without re-INVITEs.
public struct SessionDescription: Sendable, Equatable {
    public struct Codec: Sendable, Equatable {
        public var payloadType: Int
        /// `PCMU/8000`, `telephone-event/8000`…
        public var encoding: String

        public init(payloadType: Int, encoding: String) {
            self.payloadType = payloadType
            self.encoding = encoding
        }

        public static let pcmu = Codec(payloadType: 0, encoding: "PCMU/8000")
        public static let pcma = Codec(payloadType: 8, encoding: "PCMA/8000")
        public static let telephoneEvent = Codec(payloadType: 101, encoding: "telephone-event/8000")

        public var name: String { String(encoding.split(separator: "/").first ?? "").lowercased() }
        /// The RTP clock rate the encoding names (`PCMU/8000` → 8000).
        public var clockRate: Int? { encoding.split(separator: "/").dropFirst().first.flatMap { Int($0) } }
    }

    public enum Direction: String, Sendable { case sendrecv, sendonly, recvonly, inactive }

    /// An SDES key line (RFC 4568): `a=crypto:TAG SUITE inline:KEY[|lifetime][|MKI:length] [params]`.
    public struct Crypto: Sendable, Equatable {
        public var tag: Int
        public var suite: String
        /// The master key and salt, decoded from the first `inline:` key (nil: unreadable, or with an MKI).
        public var key: [UInt8]?
        /// The line after the suite, as written (kept to write an answer's line back).
        public var keyParameters: String

        public init(tag: Int, suite: String, key: [UInt8]) {
            self.tag = tag
            self.suite = suite
            self.key = key
            keyParameters = "inline:" + Base64.encode(key)
        }

        init?(line: String) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 3, let tag = Int(fields[0]), (0...999_999_999).contains(tag) else { return nil }
            self.tag = tag
            suite = fields[1]
            keyParameters = fields[2...].joined(separator: " ")
            // inline:KEY|2^31|1:4 — the lifetime is allowed; an MKI is not supported (the key is nil).
            let first = fields[2].split(separator: ";").first.map(String.init) ?? ""
            guard first.hasPrefix("inline:") else { return nil }
            let parts = first.dropFirst(7).split(separator: "|").map(String.init)
            key = parts.count <= 2 && !parts.contains(where: { $0.contains(":") }) ? parts.first.flatMap { Base64.decode($0) } : nil
        }

        var line: String { "a=crypto:\(tag) \(suite) \(keyParameters)" }
    }

    public var sessionID: UInt64
    public var version: UInt64
    /// The connection address (the audio stream's, else the session's); an IPv6 one has a ':'.
    public var address: String
    public var port: Int
    public var codecs: [Codec]
    public var direction: Direction
    /// `RTP/AVP`, or `RTP/SAVP` when the stream must be SRTP (RFC 3711 §12).
    public var profile: String = "RTP/AVP"
    /// SDES keys offered or answered for the audio stream.
    public var crypto: [Crypto] = []

    public init(sessionID: UInt64, version: UInt64 = 1, address: String, port: Int, codecs: [Codec], direction: Direction = .sendrecv) {
        self.sessionID = sessionID
        self.version = version
        self.address = address
        self.port = port
        self.codecs = codecs
        self.direction = direction
    }

    public enum ParseError: Error, Equatable, Sendable {
        case notSDP(String)
        case noAudio
        case noConnectionAddress
    }

    /// Reads the session's connection address and its first audio stream.
    public init(parsing bytes: [UInt8]) throws(ParseError) {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .notSDP("not UTF-8") }
        // "\r\n" is one Character in Swift: split on any newline.
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard lines.first?.hasPrefix("v=0") == true else { throw .notSDP("no v=0") }
        var sessionAddress: String?, mediaAddress: String?
        var sessionID: UInt64 = 0, version: UInt64 = 0
        var audio: (port: Int, formats: [Int], profile: String)?
        var crypto: [Crypto] = []
        var rtpmaps: [Int: String] = [:]
        var direction = Direction.sendrecv
        var inAudio = false, seenMedia = false
        for line in lines {
            let value = String(line.dropFirst(2))
            switch line.prefix(2) {
            case "o=":
                let fields = value.split(separator: " ")
                if fields.count >= 3 {
                    sessionID = UInt64(fields[1]) ?? 0
                    version = UInt64(fields[2]) ?? 0
                }
            case "c=":
                let fields = value.split(separator: " ")
                guard fields.count == 3, fields[0] == "IN" else { throw .notSDP(line) }
                let address = String(fields[2].split(separator: "/").first ?? "")
                if !seenMedia { sessionAddress = address } else if inAudio { mediaAddress = address }
            case "m=":
                seenMedia = true
                let fields = value.split(separator: " ")
                inAudio = fields.first == "audio" && audio == nil
                if inAudio {
                    guard fields.count >= 4, let port = Int(fields[1].split(separator: "/").first ?? ""),
                        (0...65535).contains(port)
                    else { throw .notSDP(line) }
                    audio = (port, fields.dropFirst(3).compactMap { Int($0) }, String(fields[2]))
                }
            case "a=" where inAudio || !seenMedia:
                if value.hasPrefix("rtpmap:") {
                    let fields = value.dropFirst(7).split(separator: " ", maxSplits: 1)
                    if fields.count == 2, let type = Int(fields[0]) {
                        // The encoding name and clock rate; channels, if any, are dropped.
                        let parts = fields[1].split(separator: "/")
                        rtpmaps[type] = parts.prefix(2).joined(separator: "/")
                    }
                } else if value.hasPrefix("crypto:"), inAudio, let line = Crypto(line: String(value.dropFirst(7))) {
                    crypto.append(line)
                } else if let parsed = Direction(rawValue: value) {
                    direction = parsed
                }
            default:
                break
            }
        }
        guard let audio else { throw .noAudio }
        guard let address = mediaAddress ?? sessionAddress else { throw .noConnectionAddress }
        self.sessionID = sessionID
        self.version = version
        self.address = address
        port = audio.port
        codecs = audio.formats.compactMap { type in
            if let encoding = rtpmaps[type] { return Codec(payloadType: type, encoding: encoding) }
            // Static payload types need no rtpmap (RFC 3551).
            switch type {
            case 0: return .pcmu
            case 8: return .pcma
            default: return nil
            }
        }
        self.direction = direction
        profile = audio.profile
        self.crypto = crypto
    }

    /// Why an offer cannot be answered: each is a 488 with these words.
    public enum Refusal: Error, Equatable, Sendable {
        case noCommonCodec
        /// The offer's media address is IPv6 and ours IPv4, or the other way round: our media
        /// socket could not send to it.
        case addressFamily

        public var reason: String {
            switch self {
            case .noCommonCodec: "Not Acceptable Here (no common codec: PCMU or PCMA)"
            case .addressFamily: "Not Acceptable Here (the offer's media address is not of the server's address family)"
            }
        }
    }

    /// The answer to `offer` (RFC 3264 §6): the offer's codecs that we support, in the offer's
    /// order and with its payload types; nil when it cannot be answered (488, `negotiate` says why).
    public static func answer(
        to offer: SessionDescription, address: String, port: Int, sessionID: UInt64, supported: [Codec] = [.pcmu, .pcma, .telephoneEvent]
    ) -> SessionDescription? {
        try? negotiate(offer, address: address, port: port, sessionID: sessionID, supported: supported).get()
    }

    /// The answer, or why there is none. Only `telephone-event` at the audio's clock (8000 Hz for
    /// G.711) is kept: an offer listing it at 48000, 16000 and 8000 gets the 8000 one alone.
    public static func negotiate(
        _ offer: SessionDescription, address: String, port: Int, sessionID: UInt64, supported: [Codec] = [.pcmu, .pcma, .telephoneEvent]
    ) -> Result<SessionDescription, Refusal> {
        guard offer.address.contains(":") == address.contains(":") else {
            return .failure(.addressFamily)
        }
        let names = Set(supported.map(\.name))
        var common = offer.codecs.filter { names.contains($0.name) }
        guard let audio = common.first(where: { $0.name != "telephone-event" }) else { return .failure(.noCommonCodec) }
        let clock = audio.clockRate
        var keptEvent = false
        common.removeAll { codec in
            guard codec.name == "telephone-event" else { return false }
            defer { keptEvent = keptEvent || codec.clockRate == clock }
            return keptEvent || codec.clockRate != clock
        }
        let direction: Direction
        switch offer.direction {
        case .sendrecv: direction = .sendrecv
        case .sendonly: direction = .recvonly
        case .recvonly: direction = .sendonly
        case .inactive: direction = .inactive
        }
        return .success(SessionDescription(sessionID: sessionID, address: address, port: port, codecs: common, direction: direction))
    }

    public var text: String {
        let family = address.contains(":") ? "IP6" : "IP4"
        var lines = [
            "v=0", "o=switchboard \(sessionID) \(version) IN \(family) \(address)", "s=switchboard",
            "c=IN \(family) \(address)", "t=0 0",
            "m=audio \(port) \(profile) " + codecs.map { String($0.payloadType) }.joined(separator: " "),
        ]
        lines += crypto.map(\.line)
        for codec in codecs {
            lines.append("a=rtpmap:\(codec.payloadType) \(codec.encoding)")
            if codec.name == "telephone-event" { lines.append("a=fmtp:\(codec.payloadType) 0-16") }
        }
        lines.append("a=ptime:20")
        lines.append("a=\(direction.rawValue)")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    public var bytes: [UInt8] { Array(text.utf8) }
}
