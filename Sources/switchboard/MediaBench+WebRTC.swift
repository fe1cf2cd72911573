import CallControl
import Cryptography
import Foundation
import Media
import MediaService
import NIOCore
import NIOPosix
import Synchronization
import WebRTC

/// A browser's side of a WebRTC session, for `media-bench --webrtc`: on its own UDP socket it
/// offers DTLS-SRTP, checks the engine's candidate with STUN (nominating), runs the DTLS client's
/// handshake, and hands over the socket and the SRTP keys; the bench phone then speaks SRTP on it.
/// Written from the RFCs, as the tests' TestBrowser is.
final class BenchBrowser: Sendable {
    static let ufrag = "bnch"
    static let password = "bench-browser-password-01"

    let channel: any Channel
    private let inbox: AsyncStream<[UInt8]>
    private let inboxIn: AsyncStream<[UInt8]>.Continuation

    init(group: any EventLoopGroup) async throws {
        let (inbox, inboxIn) = AsyncStream<[UInt8]>.makeStream()
        (self.inbox, self.inboxIn) = (inbox, inboxIn)
        channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox: inboxIn), name: "handshake")
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    static func offer(fingerprint: String) -> String {
        [
            "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
            "m=audio 9 UDP/TLS/RTP/SAVPF 0 101", "c=IN IP4 0.0.0.0", "a=ice-ufrag:\(ufrag)", "a=ice-pwd:\(password)",
            "a=fingerprint:sha-256 \(fingerprint)", "a=setup:actpass", "a=mid:0", "a=sendrecv", "a=rtcp-mux",
            "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "",
        ].joined(separator: "\r\n")
    }

    /// ICE, then DTLS, against the engine's answer; returns the SRTP keys as the phone uses them
    /// (it sends with the client's, checks with the server's). The handshake's handler is then
    /// taken out of the socket's pipeline.
    func connect(answer: String, context: DTLSContext) async throws -> SRTPKeys {
        func attribute(_ name: String) -> String? {
            answer.split(separator: "\r\n").first { $0.hasPrefix("a=\(name):") }.map { String($0.dropFirst(name.count + 3)) }
        }
        guard let audio = answer.split(separator: "\r\n").first(where: { $0.hasPrefix("m=audio ") }),
            let port = Int(audio.split(separator: " ")[1]), let ufrag = attribute("ice-ufrag"), let password = attribute("ice-pwd")
        else { throw BenchFailure("the engine's answer lacks a port or ICE credentials") }
        let engine = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let check = STUNMessage(
            kind: .bindingRequest, transactionID: SecureRandom.bytes(12),
            attributes: [
                (STUNMessage.Attribute.username.rawValue, Array("\(ufrag):\(Self.ufrag)".utf8)),
                (STUNMessage.Attribute.iceControlling.rawValue, SecureRandom.bytes(8)),
                (STUNMessage.Attribute.useCandidate.rawValue, []),
            ]
        ).serialized(integrityKey: Array(password.utf8))
        var iterator = inbox.makeAsyncIterator()
        try await write(check, to: engine)
        guard let response = await iterator.next(), Datagram(classifying: response) == .stun else {
            throw BenchFailure("no answer to the ICE check")
        }
        let dtls = try DTLSConnection(context)
        for datagram in try dtls.start() { try await write(datagram, to: engine) }
        while !dtls.handshakeDone {
            guard let datagram = await iterator.next() else { throw BenchFailure("the socket closed during DTLS") }
            for out in try dtls.receive(datagram) { try await write(out, to: engine) }
        }
        let material = try dtls.srtpKeyingMaterial()
        try await channel.pipeline.removeHandler(name: "handshake").get()
        inboxIn.finish()
        return SRTPKeys(
            suite: .aes128HMACSHA1_80, local: SRTPKey(key: Array(material[0..<16]), salt: Array(material[32..<46]))!,
            remote: SRTPKey(key: Array(material[16..<32]), salt: Array(material[46..<60]))!)
    }

    private func write(_ bytes: [UInt8], to address: SocketAddress) async throws {
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)))
    }

    final class InboxHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let inbox: AsyncStream<[UInt8]>.Continuation
        init(inbox: AsyncStream<[UInt8]>.Continuation) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            inbox.yield(Array(Self.unwrapInboundIn(data).data.readableBytesView))
        }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
