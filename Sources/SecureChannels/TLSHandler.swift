import Cryptography
import NIOCore

/// TLS for one connection (SIP over TLS, HTTPS), on the system's OpenSSL: bytes read are handed to
/// the `TLSConnection`, the plaintext inside goes up the pipeline and what TLS must answer goes
/// back down; plaintext written is encrypted on the way out. A connection that fails its
/// handshake or breaks the protocol is closed. Runs on its channel's event loop.
public final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer


    private let connection: TLSConnection

    public init(_ context: TLSContext) throws { connection = try TLSConnection(context) }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            let encrypted = try connection.send(Array(buffer: unwrapOutboundIn(data)))
            context.write(wrapOutboundOut(ByteBuffer(bytes: encrypted)), promise: promise)
        } catch {
            promise?.fail(error)
            context.close(promise: nil)
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        let goodbye = connection.close()
        if !goodbye.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: goodbye)), promise: nil) }
        context.close(mode: mode, promise: promise)
    }
}
