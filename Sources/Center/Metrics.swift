import CallControl
import Prometheus
import Reports

/// What `GET /metrics` shows, in Prometheus' text format: counters and histograms updated as
/// commands run, gauges read from the center when scraped (so they are never stale).
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let commandDuration: DurationHistogram
    private let storeDuration: DurationHistogram
    private let eventsStored: Counter
    /// Audit-trail lines the store refused (what they recorded still happened).
    let auditFailures: Counter

    public init() {
        let buckets: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
                                   .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                   .milliseconds(100), .milliseconds(250), .seconds(1)]
        commandDuration = registry.makeDurationHistogram(
            name: "switchboard_command_duration_seconds", buckets: buckets,
            help: "A command from arrival at the center to its events being durable.")
        storeDuration = registry.makeDurationHistogram(
            name: "switchboard_store_append_duration_seconds", buckets: buckets,
            help: "One append of a command's events to the event store.")
        eventsStored = registry.makeCounter(name: "switchboard_events_stored_total", help: "Events appended to the log.")
        auditFailures = registry.makeCounter(
            name: "switchboard_audit_failures_total", help: "Audit-trail lines the store could not write.")
    }

    func commandRan(_ command: Command, accepted: Bool, duration: Duration) {
        registry.makeCounter(
            name: "switchboard_commands_total",
            labels: [("command", command.name), ("outcome", accepted ? "accepted" : "rejected")],
            help: "Commands handled by the call-control core.").increment()
        if accepted { commandDuration.record(duration) }
    }

    func stored(_ count: Int, duration: Duration) {
        eventsStored.increment(by: Int64(count))
        storeDuration.record(duration)
    }

    /// The live figures, set just before a scrape.
    public func setGauges(_ live: ContactCenter.LiveFigures) {
        for (status, count) in live.agentsByStatus {
            registry.makeGauge(name: "switchboard_agents", labels: [("status", status)], help: "Agents by status.")
                .set(to: Double(count))
        }
        for (queue, count) in live.waitingByQueue {
            registry.makeGauge(name: "switchboard_calls_waiting", labels: [("queue", queue)], help: "Calls waiting in each queue.")
                .set(to: Double(count))
        }
        for (queue, seconds) in live.oldestWaitSecondsByQueue {
            registry.makeGauge(name: "switchboard_queue_oldest_wait_seconds", labels: [("queue", queue)],
                               help: "How long the oldest call waiting in each queue has waited.").set(to: seconds)
        }
        for (queue, figures) in live.todayByQueue {
            for (figure, value) in [("offered", figures.offered), ("answered", figures.answered), ("abandoned", figures.abandoned)] {
                registry.makeGauge(name: "switchboard_queue_calls_today", labels: [("queue", queue), ("figure", figure)],
                                   help: "Calls offered, answered and abandoned in each queue since midnight (the server's time zone).")
                    .set(to: Double(value))
            }
            registry.makeGauge(name: "switchboard_queue_service_level_today", labels: [("queue", queue)],
                               help: "Each queue's service level since midnight, 0-1 (1 while nothing has left the queue; docs/reports.md).")
                .set(to: figures.serviceLevel(live.abandons) ?? 1)
        }
        registry.makeGauge(name: "switchboard_tasks_live", help: "Tasks in memory: live or awaiting a wrap-up.")
            .set(to: Double(live.tasks))
        registry.makeGauge(name: "switchboard_event_stream_sessions", help: "Open WebSocket event streams.")
            .set(to: Double(live.streams))
        registry.makeGauge(name: "switchboard_draining", help: "1 while the server drains before shutting down.")
            .set(to: live.draining ? 1.0 : 0.0)
    }
}
