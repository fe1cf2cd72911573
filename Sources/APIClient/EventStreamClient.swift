import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A user's event stream (`/v1/notifications`) over a WebSocket, read by the caller's own task:
/// no reader task in between, so a message costs no extra hop between threads.
public struct EventStream {
    enum Upgrade {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    private var inbound: NIOAsyncChannelInboundStream<WebSocketFrame>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>

    /// Opens the stream at `path` (with its token and `since`), runs `body` with it, and closes it.
    public static func open<Result>(
        _ address: ServerAddress, path: String, _ body: (inout EventStream) async throws -> Result
    ) async throws -> Result {
        let negotiated: EventLoopFuture<Upgrade> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            .upgraded(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                        }
                    })
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(address.host):\(address.port)")
                    headers.add(name: "Content-Length", value: "0")
                    let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                        upgradeRequestHead: request, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { .refused } })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                }
            }
        guard case .upgraded(let channel) = try await negotiated.get() else { throw APIClientError.notUpgraded }
        return try await channel.executeThenClose { inbound, outbound in
            var stream = EventStream(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&stream)
        }
    }

    /// The next message; nil once the server has closed the stream.
    public mutating func next() async throws -> String? {
        while let frame = try await inbound.next() {
            switch frame.opcode {
            case .text: return String(buffer: frame.unmaskedData)
            case .ping:
                // The server pings every 30 s and closes a stream that does not answer.
                // A client's frames are masked (RFC 6455 §5.3).
                try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData))
            case .connectionClose: return nil
            default: continue
            }
        }
        return nil
    }
}
