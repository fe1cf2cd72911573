#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CallControl

/// Call recordings on disk: one stereo WAV per interaction (16-bit PCM, 8 kHz; left: the center's
/// side — agents and a barged supervisor —, right: the customer and any other outside party),
/// named by the interaction, under one directory.
///
/// A recording being written is `ID.wav.recording` (its header's sizes still zero); closing it
/// writes the sizes and renames it `ID.wav`. After a crash, `recover()` does the same to every
/// file left open, from its length, so every recording is a playable WAV.
public struct RecordingDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Makes the directory if it is missing; throws when it cannot be made.
    public func prepare() throws(RecordingError) {
        if mkdir(path, 0o750) != 0, errno != EEXIST { throw RecordingError("cannot make \(path): \(String(cString: strerror(errno)))") }
    }

    public func file(of id: InteractionID) -> String { path + "/" + id.rawValue + ".wav" }
    func openFile(of id: InteractionID) -> String { file(of: id) + ".recording" }

    /// Whether the interaction has a finished recording, one still being written, or none.
    public func state(of id: InteractionID) -> RecordingFileState {
        guard id.isValid, !id.rawValue.contains("/") else { return .none }
        if access(file(of: id), F_OK) == 0 { return .finished }
        if access(openFile(of: id), F_OK) == 0 { return .inProgress }
        return .none
    }

    /// Closes every recording a crash left open: its header gets its sizes (a torn last frame is
    /// cut off) and it is renamed. Returns the interactions whose files were recovered.
    @discardableResult
    public func recover() -> [InteractionID] {
        var recovered: [InteractionID] = []
        for name in entries() where name.hasSuffix(".wav.recording") {
            let open = path + "/" + name
            let id = InteractionID(String(name.dropLast(".wav.recording".count)))
            let fd = Glibc.open(open, O_RDWR)
            guard fd >= 0 else { continue }
            var info = stat()
            if fstat(fd, &info) == 0 {
                let data = max(0, Int(info.st_size) - WAVHeader.size) / WAVHeader.blockAlign * WAVHeader.blockAlign
                if Int(info.st_size) < WAVHeader.size {
                    // Not even a header: the file is made whole (an empty recording).
                    _ = WAVHeader.stereoPCM16(dataBytes: 0).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                } else {
                    _ = ftruncate(fd, off_t(WAVHeader.size + data))
                    _ = WAVHeader.stereoPCM16(dataBytes: data).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                }
                // The file keeps the time of its last frame: a call carried on after the restart
                // fills the gap from then (`open`), so its timeline stays the call's.
                var times = [info.st_atim, info.st_mtim]
                _ = futimens(fd, &times)
            }
            Glibc.close(fd)
            if rename(open, file(of: id)) == 0 { recovered.append(id) }
        }
        return recovered
    }

    /// Removes finished recordings last written before `cutoff` (seconds since 1970): retention
    /// removes a recording with its interaction. Returns how many went.
    @discardableResult
    public func removeOlder(than cutoff: Int64) -> Int {
        var removed = 0
        for name in entries() where name.hasSuffix(".wav") {
            let file = path + "/" + name
            var info = stat()
            guard stat(file, &info) == 0, Int64(info.st_mtim.tv_sec) < cutoff else { continue }
            if unlink(file) == 0 { removed += 1 }
        }
        return removed
    }

    private func entries() -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Starts (or, after a restart, carries on) the interaction's recording. A finished file of
    /// the same interaction is reopened and appended to, after `gap` frames of silence for the time
    /// no frame was written (so the file's timeline stays the call's).
    public func open(_ id: InteractionID, nowSeconds: Double) throws(RecordingError) -> RecordingFile {
        guard id.isValid, !id.rawValue.contains("/") else { throw RecordingError("not a recordable interaction id") }
        let finished = file(of: id), open = openFile(of: id)
        var info = stat()
        if stat(finished, &info) == 0, rename(finished, open) == 0 {
            // Not O_APPEND: on Linux, pwrite (the header, at close) would then append too.
            let fd = Glibc.open(open, O_WRONLY)
            guard fd >= 0 else { throw RecordingError.errno("cannot open \(open)") }
            let data = max(0, Int(info.st_size) - WAVHeader.size) / WAVHeader.blockAlign * WAVHeader.blockAlign
            guard lseek(fd, off_t(WAVHeader.size + data), SEEK_SET) >= 0 else {
                Glibc.close(fd)
                throw RecordingError.errno("cannot open \(open)")
            }
            let last = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
            // Bounded: an hour of silence at most.
            let gap = min(180_000, max(0, Int(((nowSeconds - last) * 50).rounded())))
            let file = RecordingFile(fd: fd, open: open, finished: finished, dataBytes: data, id: id)
            try file.appendSilence(frames: gap)
            return file
        }
        let fd = Glibc.open(open, O_WRONLY | O_CREAT | O_TRUNC, 0o640)
        guard fd >= 0 else { throw RecordingError.errno("cannot create \(open)") }
        let file = RecordingFile(fd: fd, open: open, finished: finished, dataBytes: 0, id: id)
        try file.writeAll(WAVHeader.stereoPCM16(dataBytes: 0))
        return file
    }
}

