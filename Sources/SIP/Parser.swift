/// Why a message was refused, and what the sender is owed: `status` is the response a request
/// gets when it can be answered (it has a readable Via, From, To, Call-ID and CSeq), else the
/// message is dropped (RFC 3261 §16.3, §18.3).
public enum SIPParseError: Error, Equatable, Sendable {
    case incomplete
    case notUTF8
    case malformedStartLine(String)
    case unsupportedVersion(String)
    case malformedHeaderLine(String)
    case invalidHeader(String, String)
    case missingHeader(String)
    case duplicateHeader(String)
    case methodMismatch(String)
    case invalidURI(String)
    case unsupportedURIScheme(String)
    case contentLength(String)
    case tooLarge(Int)

    public var status: Int {
        switch self {
        case .unsupportedVersion: 505
        case .unsupportedURIScheme: 416
        case .tooLarge: 513
        case .incomplete, .notUTF8, .malformedStartLine, .malformedHeaderLine, .invalidHeader, .missingHeader,
            .duplicateHeader, .methodMismatch, .invalidURI, .contentLength:
            400
        }
    }

    /// The reason phrase of the 4xx/5xx: says what was wrong, so a peer's log tells its operator.
    public var reason: String {
        switch self {
        case .incomplete: "Bad Request (incomplete message)"
        case .notUTF8: "Bad Request (not UTF-8)"
        case .malformedStartLine: "Bad Request (malformed start line)"
        case .unsupportedVersion: "Version Not Supported"
        case .malformedHeaderLine: "Bad Request (malformed header line)"
        case .invalidHeader(let name, _): "Bad Request (invalid \(name))"
        case .missingHeader(let name): "Bad Request (missing \(name))"
        case .duplicateHeader(let name): "Bad Request (more than one \(name))"
        case .methodMismatch: "Bad Request (CSeq method does not match)"
        case .invalidURI: "Bad Request (invalid Request-URI)"
        case .unsupportedURIScheme: "Unsupported URI Scheme"
        case .contentLength(let why): "Bad Request (\(why))"
        case .tooLarge: "Message Too Large"
        }
    }
}

/// Parses SIP messages from bytes. A datagram holds one message; a stream (TCP) is framed by
/// `SIPStreamFramer`, which needs each message's Content-Length.
public enum SIPParser {
    /// The largest message accepted (a UDP datagram's payload can be no larger).
    public static let maximumMessageSize = 65_535

    public enum Transport: Sendable { case datagram, stream }

    /// One UDP datagram. Over UDP a missing Content-Length means the body is the rest of the
    /// datagram, extra bytes past Content-Length are dropped, and a Content-Length past the end
    /// is an error (RFC 3261 §18.3).
    public static func parse(datagram bytes: [UInt8]) throws(SIPParseError) -> SIPMessage {
        guard bytes.count <= maximumMessageSize else { throw .tooLarge(bytes.count) }
        var start = 0
        while start + 1 < bytes.count, bytes[start] == 13, bytes[start + 1] == 10 { start += 2 }
        guard let headerEnd = headerEnd(bytes, from: start) else { throw .incomplete }
        var head = try parseHead(bytes[start..<headerEnd.lineEnd])
        let available = bytes.count - headerEnd.bodyStart
        let length = try contentLength(head.headers) ?? available
        guard length <= available else {
            throw .contentLength("Content-Length \(length) is past the datagram's end (\(available) bytes)")
        }
        head.body = Array(bytes[headerEnd.bodyStart..<headerEnd.bodyStart + length])
        return head.message
    }

    /// The header block's lines, cut at each CRLF on the bytes (cutting the text Character by
    /// Character was the parser's largest cost); nil when the block is not UTF-8.
    static func lines(_ bytes: ArraySlice<UInt8>) -> [String]? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        var lines: [String] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            if bytes[index] == 13, bytes[index + 1] == 10 {
                lines.append(String(decoding: bytes[start..<index], as: UTF8.self))
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(String(decoding: bytes[start..<bytes.endIndex], as: UTF8.self))
        return lines
    }

