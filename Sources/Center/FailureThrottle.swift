import CallControl

/// Failures counted per key (a user name, an address) over a window: from the `threshold`th
/// failure in a row, attempts are refused for `firstBlock`, doubling with each further failure up
/// to `longestBlock`. A value, on the time it is given; the caller keeps it behind a lock or an
/// actor. The HTTP sign-in and SIP's digest both guard against guessing with it.
public struct FailureThrottle<Key: Hashable & Sendable>: Sendable {
    public struct Rule: Sendable {
        public var threshold: Int
        public var window: Int64
        public var firstBlock: Int64
        public var longestBlock: Int64

        public init(threshold: Int, window: Int64 = 15 * 60_000, firstBlock: Int64 = 30_000, longestBlock: Int64 = 15 * 60_000) {
            self.threshold = threshold
            self.window = window
            self.firstBlock = firstBlock
            self.longestBlock = longestBlock
        }
    }

    private struct Count: Sendable {
        var failures: Int
        var since: Timestamp
        var blockedUntil: Timestamp?
    }

    public let rule: Rule
    /// Past this many keys the stale ones are dropped, so endless new keys cannot grow memory.
    public let capacity: Int
    private var counts: [Key: Count] = [:]

    public init(_ rule: Rule, capacity: Int = 25_000) {
        self.rule = rule
        self.capacity = capacity
    }

    /// How many milliseconds an attempt for `key` must wait, or nil if it may go ahead.
    public func wait(_ key: Key, at now: Timestamp) -> Int64? {
        guard let until = counts[key]?.blockedUntil else { return nil }
        let wait = until.milliseconds - now.milliseconds
        return wait > 0 ? wait : nil
    }

    /// Counts a failure; returns the block it started or lengthened (milliseconds), if any.
    @discardableResult
    public mutating func failed(_ key: Key, at now: Timestamp) -> Int64? {
        var entry = counts[key] ?? Count(failures: 0, since: now)
        if now.milliseconds - entry.since.milliseconds > rule.window, entry.blockedUntil.map({ $0 <= now }) ?? true {
            entry = Count(failures: 0, since: now)
        }
        entry.failures += 1
        var block: Int64?
        if entry.failures >= rule.threshold {
            let doublings = min(entry.failures - rule.threshold, 20)
            block = min(rule.firstBlock << doublings, rule.longestBlock)
            entry.blockedUntil = now.adding(milliseconds: block ?? 0)
            entry.since = now  // the window runs on from the latest failure while blocked
        }
        counts[key] = entry
        if counts.count > capacity { forgetStale(now) }
        return block
    }

    public mutating func succeeded(_ key: Key) { counts[key] = nil }

    public var count: Int { counts.count }

    private mutating func forgetStale(_ now: Timestamp) {
        let rule = rule
        counts = counts.filter { _, count in
            now.milliseconds - count.since.milliseconds <= rule.window || (count.blockedUntil.map { $0 > now } ?? false)
        }
    }
}
