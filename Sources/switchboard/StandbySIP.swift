import Foundation
import NIOCore
import NIOPosix
import SIP

/// What a standby node answers on its SIP port (UDP) while another node holds the lease
/// (docs/ha.md): every request but an ACK gets 503 Service Unavailable with `Retry-After`, so
/// Kamailio's OPTIONS probes mark this node inactive and an INVITE that reaches it anyway is
/// refused whole and tried at the other node. Closed when this node takes over (the full SIP
/// layer binds the port then).
final class StandbySIP: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    static func start(host: String, port: Int, retryAfterSeconds: Int) async throws -> StandbySIP {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Refuser(retryAfterSeconds: retryAfterSeconds))
                }
            }
            .bind(host: host, port: port).get()
        return StandbySIP(channel: channel)
    }

    var port: Int? { channel.localAddress?.port }

    func close() async { try? await channel.close().get() }

    /// Answers each request datagram with a 503 to where it came from (a proxy's, or a phone's,
    /// own address: what RFC 3581 `rport` asks for, and what a proxy listens on).
    final class Refuser: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let retryAfterSeconds: Int

        init(retryAfterSeconds: Int) { self.retryAfterSeconds = retryAfterSeconds }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard case .request(let request)? = try? SIPParser.parse(datagram: Array(envelope.data.readableBytesView)),
                request.method != .ack
            else { return }  // responses, ACKs and noise: nothing to answer
            var response = SIPResponse(answering: request, status: 503, reason: "Service Unavailable (standby)")
            response.headers.add("Retry-After", String(retryAfterSeconds))
            let bytes = response.serialized()
            context.writeAndFlush(
                wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: bytes))), promise: nil)
        }
    }
}
