import CallControl
import Foundation
import Reports

/// The queues' report, kept by the center: every event goes into the `QueueReport` projection as
/// the command that made it runs (and, at start, every event of the log), and reports are read
/// from it, never by scanning the log.
extension ContactCenter {
    /// The report's interval lengths.
    public enum ReportInterval: String, Sendable, CaseIterable {
        case quarter = "15m", hour, day
    }

    /// One row of the queues' report: a queue's figures over one interval.
    public struct QueueRow: Sendable {
        public var queue: String
        public var start: Int64
        public var end: Int64
        public var figures: QueueReport.Figures
    }

    /// The queues' rows from `from` to `to` (ms; `from` is taken back to its interval's start),
    /// by `interval` in the server's time zone (a day from local midnight to local midnight, 23 or
    /// 25 hours on a daylight-saving day), for `queues` (every queue when empty).
    public func queueRows(from: Int64, to: Int64, interval: ReportInterval, queues: Set<QueueID> = []) -> [QueueRow] {
        let first = QueueReport.intervalStart(Timestamp(milliseconds: from))
        var interval = Bucketing(interval, reportTimeZone)
        var rows: [RowKey<QueueID>: QueueRow] = [:]
        for (key, figures) in queueReport.intervals where key.start >= first && key.start < to {
            guard queues.isEmpty || queues.contains(key.queue) else { continue }
            let (start, end) = interval.bounds(of: key.start)
            rows[RowKey(start: start, id: key.queue), default: QueueRow(queue: key.queue.rawValue, start: start, end: end, figures: .init())]
                .figures.add(figures)
        }
        return rows.values.sorted { ($0.start, $0.queue) < ($1.start, $1.queue) }
    }

    /// A report row's identity: its interval's start and whose it is.
    struct RowKey<ID: Hashable>: Hashable {
        var start: Int64
        var id: ID
    }

    /// Quarters to the report's intervals, each quarter's looked up in the calendar once per report
    /// (a month of agents' quarters is half a million entries, but 2,880 quarters).
    struct Bucketing {
        let interval: ReportInterval
        let zone: TimeZone
        var known: [Int64: (Int64, Int64)] = [:]

        init(_ interval: ReportInterval, _ zone: TimeZone) { (self.interval, self.zone) = (interval, zone) }

        mutating func bounds(of start: Int64) -> (Int64, Int64) {
            if interval == .quarter { return (start, start + QueueReport.intervalMilliseconds) }
            if let found = known[start] { return found }
            let found = ContactCenter.bounds(of: start, interval, in: zone)
            known[start] = found
            return found
        }
    }

    /// The interval of `interval`'s length that holds the quarter starting at `start` (ms), in
    /// the reports' time zone.
    func bounds(of start: Int64, _ interval: ReportInterval) -> (Int64, Int64) {
        Self.bounds(of: start, interval, in: reportTimeZone)
    }

    /// The reports' time zone: the configuration's `reports.timeZone`, else the server's.
    public nonisolated var reportTimeZone: TimeZone {
        configuration.reports?.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone.current
    }

    /// The interval of `interval`'s length that holds the quarter starting at `start` (ms), in
    /// `zone`: an hour by its clock, a day from its midnight to the next (23 or 25 hours on a
    /// daylight-saving day).
    public static func bounds(of start: Int64, _ interval: ReportInterval, in zone: TimeZone) -> (Int64, Int64) {
        switch interval {
        case .quarter: return (start, start + QueueReport.intervalMilliseconds)
        case .hour, .day:
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let date = Date(timeIntervalSince1970: Double(start) / 1000)
            guard let found = calendar.dateInterval(of: interval == .hour ? .hour : .day, for: date) else {
                return (start, start + QueueReport.intervalMilliseconds)
            }
            return (Int64(found.start.timeIntervalSince1970 * 1000), Int64(found.end.timeIntervalSince1970 * 1000))
        }
    }

