import Center
import Prometheus

/// SIP's counters on the server's `/metrics`: what an operator alerts on when someone guesses
/// passwords or floods the port.
struct SIPMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    func digestFailed() {
        registry.makeCounter(name: "switchboard_sip_digest_failures_total", help: "Wrong SIP digest answers.").increment()
    }

    func blocked(_ block: SIPGuard.Block) {
        let scope = switch block {
        case .address: "address"
        case .user: "user"
        }
        registry.makeCounter(
            name: "switchboard_sip_guessing_blocks_total", labels: [("scope", scope)],
            help: "Blocks started for repeated wrong SIP digest answers (per address, or per user from unknown addresses).")
            .increment()
    }

    func refusedForGuessing() {
        registry.makeCounter(
            name: "switchboard_sip_guessing_refusals_total", help: "SIP requests refused while their address or user was blocked.")
            .increment()
    }

    func replayed() {
        registry.makeCounter(name: "switchboard_sip_digest_replays_total", help: "SIP digest answers sent again with a used nonce count.")
            .increment()
    }

    func dropped(reason: String) {
        registry.makeCounter(
            name: "switchboard_sip_requests_dropped_total", labels: [("reason", reason)],
            help: "SIP requests dropped unanswered (flood: over the rate allowed an unknown address).")
            .increment()
    }
}

extension SIPEndpoint {
    var metrics: SIPMetrics? { center.map { SIPMetrics(registry: $0.metrics.registry) } }
}