    /// Where the header block ends: the index of the CRLF CRLF, and where the body starts.
    static func headerEnd(_ bytes: [UInt8], from start: Int) -> (lineEnd: Int, bodyStart: Int)? {
        var index = start
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                return (index, index + 4)
            }
            index += 1
        }
        return nil
    }

    static func contentLength(_ headers: SIPHeaders) throws(SIPParseError) -> Int? {
        let values = headers.fields.filter { $0.name == "Content-Length" }.map(\.value)
        guard let text = values.first else { return nil }
        guard values.count == 1 else { throw .duplicateHeader("Content-Length") }
        let trimmed = SIPSyntax.trim(text)
        guard !trimmed.isEmpty, trimmed.count <= 9, trimmed.allSatisfy(\.isASCIIDigit), let length = Int(trimmed) else {
            throw .contentLength("Content-Length \"\(text)\" is not a number of bytes")
        }
        return length
    }

    struct Head {
        var startLine: StartLine
        var headers: SIPHeaders
        var body: [UInt8] = []

        var message: SIPMessage {
            switch startLine {
            case .request(let method, let uri):
                .request(SIPRequest(method: method, requestURI: uri, headers: headers, body: body))
            case .response(let status, let reason):
                .response(SIPResponse(status: status, reason: reason, headers: headers, body: body))
            }
        }
    }

    enum StartLine {
        case request(SIPMethod, String)
        case response(Int, String)
    }

    /// The start line and header fields (everything before the blank line), checked.
    static func parseHead(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> Head {
        guard var lines = lines(bytes) else { throw .notUTF8 }
        let first = lines.removeFirst()
        let startLine = try parseStartLine(first)
        var headers = SIPHeaders()
        var current: (name: String, value: String)?
        for line in lines {
            if line.first == " " || line.first == "\t" {
                // A folded line continues the previous field's value (RFC 3261 §7.3.1).
                guard current != nil else { throw .malformedHeaderLine(line) }
                current!.value += " " + SIPSyntax.trim(line)
                continue
            }
            if let field = current { headers.add(field.name, SIPSyntax.trim(field.value)) }
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeaderLine(line) }
            let name = SIPSyntax.trim(line[..<colon])
            guard SIPSyntax.isToken(name), !line[..<colon].hasPrefix(" ") else { throw .malformedHeaderLine(line) }
            current = (name, String(line[line.index(after: colon)...]))
        }
        if let field = current { headers.add(field.name, SIPSyntax.trim(field.value)) }
        try check(headers, startLine)
        return Head(startLine: startLine, headers: headers)
    }

    static func parseStartLine(_ line: String) throws(SIPParseError) -> StartLine {
        if line.hasPrefix("SIP/") || line.lowercased().hasPrefix("sip/") {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else { throw .malformedStartLine(line) }
            try checkVersion(String(parts[0]), line)
            guard parts[1].count == 3, parts[1].allSatisfy(\.isASCIIDigit), let status = Int(parts[1]),
                (100...699).contains(status)
            else { throw .malformedStartLine(line) }
            return .response(status, parts.count == 3 ? String(parts[2]) : "")
        }
        // Request-Line = Method SP Request-URI SP SIP-Version: single spaces, no other whitespace.
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, SIPSyntax.isToken(String(parts[0])), !parts[1].isEmpty,
            !parts[1].contains(where: { $0 == "\t" })
        else { throw .malformedStartLine(line) }
        try checkVersion(String(parts[2]), line)
        // An absolute URI: a scheme first (not "<sip:…>", RFC 4475 §3.1.2.7), and a SIP URI
        // carries no headers there (§19.1.5; RFC 4475 §3.1.2.11).
        let uri = String(parts[1])
        guard uri.first?.isLetter == true, uri.contains(":") else { throw .invalidURI(uri) }
        if let parsed = try? SIPURI(parsing: uri), !parsed.headers.isEmpty { throw .invalidURI(uri) }
        return .request(SIPMethod(String(parts[0])), uri)
    }

    static func checkVersion(_ version: String, _ line: String) throws(SIPParseError) {
        if version.uppercased() == "SIP/2.0" { return }
        let upper = version.uppercased()
        let number = upper.dropFirst(4).split(separator: ".", omittingEmptySubsequences: false)
        if upper.hasPrefix("SIP/"), number.count == 2, number.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) {
            throw .unsupportedVersion(version)
        }
        throw .malformedStartLine(line)
    }

    /// The fields every message must carry, each readable (RFC 3261 §8.1.1): one To, From,
    /// Call-ID and CSeq (whose method is the request's), at least one Via.
    static func check(_ headers: SIPHeaders, _ startLine: StartLine) throws(SIPParseError) {
        for name in ["To", "From", "Call-ID", "CSeq"] {
            switch headers.count(name) {
            case 0: throw .missingHeader(name)
            case 1: break
            default: throw .duplicateHeader(name)
            }
        }
        let vias = headers.values("Via")
        guard !vias.isEmpty else { throw .missingHeader("Via") }
        for via in vias { _ = try SIPVia(parsing: via) }
        _ = try SIPNameAddress(parsing: headers["To"]!)
        _ = try SIPNameAddress(parsing: headers["From"]!)
        for contact in headers.values("Contact") where contact != "*" {
            _ = try SIPNameAddress(parsing: contact)
        }
        let callID = headers["Call-ID"]!
        guard !callID.isEmpty, !callID.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw .invalidHeader("Call-ID", callID)
        }
        let cseq = try SIPCSeq(parsing: headers["CSeq"]!)
        if case .request(let method, _) = startLine, cseq.method != method {
            throw .methodMismatch("\(method) with CSeq \(cseq.text)")
        }
        if let maxForwards = headers["Max-Forwards"] {
            guard headers.count("Max-Forwards") == 1 else { throw .duplicateHeader("Max-Forwards") }
            guard !maxForwards.isEmpty, maxForwards.allSatisfy(\.isASCIIDigit), let hops = Int(maxForwards),
                hops <= 255
            else { throw .invalidHeader("Max-Forwards", maxForwards) }
        }
        if let expires = headers["Expires"] {
            guard !expires.isEmpty, expires.allSatisfy(\.isASCIIDigit) else { throw .invalidHeader("Expires", expires) }
        }
    }
}

