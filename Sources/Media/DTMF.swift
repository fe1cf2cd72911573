/// RFC 4733 telephone events (`telephone-event`): a digit as an event in RTP.
///
///     0                   1                   2                   3
///    |     event     |E|R| volume    |          duration             |
public struct TelephoneEvent: Equatable, Sendable {
    /// 0–9, 10 = *, 11 = #, 12–15 = A–D.
    public var event: UInt8
    public var end: Bool
    /// Power level in −dBm0 (0–63).
    public var volume: UInt8
    /// In timestamp units (8 kHz: 160 = 20 ms).
    public var duration: UInt16

    public init(event: UInt8, end: Bool, volume: UInt8 = 10, duration: UInt16) {
        (self.event, self.end, self.volume, self.duration) = (event, end, volume & 0x3F, duration)
    }

    public init?(parsing payload: [UInt8]) {
        guard payload.count >= 4 else { return nil }
        event = payload[0]
        end = payload[1] & 0x80 != 0
        volume = payload[1] & 0x3F
        duration = UInt16(payload[2]) << 8 | UInt16(payload[3])
    }

    public func serialized() -> [UInt8] {
        [event, (end ? 0x80 : 0) | volume, UInt8(duration >> 8), UInt8(truncatingIfNeeded: duration)]
    }

    /// The digit as a character ("0"–"9", "*", "#", "A"–"D"), nil for other events.
    public var digit: Character? {
        switch event {
        case 0...9: Character(String(event))
        case 10: "*"
        case 11: "#"
        case 12...15: Character(UnicodeScalar(UInt8(ascii: "A") + event - 12))
        default: nil
        }
    }
}
