import B2BUA
import CallControl
import Cryptography
import Media
import MediaService
import Recordings
import SIP

/// What `serve` is told about SIP: where to listen, which numbers reach which queues, which
/// sources are trunks, the agents' SIP accounts (as digest hashes), the gateway.
public struct SIPSettings: Sendable {
    /// The address SIP binds to and advertises (Via, Contact, SDP).
    public var host: String
    /// UDP and TCP; 0 picks a free port.
    public var port: Int
    public var realm: String
    /// Media ports offered in SDP (even ports; RTP is the next issue's).
    public var rtpPorts: ClosedRange<Int>
    /// A dialled number (the Request-URI's user) → the queue its calls go to.
    public var numbers: [String: QueueID]
    /// Source addresses whose INVITEs are customers' calls (trunks).
    public var trustedSources: Set<String>
    /// Trunks that authenticate with digest instead of by address: username → credential.
    public var trunkCredentials: [String: DigestCredential] = [:]
    /// Each agent's SIP account: the username is the agent's ID.
    public var credentials: [AgentID: DigestCredential]
    /// Where calls to outside numbers go; nil: dialled numbers stay simulated (they answer at once).
    public var gateway: SIPPeer?
    /// T1, T2, T4 over UDP, and over TCP and TLS (nil: the same).
    public var timers: SIPTimerValues
    public var streamTimers: SIPTimerValues?
    /// Digest algorithms offered to phones, in the order offered. MD5 first, then SHA-256: simple
    /// clients answer the first challenge (SIPp 3.6 knows MD5 alone and reads only the first; Linphone
    /// answers the first unless set to SHA-256, when it takes the SHA-256 one). Measured in docs/sip.md.
    public var digestAlgorithms: [DigestAlgorithm] = [.md5, .sha256]
    /// Phones that give up on any 401 carrying a challenge they cannot answer, by the start of
    /// their User-Agent: they are offered MD5 alone. Debian 12's baresip 1.0 (libre 1.1) is one.
    public var md5OnlyUserAgents: [String] = ["baresip v0.", "baresip v1."]
    /// A TCP connection that has not finished a message this long after its last bytes (a
    /// half-open connection, or one trickling a message) is closed. Connections between whole
    /// messages are left open: a phone registered over TCP is reached on its connection.
    public var tcpIncompleteTimeout: Duration = .seconds(32)
    /// SIP over TLS (RFC 3261 §26, RFC 5630), on its own port; nil: none.
    public var tls: TLSSettings?
    /// SRTP with SDES keys on legs whose signalling is TLS (never over UDP or TCP signalling).
    public var srtp: SRTPPolicy = .optional
    /// How often each registered phone is sent an OPTIONS (a "qualify", as Asterisk and Kamailio
    /// do); one that does not answer (its transaction times out, or cannot be sent) loses its
    /// registration, so its available agent goes idle (`phoneLost`) before a call is offered to it.
    /// Nil: never.
    public var qualifyInterval: Duration? = .seconds(30)
    /// What the server calls itself in `Server` (responses) and `User-Agent` (requests); nil sends
    /// neither, so a scanner (svmap) learns no software or version unless the operator wants it.
    public var serverHeader: String?
    /// What a customer queued, held or waiting through a consult hears.
    public var music = MusicSource.builtIn()
    /// Where recorded queues' calls are written (none: nothing is recorded).
    public var recordings: RecordingDirectory?

    // The browser as a phone (docs/webrtc.md).
    /// The addresses WebRTC answers advertise, and how long a silent browser is kept.
    public var webRTC = WebRTCSettings()
    /// Numbers customers may call from a web page (`/call/{number}`): each must be in `numbers`.
    public var webCallNumbers: Set<String> = []
    /// How long an agent on a call whose browser went away keeps the call, for a reloaded desktop
    /// to pick its sound back up; after it the agent's leg is hung up.
    public var browserGrace: Duration = .seconds(20)
    /// Web calls at once, over every number (the door needs no sign-in: a cap bounds it).
    public var webCallLimit = 100
    /// A web call is refused while this many customers already wait in the number's queue.
    public var webCallQueueLimit = 25

    public init(
        host: String = "127.0.0.1", port: Int = 5060, realm: String = "switchboard", rtpPorts: ClosedRange<Int> = 20_000...29_999,
        numbers: [String: QueueID] = [:], trustedSources: Set<String> = ["127.0.0.1", "::1"],
        credentials: [AgentID: DigestCredential] = [:], gateway: SIPPeer? = nil, timers: SIPTimerValues = SIPTimerValues()
    ) {
        self.host = host
        self.port = port
        self.realm = realm
        self.rtpPorts = rtpPorts
        self.numbers = numbers
        self.trustedSources = trustedSources
        self.credentials = credentials
        self.gateway = gateway
        self.timers = timers
    }

    /// The demo: 2000 → sales, 2001 → support (both taking web calls), agent1…agent4 (and the
    /// supervisors: `agents` are the SIP user names) with the SIP password `switchboard`,
    /// loopback trusted as the trunk.
    public static func demo(host: String = "127.0.0.1", port: Int = 5060, agents: [AgentID]) -> SIPSettings {
        var settings = SIPSettings(
            host: host, port: port, numbers: ["2000": "sales", "2001": "support"],
            credentials: Dictionary(uniqueKeysWithValues: agents.map {
                ($0, DigestCredential(username: $0.rawValue, realm: "switchboard", password: "switchboard"))
            }))
        settings.webCallNumbers = ["2000", "2001"]  // /call/2000 and /call/2001: the customer's page
        return settings
    }
}


/// SIP over TLS: the port, and the certificate and key the server presents (PEM). Without a
/// certificate of the operator's, one is made at start (self-signed: phones must be told to
/// accept it, or pinned to its fingerprint, which the server logs).
public struct TLSSettings: Sendable {
    public var port: Int
    public var certificatePEM: String
    public var privateKeyPEM: String
    /// SHA-256 of the certificate, when the server made it (for the log).
    public var fingerprint: String?

    public init(port: Int, certificatePEM: String, privateKeyPEM: String, fingerprint: String? = nil) {
        self.port = port
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.fingerprint = fingerprint
    }

    /// A self-signed certificate for `host`, made now.
    public static func selfSigned(port: Int, host: String) throws -> TLSSettings {
        let made = try SelfSignedCertificate.make(commonName: "switchboard", names: [host, "localhost"])
        return TLSSettings(port: port, certificatePEM: made.certificatePEM, privateKeyPEM: made.privateKeyPEM, fingerprint: made.fingerprint)
    }
}
