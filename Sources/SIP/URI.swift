/// A SIP or SIPS URI (RFC 3261 §19.1): `sip:user:password@host:port;uri-parameters?headers`.
/// Other schemes (tel, mailto…) are not parsed: a request for one gets 416.
public struct SIPURI: Sendable, Equatable, CustomStringConvertible {
    public var secure: Bool
    /// The user part with %-escapes undone.
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters
    public var headers: [(name: String, value: String)]

    public init(
        secure: Bool = false, user: String? = nil, host: String, port: Int? = nil,
        parameters: SIPParameters = SIPParameters()
    ) {
        self.secure = secure
        self.user = user
        password = nil
        self.host = host
        self.port = port
        self.parameters = parameters
        headers = []
    }

    public static func == (lhs: SIPURI, rhs: SIPURI) -> Bool {
        lhs.description == rhs.description
    }

    public init(parsing text: String) throws(SIPParseError) {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("sip:") {
            secure = false
            rest = text.dropFirst(4)
        } else if lower.hasPrefix("sips:") {
            secure = true
            rest = text.dropFirst(5)
        } else {
            throw .unsupportedURIScheme(text)
        }
        guard !rest.contains(where: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }) else {
            throw .invalidURI(text)
        }
        // Neither the parameters nor the headers may hold an unescaped '@', so the first one ends
        // the userinfo (which may itself hold ';' and '?', RFC 3261 §25.1 user-unreserved).
        var hostPart = rest
        if let at = rest.firstIndex(of: "@") {
            let userinfo = rest[..<at]
            hostPart = rest[rest.index(after: at)...]
            let (userText, passwordText) = SIPSyntax.splitFirst(String(userinfo), ":")
            guard !userText.isEmpty, let user = SIPURI.unescape(userText) else { throw .invalidURI(text) }
            self.user = user
            password = try passwordText.map { text throws(SIPParseError) in
                guard let password = SIPURI.unescape(text) else { throw .invalidURI(text) }
                return password
            }
        } else {
            user = nil
            password = nil
        }
        var headerText: Substring?
        if let question = hostPart.firstIndex(of: "?") {
            headerText = hostPart[hostPart.index(after: question)...]
            hostPart = hostPart[..<question]
        }
        let pieces = hostPart.split(separator: ";", omittingEmptySubsequences: false)
        guard let (host, port) = SIPSyntax.hostPort(String(pieces[0])) else { throw .invalidURI(text) }
        self.host = host
        self.port = port
        var parameters = SIPParameters()
        for piece in pieces.dropFirst() {
            let (name, value) = SIPSyntax.splitFirst(String(piece), "=")
            guard !name.isEmpty, let unescapedName = SIPURI.unescape(name),
                let unescapedValue = value.map({ SIPURI.unescape($0) }) ?? .some(nil)
            else { throw .invalidURI(text) }
            parameters.items.append((unescapedName, unescapedValue))
        }
        self.parameters = parameters
        headers = []
        if let headerText {
            for piece in headerText.split(separator: "&") {
                let (name, value) = SIPSyntax.splitFirst(String(piece), "=")
                guard let name = SIPURI.unescape(name), let value = SIPURI.unescape(value ?? "") else {
                    throw .invalidURI(text)
                }
                headers.append((name, value))
            }
        }
    }

    /// Undoes %HH escapes; nil when an escape is malformed or the bytes are not UTF-8.
    static func unescape(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard utf8.count >= 2, let high = hexValue(utf8.popFirst()!), let low = hexValue(utf8.popFirst()!) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Characters a user part may carry unescaped (RFC 3261 §25.1 unreserved / user-unreserved).
    private static func escapeUser(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80, c.isLetter || c.isNumber || "-_.!~*'()&=+$,;?/".contains(c) {
                out.append(c)
            } else {
                let digits = Array("0123456789ABCDEF")
                out += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
            }
        }
        return out
    }

    public var description: String {
        var out = secure ? "sips:" : "sip:"
        if let user { out += SIPURI.escapeUser(user) + (password.map { ":" + SIPURI.escapeUser($0) } ?? "") + "@" }
        out += SIPSyntax.hostText(host)
        if let port { out += ":\(port)" }
        out += parameters.text
        if !headers.isEmpty { out += "?" + headers.map { $0.name + "=" + $0.value }.joined(separator: "&") }
        return out
    }

    /// The address of record a registration binds: scheme, user and host (RFC 3261 §10.3 step 5).
    public var addressOfRecord: String {
        (secure ? "sips:" : "sip:") + (user.map { $0 + "@" } ?? "") + host.lowercased()
    }
}
