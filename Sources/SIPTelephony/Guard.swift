import CallControl
import Center

/// What stands at SIP's door against guessing and floods (docs/sip.md, "Attacks"). A value, on
/// the time it is given; the endpoint keeps it.
///
/// - Wrong digest answers are counted per source address and per user, as the HTTP sign-in's
///   are: from the 10th from an address, or the 5th for a user, attempts are refused for 30 s,
///   doubling up to 15 minutes, without looking at the answer (an attempt while blocked counts as
///   one more failure, so a guesser that keeps on is kept out longer). A user's block holds only against
///   addresses that have never signed in as that user, so a guesser elsewhere cannot lock a real
///   agent's phone out. Every name counts, whether it exists or not, so blocks tell no names apart.
/// - Requests from an address that is neither a trunk nor a registered phone are limited to a
///   rate (a token bucket per address); past it they are dropped unanswered, as answering a flood
///   would only feed it.
struct SIPGuard {
    typealias Rule = FailureThrottle<String>.Rule
    private var addresses: FailureThrottle<String>
    private var users: FailureThrottle<String>
    /// Per user, the addresses that signed in as them, and when last (a few per user).
    private var known: [String: [String: Timestamp]] = [:]
    static let knownPerUser = 4

    /// Requests a second and the burst allowed from an address that is not known.
    let rate: Double
    let burst: Double
    private var buckets: [String: (tokens: Double, at: Timestamp)] = [:]
    static let maximumBuckets = 50_000

    init(perAddress: Rule = Rule(threshold: 10), perUser: Rule = Rule(threshold: 5), rate: Double = 50, burst: Double = 200) {
        addresses = FailureThrottle(perAddress)
        users = FailureThrottle(perUser)
        self.rate = rate
        self.burst = burst
    }

    /// How long an attempt to sign in as `user` from `host` must wait (ms), or nil if it may go ahead.
    func wait(user: String, host: String, at now: Timestamp) -> Int64? {
        let waits = [
            addresses.wait(host, at: now),
            known[user]?[host] == nil ? users.wait(user, at: now) : nil,
        ]
        return waits.compactMap { $0 }.max()
    }

    enum Block: Equatable {
        case address(String, milliseconds: Int64)
        case user(String, milliseconds: Int64)
    }

    /// A wrong answer: the blocks it started (not those it lengthened), for the log and the metrics.
    mutating func failed(user: String, host: String, at now: Timestamp) -> [Block] {
        var blocks: [Block] = []
        let addressWasBlocked = addresses.wait(host, at: now) != nil
        if let block = addresses.failed(host, at: now), !addressWasBlocked { blocks.append(.address(host, milliseconds: block)) }
        // A known address's mistakes (a phone with an old password) do not count against its user.
        if known[user]?[host] == nil {
            let userWasBlocked = users.wait(user, at: now) != nil
            if let block = users.failed(user, at: now), !userWasBlocked { blocks.append(.user(user, milliseconds: block)) }
        }
        return blocks
    }

    mutating func succeeded(user: String, host: String, at now: Timestamp) {
        addresses.succeeded(host)
        var hosts = known[user] ?? [:]
        hosts[host] = now
        if hosts.count > Self.knownPerUser, let oldest = hosts.min(by: { $0.value < $1.value })?.key { hosts[oldest] = nil }
        known[user] = hosts
    }

    /// Whether a request from `host` (neither a trunk nor a registered phone) may be handled now.
    mutating func admits(_ host: String, at now: Timestamp) -> Bool {
        var (tokens, at) = buckets[host] ?? (burst, now)
        tokens = min(burst, tokens + Double(max(0, now.milliseconds - at.milliseconds)) * rate / 1000)
        guard tokens >= 1 else {
            buckets[host] = (tokens, now)
            return false
        }
        buckets[host] = (tokens - 1, now)
        if buckets.count > Self.maximumBuckets {
            // A full bucket is the same as none: those go first.
            let rate = rate, burst = burst
            buckets = buckets.filter { Double(now.milliseconds - $0.value.at.milliseconds) * rate / 1000 + $0.value.tokens < burst }
        }
        return true
    }
}