public enum RecordingFileState: Sendable, Equatable { case none, inProgress, finished }

public struct RecordingError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
    static func errno(_ what: String) -> RecordingError { RecordingError("\(what): \(String(cString: strerror(Glibc.errno)))") }
}

/// One recording being written: frames are gathered in memory and written about once a second
/// (the first write of each file at its own moment, so a thousand calls started together do not
/// all write in one tick). Not thread-safe: used on its call's media loop only.
public final class RecordingFile {
    public let id: InteractionID
    let fd: Int32
    let open: String
    let finished: String
    private var buffer: [UInt8] = []
    private var flushAt: Int
    public private(set) var dataBytes: Int
    private var closed = false

    /// Bytes gathered before a write: a second of audio.
    static let flushBytes = 8_000 * WAVHeader.blockAlign

    init(fd: Int32, open: String, finished: String, dataBytes: Int, id: InteractionID) {
        (self.fd, self.open, self.finished, self.dataBytes, self.id) = (fd, open, finished, dataBytes, id)
        // The first write after 0.5–1.5 s, by the id (stable, spread).
        var hash: UInt32 = 2_166_136_261
        for byte in id.rawValue.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        flushAt = Self.flushBytes / 2 + Int(hash % UInt32(Self.flushBytes / WAVHeader.blockAlign)) * WAVHeader.blockAlign
        buffer.reserveCapacity(flushAt)
    }

    deinit { if !closed { Glibc.close(fd) } }

    /// One 20 ms frame: 160 interleaved stereo samples (left, right).
    public func append(_ stereo: [Int16]) throws(RecordingError) {
        #if _endian(little)
        // WAV is little-endian, as this machine: the samples' bytes go in as they are.
        stereo.withUnsafeBytes { buffer.append(contentsOf: $0) }
        #else
        for sample in stereo {
            let bits = UInt16(bitPattern: sample)
            buffer.append(UInt8(truncatingIfNeeded: bits))
            buffer.append(UInt8(truncatingIfNeeded: bits >> 8))
        }
        #endif
        if buffer.count >= flushAt { try flush() }
    }

    func appendSilence(frames: Int) throws(RecordingError) {
        let silence = [Int16](repeating: 0, count: 320)
        for _ in 0..<frames { try append(silence) }
    }

    public func flush() throws(RecordingError) {
        guard !buffer.isEmpty else { return }
        try writeAll(buffer)
        dataBytes += buffer.count
        buffer.removeAll(keepingCapacity: true)
        flushAt = Self.flushBytes
    }

    func writeAll(_ bytes: [UInt8]) throws(RecordingError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw RecordingError.errno("cannot write \(open)")
            }
            written += result
        }
    }

    /// Writes what is gathered, the header's sizes, and renames the file to its finished name.
    public func close() throws(RecordingError) {
        guard !closed else { return }
        defer {
            closed = true
            Glibc.close(fd)
        }
        try flush()
        let header = WAVHeader.stereoPCM16(dataBytes: dataBytes)
        guard header.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == header.count else {
            throw RecordingError.errno("cannot finish \(open)")
        }
        guard rename(open, finished) == 0 else { throw RecordingError.errno("cannot rename \(open)") }
    }

    /// Gives up on the file after a failure (the disk full, say): closed as it is, for
    /// `recover()` at the next start to make playable.
    public func abandon() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }
}

/// The 44-byte header of a canonical WAV (RIFF, `fmt ` PCM, `data`).
public enum WAVHeader {
    public static let size = 44
    public static let rate = 8_000
    public static let channels = 2
    public static let blockAlign = channels * 2

    public static func stereoPCM16(dataBytes: Int) -> [UInt8] {
        func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: value) >> (8 * $0)) } }
        func le16(_ value: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: UInt16(truncatingIfNeeded: value) >> (8 * $0)) } }
        return Array("RIFF".utf8) + le32(36 + dataBytes) + Array("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(channels)
            + le32(rate) + le32(rate * blockAlign) + le16(blockAlign) + le16(16) + Array("data".utf8) + le32(dataBytes)
    }
}
