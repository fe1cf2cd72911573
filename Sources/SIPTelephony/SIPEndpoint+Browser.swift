import CallControl
import Center
import Cryptography
import Foundation
import MediaService
import Store
import WebRTC

/// Browsers as phones: an agent's (or supervisor's) WebRTC session for the whole sign-in, attached
/// to each call leg the agent is rung on (station `browser`), and customers' web calls, whose
/// session is the call's customer leg. The media engine holds the sessions; this keeps who owns
/// each, which leg each carries, and the grace periods when a browser goes away.
struct BrowserPhones {
    enum Owner: Hashable {
        case user(AgentID)
        case webCall(String)
    }

    struct WebCall {
        var number: String
        var call: InteractionID
        var session: WebRTCSessionID?
        var connected = false
    }

    var owners: [WebRTCSessionID: Owner] = [:]
    var userSessions: [AgentID: WebRTCSessionID] = [:]
    var connected: Set<WebRTCSessionID> = []
    /// The call leg each agent's browser carries (rung or on the call), while there is one.
    var agentLegs: [AgentID: LegID] = [:]
    /// Live web calls by key, and each call's key.
    var webCalls: [String: WebCall] = [:]
    var webCallKeys: [InteractionID: String] = [:]
    /// Web calls that ended recently (their page asks how it went), oldest first, bounded.
    var endedWebCalls: [String] = []
}

extension SIPEndpoint {
    static func randomID(_ prefix: String) -> String { prefix + Hash.hex(SecureRandom.bytes(16)) }

    static func refusal(_ error: WebRTCOffer.Refusal) -> BrowserStationError {
        BrowserStationError(status: 400, code: error.code, message: error.description)
    }

    /// Opens a session for an offer, its events fed back to this actor in order.
    private func openSession(_ offer: WebRTCOffer, owner: BrowserPhones.Owner, for call: InteractionID? = nil)
        async throws(BrowserStationError) -> (WebRTCSessionID, String)
    {
        let id = WebRTCSessionID(Self.randomID("w"))
        let events = browserEventsIn
        do {
            let answer = try await media.openWebRTC(offer, id: id, for: call) { event in events.yield((id, event)) }
            browser.owners[id] = owner
            return (id, answer)
        } catch {
            throw .noMediaPorts
        }
    }

    private func parse(_ offer: String) throws(BrowserStationError) -> WebRTCOffer {
        do { return try WebRTCOffer(parsing: offer) } catch { throw Self.refusal(error) }
    }

    // MARK: Agents' sessions

    func openUserSession(_ user: AgentID, offer text: String) async throws(BrowserStationError) -> (id: String, answer: String) {
        let offer = try parse(text)
        let (id, answer) = try await openSession(offer, owner: .user(user))
        if let previous = browser.userSessions[user] {
            // The newest window holds the phone; the older one's session ends (it shows that).
            await forgetSession(previous)
        }
        browser.userSessions[user] = id
        unschedule(.browserGrace(user))
        await attachToCurrentCall(user, id)
        return (id.rawValue, answer)
    }

    /// A desktop reloaded (or the server restarted) while its agent was on a call: the new
    /// session takes the agent's leg over, and hears what the center's plan says now.
    private func attachToCurrentCall(_ agent: AgentID, _ id: WebRTCSessionID) async {
        var leg = browser.agentLegs[agent]
        if leg == nil, let center, await center.agent(agent)?.answerMode == .browser, let task = await center.task(of: agent) {
            leg = LegID(task, .agent(agent))
        }
        guard let leg else { return }
        do {
            try await media.attachWebRTC(id, to: leg.key)
            browser.agentLegs[agent] = leg
            if let lines = await center?.lines(of: [leg.call])[leg.call] { media.apply(leg.call, lines.plan) }
        } catch {
            logger.warning("could not attach a browser session to its agent's call", metadata: ["agent": "\(agent)", "error": "\(error)"])
        }
    }

    func closeUserSession(_ text: String, of user: AgentID) async throws(BrowserStationError) {
        let id = WebRTCSessionID(text)
        guard browser.owners[id] == .user(user) else { throw .unknownSession }
        await forgetSession(id)
        if browser.userSessions[user] == id {
            browser.userSessions[user] = nil
            await agentBrowserGone(user)
        }
    }

    func userSessionConnected(_ agent: AgentID) -> Bool {
        browser.userSessions[agent].map(browser.connected.contains) ?? false
    }

    /// Closes a session without the owner hearing of it as lost.
    private func forgetSession(_ id: WebRTCSessionID) async {
        browser.owners[id] = nil
        browser.connected.remove(id)
        await media.closeWebRTC(id)
    }

    /// An agent's browser station went away: available, the agent goes idle (`browserLost`); on a
    /// call, the call is kept for the grace period, for a reloaded desktop to take it back.
    private func agentBrowserGone(_ agent: AgentID) async {
        _ = try? await center?.execute(.agent(agent, .browserLost))
        if browser.agentLegs[agent] != nil { schedule(.browserGrace(agent), after: settings.browserGrace) }
    }

