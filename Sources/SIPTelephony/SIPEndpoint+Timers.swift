import B2BUA
import CallControl
import Center
import Foundation
import SIP
import Store

/// The endpoint's timers, in the server's one queue of deadlines (the center's `Deadlines`).
extension SIPEndpoint {
    // MARK: Timers

    func schedule(_ timer: Timer, after: Duration) {
        guard let deadlineOwner, let center else { return }
        center.deadlines.set(timer, at: clock.now().adding(milliseconds: after.milliseconds), for: deadlineOwner)
    }

    func unschedule(_ timer: Timer) {
        guard let deadlineOwner, let center else { return }
        center.deadlines.remove(timer, for: deadlineOwner)
    }

    func scheduleRegistrations() {
        guard let next = registrar.nextExpiry else { return unschedule(.registrations) }
        guard let deadlineOwner, let center else { return }
        center.deadlines.set(Timer.registrations, at: Timestamp(milliseconds: next.milliseconds), for: deadlineOwner)
    }

    /// This endpoint's deadlines that fell due, earliest first.
    func fire(_ due: [DeadlineKey]) async {
        let now = clock.now()
        for key in due {
            switch key.base as? Timer {
            case .transaction(let id):
                await handle(layer.timerFired(id))
            case .leg(let id, let timer):
                await drive(id) { $0.timerFired(timer, now: now) }
            case .registrations:
                let changes = registrar.expire(now: self.now)
                registrationsChanged()
                await apply(changes)
            case .qualify:
                await qualify()
                if let every = settings.qualifyInterval { schedule(.qualify, after: every) }
            case .browserGrace(let agent):
                await browserGraceEnded(agent)
            case .webCallGrace(let key):
                await webCallGraceEnded(key)
            case nil:
                continue
            }
        }
    }

    // MARK: Qualify

    /// An OPTIONS to every registered phone (one at a time per binding: a phone still being asked
    /// is not asked again). Its transaction's timeout, or a transport error, is the phone gone.
    func qualify() async {
        let asking = Set(qualifying.values.map { $0.user + "\u{0}" + $0.contact })
        for (user, bindings) in registrar.bindings {
            for binding in bindings where !asking.contains(user + "\u{0}" + binding.contact) {
                var ids = Self.identifiers()
                var headers = SIPHeaders()
                headers.add("Via", legContext.via(for: binding.source, branch: ids.next()).text)
                headers.add("Max-Forwards", "70")
                headers.add("From", "<sip:switchboard@\(SIPPeerText.host(settings.host))>;tag=\(ids.next())")
                headers.add("To", "<\(binding.contact)>")
                headers.add("Call-ID", ids.next() + "@" + SIPPeerText.host(settings.host))
                headers.add("CSeq", "1 OPTIONS")
                let options = SIPRequest(method: .options, requestURI: binding.contact, headers: headers)
                let (transaction, outputs) = layer.send(options, to: binding.source)
                qualifying[transaction] = (user, binding.contact)
                await handle(outputs)
            }
        }
    }

    /// A phone did not answer its OPTIONS: its binding goes, and with the last one its available
    /// agent goes idle (`phoneLost`) before a customer is offered to it.
    func phoneStoppedAnswering(_ transaction: ClientTransactionID) async {
        guard let (user, contact) = qualifying.removeValue(forKey: transaction) else { return }
        logger.notice("a registered phone stopped answering: its registration is removed", metadata: ["agent": "\(user)", "contact": "\(contact)"])
        let changes = registrar.remove(user: user, contact: contact)
        registrationsChanged()
        await apply(changes)
    }
}
