import CallControl
import Center
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Reports
import Store

/// `GET /v1/reports/queues?from=MS&to=MS&interval=15m|hour|day[&queue=ID,…]`: each queue's
/// figures per interval (docs/reports.md), supervisors only; JSON `{"rows": [...]}`, or CSV with
/// `Accept: text/csv` (the same columns, a header line first).
func addReportRoutes(v1: RouterGroup<SwitchboardContext>, api: API, accounts: Accounts) {
    let center = api.center
    v1.get("/reports/queues") { request, context in
        try accounts.requireSupervisor(try context.user())
        let (from, to, interval) = try reportRange(request)
        let query = request.uri.queryParameters
        let known = Set(center.configuration.queues.map(\.id))
        let queues = (query.get("queue") ?? "").split(separator: ",").map(String.init)
        if let unknown = queues.first(where: { !known.contains($0) }) {
            throw APIError(status: .badRequest, code: "unknownQueue", message: "no queue '\(unknown)'")
        }
        let rows = await center.queueRows(from: from, to: to, interval: interval, queues: Set(queues.map { QueueID($0) }))
        let treatment = await center.reportSettings.abandons
        return answer(request, api, rows.map { QueueReportRow($0, treatment) }, columns: QueueReportRow.columns, csv: \.csv)
    }

    v1.get("/reports/agents") { request, context in
        try accounts.requireSupervisor(try context.user())
        let (from, to, interval) = try reportRange(request)
        let known = Set(center.configuration.agents.map(\.team))
        let teams = (request.uri.queryParameters.get("team") ?? "").split(separator: ",").map(String.init)
        if let unknown = teams.first(where: { !known.contains($0) }) {
            throw APIError(status: .badRequest, code: "unknownTeam", message: "no team '\(unknown)'")
        }
        var rows = await center.agentRows(from: from, to: to, interval: interval, teams: Set(teams))
        switch request.uri.queryParameters.get("by") ?? "agent" {
        case "agent": break
        case "team":
            // A team's row sums its agents' (its occupancy is the team's time, not an average of agents').
            var sums: [String: ContactCenter.AgentRow] = [:]
            for row in rows {
                let key = "\(row.start)|\(row.team)"
                sums[key, default: ContactCenter.AgentRow(agent: "", team: row.team, start: row.start, end: row.end, figures: .init())]
                    .figures.add(row.figures)
            }
            rows = sums.values.sorted { ($0.start, $0.team) < ($1.start, $1.team) }
        default:
            throw APIError.badRequest("by is 'agent' or 'team'")
        }
        return answer(request, api, rows.map(AgentReportRow.init), columns: AgentReportRow.columns, csv: \.csv)
    }
}