    /// No new session came in time: the agent's leg hangs up, by the rules of the spec (Agent 1
    /// hanging up ends the call, a conferenced Agent 2 exits).
    func browserGraceEnded(_ agent: AgentID) async {
        guard browser.userSessions[agent] == nil, let leg = browser.agentLegs.removeValue(forKey: agent) else { return }
        logger.notice("a browser station did not come back: its agent's leg hangs up", metadata: ["agent": "\(agent)", "task": "\(leg.call)"])
        media.close(leg.key)
        await lineEvent(leg.call, .hungUp(leg.leg))
    }

    // MARK: Ringing and hanging up

    /// Rings an agent whose station is the browser: their session becomes the leg's media now
    /// (the ring tone and Accept are the desktop's), so Accept needs no negotiation.
    func ringBrowser(_ id: LegID, agent: AgentID) async {
        guard let session = browser.userSessions[agent], browser.connected.contains(session) else {
            return await lineEvent(id.call, .ringFailed(id.leg, .unreachable))
        }
        if let previous = browser.agentLegs[agent], previous != id { media.close(previous.key) }
        do {
            try await media.attachWebRTC(session, to: id.key)
            browser.agentLegs[agent] = id
        } catch {
            await lineEvent(id.call, .ringFailed(id.leg, .unreachable))
        }
    }

    /// The center hung up a leg: a browser's leg stops carrying the browser's sound (its session
    /// stays for the next call); a web call's customer leg ends the web call.
    func hangUpBrowserLeg(_ id: LegID) async {
        switch id.leg {
        case .agent, .supervisor:
            // A supervisor's browser is held as a user's session, like an agent's.
            let agent = id.leg.browserUser!
            guard browser.agentLegs[agent] == id else { return }
            browser.agentLegs[agent] = nil
            unschedule(.browserGrace(agent))
            media.close(id.key)
        case .customer:
            guard let key = browser.webCallKeys[id.call] else { return }
            await endWebCallLeg(key)
        case .dialNumber:
            return
        }
    }

    // MARK: Events from the media engine

    func browserEvent(_ id: WebRTCSessionID, _ event: WebRTCSessionEvent) async {
        guard let owner = browser.owners[id] else { return }
        switch event {
        case .connected:
            browser.connected.insert(id)
            if case .webCall(let key) = owner { browser.webCalls[key]?.connected = true }
        case .lost(let why):
            browser.owners[id] = nil
            browser.connected.remove(id)
            logger.info("a browser's WebRTC session was lost", metadata: ["session": "\(id)", "why": "\(why)"])
            switch owner {
            case .user(let agent):
                guard browser.userSessions[agent] == id else { return }
                browser.userSessions[agent] = nil
                await agentBrowserGone(agent)
            case .webCall(let key):
                guard browser.webCalls[key]?.session == id else { return }
                browser.webCalls[key]?.session = nil
                browser.webCalls[key]?.connected = false
                // Kept a little: a page that lost its network reconnects with a new offer.
                schedule(.webCallGrace(key), after: settings.browserGrace)
            }
        }
    }

    // MARK: Web calls

    func startWebCall(number: String, offer text: String) async throws(BrowserStationError)
        -> (key: String, call: InteractionID, answer: String)
    {
        guard settings.webCallNumbers.contains(number), let queue = settings.numbers[number] else { throw .noWebCalls }
        guard let center else { throw BrowserStationError(status: 503, code: "notReady", message: "the server is starting") }
        guard browser.webCalls.count < settings.webCallLimit else {
            throw BrowserStationError(status: 503, code: "webCallsBusy", message: "too many web calls at once: try again in a minute")
        }
        let (signedIn, waiting) = await center.staffing(of: queue)
        guard signedIn > 0 else {
            throw BrowserStationError(status: 503, code: "queueClosed", message: "nobody is taking calls on this line right now")
        }
        guard waiting < settings.webCallQueueLimit else {
            throw BrowserStationError(status: 503, code: "queueFull", message: "every line is busy: please try again in a few minutes")
        }
        let offer = try parse(text)
        let key = Self.randomID("c")
        let call = InteractionID.make(at: clock.now())
        let (session, answer) = try await openSession(offer, owner: .webCall(key), for: call)
        browser.webCalls[key] = BrowserPhones.WebCall(number: number, call: call, session: session)
        browser.webCallKeys[call] = key
        do {
            try await media.attachWebRTC(session, to: LegID(call, .customer).key)
        } catch {
            await endWebCallLeg(key)
            throw .noMediaPorts
        }
        writeDownWebCall(key)
        let refusal: BrowserStationError?
        do {
            let (outcome, _) = try await center.execute(.arrival(call, queue: queue, from: Caller(name: "Web caller")))
            refusal = outcome.rejection.map { BrowserStationError(status: 503, code: "\($0)", message: "the call was not queued: \($0)") }
        } catch {
            refusal = BrowserStationError(status: 503, code: "unavailable", message: "the call could not be queued now")
        }
        if let refusal {
            await endWebCallLeg(key)
            throw refusal
        }
        return (key, call, answer)
    }

