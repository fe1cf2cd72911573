/// Who an INVITE says is calling: RFC 3261's From, RFC 3325's P-Asserted-Identity when the
/// request comes from a trusted trunk, and RFC 3323's privacy (`anonymous`, `Privacy: id`).
/// Every caller has an identity, even one that withheld it; none is refused for what it says.
public struct CallingIdentity: Equatable, Sendable {
    /// The calling number: an optional "+" and 2 to 15 digits, visual separators removed.
    public var number: String?
    /// Where the call came from when that is not a number: `user@host` (or the host alone).
    public var address: String?
    /// The display name, when the caller's line gives one.
    public var displayName: String?
    /// The caller asked not to be identified: nothing else is kept.
    public var withheld: Bool

    public init(number: String? = nil, address: String? = nil, displayName: String? = nil, withheld: Bool = false) {
        self.number = number
        self.address = address
        self.displayName = displayName
        self.withheld = withheld
    }

    public static let withheld = CallingIdentity(withheld: true)

    /// `trusted`: the request comes from a trunk whose P-Asserted-Identity is believed (RFC 3325
    /// §5: only inside a trust domain); from anyone else it is ignored, as anyone can write it.
    public init(of request: SIPRequest, trusted: Bool) {
        let privacy = request.headers.values("Privacy").flatMap { $0.split(separator: ";") }.map {
            SIPSyntax.trim(String($0)).lowercased()
        }
        // RFC 3323 §4.2: "id" hides the asserted identity, "user" and "header" what the user wrote.
        if privacy.contains(where: { $0 == "id" || $0 == "user" || $0 == "header" }) {
            self = .withheld
            return
        }
        let asserted = trusted
            ? request.headers.values("P-Asserted-Identity").compactMap { try? SIPNameAddress(parsing: $0) }.first
            : nil
        let from = request.from
        guard let party = asserted ?? from else {
            self = .withheld
            return
        }
        let (user, host) = Self.userAndHost(party.address)
        // RFC 3323 §4.1.1.3: an anonymous From (`anonymous@anonymous.invalid`) withholds the caller.
        if user?.lowercased() == "anonymous" || host?.lowercased() == "anonymous.invalid" {
            self = .withheld
            return
        }
        let name = (party.displayName ?? (asserted != nil ? from?.displayName : nil)).flatMap { name in
            name.lowercased() == "anonymous" || name.lowercased() == "unknown" ? nil : name
        }
        if let number = user.flatMap(Self.number) {
            self.init(number: number, displayName: name)
        } else if let host {
            self.init(address: user.map { $0 + "@" + host } ?? host, displayName: name)
        } else {
            self.init(displayName: name)
        }
    }

    /// A `sip:`/`sips:` URI's user and host; a `tel:` URI's number as the user.
    static func userAndHost(_ address: String) -> (user: String?, host: String?) {
        if address.lowercased().hasPrefix("tel:") {
            let number = address.dropFirst(4).split(separator: ";", maxSplits: 1).first.map(String.init)
            return (number, nil)
        }
        guard let uri = try? SIPURI(parsing: address) else { return (nil, nil) }
        // A user part may carry parameters of a telephone-subscriber (`+1555;isub=1`).
        let user = uri.user.map { String($0.split(separator: ";", maxSplits: 1).first ?? "") }
        return (user.flatMap { $0.isEmpty ? nil : $0 }, uri.host.isEmpty ? nil : uri.host)
    }

    /// The text as a dial number, when it is one: "+" and 2–15 digits once RFC 3966's visual
    /// separators ("-", ".", "(", ")") are removed.
    static func number(_ text: String) -> String? {
        let kept = text.filter { !"-.()".contains($0) }
        let digits = kept.hasPrefix("+") ? kept.dropFirst() : Substring(kept)
        guard (2...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return kept
    }
}
