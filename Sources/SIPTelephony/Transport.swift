import Center
import Cryptography
import Logging
import NIOCore
import NIOPosix
import SecureChannels
import SIP
import Synchronization

/// SIP over UDP and TCP on one port (RFC 3261 §18). Datagrams are handed up as bytes (the
/// endpoint parses them, so it can answer a bad one with 400); a TCP connection is cut into
/// messages by `SIPStreamFramer`: a framed message that is not valid SIP gets its 400/505 and the
/// connection goes on; one that breaks the framing gets its 400 and is closed. Responses and
/// requests to a TCP peer go back on its connection.
final class SIPTransport: Sendable {
    typealias Datagram = AddressedEnvelope<ByteBuffer>

    enum Inbound: Sendable {
        case datagram([UInt8])
        case message(SIPMessage)
    }

    typealias Listener = NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    let host: String
    let port: Int
    /// SIP over TLS (RFC 3261 §26), when configured: its own port.
    let tlsPort: Int?
    private let udp: NIOAsyncChannel<Datagram, Datagram>
    private let tcp: Listener
    private let tls: Listener?
    private let udpWriter = Mutex<NIOAsyncChannelOutboundWriter<Datagram>?>(nil)
    private let connections = Mutex<[SIPPeer: NIOAsyncChannelOutboundWriter<ByteBuffer>]>([:])
    private let logger: Logger
    private let datagramsInFlight = Atomic<Int>(0)
    static let maximumInFlight = 256
    private let incompleteTimeout: Duration
    private let clock: any CenterClock

    private init(host: String, port: Int, udp: NIOAsyncChannel<Datagram, Datagram>, tcp: Listener, tls: Listener?,
                 incompleteTimeout: Duration, clock: any CenterClock, logger: Logger) {
        self.host = host
        self.port = port
        self.udp = udp
        self.tcp = tcp
        self.tls = tls
        tlsPort = tls?.channel.localAddress?.port
        self.logger = logger
        self.incompleteTimeout = incompleteTimeout
        self.clock = clock
    }

