import CallControl
import Cryptography
import Logging
import Media
import NIOCore
import NIOPosix
import Synchronization
import WebRTC

/// What the media engine is told about WebRTC: the addresses its candidates advertise (the bound
/// address unless the server sits behind NAT), and how long a browser may stay silent.
public struct WebRTCSettings: Sendable {
    /// Advertised in the answer's host candidates, in order; empty: the engine's bound host.
    public var addresses: [String]
    /// A connected browser that sends no ICE check for this long is gone (RFC 7675 consent:
    /// browsers check every 5 s or so; the RFC's own limit is 30 s).
    public var consentTimeout: Duration
    /// A session that has not finished ICE and DTLS within this is given up.
    public var connectTimeout: Duration

    public init(addresses: [String] = [], consentTimeout: Duration = .seconds(15), connectTimeout: Duration = .seconds(20)) {
        (self.addresses, self.consentTimeout, self.connectTimeout) = (addresses, consentTimeout, connectTimeout)
    }
}

public struct WebRTCSessionID: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }
}

/// What happens to a session, told to whoever opened it.
public enum WebRTCSessionEvent: Equatable, Sendable {
    /// ICE chose the browser's address and DTLS finished with the certificate its offer named.
    case connected
    /// The session is over (its port is closed): why, in words.
    case lost(String)
}

/// The engine's WebRTC side: its certificate (made at start; its fingerprint goes in every
/// answer), the DTLS context, the open sessions and the drops counted by reason.
final class WebRTCHost: Sendable {
    let settings: WebRTCSettings
    let certificate: SelfSignedCertificate
    let context: DTLSContext
    let sessions = Mutex<[WebRTCSessionID: WebRTCSession]>([:])
    let drops = Mutex<[String: Int]>([:])
    let onDrop: @Sendable (String) -> Void

    init(settings: WebRTCSettings, onDrop: @escaping @Sendable (String) -> Void) throws {
        self.settings = settings
        self.onDrop = onDrop
        certificate = try SelfSignedCertificate.make(commonName: "switchboard-webrtc", names: [], days: 30)
        context = try DTLSContext(certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM, isServer: true)
    }

    func drop(_ reason: String) {
        drops.withLock { $0[reason, default: 0] += 1 }
        onDrop(reason)
    }
}

/// One browser's media session: one UDP port carrying STUN, DTLS, SRTP and SRTCP (RFC 7983),
/// ICE-lite (the browser's checks answered, its chosen address latched), DTLS as the server, and
/// SRTP keyed from it. It outlives calls: an agent's session is attached to each call leg it
/// answers in turn, so a call needs no negotiation.
///
///     checking ──ICE check passed──▶ handshaking ──DTLS done, fingerprint matches──▶ connected
///         │                               │                                              │
///         └──────────── timeout, DTLS failure, close_notify, consent expired, close ─────┴──▶ closed
///
/// Everything runs on its channel's loop. Packets for an attached call leg go to that call's
/// shard (on its loop); packets for the browser come from there, protected and sent here. When
/// the session is attached to a call of another shard, its port moves to that shard's loop (closed
/// and bound again there: UDP keeps no connection), so a call's packets never hop between threads.
final class WebRTCSession: @unchecked Sendable {
    enum State { case checking, handshaking, connected, closed }

    let id: WebRTCSessionID
    let port: Int
    /// The loop the session lives on now (it moves to its call's shard's loop).
    var loop: any EventLoop { home.withLock { $0 } }
    private let home: Mutex<any EventLoop>
    private let address: Mutex<String> = Mutex("")
    let host: WebRTCHost
    let law: G711.Law
    let eventPayloadType: UInt8?
    private let fingerprints: [WebRTCOffer.Fingerprint]
    private let events: @Sendable (WebRTCSessionEvent) -> Void
    private let logger: Logger
    private let release: @Sendable (Int) -> Void
    // Touched on `loop` only.
    private var channel: (any Channel)?
    private var ice: ICELiteAgent
    private var destination: SocketAddress?
    private var dtls: DTLSConnection
    private var protect: SRTPContext?
    private var unprotect: SRTPContext?
    private(set) var state = State.checking
    private var created = NIODeadline.now()
    private var lastConsent = NIODeadline.now()
    private var dtlsTimer: Scheduled<Void>?
    private var watchdog: RepeatedTask?
    private var attachment: (key: MediaEngine.LegKey, shard: MediaShard)?
    private(set) var received = 0, sent = 0, dropped = 0

    init(
        id: WebRTCSessionID, port: Int, loop: any EventLoop, host: WebRTCHost, offer: WebRTCOffer, ice: ICELiteAgent,
        events: @escaping @Sendable (WebRTCSessionEvent) -> Void, logger: Logger, release: @escaping @Sendable (Int) -> Void
    ) throws {
        (self.id, self.port, self.host, self.ice, self.events, self.logger) = (id, port, host, ice, events, logger)
        home = Mutex(loop)
        self.release = release
        law = offer.law == .pcmu ? .mu : .a
        eventPayloadType = offer.eventPayloadType
        fingerprints = offer.fingerprints
        dtls = try DTLSConnection(host.context)
    }

