import Cryptography
import NIOCore

/// TLS for one SIP connection, on the system's OpenSSL: bytes read are handed to the
/// `TLSConnection`, the plaintext inside goes up the pipeline and what TLS must answer goes back
/// down; plaintext written is encrypted on the way out. A connection that fails its handshake or
/// breaks the protocol is closed. Runs on its channel's event loop.
final class TLSHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: TLSConnection

    init(_ context: TLSContext) throws { connection = try TLSConnection(context) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(buffer: unwrapInboundIn(data))
        do {
            let (plaintext, toSend) = try connection.receive(bytes)
            if !toSend.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: toSend)), promise: nil) }
            if !plaintext.isEmpty { context.fireChannelRead(wrapInboundOut(ByteBuffer(bytes: plaintext))) }
            if connection.closed { context.close(promise: nil) }
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            let encrypted = try connection.send(Array(buffer: unwrapOutboundIn(data)))
            context.write(wrapOutboundOut(ByteBuffer(bytes: encrypted)), promise: promise)
        } catch {
            promise?.fail(error)
            context.close(promise: nil)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        let goodbye = connection.close()
        if !goodbye.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: goodbye)), promise: nil) }
        context.close(mode: mode, promise: promise)
    }
}
