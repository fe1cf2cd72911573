/// SIP messages (RFC 3261 §7): a request or a response, its header fields in the order they came,
/// and a body. Header names are stored in their long, canonical form (`v` and `VIA` are both
/// `Via`), so every lookup is by one spelling; values are kept as text and read through the
/// typed accessors below (`via`, `cseq`, `from`, …) when a layer needs them.

public enum SIPMethod: Hashable, Sendable, CustomStringConvertible {
    case invite, ack, bye, cancel, register, options, info, update, refer, prack, subscribe, notify, message
    /// Any other token: methods are extensible (RFC 3261 §7.1), and an unknown one gets 501 or 405.
    case other(String)

    public init(_ token: String) {
        switch token {
        case "INVITE": self = .invite
        case "ACK": self = .ack
        case "BYE": self = .bye
        case "CANCEL": self = .cancel
        case "REGISTER": self = .register
        case "OPTIONS": self = .options
        case "INFO": self = .info
        case "UPDATE": self = .update
        case "REFER": self = .refer
        case "PRACK": self = .prack
        case "SUBSCRIBE": self = .subscribe
        case "NOTIFY": self = .notify
        case "MESSAGE": self = .message
        default: self = .other(token)
        }
    }

    /// Methods are case-sensitive (RFC 3261 §7.1).
    public var description: String {
        switch self {
        case .invite: "INVITE"
        case .ack: "ACK"
        case .bye: "BYE"
        case .cancel: "CANCEL"
        case .register: "REGISTER"
        case .options: "OPTIONS"
        case .info: "INFO"
        case .update: "UPDATE"
        case .refer: "REFER"
        case .prack: "PRACK"
        case .subscribe: "SUBSCRIBE"
        case .notify: "NOTIFY"
        case .message: "MESSAGE"
        case .other(let token): token
        }
    }
}

/// Header fields in arrival order. Several fields with the same name and one field with
/// comma-separated values mean the same (RFC 3261 §7.3.1); `values(_:)` gives them one by one.
public struct SIPHeaders: Sendable, Equatable, Sequence {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public private(set) var fields: [Field] = []

    public init() {}
    public init(_ fields: [(String, String)]) {
        for (name, value) in fields { add(name, value) }
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    public mutating func add(_ name: String, _ value: String) {
        fields.append(Field(name: SIPHeaders.canonicalName(name), value: value))
    }

    /// Replaces every field of this name by one (or removes them all when `value` is nil).
    public mutating func set(_ name: String, _ value: String?) {
        let name = SIPHeaders.canonicalName(name)
        if let index = fields.firstIndex(where: { $0.name == name }), let value {
            fields[index].value = value
            fields = fields.enumerated().filter { $0.offset <= index || $0.element.name != name }.map(\.element)
        } else {
            fields.removeAll { $0.name == name }
            if let value { fields.append(Field(name: name, value: value)) }
        }
    }

    public mutating func remove(_ name: String) { set(name, nil) }

    /// The first field's whole value.
    public subscript(name: String) -> String? {
        let name = SIPHeaders.canonicalName(name)
        return fields.first { $0.name == name }?.value
    }

    /// Every field of this name, each value once (list headers split at their top-level commas).
    public func values(_ name: String) -> [String] {
        let name = SIPHeaders.canonicalName(name)
        let matching = fields.filter { $0.name == name }.map(\.value)
        guard SIPHeaders.listHeaders.contains(name) else { return matching }
        return matching.flatMap { SIPSyntax.splitList($0) }
    }

    public func count(_ name: String) -> Int {
        let name = SIPHeaders.canonicalName(name)
        return fields.count { $0.name == name }
    }

    /// Header names are case-insensitive and may be written in compact form (RFC 3261 §7.3.3).
    public static func canonicalName(_ name: String) -> String {
        let lower = name.lowercased()
        if let long = compactForms[lower] { return long }
        return wellKnown[lower] ?? name
    }

    static let compactForms: [String: String] = [
        "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
        "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via",
        "o": "Event", "r": "Refer-To", "b": "Referred-By", "u": "Allow-Events", "x": "Session-Expires",
    ]

    static let wellKnown: [String: String] = Dictionary(
        uniqueKeysWithValues: [
            "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
            "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact", "Content-Disposition",
            "Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "CSeq", "Date",
            "Error-Info", "Event", "Expires", "From", "In-Reply-To", "Max-Forwards", "Min-Expires",
            "MIME-Version", "Organization", "Priority", "Proxy-Authenticate", "Proxy-Authorization",
            "Proxy-Require", "Record-Route", "Refer-To", "Referred-By", "Reply-To", "Require", "Retry-After",
            "Route", "Server", "Session-Expires", "Subject", "Supported", "Timestamp", "To", "Unsupported",
            "User-Agent", "Via", "Warning", "WWW-Authenticate",
        ].map { ($0.lowercased(), $0) })

    /// Headers whose value is a comma-separated list (RFC 3261 §7.3.1). Others (Date,
    /// Authorization, WWW-Authenticate, …) may hold commas that do not separate values.
    static let listHeaders: Set<String> = [
        "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events", "Call-Info",
        "Contact", "Content-Encoding", "Content-Language", "Error-Info", "In-Reply-To", "Proxy-Require",
        "Record-Route", "Require", "Route", "Supported", "Unsupported", "Via", "Warning",
    ]
}

public struct SIPRequest: Sendable, Equatable {
    public var method: SIPMethod
    /// The Request-URI as written; `uri` parses it when its scheme is sip or sips.
    public var requestURI: String
    public var headers: SIPHeaders
    public var body: [UInt8]