/// Cuts a byte stream (TCP) into messages: each one's length is its headers plus its
/// Content-Length, which a stream message must carry (RFC 3261 §18.3). CRLFs between messages
/// (keep-alives) are skipped. A message whose framing is sound but which is not valid SIP (another
/// version, a missing From, a CSeq for another method…) is handed out as refused, with the error
/// its 400/505 says, and the stream goes on; only broken framing (no or conflicting
/// Content-Length, headers that never end) leaves the stream unusable: the connection is closed.
public struct SIPStreamFramer: Sendable {
    private var buffer: [UInt8] = []

    public init() {}

    public mutating func append(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// Whether bytes of an unfinished message wait (after `next()` has returned nil).
    public var holdsPartialMessage: Bool { !buffer.isEmpty }

    /// What the framer holds and could not frame (for the 400 owed before the connection closes).
    public var pendingBytes: [UInt8] { buffer }

    public enum Framed: Equatable, Sendable {
        case message(SIPMessage)
        /// A whole message that is not valid SIP: its bytes and why (for its error response).
        case refused([UInt8], SIPParseError)
    }

    /// The next complete message, or nil until more bytes come; throws when the framing is broken.
    public mutating func nextFramed() throws(SIPParseError) -> Framed? {
        var start = 0
        while start < buffer.count, buffer[start] == 13 || buffer[start] == 10 { start += 1 }
        if start > 0 { buffer.removeFirst(start) }
        guard let headerEnd = SIPParser.headerEnd(buffer, from: 0) else {
            if buffer.count > SIPParser.maximumMessageSize { throw .tooLarge(buffer.count) }
            return nil
        }
        let length = try Self.framingLength(buffer[0..<headerEnd.lineEnd])
        guard headerEnd.bodyStart + length <= SIPParser.maximumMessageSize else {
            throw .tooLarge(headerEnd.bodyStart + length)
        }
        guard buffer.count >= headerEnd.bodyStart + length else { return nil }
        let bytes = Array(buffer[0..<headerEnd.bodyStart + length])
        buffer.removeFirst(headerEnd.bodyStart + length)
        do {
            return .message(try SIPParser.parse(datagram: bytes))
        } catch {
            return .refused(bytes, error)
        }
    }

    /// The next complete message; a refused one is thrown like broken framing (for callers that
    /// close on either).
    public mutating func next() throws(SIPParseError) -> SIPMessage? {
        switch try nextFramed() {
        case nil: return nil
        case .message(let message): return message
        case .refused(_, let error): throw error
        }
    }

    /// The message's length from its Content-Length (`l` compact), read leniently from the raw
    /// header lines so that a message the parser refuses can still be stepped over. None, or two
    /// that disagree, break the framing.
    static func framingLength(_ head: ArraySlice<UInt8>) throws(SIPParseError) -> Int {
        guard let lines = SIPParser.lines(head) else { throw .notUTF8 }
        var lengths: Set<String> = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = SIPSyntax.trim(String(line[..<colon])).lowercased()
            guard name == "content-length" || name == "l" else { continue }
            lengths.insert(SIPSyntax.trim(String(line[line.index(after: colon)...])))
        }
        guard let text = lengths.first else { throw .contentLength("a message over a stream must carry Content-Length") }
        guard lengths.count == 1, !text.isEmpty, text.count <= 9, text.allSatisfy(\.isASCIIDigit), let length = Int(text) else {
            throw .contentLength("Content-Length \"\(lengths.sorted().joined(separator: "\", \""))\" does not frame the message")
        }
        return length
    }
}

