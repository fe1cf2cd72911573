/// G.711 (ITU-T G.711): µ-law (PCMU, payload type 0) and A-law (PCMA, 8), 8 bits a sample at
/// 8 kHz, to and from 16-bit linear samples. Decoding is a 256-entry table; encoding follows the
/// standard's segment rule.
public enum G711 {
    /// Raw values: the codecs' names in SDP (RFC 3551), lowercased.
    public enum Law: String, Sendable, Hashable, Codable {
        case mu = "pcmu", a = "pcma"

        /// The static payload type (RFC 3551).
        public var payloadType: UInt8 { self == .mu ? 0 : 8 }

        public init?(payloadType: UInt8) {
            switch payloadType {
            case 0: self = .mu
            case 8: self = .a
            default: return nil
            }
        }
    }

    static let muBias: Int32 = 0x84
    static let muClip: Int32 = 32_635

    public static func encodeMu(_ sample: Int16) -> UInt8 {
        var value = Int32(sample)
        let sign: UInt8 = value < 0 ? 0x80 : 0
        if value < 0 { value = -value }
        value = min(value, muClip) + muBias
        var exponent: UInt8 = 7
        var mask: Int32 = 0x4000
        while exponent > 0, value & mask == 0 {
            exponent -= 1
            mask >>= 1
        }
        let mantissa = UInt8((value >> (Int32(exponent) + 3)) & 0x0F)
        return ~(sign | exponent << 4 | mantissa)
    }

    public static func decodeMu(_ byte: UInt8) -> Int16 {
        let value = ~byte
        let sign = value & 0x80, exponent = Int32((value >> 4) & 0x07), mantissa = Int32(value & 0x0F)
        let magnitude = ((mantissa << 3) + muBias) << exponent - muBias
        return Int16(sign != 0 ? -magnitude : magnitude)
    }

    public static func encodeA(_ sample: Int16) -> UInt8 {
        var value = Int32(sample) >> 3  // 13-bit
        let sign: UInt8 = value >= 0 ? 0x80 : 0
        if value < 0 { value = -value - 1 }
        value = min(value, 0x0FFF)
        var code: UInt8
        if value < 32 {
            code = UInt8(value >> 1)
        } else {
            var exponent: UInt8 = 1
            var limit: Int32 = 64
            while value >= limit, exponent < 7 {
                exponent += 1
                limit <<= 1
            }
            code = exponent << 4 | UInt8((value >> Int32(exponent)) & 0x0F)
        }
        return (sign | code) ^ 0x55
    }

    public static func decodeA(_ byte: UInt8) -> Int16 {
        let value = byte ^ 0x55
        let exponent = Int32((value >> 4) & 0x07), mantissa = Int32(value & 0x0F)
        var magnitude: Int32 = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1)
        if value & 0x80 == 0 { magnitude = -magnitude }
        return Int16(magnitude)
    }

    static let muTable: [Int16] = (0...255).map { decodeMu(UInt8($0)) }
    static let aTable: [Int16] = (0...255).map { decodeA(UInt8($0)) }

    public static func decode(_ bytes: [UInt8], _ law: Law) -> [Int16] {
        let table = law == .mu ? muTable : aTable
        return bytes.map { table[Int($0)] }
    }

    // Encoding by table: one lookup per sample instead of the segment search (64 KiB per law,
    // made once; the mixer encodes a frame per listener per tick).
    static let muEncodeTable: [UInt8] = (0...65_535).map { encodeMu(Int16(bitPattern: UInt16($0))) }
    static let aEncodeTable: [UInt8] = (0...65_535).map { encodeA(Int16(bitPattern: UInt16($0))) }

    public static func encode(_ samples: [Int16], _ law: Law) -> [UInt8] {
        let table = law == .mu ? muEncodeTable : aEncodeTable
        return table.withUnsafeBufferPointer { table in samples.map { table[Int(UInt16(bitPattern: $0))] } }
    }

    /// A listener's share of a mix: `total` less its own frame, clipped to 16 bits and encoded,
    /// in one pass.
    public static func encodeMix(_ total: [Int32], lessOwn own: [Int16], _ law: Law) -> [UInt8] {
        let table = law == .mu ? muEncodeTable : aEncodeTable
        let count = total.count
        return [UInt8](unsafeUninitializedCapacity: count) { bytes, initialized in
            table.withUnsafeBufferPointer { table in
                total.withUnsafeBufferPointer { total in
                    own.withUnsafeBufferPointer { own in
                        for i in 0..<count {
                            let sample = Int16(clamping: total[i] &- (i < own.count ? Int32(own[i]) : 0))
                            bytes[i] = table[Int(UInt16(bitPattern: sample))]
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// One law's bytes in the other's, through linear (for legs that chose different codecs).
    public static func transcode(_ bytes: [UInt8], from: Law, to: Law) -> [UInt8] {
        from == to ? bytes : encode(decode(bytes, from), to)
    }
}
