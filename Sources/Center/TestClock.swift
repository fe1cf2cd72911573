import CallControl

/// A server started with a test clock (`serve --test-clock`, for the API and browser tests): its
/// time stands still and moves only when a test says, so a test of a grace period or an expiry
/// does not wait for it in real time.
extension ContactCenter {
    /// What a test needs to know before it moves time: now, the grace periods running, and the
    /// streams open (a stream closed by a client is closed here a moment later).
    public struct TestClockView: Encodable, Sendable, Equatable {
        public var now: Int64
        /// Agents with no desktop open, and when their grace period ends.
        public var desktopGraceEnds: [String: Int64]
        /// Users with event streams open, and how many.
        public var openStreams: [String: Int]
    }

    /// Whether time here is the test clock's (nil: the wall clock's).
    public nonisolated var testClock: ManualClock? { clock as? ManualClock }

    public func testClockView() -> TestClockView {
        TestClockView(
            now: clock.now().milliseconds,
            desktopGraceEnds: Dictionary(uniqueKeysWithValues: desktopDeadlines.map { ($0.key.rawValue, $0.value.milliseconds) }),
            openStreams: feeds.compactMapValues { $0.subscribers.isEmpty ? nil : $0.subscribers.count })
    }

    /// Moves the test clock on and runs every timer that fell due before answering, so what a
    /// timer does (or does not do) is there to see as soon as this returns. (The clock's own
    /// wake-up, arriving later, finds its work done and does nothing.)
    public func advanceTestClock(by milliseconds: Int64) async -> TestClockView? {
        guard let testClock else { return nil }
        testClock.advance(by: milliseconds)
        await deadlines.fireDue()
        return testClockView()
    }
}
