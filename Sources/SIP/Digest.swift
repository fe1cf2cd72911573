import Cryptography
/// HTTP digest authentication as SIP uses it (RFC 3261 §22, RFC 8760): MD5 and SHA-256, qop=auth.
///
/// A user's secret is kept only as HA1 = H(username:realm:password) per algorithm, never the
/// password. Nonces are stateless: `time.mac`, where the MAC (HMAC-SHA-256 under a per-server
/// secret) proves the server issued it. A nonce older than `nonceLifetime` with an otherwise
/// correct response gets a fresh challenge with `stale=true`, so the phone retries without
/// asking its user for the password.
public enum DigestAlgorithm: String, Sendable, CaseIterable {
    case sha256 = "SHA-256"
    case md5 = "MD5"

    func hash(_ text: String) -> String {
        switch self {
        case .md5: Hash.hex(Hash.md5(Array(text.utf8)))
        case .sha256: Hash.hex(Hash.sha256(Array(text.utf8)))
        }
    }
}

/// A user's stored digest secrets: HA1 for each algorithm, written `md5:HEX,sha256:HEX`.
public struct DigestCredential: Sendable, Equatable {
    public var ha1: [DigestAlgorithm: String]

    public init(ha1: [DigestAlgorithm: String]) { self.ha1 = ha1 }

    /// Makes the stored form from a password (for `switchboard sip-hash` and the demo).
    public init(username: String, realm: String, password: String) {
        ha1 = Dictionary(uniqueKeysWithValues: DigestAlgorithm.allCases.map {
            ($0, $0.hash("\(username):\(realm):\(password)"))
        })
    }

    public init?(stored: String) {
        var ha1: [DigestAlgorithm: String] = [:]
        for part in stored.split(separator: ",") {
            let (name, value) = SIPSyntax.splitFirst(String(part), ":")
            let hex = value ?? ""
            guard hex.allSatisfy(\.isHexDigit) else { return nil }
            switch name.lowercased() {
            case "md5" where hex.count == 32: ha1[.md5] = hex.lowercased()
            case "sha256" where hex.count == 64: ha1[.sha256] = hex.lowercased()
            default: return nil
            }
        }
        guard !ha1.isEmpty else { return nil }
        self.ha1 = ha1
    }

    public var stored: String {
        [(DigestAlgorithm.md5, "md5"), (.sha256, "sha256")].compactMap { algorithm, name in
            ha1[algorithm].map { "\(name):\($0)" }
        }.joined(separator: ",")
    }
}

/// Why a request's credentials were not accepted.
public enum DigestOutcome: Equatable, Sendable {
    case authenticated(username: String)
    /// No usable Authorization: challenge.
    case missing
    /// Right password, old nonce: challenge again with stale=true.
    case stale
    /// Right answer, but its nonce count was used already (RFC 7616 §3.4.5): a captured request
    /// sent again. Challenged again with a fresh nonce and stale=true, so a real phone just retries.
    case replayed
    /// Wrong response, unknown user, bad nonce or a malformed header: challenge (or 403).
    case rejected(String)
}

public struct DigestAuthenticator: Sendable {
    public let realm: String
    public var nonceLifetime: Duration
    private let secret: [UInt8]
    /// The highest nonce count accepted for each nonce still in its lifetime (0: answered without
    /// qop, which may be used once). Only answers that were right get here, so only users who know
    /// their password add entries; past `maximumNonces` the expired are dropped, then the oldest.
    private var counts: [String: (count: UInt64, issued: Duration)] = [:]
    public var maximumNonces = 100_000

    /// The algorithms offered, in order. RFC 8760 would list the preferred (SHA-256) first, but
    /// deployed phones answer the first challenge they read, and some (SIPp 3.6) know MD5 alone;
    /// so the server's default lists MD5 first and a client that prefers SHA-256 takes the second.
    public var algorithms: [DigestAlgorithm]