    func resumeWebCall(number: String, key: String, offer text: String) async throws(BrowserStationError) -> String {
        guard let webCall = browser.webCalls[key], webCall.number == number else { throw .unknownWebCall }
        let offer = try parse(text)
        let (session, answer) = try await openSession(offer, owner: .webCall(key), for: webCall.call)
        if let old = webCall.session { await forgetSession(old) }
        browser.webCalls[key]?.session = session
        browser.webCalls[key]?.connected = false
        unschedule(.webCallGrace(key))
        do {
            try await media.attachWebRTC(session, to: LegID(webCall.call, .customer).key)
            if let lines = await center?.lines(of: [webCall.call])[webCall.call] { media.apply(webCall.call, lines.plan) }
        } catch {
            throw .noMediaPorts
        }
        return answer
    }

    func webCallState(number: String, key: String) -> String? {
        if let webCall = browser.webCalls[key] {
            guard webCall.number == number else { return nil }
            return webCall.connected ? "connected" : "connecting"
        }
        return browser.endedWebCalls.contains(key) ? "ended" : nil
    }

    /// The customer hangs up from the page.
    func endWebCall(number: String, key: String) async throws(BrowserStationError) {
        guard let webCall = browser.webCalls[key], webCall.number == number else { throw .unknownWebCall }
        await customerLeft(webCall.call)
        await endWebCallLeg(key)
    }

    /// The page did not come back in time: the customer has hung up.
    func webCallGraceEnded(_ key: String) async {
        guard let webCall = browser.webCalls[key], webCall.session == nil else { return }
        await customerLeft(webCall.call)
        await endWebCallLeg(key)
    }

    /// Tells the center the customer hung up; after a hand-off (the center is done with the
    /// call) the outside number's leg is hung up instead.
    private func customerLeft(_ call: InteractionID) async {
        if handedOff.contains(call) {
            for other in legs(of: call, except: .customer) { await drive(other) { $0.hangUp() } }
        } else {
            await lineEvent(call, .hungUp(.customer))
        }
    }

    /// The web call is over on our side: its session closed (the page hears DTLS close), its
    /// leg gone from the media, its record forgotten.
    private func endWebCallLeg(_ key: String) async {
        guard let webCall = browser.webCalls.removeValue(forKey: key) else { return }
        browser.webCallKeys[webCall.call] = nil
        unschedule(.webCallGrace(key))
        if let session = webCall.session { await forgetSession(session) }
        media.close(LegID(webCall.call, .customer).key)
        record(LineRecord(key: "web|" + key, body: nil))
        browser.endedWebCalls.append(key)
        if browser.endedWebCalls.count > 1_000 { browser.endedWebCalls.removeFirst(100) }
    }

    // MARK: Restart

    struct SavedWebCall: Codable {
        var number: String
        var call: String
    }

    private func writeDownWebCall(_ key: String) {
        guard records != nil, let webCall = browser.webCalls[key],
            let body = try? JSONEncoder().encode(SavedWebCall(number: webCall.number, call: webCall.call.rawValue))
        else { return }
        record(LineRecord(key: "web|" + key, body: String(decoding: body, as: UTF8.self)))
    }

    /// After a crash: web calls the center still holds wait (for the grace period) for their page
    /// to reconnect with a new offer; agents on calls with the browser station wait for their
    /// desktop. What a listener hears meanwhile: the party whose browser is away is silent; the
    /// others hear each other (or the music) as the plan says.
    func recoverBrowsers(_ stored: [LineRecord]) async {
        var saved: [(String, SavedWebCall)] = []
        for record in stored where record.key.hasPrefix("web|") {
            let key = String(record.key.dropFirst(4))
            guard let body = record.body, let webCall = try? JSONDecoder().decode(SavedWebCall.self, from: Data(body.utf8)) else {
                self.record(LineRecord(key: record.key, body: nil))
                continue
            }
            saved.append((key, webCall))
        }
        let live = await center?.lines(of: Set(saved.map { InteractionID($0.1.call) })) ?? [:]
        for (key, webCall) in saved {
            let call = InteractionID(webCall.call)
            guard live[call]?.legs.contains(.customer) == true else {
                record(LineRecord(key: "web|" + key, body: nil))
                continue
            }
            browser.webCalls[key] = BrowserPhones.WebCall(number: webCall.number, call: call, session: nil)
            browser.webCallKeys[call] = key
            schedule(.webCallGrace(key), after: settings.browserGrace)
        }
        for (agent, task) in await center?.browserAgentsOnCalls() ?? [] where browser.agentLegs[agent] == nil {
            browser.agentLegs[agent] = LegID(task, .agent(agent))
            schedule(.browserGrace(agent), after: settings.browserGrace)
        }
    }
}

extension Leg {
    /// Whose browser session carries this leg: an agent's, or a supervisor's (held like an agent's,
    /// under the same user name).
    var browserUser: AgentID? {
        switch self {
        case .agent(let agent): agent
        case .supervisor(let supervisor): AgentID(supervisor.rawValue)
        case .customer, .dialNumber: nil
        }
    }
}
