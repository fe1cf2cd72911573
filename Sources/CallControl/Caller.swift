/// Who is calling, as the line tells it. A customer is answered and queued whatever it says: a
/// number when there is one, else the caller's address (a SIP caller such as `alice@example.com`),
/// a display name when one is given, or nothing at all when the caller withheld their identity
/// (RFC 3323: `anonymous`, `Privacy: id`). The shell reads it from the call; the core keeps it with
/// the customer and never routes on it.
public struct Caller: Hashable, Sendable, ExpressibleByStringLiteral {
    /// The calling number, when the line gave one.
    public let number: DialNumber?
    /// Where the caller called from when that is not a number (`user@host`, without the scheme).
    public let address: String?
    /// The name the caller's line shows (a SIP display name), when given.
    public let name: String?
    /// The caller asked that their identity not be shown: nothing else is kept.
    public let withheld: Bool

    /// The longest name and address kept, in bytes (longer ones are cut at a character boundary).
    public static let maximumNameBytes = 64
    public static let maximumAddressBytes = 128

    /// A caller known by number only (the simulator, tests).
    public init(stringLiteral number: String) { self.init(number: DialNumber(number)) }

    /// Names and addresses are made printable and cut to their bound here, so whatever a line
    /// sent, the customer's identity is bounded text.
    public init(number: DialNumber? = nil, address: String? = nil, name: String? = nil) {
        self.number = number
        self.address = Self.clean(address, maximumBytes: Self.maximumAddressBytes)
        self.name = Self.clean(name, maximumBytes: Self.maximumNameBytes)
        self.withheld = false
    }

    private init(withheld: Void) {
        number = nil
        address = nil
        name = nil
        self.withheld = true
    }

    /// A caller who withheld their identity.
    public static let withheld = Caller(withheld: ())

    /// Whether the core takes it: a number, when given, must be one.
    public var isWellFormed: Bool { number?.isWellFormed ?? true }

    /// Control characters become spaces, runs of spaces one, the ends trimmed; empty is nil.
    static func clean(_ text: String?, maximumBytes: Int) -> String? {
        guard let text else { return nil }
        var out = ""
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            let isSpace = scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
                || scalar.properties.generalCategory == .format
            if isSpace {
                pendingSpace = !out.isEmpty
                continue
            }
            let piece = (pendingSpace ? " " : "") + String(scalar)
            if out.utf8.count + piece.utf8.count > maximumBytes { break }
            out += piece
            pendingSpace = false
        }
        return out.isEmpty ? nil : out
    }
}

extension Caller: CustomStringConvertible {
    /// How a person should see the caller: "Withheld number", "Alice (+15550100)", "+15550100",
    /// "alice@example.com", "Alice", or "Unknown caller" when the line said nothing.
    public var label: String {
        if withheld { return "Withheld number" }
        let reach = number?.rawValue ?? address
        switch (name, reach) {
        case (let name?, let reach?): return "\(name) (\(reach))"
        case (let name?, nil): return name
        case (nil, let reach?): return reach
        case (nil, nil): return "Unknown caller"
        }
    }

    public var description: String { label }
}