/// A report's rows: `{"rows": [...]}`, or CSV (a header line, then a line per row) when asked.
private func answer<Row: JSONWritable>(
    _ request: Request, _ api: API, _ rows: [Row], columns: [String], csv: (Row) -> String
) -> Response {
    guard request.headers[.accept]?.contains("text/csv") == true else {
        // Written by hand, not by JSONEncoder: a month by quarter hours is 23,000 rows, and the
        // encoder took most of the answer's time.
        var json = JSONText()
        json.object { json in
            json.key("rows")
            json.array(rows) { json, row in row.write(to: &json) }
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
    var text = columns.joined(separator: ",") + "\r\n"
    for row in rows { text += csv(row) + "\r\n" }
    return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
}

/// A report's `from`, `to` and `interval`, checked.
private func reportRange(_ request: Request) throws -> (Int64, Int64, ContactCenter.ReportInterval) {
    let query = request.uri.queryParameters
    // Moments from 1970 to 2100: no arithmetic on them can overflow.
    let moments: ClosedRange<Int64> = 0...4_102_444_800_000
    guard let from = query.get("from").flatMap({ Int64($0) }), let to = query.get("to").flatMap({ Int64($0) }),
        moments.contains(from), moments.contains(to), from < to
    else {
        throw APIError.badRequest("from and to are required: ms since 1970 (before 2100), from before to")
    }
    guard to - from <= 400 * 86_400_000 else { throw APIError.badRequest("a report spans at most 400 days") }
    guard let interval = ContactCenter.ReportInterval(rawValue: query.get("interval") ?? "hour") else {
        throw APIError.badRequest("interval is '15m', 'hour' or 'day'")
    }
    return (from, to, interval)
}

/// An agent's interval as the API shows it (docs/reports.md).
struct AgentReportRow: JSONWritable {
    var agentId: String
    var teamId: String
    var start: Int64
    var end: Int64
    var answered: Int
    var wrapUps: Int
    var availableMs: Int64
    var ringingMs: Int64
    var onCallMs: Int64
    var wrapUpMs: Int64
    var idleMs: Int64
    var idleByReasonMs: [String: Int64]
    var occupancy: Double?
    var averageHandleTimeMs: Int64?
    var averageWrapUpMs: Int64?

    init(_ row: ContactCenter.AgentRow) {
        let f = row.figures
        (agentId, teamId, start, end) = (row.agent, row.team, row.start, row.end)
        (answered, wrapUps) = (f.answered, f.wrapUps)
        (availableMs, ringingMs, onCallMs, wrapUpMs) = (f.availableMilliseconds, f.ringingMilliseconds, f.onCallMilliseconds, f.wrapUpMilliseconds)
        idleByReasonMs = f.idleMilliseconds
        idleMs = f.idleMilliseconds.values.reduce(0, +)
        occupancy = f.occupancy
        averageHandleTimeMs = f.answered > 0 ? (f.onCallMilliseconds + f.wrapUpMilliseconds) / Int64(f.answered) : nil
        averageWrapUpMs = f.wrapUps > 0 ? f.wrapUpMilliseconds / Int64(f.wrapUps) : nil
    }

    func write(to json: inout JSONText) {
        json.object { json in
            json.member("agentId", agentId)
            json.member("teamId", teamId)
            json.member("start", start)
            json.member("end", end)
            json.member("answered", answered)
            json.member("wrapUps", wrapUps)
            json.member("availableMs", availableMs)
            json.member("ringingMs", ringingMs)
            json.member("onCallMs", onCallMs)
            json.member("wrapUpMs", wrapUpMs)
            json.member("idleMs", idleMs)
            json.key("idleByReasonMs")
            json.object { json in
                for reason in idleByReasonMs.keys.sorted() { json.member(named: reason, idleByReasonMs[reason]!) }
            }
            json.member("occupancy", occupancy)
            json.member("averageHandleTimeMs", averageHandleTimeMs)
            json.member("averageWrapUpMs", averageWrapUpMs)
        }
    }

    static let columns = [
        "agentId", "teamId", "start", "end", "answered", "wrapUps", "availableMs", "ringingMs", "onCallMs", "wrapUpMs", "idleMs",
        "idleByReasonMs", "occupancy", "averageHandleTimeMs", "averageWrapUpMs",
    ]

    /// `idleByReasonMs` as `reason=ms` pairs joined by `;` (ids are slugs: no quoting needed).
    var csv: String {
        func text(_ value: (any CustomStringConvertible)?) -> String { value.map { "\($0)" } ?? "" }
        let reasons = idleByReasonMs.keys.sorted().map { "\($0)=\(idleByReasonMs[$0]!)" }.joined(separator: ";")
        let values: [(any CustomStringConvertible)?] = [
            agentId, teamId, start, end, answered, wrapUps, availableMs, ringingMs, onCallMs, wrapUpMs, idleMs, reasons, occupancy,
            averageHandleTimeMs, averageWrapUpMs,
        ]
        return values.map(text).joined(separator: ",")
    }
}

/// A queue's interval as the API shows it: counts, fractions (0–1) and averages in ms; a figure
/// with nothing to average over is null (empty in CSV).
struct QueueReportRow: JSONWritable {
    var queueId: String
    var start: Int64
    var end: Int64
    var offered: Int
    var answered: Int
    var abandoned: Int
    var shortAbandoned: Int
    var answeredWithinThreshold: Int
    var abandonedWithinThreshold: Int
    var serviceLevel: Double?
    var abandonRate: Double?
    var averageSpeedOfAnswerMs: Int64?
    var longestWaitMs: Int64
    var averageTimeToAbandonMs: Int64?
    var handled: Int
    var averageHandleTimeMs: Int64?
    var averageTalkMs: Int64?
    var averageHoldMs: Int64?
    var averageWrapUpMs: Int64?
    var transfers: Int
    var consults: Int
    var conferences: Int
    var wrapUpsByReason: [String: Int]

    init(_ row: ContactCenter.QueueRow, _ treatment: QueueReport.AbandonTreatment) {
        let f = row.figures
        (queueId, start, end) = (row.queue, row.start, row.end)
        (offered, answered, abandoned, shortAbandoned) = (f.offered, f.answered, f.abandoned, f.shortAbandoned)
        (answeredWithinThreshold, abandonedWithinThreshold) = (f.answeredWithinThreshold, f.abandonedWithinThreshold)
        (serviceLevel, abandonRate) = (f.serviceLevel(treatment), f.abandonRate)
        (averageSpeedOfAnswerMs, longestWaitMs, averageTimeToAbandonMs) =
            (f.averageSpeedOfAnswerMilliseconds, f.longestWaitMilliseconds, f.averageTimeToAbandonMilliseconds)
        (handled, averageHandleTimeMs, averageTalkMs) = (f.handled, f.averageHandleTimeMilliseconds, f.averageTalkMilliseconds)
        (averageHoldMs, averageWrapUpMs) = (f.averageHoldMilliseconds, f.averageWrapUpMilliseconds)
        (transfers, consults, conferences) = (f.transfers, f.consults, f.conferences)
        wrapUpsByReason = f.wrapUps
    }

    func write(to json: inout JSONText) {
        json.object { json in
            json.member("queueId", queueId)
            json.member("start", start)
            json.member("end", end)
            json.member("offered", offered)
            json.member("answered", answered)
            json.member("abandoned", abandoned)
            json.member("shortAbandoned", shortAbandoned)
            json.member("answeredWithinThreshold", answeredWithinThreshold)
            json.member("abandonedWithinThreshold", abandonedWithinThreshold)
            json.member("serviceLevel", serviceLevel)
            json.member("abandonRate", abandonRate)
            json.member("averageSpeedOfAnswerMs", averageSpeedOfAnswerMs)
            json.member("longestWaitMs", longestWaitMs)
            json.member("averageTimeToAbandonMs", averageTimeToAbandonMs)
            json.member("handled", handled)
            json.member("averageHandleTimeMs", averageHandleTimeMs)
            json.member("averageTalkMs", averageTalkMs)
            json.member("averageHoldMs", averageHoldMs)
            json.member("averageWrapUpMs", averageWrapUpMs)
            json.member("transfers", transfers)
            json.member("consults", consults)
            json.member("conferences", conferences)
            json.key("wrapUpsByReason")
            json.object { json in
                for reason in wrapUpsByReason.keys.sorted() { json.member(named: reason, Int64(wrapUpsByReason[reason]!)) }
            }
        }
    }

    static let columns = [
        "queueId", "start", "end", "offered", "answered", "abandoned", "shortAbandoned", "answeredWithinThreshold",
        "abandonedWithinThreshold", "serviceLevel", "abandonRate", "averageSpeedOfAnswerMs", "longestWaitMs",
        "averageTimeToAbandonMs", "handled", "averageHandleTimeMs", "averageTalkMs", "averageHoldMs", "averageWrapUpMs",
        "transfers", "consults", "conferences", "wrapUpsByReason",
    ]

    /// The row in `columns`' order (a queue id is a slug: no quoting is needed); `wrapUpsByReason`
    /// as `reason=count` pairs joined by `;`.
    var csv: String {
        func text(_ value: (any CustomStringConvertible)?) -> String { value.map { "\($0)" } ?? "" }
        let values: [(any CustomStringConvertible)?] = [
            queueId, start, end, offered, answered, abandoned, shortAbandoned, answeredWithinThreshold, abandonedWithinThreshold,
            serviceLevel, abandonRate, averageSpeedOfAnswerMs, longestWaitMs, averageTimeToAbandonMs, handled,
            averageHandleTimeMs, averageTalkMs, averageHoldMs, averageWrapUpMs, transfers, consults, conferences,
            wrapUpsByReason.keys.sorted().map { "\($0)=\(wrapUpsByReason[$0]!)" }.joined(separator: ";"),
        ]
        return values.map(text).joined(separator: ",")
    }
}
