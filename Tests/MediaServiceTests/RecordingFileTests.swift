import CallControl
import Foundation
import Recordings
import Testing

/// Recordings on disk: written as the call goes, a valid WAV once closed, made playable again
/// after a crash, carried on in the same file after a restart with the gap kept as silence.
@Suite struct RecordingFileTests {
    let directory: RecordingDirectory

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("recordings-\(UUID().uuidString)").path
        directory = RecordingDirectory(path: path)
        try directory.prepare()
    }

    /// The header's fields: (RIFF size, channels, rate, bits, data size).
    func header(_ path: String) throws -> (riff: Int, channels: Int, rate: Int, bits: Int, data: Int, fileSize: Int) {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        func le(_ at: Int, _ count: Int) -> Int { (0..<count).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        #expect(Array(bytes[0..<4]) == Array("RIFF".utf8) && Array(bytes[8..<16]) == Array("WAVEfmt ".utf8))
        #expect(Array(bytes[36..<40]) == Array("data".utf8))
        return (le(4, 4), le(22, 2), le(24, 4), le(34, 2), le(40, 4), bytes.count)
    }

    func frame(_ value: Int16) -> [Int16] { [Int16](repeating: value, count: 320) }

    @Test func aClosedRecordingIsAStereoWAVWhoseSizesMatchItsFrames() throws {
        let file = try directory.open("call-1", nowSeconds: 0)
        #expect(directory.state(of: "call-1") == .inProgress)
        for _ in 0..<75 { try file.append(frame(100)) }  // 1.5 s: one write happened in between
        try file.close()
        #expect(directory.state(of: "call-1") == .finished)
        let read = try header(directory.file(of: "call-1"))
        #expect(read.channels == 2 && read.rate == 8000 && read.bits == 16)
        #expect(read.data == 75 * 640 && read.riff == 36 + read.data && read.fileSize == 44 + read.data)
    }

    @Test func aRecordingLeftOpenByACrashIsMadePlayableFromItsLength() throws {
        let file = try directory.open("call-2", nowSeconds: 0)
        for _ in 0..<100 { try file.append(frame(7)) }  // two seconds: written, then the "crash"
        file.abandon()
        // A torn write at the end: half a sample frame.
        let open = directory.file(of: "call-2") + ".recording"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: open))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([1, 2, 3]))
        try handle.close()
        #expect(try header(open).data == 0, "open, its sizes are not written yet")

        let lastWritten = try #require(try FileManager.default.attributesOfItem(atPath: open)[.modificationDate] as? Date)
        #expect(directory.recover() == ["call-2"])
        let read = try header(directory.file(of: "call-2"))
        let kept = try #require(try FileManager.default.attributesOfItem(atPath: directory.file(of: "call-2"))[.modificationDate] as? Date)
        #expect(kept == lastWritten, "the file keeps the time of its last frame, for the gap a restart fills")
        #expect(read.data > 0 && read.data % 4 == 0, "whole stereo frames only")
        #expect(read.fileSize == 44 + read.data && read.riff == 36 + read.data)
        #expect(directory.recover().isEmpty, "nothing left open")
    }

    @Test func aCallThatCarriesOnAfterARestartIsAppendedToTheSameFileAfterSilenceForTheGap() throws {
        let file = try directory.open("call-3", nowSeconds: 0)
        for _ in 0..<50 { try file.append(frame(9)) }
        try file.close()
        let path = directory.file(of: "call-3")
        let written = try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        // The restart comes two seconds after the last write.
        let again = try directory.open("call-3", nowSeconds: written.timeIntervalSince1970 + 2)
        for _ in 0..<50 { try again.append(frame(9)) }
        try again.close()
        let read = try header(path)
        #expect(read.data == (50 + 100 + 50) * 640, "one second, two of silence, one second")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let middle = bytes[(44 + 50 * 640 + 640)..<(44 + 150 * 640 - 640)]
        #expect(middle.allSatisfy { $0 == 0 })
    }

    @Test func retentionRemovesFinishedRecordingsLastWrittenBeforeItsCutoff() throws {
        for id in ["old", "new"] {
            let file = try directory.open(InteractionID(id), nowSeconds: 0)
            try file.append(frame(1))
            try file.close()
        }
        let old = directory.file(of: "old")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000)], ofItemAtPath: old)
        #expect(directory.removeOlder(than: 2_000) == 1)
        #expect(directory.state(of: "old") == .none && directory.state(of: "new") == .finished)
    }

    @Test func anUnwritableDirectoryIsAnErrorNotACrash() throws {
        let nowhere = RecordingDirectory(path: "/proc/no-such-place/recordings")
        #expect(throws: RecordingError.self) { try nowhere.prepare() }
        #expect(throws: RecordingError.self) { _ = try nowhere.open("call-4", nowSeconds: 0) }
        #expect(nowhere.state(of: "../etc/passwd") == .none)
    }
}