    /// Binds the session's port (on its loop) and starts its watchdog.
    func bind(address: String) async throws {
        self.address.withLock { $0 = address }
        let channel = try await open(on: loop)
        try await loop.submit {
            self.channel = channel
            self.created = .now()
            self.startWatching()
        }.get()
    }

    private func open(on loop: any EventLoop) async throws -> any Channel {
        try await DatagramBootstrap(group: loop)
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(WebRTCReceiver(session: self))
                }
            }
            .bind(host: address.withLock { $0 }, port: port).get()
    }

    // MARK: Its loop

    /// Runs `work` on the session's loop, where its state lives; if the session moves meanwhile,
    /// the work follows it.
    func onLoop(_ work: @escaping @Sendable () -> Void) {
        let current = loop
        if current.inEventLoop { work() } else { current.execute { self.onLoop(work) } }
    }

    /// `onLoop`, with a result.
    func onLoop<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in onLoop { continuation.resume(returning: work()) } }
    }

    private func startWatching() {
        watchdog?.cancel()
        watchdog = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in self.watch() }
    }

    /// Moves the session's port to `target` (its call's shard's loop): the socket is closed on the
    /// old loop and bound again on the new one, and the state follows; a datagram arriving in
    /// between is lost (ICE checks are sent again, and a ring has no sound to lose yet). If the
    /// port cannot be bound again there, it is bound back where it was.
    func move(to target: any EventLoop) async {
        let current = loop
        guard current !== target else { return }
        let old: (any Channel)? = try? await current.submit { () -> (any Channel)? in
            guard self.state != .closed else { return nil }
            self.watchdog?.cancel()
            self.dtlsTimer?.cancel()
            defer { self.channel = nil }
            return self.channel
        }.get()
        guard let old else { return }
        try? await old.close()
        let moved = try? await open(on: target)
        let channel: (any Channel)?
        let destination: any EventLoop
        if let moved {
            (channel, destination) = (moved, target)
        } else {
            (channel, destination) = (try? await open(on: current), current)
        }
        // The home changes on the old loop, so no work of the session's runs there while it does;
        // work queued there after it follows the session (`onLoop`).
        try? await current.submit { self.home.withLock { $0 = destination } }.get()
        await onLoop {
            guard let channel else { return self.lose("its port could not be bound again") }
            guard self.state != .closed else {
                channel.close(promise: nil)
                return
            }
            self.channel = channel
            self.startWatching()
            if self.state == .handshaking { self.armDTLSTimer() }
        }
    }

    // MARK: Datagrams in

    func received(_ envelope: AddressedEnvelope<ByteBuffer>) {
        // A datagram on the port bound anew while the session moves there: dropped until it has.
        guard loop.inEventLoop, state != .closed else { return }
        let bytes = Array(envelope.data.readableBytesView)
        let source = envelope.remoteAddress
        switch Datagram(classifying: bytes) {
        case .stun: stun(bytes, from: source)
        case .dtls:
            guard source == destination else { return drop("dtls-unchecked-source") }
            handshake(bytes)
        case .rtp:
            guard state == .connected, source == destination, unprotect != nil else { return drop("srtp-unchecked-source") }
            guard let plain = try? unprotect!.unprotect(bytes), let packet = try? RTPPacket(parsing: plain) else {
                return drop("srtp-not-authentic")  // a bad tag, or a replayed index
            }
            received += 1
            guard let (key, shard) = attachment else { return }
            if shard.loop.inEventLoop {
                shard.receivedFromBrowser(packet, on: key)
            } else {
                shard.loop.execute { shard.receivedFromBrowser(packet, on: key) }
            }
        case .rtcp:
            guard state == .connected, source == destination, unprotect != nil else { return drop("srtcp-unchecked-source") }
            // Reports are checked (a forged one is counted) and not used further.
            if (try? unprotect!.unprotectControl(bytes)) == nil { drop("srtcp-not-authentic") }
        case .unknown:
            drop("unknown")
        }
    }

    private func stun(_ bytes: [UInt8], from source: SocketAddress) {
        guard let address = Self.address(source) else { return drop("stun-address") }
        switch ice.received(bytes, from: address) {
        case .respond(let response, let selected):
            write(response, to: source)
            if selected {
                if destination != source { destination = source }
                lastConsent = .now()
                if state == .checking { state = .handshaking }
            }
        case .drop(let why):
            drop("stun-" + why.rawValue)
        }
    }

    private func handshake(_ bytes: [UInt8]) {
        do {
            for datagram in try dtls.receive(bytes) { write(datagram, to: destination) }
            if dtls.closed { return lose("the browser closed DTLS") }
            if dtls.handshakeDone, state != .connected {
                try connect()
            } else if !dtls.handshakeDone {
                armDTLSTimer()
            }
        } catch {
            drop("dtls-failed")
            lose("DTLS failed: \(error)")
        }
    }

    /// The handshake is done: the browser's certificate must be the one its offer named (RFC 5763
    /// §5), then SRTP is keyed from the exporter (we are the DTLS server: we send with the
    /// server's key and salt, and check with the client's).
    private func connect() throws {
        guard let certificate = dtls.peerCertificate(), fingerprints.contains(where: { $0.matches(certificate: certificate) }) else {
            drop("dtls-fingerprint-mismatch")
            return lose("the browser's certificate is not the one its offer named")
        }
        let material = try dtls.srtpKeyingMaterial()
        guard let client = SRTPKey(key: Array(material[0..<16]), salt: Array(material[32..<46])),
            let server = SRTPKey(key: Array(material[16..<32]), salt: Array(material[46..<60]))
        else { throw DTLSConnection.Failure.noSRTPProfile }
        protect = try SRTPContext(suite: .aes128HMACSHA1_80, master: server)
        unprotect = try SRTPContext(suite: .aes128HMACSHA1_80, master: client)
        dtlsTimer?.cancel()
        state = .connected
        events(.connected)
    }

    private func armDTLSTimer() {
        dtlsTimer?.cancel()
        guard let after = dtls.nextTimeout() else { return }
        dtlsTimer = loop.scheduleTask(in: TimeAmount(after)) {
            guard self.state == .handshaking else { return }
            do {
                for datagram in try self.dtls.handleTimeout() { self.write(datagram, to: self.destination) }
                self.armDTLSTimer()
            } catch {
                self.lose("DTLS failed: \(error)")
            }
        }
    }

    /// Once a second: a browser that stopped checking is gone; one that never connected too.
    private func watch() {
        let now = NIODeadline.now()
        switch state {
        case .checking, .handshaking:
            if now - created > TimeAmount(host.settings.connectTimeout) { lose("ICE and DTLS did not complete in time") }
        case .connected:
            if now - lastConsent > TimeAmount(host.settings.consentTimeout) { lose("the browser stopped answering (consent expired)") }
        case .closed:
            break
        }
    }

    private func drop(_ reason: String) {
        dropped += 1
        host.drop(reason)
    }

    // MARK: Packets out

    /// A packet for the browser, from the call's shard.
    func send(_ packet: RTPPacket) {
        onLoop { self.sendNow(packet) }
    }

    private func sendNow(_ packet: RTPPacket) {
        guard state == .connected, let destination, protect != nil, let protected = try? protect!.protect(packet.serialized()) else { return }
        sent += 1
        write(protected, to: destination)
    }

    private func write(_ bytes: [UInt8], to address: SocketAddress?) {
        guard let channel, let address else { return }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    // MARK: Attachments

    /// From now on the browser's packets are this call leg's.
    func attach(_ key: MediaEngine.LegKey, shard: MediaShard) {
        onLoop { self.attachment = (key, shard) }
    }

    /// The leg is over: the browser's packets go nowhere until the next attachment.
    func detach(_ key: MediaEngine.LegKey) {
        onLoop { if self.attachment?.key == key { self.attachment = nil } }
    }

    var attachedLeg: MediaEngine.LegKey? { attachment?.key }

    // MARK: Ending

    /// The session is over (on its loop): the browser is told (DTLS close_notify), the port
    /// freed, the owner told why.
    func lose(_ why: String) {
        guard state != .closed else { return }
        close()
        events(.lost(why))
    }

    /// Closes without telling the owner (it asked).
    func close() {
        guard loop.inEventLoop else { return onLoop { self.close() } }
        guard state != .closed else { return }
        if dtls.handshakeDone { for datagram in dtls.close() { write(datagram, to: destination) } }
        state = .closed
        watchdog?.cancel()
        dtlsTimer?.cancel()
        if let (key, shard) = attachment { shard.loop.execute { shard.browserGone(key, session: self) } }
        attachment = nil
        _ = host.sessions.withLock { $0.removeValue(forKey: id) }
        let release = release, port = port
        if let channel {
            channel.close().whenComplete { _ in release(port) }
        } else {
            release(port)
        }
        channel = nil
        logger.debug("WebRTC session closed", metadata: ["session": "\(id)"])
    }

    /// 4 or 16 address bytes and the port, as ICE's checks compare them.
    static func address(_ address: SocketAddress) -> ICELiteAgent.Address? {
        guard let port = address.port else { return nil }
        switch address {
        case .v4(let v4):
            let raw = v4.address.sin_addr.s_addr  // network order in memory
            return ICELiteAgent.Address(host: withUnsafeBytes(of: raw) { Array($0) }, port: port)
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            return ICELiteAgent.Address(host: withUnsafeBytes(of: &raw) { Array($0) }, port: port)
        case .unixDomainSocket:
            return nil
        }
    }
}

/// Hands a session's datagrams to it (on its loop).
final class WebRTCReceiver: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let session: WebRTCSession
    init(session: WebRTCSession) { self.session = session }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { session.received(Self.unwrapInboundIn(data)) }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
