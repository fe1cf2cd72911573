/// Sine tones and a Goertzel detector: the built-in music is made of tones, and the tests listen
/// with the detector for which parties' tones reach whom.
public struct ToneGenerator: Sendable {
    public let frequencies: [Double]
    public let amplitude: Double
    private var phase: [Double]
    public static let sampleRate = 8_000.0

    public init(frequencies: [Double], amplitude: Double = 8_000) {
        self.frequencies = frequencies
        self.amplitude = amplitude
        phase = frequencies.map { _ in 0 }
    }

    /// The next `count` samples, continuing where the last call stopped (no click between frames).
    public mutating func next(_ count: Int = Frame.samples) -> [Int16] {
        var out = [Int16](repeating: 0, count: count)
        let share = amplitude / Double(max(frequencies.count, 1))
        for (index, frequency) in frequencies.enumerated() {
            let step = 2 * Double.pi * frequency / Self.sampleRate
            var p = phase[index]
            for i in 0..<count {
                out[i] &+= Int16(clamping: Int((share * Self.sine(p)).rounded()))
                p += step
                if p > 2 * Double.pi { p -= 2 * Double.pi }
            }
            phase[index] = p
        }
        return out
    }

    /// sin(x) for x in [0, 2π]: a Taylor series after folding into [−π/2, π/2] (no Foundation here).
    static func sine(_ x: Double) -> Double {
        var y = x
        if y > Double.pi { y -= 2 * Double.pi }  // [-π, π]
        if y > Double.pi / 2 { y = Double.pi - y } else if y < -Double.pi / 2 { y = -Double.pi - y }  // [-π/2, π/2]
        let y2 = y * y
        return y * (1 - y2 / 6 * (1 - y2 / 20 * (1 - y2 / 42 * (1 - y2 / 72 * (1 - y2 / 110)))))
    }
}

/// The Goertzel algorithm: the power of one frequency in a block of samples, relative to the
/// block's total power (1 for a pure tone at that frequency, near 0 when it is absent).
public func toneShare(of frequency: Double, in samples: [Int16], sampleRate: Double = ToneGenerator.sampleRate) -> Double {
    guard !samples.isEmpty else { return 0 }
    let n = Double(samples.count)
    let k = (n * frequency / sampleRate).rounded()
    let omega = 2 * Double.pi * k / n
    let coefficient = 2 * ToneGenerator.sine(omega + Double.pi / 2)  // 2·cos ω
    var (s1, s2) = (0.0, 0.0)
    var energy = 0.0
    for sample in samples {
        let x = Double(sample)
        energy += x * x
        let s0 = x + coefficient * s1 - s2
        s2 = s1
        s1 = s0
    }
    guard energy > 0 else { return 0 }
    let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    // A pure tone of amplitude A over N samples: power ≈ (A·N/2)², energy ≈ A²·N/2.
    return power / (energy * n / 2)
}
