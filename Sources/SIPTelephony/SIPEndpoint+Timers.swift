import CallControl
import Center
import Foundation
import SIP
import Store

/// The endpoint's timers: a heap of deadlines and one sleeping task on the injected clock.
extension SIPEndpoint {
    // MARK: Timers

    func schedule(_ timer: Timer, after: Duration) {
        let (seconds, attoseconds) = after.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        deadlines.set(timer, at: clock.now().adding(milliseconds: milliseconds))
        armSleeper()
    }

    func scheduleRegistrations() {
        guard let next = registrar.nextExpiry else {
            deadlines.remove(.registrations)
            return
        }
        let (seconds, attoseconds) = next.components
        deadlines.set(.registrations, at: Timestamp(milliseconds: seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        armSleeper()
    }

    func armSleeper() {
        guard let earliest = deadlines.earliest() else { return }
        if let sleeperDeadline, sleeperDeadline <= earliest, sleeper != nil { return }
        sleeper?.cancel()
        sleeperDeadline = earliest
        let clock = clock
        sleeper = Task {
            do { try await clock.sleep(until: earliest) } catch { return }
            await self.fireDueTimers()
        }
    }

    func fireDueTimers() async {
        sleeper = nil
        sleeperDeadline = nil
        let now = clock.now()
        for timer in deadlines.popDue(now: now) {
            switch timer {
            case .transaction(let id):
                await handle(layer.timerFired(id))
            case .answer(let id):
                await retransmitAnswer(id)
            case .registrations:
                let changes = registrar.expire(now: self.now)
                registrationsChanged()
                await apply(changes)
            }
        }
        armSleeper()
    }

    func retransmitAnswer(_ id: InteractionID) async {
        guard let customer = calls[id]?.customer, let (ok, sentAt, interval) = customer.unacknowledged else { return }
        if clock.now().milliseconds - sentAt.milliseconds >= Int64((settings.timers.t1 * 64).components.seconds * 1000) {
            // No ACK in 64×T1: the session ends (RFC 3261 §13.3.1.4).
            await hangUp(id, .customer)
            await lineEvent(id, .hungUp(.customer))
            return
        }
        await respond(ok, to: customer.transaction)
        let next = min(interval * 2, settings.timers.t2)
        calls[id]?.customer?.unacknowledged?.interval = next
        schedule(.answer(id), after: next)
    }
}