    public init(method: SIPMethod, requestURI: String, headers: SIPHeaders, body: [UInt8] = []) {
        self.method = method
        self.requestURI = requestURI
        self.headers = headers
        self.body = body
    }

    public var uri: SIPURI? { try? SIPURI(parsing: requestURI) }
}

public struct SIPResponse: Sendable, Equatable {
    public var status: Int
    public var reason: String
    public var headers: SIPHeaders
    public var body: [UInt8]

    public init(status: Int, reason: String? = nil, headers: SIPHeaders, body: [UInt8] = []) {
        self.status = status
        self.reason = reason ?? SIPResponse.reasonPhrase(status)
        self.headers = headers
        self.body = body
    }

    public var isProvisional: Bool { status < 200 }

    /// A response to `request`: the Via, From, To, Call-ID and CSeq copied (RFC 3261 §8.2.6.2),
    /// with a To tag added when `toTag` is given and the request's To has none.
    public init(answering request: SIPRequest, status: Int, reason: String? = nil, toTag: String? = nil) {
        var headers = SIPHeaders()
        for field in request.headers where ["Via", "From", "To", "Call-ID", "CSeq"].contains(field.name) {
            if field.name == "To", let toTag, let to = try? SIPNameAddress(parsing: field.value), to.tag == nil {
                headers.add("To", field.value + ";tag=" + toTag)
            } else {
                headers.add(field.name, field.value)
            }
        }
        self.init(status: status, reason: reason, headers: headers)
    }

    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Trying"
        case 180: "Ringing"
        case 183: "Session Progress"
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 413: "Request Entity Too Large"
        case 415: "Unsupported Media Type"
        case 416: "Unsupported URI Scheme"
        case 420: "Bad Extension"
        case 423: "Interval Too Brief"
        case 480: "Temporarily Unavailable"
        case 481: "Call/Transaction Does Not Exist"
        case 482: "Loop Detected"
        case 483: "Too Many Hops"
        case 486: "Busy Here"
        case 487: "Request Terminated"
        case 488: "Not Acceptable Here"
        case 491: "Request Pending"
        case 500: "Server Internal Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 504: "Server Time-out"
        case 505: "Version Not Supported"
        case 513: "Message Too Large"
        case 603: "Decline"
        default: status < 200 ? "Progress" : status < 300 ? "OK" : "Error"
        }
    }
}

public enum SIPMessage: Sendable, Equatable {
    case request(SIPRequest)
    case response(SIPResponse)

    public var headers: SIPHeaders {
        switch self {
        case .request(let request): request.headers
        case .response(let response): response.headers
        }
    }

    public var body: [UInt8] {
        switch self {
        case .request(let request): request.body
        case .response(let response): response.body
        }
    }
}

// MARK: Typed header values