    /// Binds TCP, then UDP on the same port number, then TLS on its own port when given. With
    /// port 0 the system picks TCP's port; if that number is taken for UDP, another is tried.
    static func bind(
        host: String, port: Int, tls: (port: Int, context: TLSContext)? = nil, incompleteTimeout: Duration, clock: any CenterClock,
        logger: Logger
    ) async throws -> SIPTransport {
        let group = MultiThreadedEventLoopGroup.singleton
        var attempts = 0
        while true {
            attempts += 1
            let tcp = try await listen(host: host, port: port, tls: nil)
            let bound = tcp.channel.localAddress?.port ?? port
            do {
                // No SO_REUSEADDR: on Linux it would let another socket bind the same UDP port and
                // take the datagrams meant for us.
                let udp = try await DatagramBootstrap(group: group)
                    // A datagram may be as large as a SIP message may be (the default is 2 KiB).
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                    .bind(host: host, port: bound) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<Datagram, Datagram>(wrappingChannelSynchronously: channel)
                        }
                    }
                var secure: Listener?
                do {
                    if let tls { secure = try await listen(host: host, port: tls.port, tls: tls.context) }
                } catch {
                    try? await udp.channel.close()
                    throw error
                }
                return SIPTransport(
                    host: host, port: bound, udp: udp, tcp: tcp, tls: secure, incompleteTimeout: incompleteTimeout, clock: clock,
                    logger: logger)
            } catch {
                try? await tcp.channel.close()
                if port != 0 || attempts >= 5 { throw error }
            }
        }
    }

    /// A stream listener: TCP, or TLS with each connection's handshake in its pipeline.
    private static func listen(host: String, port: Int, tls: TLSContext?) async throws -> Listener {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A phone that vanishes while registered over TCP is found by the kernel's keep-alives.
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try TLSHandler(tls)) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Reads every transport until cancelled, handing every message to `deliver`; `onReady` runs
    /// once messages can be sent.
    func run(
        onReady: @escaping @Sendable () async -> Void, _ deliver: @escaping @Sendable (Inbound, SIPPeer) async -> Void
    ) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await self.udp.executeThenClose { inbound, outbound in
                    self.udpWriter.withLock { $0 = outbound }
                    await onReady()
                    defer { self.udpWriter.withLock { $0 = nil } }
                    for try await datagram in inbound {
                        guard let host = datagram.remoteAddress.ipAddress, let port = datagram.remoteAddress.port else { continue }
                        let bytes = Array(buffer: datagram.data), peer = SIPPeer(.udp, host: host, port: port)
                        // Datagrams are parsed and handled side by side (UDP promises no order, and
                        // the transaction layer copes with any); past a bound the reader waits, so
                        // a flood cannot pile up tasks.
                        if self.datagramsInFlight.wrappingAdd(1, ordering: .relaxed).newValue <= Self.maximumInFlight {
                            Task {
                                await deliver(.datagram(bytes), peer)
                                self.datagramsInFlight.wrappingSubtract(1, ordering: .relaxed)
                            }
                        } else {
                            await deliver(.datagram(bytes), peer)
                            self.datagramsInFlight.wrappingSubtract(1, ordering: .relaxed)
                        }
                    }
                }
            }
            for (listener, transport) in [(tcp, SIPPeer.Transport.tcp), (tls, .tls)] {
                guard let listener else { continue }
                group.addTask {
                    try await listener.executeThenClose { accepted in
                        try await withThrowingDiscardingTaskGroup { connections in
                            for try await connection in accepted {
                                connections.addTask { await self.serve(connection, transport, deliver) }
                            }
                        }
                    }
                }
            }
        }
    }

    private func serve(
        _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, _ transport: SIPPeer.Transport,
        _ deliver: @escaping @Sendable (Inbound, SIPPeer) async -> Void
    ) async {
        guard let host = connection.channel.remoteAddress?.ipAddress, let port = connection.channel.remoteAddress?.port else {
            return
        }
        let peer = SIPPeer(transport, host: host, port: port)
        do {
            try await connection.executeThenClose { inbound, outbound in
                self.connections.withLock { $0[peer] = outbound }
                defer { self.connections.withLock { $0[peer] = nil } }
                var framer = SIPStreamFramer()
                // A connection must finish each message within the timeout of that message's
                // first byte (the first message: of connecting), however it trickles: a half-open
                // or trickling connection cannot hold a socket for ever. Between whole messages it
                // may stay quiet. On the server's clock, like every SIP timer.
                let channel = connection.channel, clock = clock, timeout = incompleteTimeout.milliseconds
                func closeUnlessFinished() -> Task<Void, Never> {
                    Task {
                        do { try await clock.sleep(until: clock.now().adding(milliseconds: timeout)) } catch { return }
                        try? await channel.close()
                    }
                }
                var deadline: Task<Void, Never>? = closeUnlessFinished()
                defer { deadline?.cancel() }
                for try await buffer in inbound {
                    framer.append(buffer.readableBytesView)
                    var finished = false
                    do {
                        while let framed = try framer.nextFramed() {
                            finished = true
                            switch framed {
                            case .message(let message):
                                await deliver(.message(message), peer)
                            case .refused(let bytes, let error):
                                // Answered as over UDP (400, 505…); the framing held, so the connection stays.
                                if let response = SIPParser.errorResponse(to: bytes, error: error) {
                                    try await outbound.write(ByteBuffer(bytes: response.serialized()))
                                }
                            }
                        }
                    } catch let error as SIPParseError {
                        // Broken framing cannot be resynchronised: the 400 it is owed, then the connection closes.
                        if let response = SIPParser.errorResponse(to: framer.pendingBytes, error: error) {
                            try? await outbound.write(ByteBuffer(bytes: response.serialized()))
                        }
                        throw error
                    }
                    if !framer.holdsPartialMessage {
                        deadline?.cancel()
                        deadline = nil
                    } else if deadline == nil || finished {
                        // A new message has begun: its own time runs from its first byte.
                        deadline?.cancel()
                        deadline = closeUnlessFinished()
                    }
                }
            }
        } catch {
            logger.debug("SIP TCP connection closed", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// Writes to the peer: over UDP as a datagram, over TCP and TLS on its connection. False when
    /// it could not be written (no connection to the peer any more, a write that failed): the
    /// transaction layer takes that as a timeout (RFC 3261 §17.1.4).
    @discardableResult
    func send(_ bytes: [UInt8], to peer: SIPPeer) async -> Bool {
        do {
            switch peer.transport {
            case .udp:
                guard let writer = udpWriter.withLock({ $0 }) else { return false }
                let address = try SocketAddress(ipAddress: peer.host, port: peer.port)
                try await writer.write(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)))
            case .tcp, .tls:
                guard let writer = connections.withLock({ $0[peer] }) else {
                    logger.debug("no connection to SIP peer", metadata: ["peer": "\(peer)"])
                    return false
                }
                try await writer.write(ByteBuffer(bytes: bytes))
            }
            return true
        } catch {
            logger.debug("SIP send failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
            return false
        }
    }
}