extension SIPMessage {
    /// The message as bytes, Content-Length always set to the body's length.
    public func serialized() -> [UInt8] {
        var text: String
        switch self {
        case .request(let request): text = "\(request.method) \(request.requestURI) SIP/2.0\r\n"
        case .response(let response): text = "SIP/2.0 \(response.status) \(response.reason)\r\n"
        }
        var wroteLength = false
        for field in headers {
            if field.name == "Content-Length" {
                // Where it was, with the body's real length; once.
                if !wroteLength { text += "Content-Length: \(body.count)\r\n" }
                wroteLength = true
            } else {
                text += field.name + ": " + field.value + "\r\n"
            }
        }
        if !wroteLength { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + body
    }
}

extension SIPRequest {
    public func serialized() -> [UInt8] { SIPMessage.request(self).serialized() }
}

extension SIPResponse {
    public func serialized() -> [UInt8] { SIPMessage.response(self).serialized() }
}

extension SIPParser {
    /// Whether a Via says where to answer, even one of another SIP version (a 505 must reach it).
    static func readableVia(_ text: String) -> Bool {
        if (try? SIPVia(parsing: text)) != nil { return true }
        let trimmed = SIPSyntax.trim(text)
        guard let end = SIPSyntax.sentProtocolEnd(trimmed),
            let transport = trimmed[..<end].split(separator: "/").last.map({ SIPSyntax.trim(String($0)) })
        else { return false }
        return (try? SIPVia(parsing: "SIP/2.0/\(transport)" + trimmed[end...])) != nil
    }

    /// The response a refused datagram is owed (RFC 3261 §8.2, §16.3): only a request whose Via,
    /// From, To, Call-ID and CSeq can be copied gets one; anything else is dropped.
    public static func errorResponse(to bytes: [UInt8], error: SIPParseError) -> SIPResponse? {
        var start = 0
        while start + 1 < bytes.count, bytes[start] == 13, bytes[start + 1] == 10 { start += 2 }
        let end = headerEnd(bytes, from: start)?.lineEnd ?? bytes.count
        guard end > start, var lines = lines(bytes[start..<end]) else { return nil }
        let first = lines.removeFirst()
        // Only requests are answered, and only ones whose method can be read.
        guard !first.uppercased().hasPrefix("SIP/"), let method = first.split(separator: " ").first,
            SIPSyntax.isToken(String(method)), method != "ACK"
        else { return nil }
        var headers = SIPHeaders()
        for line in lines where !(line.first == " " || line.first == "\t") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = SIPHeaders.canonicalName(SIPSyntax.trim(line[..<colon]))
            guard ["Via", "From", "To", "Call-ID", "CSeq"].contains(name) else { continue }
            headers.add(name, SIPSyntax.trim(line[line.index(after: colon)...]))
        }
        // Where the response goes is all it needs; the rest is copied as it came, so the peer can
        // match what it can (RFC 4475 §3.3.1: a request without To, From or Call-ID still gets 400).
        guard let via = headers.values("Via").first, Self.readableVia(via) else { return nil }
        var response = SIPResponse(status: error.status, reason: error.reason, headers: headers)
        if case .tooLarge = error { response.reason = "Message Too Large" }
        return response
    }
}
