/// What a caller on hold hears: a source that plays on by itself, one frame per tick, whoever
/// listens (so music resumes where it is, not from its start, and one source serves every
/// listener).
public struct MusicSource: Sendable {
    private let samples: [Int16]
    private var position = 0

    /// A loop of samples (8 kHz, 16-bit, mono).
    public init(samples: [Int16]) {
        self.samples = samples.isEmpty ? Frame.silence : samples
    }

    /// The built-in music, made here rather than shipped: a gentle four-note phrase (about C, E,
    /// G and E: 520, 660, 780 and 660 Hz, whole hertz so a one-second detector window sees each
    /// exactly; a quarter of a second each, with soft edges) that is easy to recognise, for
    /// people and for the tests.
    public static func builtIn() -> MusicSource {
        var samples: [Int16] = []
        for frequency in Self.builtInNotes {
            var tone = ToneGenerator(frequencies: [frequency], amplitude: 6_000)
            let note = tone.next(2_000)
            for (index, sample) in note.enumerated() {
                let edge = min(index, note.count - 1 - index, 200)  // 25 ms fades
                samples.append(Int16(Int(sample) * edge / 200))
            }
        }
        return MusicSource(samples: samples)
    }

    public static let builtInNotes: [Double] = [520, 660, 780, 660]

    public mutating func next() -> [Int16] {
        var frame = [Int16]()
        frame.reserveCapacity(Frame.samples)
        while frame.count < Frame.samples {
            let take = min(Frame.samples - frame.count, samples.count - position)
            frame += samples[position..<position + take]
            position = (position + take) % samples.count
        }
        return frame
    }
}

/// Reads a WAV file's audio as 8 kHz mono 16-bit samples: PCM 16-bit, µ-law or A-law, at 8 kHz
/// and mono (the music file an administrator names must be in telephone quality already).
public enum WAVFile {
    public enum Problem: Error, Equatable {
        case notWAV
        case unsupported(String)
    }

    public static func samples(_ bytes: [UInt8]) throws(Problem) -> [Int16] {
        func le16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func le32(_ at: Int) -> Int { le16(at) | le16(at + 2) << 16 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw .notWAV
        }
        var offset = 12
        var format: (code: Int, channels: Int, rate: Int, bits: Int)?
        while offset + 8 <= bytes.count {
            let size = le32(offset + 4), body = offset + 8
            guard body + size <= bytes.count || bytes[offset..<offset + 4].elementsEqual("data".utf8) else { throw .notWAV }
            if bytes[offset..<offset + 4].elementsEqual("fmt ".utf8), size >= 16 {
                format = (le16(body), le16(body + 2), le32(body + 4), le16(body + 14))
            } else if bytes[offset..<offset + 4].elementsEqual("data".utf8) {
                guard let format else { throw .notWAV }
                guard format.channels == 1, format.rate == 8_000 else {
                    throw .unsupported("\(format.channels) channels at \(format.rate) Hz: mono at 8000 Hz is needed")
                }
                let data = Array(bytes[body..<min(body + size, bytes.count)])
                switch (format.code, format.bits) {
                case (1, 16): return stride(from: 0, to: data.count - 1, by: 2).map { Int16(bitPattern: UInt16(data[$0]) | UInt16(data[$0 + 1]) << 8) }
                case (7, 8): return G711.decode(data, .mu)
                case (6, 8): return G711.decode(data, .a)
                default: throw .unsupported("format \(format.code) with \(format.bits) bits: PCM 16-bit, µ-law or A-law is needed")
                }
            }
            offset = body + size + (size & 1)
        }
        throw .notWAV
    }
}
