import CallControl

/// The queues' figures, per 15-minute interval, kept current from the event log as events are
/// committed (a projection: a replay of the log gives the same figures). Amazon Connect's
/// definitions unless docs/reports.md says otherwise:
///
/// - **offered**: contacts that entered the queue (a call arriving; a blind transfer to the queue).
/// - **answered**: contacts an agent connected to; **wait** is from entering the queue to that
///   moment (ringing included), so **ASA** = total wait of the answered / answered.
/// - **abandoned**: the customer hung up while in the queue (waiting or ringing an agent); one
///   shorter than the short-abandon threshold is counted apart (`shortAbandoned`) and nowhere else.
/// - **service level**: contacts that left the queue within the queue's threshold / contacts that
///   left it; abandons count as the settings say (`AbandonTreatment`).
/// - **handle time** = talk + hold + after-call work, counted when the contact is finished (over
///   and every wrap-up applied): talk is time the customer was connected, hold time on hold or
///   held for a consult, after-call work each owing agent's time from leaving the call to the
///   wrap-up.
///
/// Each measure is counted in the interval in which the event that completes it happened: an
/// offer when the call entered the queue, an answer or an abandon when it left it, handle time
/// when the contact was finished.
public struct QueueReport: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Seconds within which a contact must leave the queue to count as met, per queue.
        public var thresholds: [QueueID: Int]
        public var defaultThreshold: Int
        /// Abandons faster than this count only as `shortAbandoned` (0: none are short).
        public var shortAbandonMilliseconds: Int64
        public var abandons: AbandonTreatment

        public init(
            thresholds: [QueueID: Int] = [:], defaultThreshold: Int = 20, shortAbandonMilliseconds: Int64 = 0,
            abandons: AbandonTreatment = .counted
        ) {
            (self.thresholds, self.defaultThreshold, self.shortAbandonMilliseconds, self.abandons) =
                (thresholds, defaultThreshold, shortAbandonMilliseconds, abandons)
        }

        func threshold(_ queue: QueueID) -> Int64 { Int64(thresholds[queue] ?? defaultThreshold) * 1000 }
    }

    /// How abandons weigh in the service level.
    public enum AbandonTreatment: String, Sendable, Equatable, CaseIterable {
        /// As Amazon Connect: an abandon left the queue like an answer; within the threshold it is met.
        case counted
        /// Left out of the service level altogether (only answered contacts count).
        case ignored
        /// In the denominator, never met: every abandon lowers the service level.
        case againstLevel
    }

    /// One queue's interval.
    public struct Key: Hashable, Sendable, Comparable {
        public var queue: QueueID
        /// The interval's start, ms since 1970 (a multiple of 15 minutes).
        public var start: Int64
        public init(queue: QueueID, start: Int64) { (self.queue, self.start) = (queue, start) }
        public static func < (a: Key, b: Key) -> Bool { (a.start, a.queue) < (b.start, b.queue) }
    }

    public struct Figures: Equatable, Sendable {
        public var offered = 0
        public var answered = 0
        public var abandoned = 0
        public var shortAbandoned = 0
        public var answeredWithinThreshold = 0
        public var abandonedWithinThreshold = 0
        public var waitAnsweredMilliseconds: Int64 = 0
        public var longestWaitMilliseconds: Int64 = 0
        public var waitAbandonedMilliseconds: Int64 = 0
        public var handled = 0
        public var talkMilliseconds: Int64 = 0
        public var holdMilliseconds: Int64 = 0
        public var wrapUpMilliseconds: Int64 = 0
        public var transfers = 0
        public var consults = 0
        public var conferences = 0
        /// Wrap-ups applied, by reason (the reason's id), in the interval they were applied: the
        /// supervisor's chart of today's reasons.
        public var wrapUps: [String: Int] = [:]

        public init() {}

        /// Adds another interval's figures (an hour or a day is the sum of its quarters).
        public mutating func add(_ other: Figures) {
            offered += other.offered
            answered += other.answered
            abandoned += other.abandoned
            shortAbandoned += other.shortAbandoned
            answeredWithinThreshold += other.answeredWithinThreshold
            abandonedWithinThreshold += other.abandonedWithinThreshold
            waitAnsweredMilliseconds += other.waitAnsweredMilliseconds
            longestWaitMilliseconds = max(longestWaitMilliseconds, other.longestWaitMilliseconds)
            waitAbandonedMilliseconds += other.waitAbandonedMilliseconds
            handled += other.handled
            talkMilliseconds += other.talkMilliseconds
            holdMilliseconds += other.holdMilliseconds
            wrapUpMilliseconds += other.wrapUpMilliseconds
            transfers += other.transfers
            consults += other.consults
            conferences += other.conferences
            for (code, count) in other.wrapUps { wrapUps[code, default: 0] += count }
        }

        /// Met / left the queue, as `treatment` counts abandons; nil when nothing left the queue.
        public func serviceLevel(_ treatment: AbandonTreatment) -> Double? {
            let (met, total): (Int, Int)
            switch treatment {
            case .counted: (met, total) = (answeredWithinThreshold + abandonedWithinThreshold, answered + abandoned)
            case .ignored: (met, total) = (answeredWithinThreshold, answered)
            case .againstLevel: (met, total) = (answeredWithinThreshold, answered + abandoned)
            }
            return total > 0 ? Double(met) / Double(total) : nil
        }

        /// Abandoned / offered; nil with nothing offered.
        public var abandonRate: Double? { offered > 0 ? Double(abandoned) / Double(offered) : nil }
        public var averageSpeedOfAnswerMilliseconds: Int64? { answered > 0 ? waitAnsweredMilliseconds / Int64(answered) : nil }
        public var averageTimeToAbandonMilliseconds: Int64? { abandoned > 0 ? waitAbandonedMilliseconds / Int64(abandoned) : nil }
        public var averageHandleTimeMilliseconds: Int64? {
            handled > 0 ? (talkMilliseconds + holdMilliseconds + wrapUpMilliseconds) / Int64(handled) : nil
        }
        public var averageTalkMilliseconds: Int64? { handled > 0 ? talkMilliseconds / Int64(handled) : nil }
        public var averageHoldMilliseconds: Int64? { handled > 0 ? holdMilliseconds / Int64(handled) : nil }
        public var averageWrapUpMilliseconds: Int64? { handled > 0 ? wrapUpMilliseconds / Int64(handled) : nil }
    }

    /// A live contact's running measures.
    struct Tracking: Sendable {
        var interaction: Interaction
        /// When it entered its present queue; nil once an agent answered (until a transfer back).
        var queuedAt: Timestamp?
        var talk: Int64 = 0
        var hold: Int64 = 0
        var wrapUp: Int64 = 0
        /// The last event's time, and what the customer has been doing since.
        var mark: Timestamp
        var doing: Doing = .other

        enum Doing: Sendable { case talking, holding, other }

        /// What the customer is doing now: waiting in a queue is neither talk nor hold.
        mutating func settle() {
            guard queuedAt == nil else { return doing = .other }
            switch interaction.customer.state {
            case .connected: doing = .talking
            case .held: doing = .holding
            case .ringing, .left: doing = .other
            }
        }
    }

    public static let intervalMilliseconds: Int64 = 15 * 60 * 1000

    public let settings: Settings
    public private(set) var intervals: [Key: Figures] = [:]
    var live: [InteractionID: Tracking] = [:]

    public init(settings: Settings = Settings()) { self.settings = settings }

    public static func intervalStart(_ time: Timestamp) -> Int64 {
        let ms = time.milliseconds
        return ms - ((ms % intervalMilliseconds) + intervalMilliseconds) % intervalMilliseconds
    }

    private mutating func count(_ queue: QueueID, at time: Timestamp, _ change: (inout Figures) -> Void) {
        change(&intervals[Key(queue: queue, start: Self.intervalStart(time)), default: Figures()])
    }

    /// Takes one committed event. Agent events are not the queues' concern.
    public mutating func apply(_ event: Event) {
        guard case .interaction(let id, let change) = event.subject else { return }
        let time = event.at
        guard var tracking = live[id] else {
            guard let created = Interaction(id: id, first: change, at: time) else { return }
            live[id] = Tracking(interaction: created, queuedAt: time, mark: time)
            count(created.queue, at: time) { $0.offered += 1 }
            return
        }
        let before = tracking.interaction
        tracking.interaction.apply(change, at: time)
        let after = tracking.interaction
        let queue = before.queue
        let threshold = settings.threshold(queue)

        // Talk and hold run from event to event: the stretch since the last event counts as what
        // the customer was doing then (connected to an agent: talk; held by one: hold; waiting: neither).
        let elapsed = time.milliseconds - tracking.mark.milliseconds
        switch tracking.doing {
        case .talking: tracking.talk += elapsed
        case .holding: tracking.hold += elapsed
        case .other: break
        }
        tracking.mark = time

        switch change {
        case .accepted:
            if let queuedAt = tracking.queuedAt {
                let wait = time.milliseconds - queuedAt.milliseconds
                count(queue, at: time) { figures in
                    figures.answered += 1
                    figures.waitAnsweredMilliseconds += wait
                    figures.longestWaitMilliseconds = max(figures.longestWaitMilliseconds, wait)
                    if wait <= threshold { figures.answeredWithinThreshold += 1 }
                }
                tracking.queuedAt = nil
            }
        case .customerLeft:
            if let queuedAt = tracking.queuedAt {
                let wait = time.milliseconds - queuedAt.milliseconds
                if wait < settings.shortAbandonMilliseconds {
                    count(queue, at: time) { $0.shortAbandoned += 1 }
                } else {
                    count(queue, at: time) { figures in
                        figures.abandoned += 1
                        figures.waitAbandonedMilliseconds += wait
                        figures.longestWaitMilliseconds = max(figures.longestWaitMilliseconds, wait)
                        if wait <= threshold { figures.abandonedWithinThreshold += 1 }
                    }
                }
                tracking.queuedAt = nil
            }
        case .consultStarted:
            count(queue, at: time) { $0.consults += 1 }
        case .conferenceStarted:
            count(queue, at: time) { $0.conferences += 1 }
        case .consultTransferred, .conferenceTransferred:
            count(queue, at: time) { $0.transfers += 1 }
        case .blindTransferred(let destination):
            count(queue, at: time) { $0.transfers += 1 }
            if case .queue(let next) = destination {
                // A new stay in a queue: offered there, measured from now.
                tracking.queuedAt = time
                count(next, at: time) { $0.offered += 1 }
            } else if case .agent = destination {
                tracking.queuedAt = time
                count(after.queue, at: time) { $0.offered += 1 }
            }
        case .wrapUpApplied(let agent, let code, _, _):
            count(queue, at: time) { $0.wrapUps[code.rawValue, default: 0] += 1 }
            if let owed = before.participant(agent: agent), owed.owesWrapUp {
                // After-call work: from when the agent left the call (or it ended) to the wrap-up.
                let since = owed.state == .left ? owed.since : time
                tracking.wrapUp += time.milliseconds - since.milliseconds
            }
        case .arrived, .offered, .offerTimedOut, .customerHeld, .customerResumed, .consultOffered, .consultOfferTimedOut,
            .consultAnswered, .ringFailed, .consultCancelled, .consultedPartyLeft, .conferenceExited, .conferenceEnded,
            .endedByOwner, .monitorStarted, .monitorAnswered, .monitorModeChanged, .monitorEnded, .recordingPaused,
            .recordingResumed:
            break
        }

        tracking.settle()
        if tracking.interaction.isFinished {
            live[id] = nil
            // Handled: a contact an agent answered (an abandoned one has no handle time).
            if before.participants.contains(where: { $0.role == .owner && $0.state != .ringing }) || tracking.talk > 0 {
                let (talk, hold, wrapUp) = (tracking.talk, tracking.hold, tracking.wrapUp)
                count(after.queue, at: time) { figures in
                    figures.handled += 1
                    figures.talkMilliseconds += talk
                    figures.holdMilliseconds += hold
                    figures.wrapUpMilliseconds += wrapUp
                }
            }
        } else {
            live[id] = tracking
        }
    }

    /// Forgets the intervals that started before `cutoff` (ms): retention's, so the figures kept
    /// are bounded by the days kept, not by how long the server runs.
    public mutating func forget(before cutoff: Int64) {
        intervals = intervals.filter { $0.key.start >= cutoff }
    }

    /// The figures of `queues` (all when empty) from `from` to `to` (ms), summed over intervals of
    /// `length` ms starting at `from` (a multiple of 15 minutes), in time order.
    public func rows(from: Int64, to: Int64, length: Int64, queues: Set<QueueID> = []) -> [(queue: QueueID, start: Int64, figures: Figures)] {
        var sums: [Key: Figures] = [:]
        for (key, figures) in intervals where key.start >= from && key.start < to && (queues.isEmpty || queues.contains(key.queue)) {
            let start = from + (key.start - from) / length * length
            sums[Key(queue: key.queue, start: start), default: Figures()].add(figures)
        }
        return sums.keys.sorted().map { ($0.queue, $0.start, sums[$0]!) }
    }
}
