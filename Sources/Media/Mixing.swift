/// Mixing 20 ms frames of 16-bit linear audio (160 samples at 8 kHz).
public enum Frame {
    public static let samples = 160
    public static let milliseconds = 20
    public static let silence = [Int16](repeating: 0, count: samples)
}

/// An N−1 mix: each party hears the sum of everyone else, saturated to 16 bits (clipping, not
/// wrapping). The sum of all is made once; each party's mix is that sum less their own frame, so
/// the cost grows with the parties, not with their square.
public func mixNMinusOne<Key: Hashable>(_ frames: [Key: [Int16]]) -> [Key: [Int16]] {
    var total = [Int32](repeating: 0, count: Frame.samples)
    for frame in frames.values {
        for i in 0..<min(frame.count, Frame.samples) { total[i] += Int32(frame[i]) }
    }
    var mixes: [Key: [Int16]] = [:]
    for (key, own) in frames {
        var out = [Int16](repeating: 0, count: Frame.samples)
        for i in 0..<Frame.samples {
            let value = total[i] - (i < own.count ? Int32(own[i]) : 0)
            out[i] = Int16(clamping: value)
        }
        mixes[key] = out
    }
    return mixes
}

/// Sums frames (a listener hearing several sources), saturated.
public func mix(_ frames: [[Int16]]) -> [Int16] {
    var total = [Int32](repeating: 0, count: Frame.samples)
    for frame in frames {
        for i in 0..<min(frame.count, Frame.samples) { total[i] += Int32(frame[i]) }
    }
    return total.map { Int16(clamping: $0) }
}
