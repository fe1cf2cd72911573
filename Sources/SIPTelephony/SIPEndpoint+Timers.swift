import B2BUA
import CallControl
import Center
import Foundation
import SIP
import Store

/// The endpoint's timers: a heap of deadlines and one sleeping task on the injected clock.
extension SIPEndpoint {
    // MARK: Timers

    func schedule(_ timer: Timer, after: Duration) {
        deadlines.set(timer, at: clock.now().adding(milliseconds: after.milliseconds))
        armSleeper()
    }

    func scheduleRegistrations() {
        guard let next = registrar.nextExpiry else {
            deadlines.remove(.registrations)
            return
        }
        deadlines.set(.registrations, at: Timestamp(milliseconds: next.milliseconds))
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
            case .leg(let id, let timer):
                await drive(id) { $0.timerFired(timer, now: now) }
            case .registrations:
                let changes = registrar.expire(now: self.now)
                registrationsChanged()
                await apply(changes)
            }
        }
        armSleeper()
    }
}