    public init(
        realm: String, algorithms: [DigestAlgorithm] = [.md5, .sha256], nonceLifetime: Duration = .seconds(300),
        secret: [UInt8]? = nil
    ) {
        self.realm = realm
        self.algorithms = algorithms
        self.nonceLifetime = nonceLifetime
        var generator = SystemRandomNumberGenerator()
        self.secret = secret ?? (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// `WWW-Authenticate` values, one per algorithm offered, in order (RFC 8760 §2.4); `only`
    /// narrows the offer for a client that gives up on any challenge it cannot answer.
    /// An HA1 of the algorithm's length that no password hashes to, for users who do not exist.
    private static func decoy(_ algorithm: DigestAlgorithm) -> String {
        String(repeating: "0", count: algorithm == .md5 ? 32 : 64)
    }

    public func challenges(now: Duration, stale: Bool = false, only: Set<DigestAlgorithm>? = nil) -> [String] {
        let nonce = makeNonce(now: now)
        let offered = only.map { only in algorithms.filter(only.contains) } ?? algorithms
        return (offered.isEmpty ? algorithms : offered).map { algorithm in
            "Digest realm=\(SIPSyntax.quote(realm)), nonce=\"\(nonce)\", algorithm=\(algorithm.rawValue), qop=\"auth\""
                + (stale ? ", stale=TRUE" : "")
        }
    }

    /// Checks the request's `Authorization` against the user's stored credential, and that its
    /// nonce count has not been used before.
    public mutating func verify(
        _ request: SIPRequest, now: Duration, credential: (String) -> DigestCredential?
    ) -> DigestOutcome {
        let headers = request.headers.fields.filter { $0.name == "Authorization" }.map(\.value)
        // A phone may send several (one per realm); ours is the one for our realm.
        let parsed = headers.compactMap(Self.parameters).filter { $0["realm"] == realm }
        guard let fields = parsed.first else { return headers.isEmpty ? .missing : .rejected("no credentials for this realm") }
        guard let username = fields["username"], let nonce = fields["nonce"], let uri = fields["uri"],
            let response = fields["response"]
        else { return .rejected("incomplete Authorization") }
        let algorithm: DigestAlgorithm
        switch fields["algorithm"]?.uppercased() {
        case nil, "MD5": algorithm = .md5
        case "SHA-256": algorithm = .sha256
        case .some(let other): return .rejected("unsupported algorithm \(other)")
        }
        guard algorithms.contains(algorithm) else { return .rejected("algorithm \(algorithm.rawValue) is not offered") }
        // A user who does not exist is checked against a decoy, so the answer takes as long as for
        // one who does: neither its words nor its time tells names apart.
        let ha1 = credential(username)?.ha1[algorithm]
        guard let issued = nonceTime(nonce) else { return .rejected("not a nonce of this server") }
        let expected: String
        let count: UInt64
        switch fields["qop"]?.lowercased() {
        case nil:
            expected = Self.response(algorithm, ha1: ha1 ?? Self.decoy(algorithm), nonce: nonce, method: "\(request.method)", uri: uri)
            count = 0
        case "auth":
            guard let nc = fields["nc"], let cnonce = fields["cnonce"] else { return .rejected("qop=auth without nc or cnonce") }
            guard nc.utf8.count == 8, let parsed = UInt64(nc, radix: 16), parsed > 0 else { return .rejected("nc is not 8 hex digits") }
            expected = Self.response(
                algorithm, ha1: ha1 ?? Self.decoy(algorithm), nonce: nonce, qop: (nc: nc, cnonce: cnonce), method: "\(request.method)", uri: uri)
            count = parsed
        case .some(let other):
            return .rejected("unsupported qop \(other)")
        }
        let matches = Self.constantTimeEqual(expected, response.lowercased())
        guard ha1 != nil else { return .rejected("unknown user") }
        guard matches else { return .rejected("wrong response") }
        guard now - issued <= nonceLifetime, issued <= now + .seconds(1) else { return .stale }
        // Each nonce count once, rising (RFC 7616 §3.4.5); without qop, the nonce once.
        if let used = counts[nonce], count <= used.count { return .replayed }
        counts[nonce] = (count, issued)
        if counts.count > maximumNonces { forgetNonces(now: now) }
        return .authenticated(username: username)
    }

    private mutating func forgetNonces(now: Duration) {
        let lifetime = nonceLifetime
        counts = counts.filter { now - $0.value.issued <= lifetime }
        guard counts.count > maximumNonces else { return }
        // Still too many live ones: the oldest go (their phones are challenged afresh, nothing worse).
        let keep = counts.sorted { $0.value.issued > $1.value.issued }.prefix(maximumNonces * 3 / 4)
        counts = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }

    /// The request-digest (RFC 7616 §3.4.1): H(HA1:nonce:nc:cnonce:auth:HA2) with qop=auth,
    /// H(HA1:nonce:HA2) without, where HA2 = H(method:uri).
    public static func response(
        _ algorithm: DigestAlgorithm, ha1: String, nonce: String, qop: (nc: String, cnonce: String)? = nil,
        method: String, uri: String
    ) -> String {
        let ha2 = algorithm.hash("\(method):\(uri)")
        guard let qop else { return algorithm.hash("\(ha1):\(nonce):\(ha2)") }
        return algorithm.hash("\(ha1):\(nonce):\(qop.nc):\(qop.cnonce):auth:\(ha2)")
    }

    /// `time.salt.mac`: the salt makes every challenge's nonce its own (two phones challenged in
    /// the same millisecond must not share one, or one's nonce count would look like the other's replay).
    func makeNonce(now: Duration) -> String {
        let milliseconds = String(now.components.seconds * 1000 + now.components.attoseconds / 1_000_000_000_000_000)
        let salted = milliseconds + "." + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return salted + "." + mac(salted)
    }

    private func nonceTime(_ nonce: String) -> Duration? {
        guard let dot = nonce.lastIndex(of: ".") else { return nil }
        let salted = String(nonce[..<dot]), signature = String(nonce[nonce.index(after: dot)...])
        let time = SIPSyntax.splitFirst(salted, ".").0
        guard let milliseconds = Int64(time), Self.constantTimeEqual(mac(salted), signature) else { return nil }
        return .milliseconds(milliseconds)
    }

    private func mac(_ text: String) -> String {
        // HMAC-SHA-256 (RFC 2104), truncated to 128 bits.
        String(Hash.hex(HMAC.code(.sha256, key: secret, message: Array(text.utf8))).prefix(32))
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// `Digest a="b", c=d, …` → [a: b, c: d] (names lowercased, quotes removed).
    public static func parameters(_ header: String) -> [String: String]? {
        let trimmed = SIPSyntax.trim(header)
        guard trimmed.lowercased().hasPrefix("digest "), trimmed.count > 7 else { return nil }
        var fields: [String: String] = [:]
        for part in SIPSyntax.splitOutsideQuotes(String(trimmed.dropFirst(7)), ",") {
            let (name, value) = SIPSyntax.splitFirst(part, "=")
            guard let value else { return nil }
            let text = SIPSyntax.trim(value)
            fields[SIPSyntax.trim(name).lowercased()] = text.hasPrefix("\"") ? SIPSyntax.unquote(text) : text
        }
        return fields
    }
}
