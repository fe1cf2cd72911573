/// A value written as its text: in JSON a plain string.
public protocol TextValue: Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    init(_ text: String)
    var rawValue: String { get }
}

extension TextValue {
    public init(stringLiteral value: String) { self.init(value) }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Names of things the core talks about. Each kind of ID is its own type so an agent's ID can
/// never be passed where a queue's is expected; all encode as a plain JSON string.
///
/// An ID keeps its text inline (`PackedName`), not in a `String`: IDs are copied, compared and
/// hashed on every command, and a plain-bytes value does that without reference counting. So IDs
/// are at most `PackedName.capacity` bytes; a longer one is kept as `isValid == false` and matches
/// nothing that was valid (the server refuses such input before it reaches the core).
public protocol Identifier: TextValue, Hashable, Comparable, Sendable {
    var name: PackedName { get }
    init(name: PackedName)
}

extension Identifier {
    public init(_ rawValue: String) { self.init(name: PackedName(rawValue)) }
    public var rawValue: String { name.string }
    /// Whether the text fitted (at most `PackedName.capacity` bytes of UTF-8).
    public var isValid: Bool { name.isWhole }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.name < rhs.name }
}

/// Up to 15 bytes of UTF-8 held inline in two words, like a short `String` but with no reference
/// to count. The last byte holds the length (low four bits), a flag a wrapper may use (0x40), and
/// 0x80 when the text was longer and had to be cut.
public struct PackedName: Hashable, Comparable, Sendable {
    public static let capacity = 15
    private var w0: UInt64 = 0, w1: UInt64 = 0

    public init(_ text: String, flag: Bool = false) {
        var text = text
        text.withUTF8 { utf8 in
            withUnsafeMutableBytes(of: &self) { raw in
                let count = min(utf8.count, Self.capacity)
                raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[0..<count]))
                raw[Self.capacity] = UInt8(count) | (flag ? 0x40 : 0) | (utf8.count > Self.capacity ? 0x80 : 0)
            }
        }
    }

    /// One word fed to the hasher instead of two: names are hashed on every look-up.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(w0 ^ (w1 &* 0x9E37_79B9_7F4A_7C15))
    }

    private var trailer: UInt8 { withUnsafeBytes(of: self) { $0[Self.capacity] } }
    var count: Int { Int(trailer & 0x0F) }
    var flag: Bool { trailer & 0x40 != 0 }
    public var isWhole: Bool { trailer & 0x80 == 0 }

    public var string: String {
        withUnsafeBytes(of: self) { raw in String(decoding: raw[0..<count], as: UTF8.self) }
    }

    /// Byte order, which for ASCII names is alphabetical order.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        withUnsafeBytes(of: lhs) { l in
            withUnsafeBytes(of: rhs) { r in l[0..<lhs.count].lexicographicallyPrecedes(r[0..<rhs.count]) }
        }
    }
}

public struct AgentID: Identifier {
    public let name: PackedName
    public init(name: PackedName) { self.name = name }
}

/// A supervisor: not an agent (takes no calls, has no state in the core), but may monitor,
/// coach or barge into calls.
public struct SupervisorID: Identifier {
    public let name: PackedName
    public init(name: PackedName) { self.name = name }
}

public struct InteractionID: Identifier {
    public let name: PackedName
    public init(name: PackedName) { self.name = name }
}

public struct QueueID: Identifier {
    public let name: PackedName
    public init(name: PackedName) { self.name = name }
}

public struct TeamID: Identifier {
    public let name: PackedName
    public init(name: PackedName) { self.name = name }
}

public struct WrapUpCodeID: Identifier {
    public let name: PackedName
    public init(name: PackedName) { self.name = name }
}

public struct IdleCodeID: Identifier {
    public let name: PackedName
    public init(name: PackedName) { self.name = name }
}

/// A telephone number: an optional "+" and then 2 to 15 digits (E.164's longest is 15). The
/// digits are packed like an ID's text, the "+" kept as the packed name's flag.
public struct DialNumber: TextValue, Hashable, Comparable, Sendable {
    let digits: PackedName

    public init(_ text: String) {
        let international = text.utf8.first == UInt8(ascii: "+")
        digits = PackedName(international ? String(text.dropFirst()) : text, flag: international)
    }

    public var rawValue: String { (digits.flag ? "+" : "") + digits.string }

    /// Whether the text is a dial number at all.
    public var isWellFormed: Bool {
        digits.isWhole && digits.count >= 2
            && digits.string.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A point in time, in milliseconds since the Unix epoch. The core never reads a clock: every
/// command carries the time it happened, so tests drive time by hand.
public struct Timestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public func adding(milliseconds delta: Int64) -> Timestamp {
        Timestamp(milliseconds: milliseconds + delta)
    }

    public var description: String { "t+\(milliseconds)ms" }

    public init(from decoder: any Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(milliseconds)
    }
}

extension Duration {
    /// Whole milliseconds, as `Timestamp` counts (the shell's timers and the SIP layer's alike).
    public var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