/// `Via: SIP/2.0/UDP host:port;branch=z9hG4bK…;received=…;rport` (RFC 3261 §20.42, RFC 3581).
public struct SIPVia: Sendable, Equatable {
    public var transport: String
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters

    public init(transport: String, host: String, port: Int?, parameters: SIPParameters) {
        self.transport = transport
        self.host = host
        self.port = port
        self.parameters = parameters
    }

    public var branch: String? { parameters["branch"] ?? nil }

    public init(parsing text: String) throws(SIPParseError) {
        // "SIP / 2.0 / UDP" may carry LWS around the slashes (RFC 3261 §25.1 SLASH).
        let trimmed = SIPSyntax.trim(text)
        guard let protocolEnd = SIPSyntax.sentProtocolEnd(trimmed) else { throw .invalidHeader("Via", text) }
        let protocolParts = trimmed[..<protocolEnd].split(separator: "/").map { SIPSyntax.trim(String($0)) }
        guard protocolParts.count == 3, protocolParts[0].uppercased() == "SIP", protocolParts[1] == "2.0",
            SIPSyntax.isToken(protocolParts[2])
        else { throw .invalidHeader("Via", text) }
        transport = protocolParts[2].uppercased()
        let rest = SIPSyntax.trim(String(trimmed[protocolEnd...]))
        let (sentBy, parameterText) = SIPSyntax.splitFirst(rest, ";")
        guard let (host, port) = SIPSyntax.hostPort(SIPSyntax.trim(sentBy)) else { throw .invalidHeader("Via", text) }
        self.host = host
        self.port = port
        parameters = try SIPParameters(parsing: parameterText ?? "", header: "Via")
    }

    public var text: String {
        var out = "SIP/2.0/\(transport) \(SIPSyntax.hostText(host))"
        if let port { out += ":\(port)" }
        return out + parameters.text
    }
}

/// `;name=value;flag` parameters, in order; names compared case-insensitively.
public struct SIPParameters: Sendable, Equatable {
    public var items: [(name: String, value: String?)]

    public init(_ items: [(name: String, value: String?)] = []) { self.items = items }

    public static func == (lhs: SIPParameters, rhs: SIPParameters) -> Bool {
        lhs.items.elementsEqual(rhs.items) { $0.name == $1.name && $0.value == $1.value }
    }

    /// nil when absent; `.some(nil)` when present without a value.
    public subscript(name: String) -> String?? {
        get {
            let lower = name.lowercased()
            guard let item = items.first(where: { $0.name.lowercased() == lower }) else { return nil }
            return .some(item.value)
        }
        set {
            let lower = name.lowercased()
            items.removeAll { $0.name.lowercased() == lower }
            if let newValue { items.append((name, newValue)) }
        }
    }

    /// Parses `;a=b;c` (the leading ';' optional). Quoted values keep their quotes.
    init(parsing text: String, header: String) throws(SIPParseError) {
        items = []
        var text = SIPSyntax.trim(text)
        if text.hasPrefix(";") { text.removeFirst() }
        guard !text.isEmpty else { return }
        for part in SIPSyntax.splitOutsideQuotes(text, ";") {
            let (name, value) = SIPSyntax.splitFirst(part, "=")
            let trimmedName = SIPSyntax.trim(name)
            guard SIPSyntax.isToken(trimmedName) else { throw .invalidHeader(header, text) }
            let trimmedValue = value.map { SIPSyntax.trim($0) }
            if let trimmedValue, trimmedValue.isEmpty || (!trimmedValue.hasPrefix("\"") && !SIPSyntax.isParameterValue(trimmedValue)) {
                throw .invalidHeader(header, text)
            }
            items.append((trimmedName, trimmedValue))
        }
    }

    public var text: String {
        items.map { item in ";" + item.name + (item.value.map { "=" + $0 } ?? "") }.joined()
    }
}

/// `"Display Name" <sip:user@host>;tag=abc` or `sip:user@host;tag=abc` (From, To, Contact, Route…).
public struct SIPNameAddress: Sendable, Equatable {
    public var displayName: String?
    /// The address as written; `uri` parses it when it is a sip or sips URI.
    public var address: String
    public var parameters: SIPParameters

