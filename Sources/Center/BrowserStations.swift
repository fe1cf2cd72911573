import CallControl

/// Browsers as phones (WebRTC terminated in the server), for the HTTP API: an agent's media
/// session for the whole sign-in, and customers' web calls. SDP in and out as text; WHIP-style
/// (RFC 9725): each session or call is a resource the browser deletes to end it. The SIP
/// telephony implements it (its media engine holds the sessions); a server without media has none.
public protocol BrowserStations: Sendable {
    /// The user's media session from the browser's offer; the answer and the session's id. A
    /// session the user already had is closed (the newest window holds the phone). An agent on a
    /// call whose browser went away gets the call's sound back on the new session.
    func openSession(for user: AgentID, offer: String) async throws(BrowserStationError) -> (id: String, answer: String)
    /// Ends the user's session (the desktop signing out, or choosing another station).
    func closeSession(_ id: String, of user: AgentID) async throws(BrowserStationError)
    /// Whether the agent has a connected session (the browser station may be chosen).
    func sessionConnected(of agent: AgentID) async -> Bool
    /// A customer's call from a web page to `number`, queued as a SIP customer's would be. The
    /// key names the call's resource (a secret: whoever holds it can hang up or reconnect).
    func startWebCall(number: String, offer: String) async throws(BrowserStationError)
        -> (key: String, call: InteractionID, answer: String)
    /// The customer's page reconnects (a new offer: after a network change or a server restart).
    func resumeWebCall(number: String, key: String, offer: String) async throws(BrowserStationError) -> String
    /// Where the web call is: `connecting`, `connected` or `ended`; nil for a key not known.
    func webCallState(number: String, key: String) async -> String?
    /// The customer hangs up.
    func endWebCall(number: String, key: String) async throws(BrowserStationError)
    /// Whether customers may call `number` from a web page.
    func allowsWebCalls(_ number: String) -> Bool
}

/// Why a browser's request is refused: an HTTP status and a machine-readable code.
public struct BrowserStationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public init(status: Int, code: String, message: String) { (self.status, self.code, self.message) = (status, code, message) }
    public var description: String { "\(code): \(message)" }

    public static let unknownSession = BrowserStationError(status: 404, code: "unknownSession", message: "no such WebRTC session of yours")
    public static let unknownWebCall = BrowserStationError(status: 404, code: "unknownWebCall", message: "no such web call")
    public static let noWebCalls = BrowserStationError(
        status: 404, code: "unknownNumber", message: "this number does not exist or does not take web calls")
    public static let noMediaPorts = BrowserStationError(
        status: 503, code: "noMediaPorts", message: "every media port is in use: try again in a minute")
}