    /// Each queue's figures since midnight today (the server's time zone): the live tiles and the
    /// metrics' "today" gauges.
    public func queuesToday() -> [String: QueueReport.Figures] {
        let now = clock.now().milliseconds
        let (midnight, _) = bounds(of: QueueReport.intervalStart(Timestamp(milliseconds: now)), .day)
        var today: [String: QueueReport.Figures] = [:]
        for queue in configuration.queues { today[queue.id] = QueueReport.Figures() }
        // Today's quarter hours looked up one by one (at most 96 per queue), not every interval
        // retention keeps scanned: this runs on every tiles request and metrics scrape.
        var start = midnight
        while start <= now {
            for queue in configuration.queues {
                if let figures = queueReport.intervals[QueueReport.Key(queue: QueueID(queue.id), start: start)] {
                    today[queue.id, default: .init()].add(figures)
                }
            }
            start += QueueReport.intervalMilliseconds
        }
        return today
    }

    /// How service levels are computed (the configuration's `reports` section).
    public var reportSettings: QueueReport.Settings { queueReport.settings }

    /// The reports keep the days retention keeps, like the log.
    func forgetReports(before cutoff: Int64) {
        queueReport.forget(before: cutoff)
        agentReport.forget(before: cutoff)
    }

    /// Feeds events made elsewhere into the report projections only (not the live center, not the
    /// log): how `switchboard report-bench` fills a month without a month of commands over HTTP.
    public func reportHistory(_ events: [Event]) { report(events) }

    func report(_ events: [Event]) {
        guard reporting else { return }
        for event in events {
            queueReport.apply(event)
            agentReport.apply(event)
        }
    }

    /// One row of the agents' report: an agent's figures over one interval.
    public struct AgentRow: Sendable {
        /// Empty in a team's row.
        public var agent: String
        public var team: String
        public var start: Int64
        public var end: Int64
        public var figures: AgentReport.Figures

        public init(agent: String, team: String, start: Int64, end: Int64, figures: AgentReport.Figures) {
            (self.agent, self.team, self.start, self.end, self.figures) = (agent, team, start, end, figures)
        }
    }

    /// The agents' rows (of `teams`, or every team when empty), as `queueRows`; the time in each
    /// agent's present state is counted up to now.
    public func agentRows(from: Int64, to: Int64, interval: ReportInterval, teams: Set<String> = []) -> [AgentRow] {
        let first = QueueReport.intervalStart(Timestamp(milliseconds: from))
        let teamOf = Dictionary(configuration.agents.map { (AgentID($0.id), $0.team) }, uniquingKeysWith: { first, _ in first })
        var interval = Bucketing(interval, reportTimeZone)
        var rows: [AgentRow] = []
        let present = agentReport.present(asOf: clock.now())
        for agent in Set(agentReport.byAgent.keys).union(present.keys) {
            let team = teamOf[agent] ?? ""
            guard teams.isEmpty || teams.contains(team) else { continue }
            // This agent's rows by the start of their interval.
            var mine: [Int64: AgentRow] = [:]
            for quarters in [agentReport.byAgent[agent], present[agent]] {
                for (quarter, figures) in quarters ?? [:] where quarter >= first && quarter < to {
                    let (start, end) = interval.bounds(of: quarter)
                    mine[start, default: AgentRow(agent: agent.rawValue, team: team, start: start, end: end, figures: .init())]
                        .figures.add(figures)
                }
            }
            rows += mine.values
        }
        return rows.sorted { ($0.start, $0.agent) < ($1.start, $1.agent) }
    }
}

extension SwitchboardConfiguration {
    /// The report's settings from the configuration's `reports` section (defaults: 20 s, no short
    /// abandons, abandons counted as Amazon Connect counts them).
    var queueReportSettings: QueueReport.Settings {
        QueueReport.Settings(
            thresholds: Dictionary(
                queues.compactMap { queue in queue.serviceLevelSeconds.map { (QueueID(queue.id), $0) } },
                uniquingKeysWith: { first, _ in first }),
            defaultThreshold: reports?.serviceLevelSeconds ?? 20,
            shortAbandonMilliseconds: Int64(reports?.shortAbandonSeconds ?? 0) * 1000,
            abandons: reports?.abandons.flatMap(QueueReport.AbandonTreatment.init(rawValue:)) ?? .counted)
    }
}