    public init(displayName: String? = nil, address: String, parameters: SIPParameters = SIPParameters()) {
        self.displayName = displayName
        self.address = address
        self.parameters = parameters
    }

    public var uri: SIPURI? { try? SIPURI(parsing: address) }
    public var tag: String? { parameters["tag"] ?? nil }

    public init(parsing text: String) throws(SIPParseError) {
        let trimmed = SIPSyntax.trim(text)
        if let open = SIPSyntax.firstIndexOutsideQuotes(trimmed, "<") {
            guard let close = trimmed[open...].firstIndex(of: ">") else { throw .invalidHeader("address", text) }
            let display = SIPSyntax.trim(String(trimmed[..<open]))
            if display.hasPrefix("\"") {
                guard let unquoted = SIPSyntax.unquote(display) else { throw .invalidHeader("address", text) }
                displayName = unquoted
            } else {
                // An unquoted display name is tokens separated by LWS.
                guard display.split(separator: " ").allSatisfy({ SIPSyntax.isToken(String($0)) }) else {
                    throw .invalidHeader("address", text)
                }
                displayName = display.isEmpty ? nil : display
            }
            address = String(trimmed[trimmed.index(after: open)..<close])
            guard !address.isEmpty, !address.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw .invalidHeader("address", text)
            }
            parameters = try SIPParameters(parsing: String(trimmed[trimmed.index(after: close)...]), header: "address")
        } else {
            // Without angle brackets, parameters after ';' belong to the header, not the URI
            // (RFC 3261 §20.10), and the address may not hold ',', ';' or '?'.
            let (uriText, parameterText) = SIPSyntax.splitFirst(trimmed, ";")
            address = SIPSyntax.trim(uriText)
            guard !address.isEmpty, !address.contains(where: { $0 == " " || $0 == "\t" || $0 == "?" }) else {
                throw .invalidHeader("address", text)
            }
            displayName = nil
            parameters = try SIPParameters(parsing: parameterText ?? "", header: "address")
        }
        guard address.contains(":") else { throw .invalidHeader("address", text) }
    }

    public var text: String {
        var out = ""
        if let displayName { out += SIPSyntax.quote(displayName) + " " }
        return out + "<" + address + ">" + parameters.text
    }
}

/// `CSeq: 314159 INVITE` (RFC 3261 §20.16): a 32-bit number and the request's method.
public struct SIPCSeq: Sendable, Equatable {
    public var number: UInt32
    public var method: SIPMethod

    public init(number: UInt32, method: SIPMethod) {
        self.number = number
        self.method = method
    }

    public init(parsing text: String) throws(SIPParseError) {
        let parts = SIPSyntax.trim(text).split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0].allSatisfy(\.isASCIIDigit), parts[0].count <= 10,
            let number = UInt32(parts[0]), SIPSyntax.isToken(String(parts[1]))
        else { throw .invalidHeader("CSeq", text) }
        self.number = number
        method = SIPMethod(String(parts[1]))
    }

    public var text: String { "\(number) \(method)" }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A message or its request or response: what carries header fields. The typed values every layer
/// reads come from here, parsed from the text when asked (a message the parser accepted always has
/// them: it refuses one that does not).
public protocol SIPHeaderCarrier {
    var headers: SIPHeaders { get }
}

extension SIPHeaderCarrier {
    public var topVia: SIPVia? { headers.values("Via").first.flatMap { try? SIPVia(parsing: $0) } }
    public var cseq: SIPCSeq? { headers["CSeq"].flatMap { try? SIPCSeq(parsing: $0) } }
    public var from: SIPNameAddress? { headers["From"].flatMap { try? SIPNameAddress(parsing: $0) } }
    public var to: SIPNameAddress? { headers["To"].flatMap { try? SIPNameAddress(parsing: $0) } }
    public var callID: String? { headers["Call-ID"] }
}

extension SIPMessage: SIPHeaderCarrier {}
extension SIPRequest: SIPHeaderCarrier {}
extension SIPResponse: SIPHeaderCarrier {}

extension SIPNameAddress {
    /// A display name as a quoted-string (RFC 3261 §25.1): quotes and backslashes escaped.
    public static func quotedDisplayName(_ text: String) -> String { SIPSyntax.quote(text) }
}
