/// A SplitMix64 generator: tiny, fast, and the same sequence for the same seed everywhere, so a
/// failing random test replays from its seed. Shared by the property and fuzz tests.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    /// Seeds spread by another odd multiplier: with the stream's own increment, seed n+1 would
    /// replay seed n's stream shifted by one.
    public init(seed: UInt64) { state = (seed &+ 1) &* 0xD6E8_FEB8_6659_FD93 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
