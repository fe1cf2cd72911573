/// The small grammar pieces of RFC 3261 §25 that several header parsers share: tokens, quoted
/// strings, host and port, lists split at top-level commas.
enum SIPSyntax {
    static let tokenPunctuation: Set<Character> = ["-", ".", "!", "%", "*", "_", "+", "`", "'", "~"]

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || tokenPunctuation.contains($0)) }
    }

    /// A generic-param value: a token or a host (IPv6 references included).
    static func isParameterValue(_ text: String) -> Bool {
        isToken(text) || hostPort(text).map { $0.1 == nil } == true
    }

    static func trim(_ text: some StringProtocol) -> String {
        var slice = Substring(text)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }

    static func splitFirst(_ text: String, _ separator: Character) -> (String, String?) {
        guard let index = firstIndexOutsideQuotes(text, separator) else { return (text, nil) }
        return (String(text[..<index]), String(text[text.index(after: index)...]))
    }

    /// The first `character` not inside a quoted string (where `\` escapes the next character).
    static func firstIndexOutsideQuotes(_ text: String, _ character: Character) -> String.Index? {
        var inQuotes = false, escaped = false
        for index in text.indices {
            let c = text[index]
            if escaped { escaped = false; continue }
            if inQuotes {
                if c == "\\" { escaped = true } else if c == "\"" { inQuotes = false }
                continue
            }
            if c == "\"" { inQuotes = true; continue }
            if c == character { return index }
        }
        return nil
    }

    static func splitOutsideQuotes(_ text: String, _ separator: Character) -> [String] {
        var parts: [String] = []
        var rest = text
        while let index = firstIndexOutsideQuotes(rest, separator) {
            parts.append(String(rest[..<index]))
            rest = String(rest[rest.index(after: index)...])
        }
        parts.append(rest)
        return parts
    }

    /// Splits a list header's value at commas outside quotes and angle brackets.
    static func splitList(_ value: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var inQuotes = false, escaped = false, inAngle = false
        for c in value {
            if escaped { escaped = false; current.append(c); continue }
            if inQuotes {
                if c == "\\" { escaped = true } else if c == "\"" { inQuotes = false }
                current.append(c)
                continue
            }
            switch c {
            case "\"": inQuotes = true
            case "<": inAngle = true
            case ">": inAngle = false
            case "," where !inAngle:
                parts.append(trim(current))
                current = ""
                continue
            default: break
            }
            current.append(c)
        }
        parts.append(trim(current))
        return parts.filter { !$0.isEmpty }
    }

    /// `"text"` → text, with `\x` escapes undone; nil when not a well-formed quoted string.
    static func unquote(_ text: String) -> String? {
        guard text.count >= 2, text.first == "\"", text.last == "\"" else { return nil }
        var out = ""
        var escaped = false
        for c in text.dropFirst().dropLast() {
            if escaped { out.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "\"" { return nil }
            out.append(c)
        }
        return escaped ? nil : out
    }

    static func quote(_ text: String) -> String {
        "\"" + text.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
    }

    /// Where `SIP / 2.0 / UDP` ends in a Via value: after the third slash-separated token.
    static func sentProtocolEnd(_ text: String) -> String.Index? {
        var slashes = 0
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "/" { slashes += 1 }
            if slashes == 2 && c != "/" && c != " " && c != "\t" {
                // Inside the transport token: it ends at the first LWS.
                var end = index
                while end < text.endIndex, text[end] != " ", text[end] != "\t" { end = text.index(after: end) }
                return end
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// `host`, `host:port`, `[v6]`, `[v6]:port` → (host without brackets, port).
    static func hostPort(_ text: String) -> (String, Int?)? {
        var host: String
        var portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { return nil }
                portText = String(after.dropFirst())
            }
            guard isIPv6(host) else { return nil }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = String(parts[0])
            portText = parts.count == 2 ? String(parts[1]) : nil
            guard isHostname(host) else { return nil }
        }
        guard let portText else { return (host, nil) }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCIIDigit),
            let port = Int(portText), port <= 65535
        else { return nil }
        return (host, port)
    }

    /// A hostname or IPv4 address (RFC 3261 §25.1: labels of letters, digits and '-', a final dot allowed).
    static func isHostname(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 255 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if label.isEmpty { if index == labels.count - 1 && index > 0 { continue } else { return false } }
            guard label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
                label.first != "-", label.last != "-"
            else { return false }
        }
        return true
    }

    static func isIPv6(_ text: String) -> Bool {
        guard !text.isEmpty, text.contains(":") else { return false }
        let allowed = text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        guard allowed, text.components(separatedBy: "::").count <= 2 else { return false }
        let groups = text.split(separator: ":", omittingEmptySubsequences: true)
        guard groups.count <= 8 else { return false }
        for (index, group) in groups.enumerated() {
            if group.contains(".") {
                guard index == groups.count - 1, group.split(separator: ".").count == 4 else { return false }
            } else if group.count > 4 {
                return false
            }
        }
        return true
    }

    static func hostText(_ host: String) -> String { host.contains(":") ? "[" + host + "]" : host }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }

    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = self[...]
        while let range = rest.range(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        guard !target.isEmpty, count >= target.count else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(target) {
                return index..<self.index(index, offsetBy: target.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}
