import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Reads a user's event stream (`/v1/notifications`) over a WebSocket.
public enum EventStreamClient {
    enum Upgrade {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    /// Opens the stream at `path` (with its token and `since`) and hands every text message to
    /// `onMessage`, until the server closes it or the calling task is cancelled.
    /// `onOpen` is called once the server has accepted the upgrade.
    public static func read(
        _ address: ServerAddress, path: String, onOpen: () -> Void = {}, onMessage: (String) -> Void
    ) async throws {
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
        onOpen()
        try await channel.executeThenClose { inbound, outbound in
            for try await frame in inbound {
                switch frame.opcode {
                case .text: onMessage(String(buffer: frame.unmaskedData))
                case .ping:
                    // The server pings every 30 s and closes a stream that does not answer.
                    // A client's frames are masked (RFC 6455 §5.3).
                    try await outbound.write(
                        WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData))
                case .connectionClose: return
                default: continue
                }
            }
        }
    }
}
