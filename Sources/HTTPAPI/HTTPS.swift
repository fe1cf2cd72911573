import Cryptography
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import SecureChannels

/// A server child channel with TLS in front of another (HTTP/1.1 with the WebSocket upgrade): the
/// system OpenSSL's TLS (`TLSHandler`), as SIP over TLS uses, so HTTPS costs no second crypto
/// library (HummingbirdTLS would bring swift-nio-ssl and its BoringSSL).
struct SystemTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let context: TLSContext

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(try TLSHandler(context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async { await base.handle(value: value, logger: logger) }
}

extension HTTPServerBuilder {
    /// `.http1WebSocketUpgrade(webSocketRouter:)`, over TLS.
    static func http1WebSocketUpgradeOverTLS<Responder: HTTPResponder>(webSocketResponder: Responder, tls: TLSContext)
        -> HTTPServerBuilder where Responder.Context: WebSocketRequestContext
    {
        HTTPServerBuilder { responder in
            SystemTLSChannel(
                base: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: .init()),
                context: tls)
        }
    }
}
