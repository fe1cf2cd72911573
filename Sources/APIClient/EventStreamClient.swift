import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A user's event stream (`/v1/notifications`) over a WebSocket, read by the caller's own task:
/// no reader task in between, so a message costs no extra hop between threads.
public struct EventStream {
    enum Negotiated<Output: Sendable>: Sendable {
        case upgraded(Output)
        case refused
    }

    private var inbound: NIOAsyncChannelInboundStream<WebSocketFrame>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>

    /// Connects to `path` on `group` and upgrades to a WebSocket; `upgraded` then sets up the
    /// channel's reading (NIO's frame decoder and encoder are already in its pipeline).
    public static func connect<Output: Sendable>(
        _ address: ServerAddress, path: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        upgraded: @escaping @Sendable (Channel) -> EventLoopFuture<Output>
    ) async throws -> Output {
        let negotiated: EventLoopFuture<Negotiated<Output>> = try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Negotiated<Output>>(upgradePipelineHandler: { channel, _ in
                        upgraded(channel).map { .upgraded($0) }
                    })
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(address.host):\(address.port)")
                    headers.add(name: "Content-Length", value: "0")
                    let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Negotiated<Output>>(
                        upgradeRequestHead: request, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { .refused } })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                }
            }
        guard case .upgraded(let output) = try await negotiated.get() else { throw APIClientError.notUpgraded }
        return output
    }

    /// Opens the stream at `path` (with its token and `since`), runs `body` with it, and closes it.
    public static func open<Result>(
        _ address: ServerAddress, path: String, _ body: (inout EventStream) async throws -> Result
    ) async throws -> Result {
        let channel = try await connect(address, path: path) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
            }
        }
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
                try await outbound.write(Self.pong(to: frame))
            case .connectionClose: return nil
            default: continue
            }
        }
        return nil
    }
}

extension EventStream {
    /// The answer to a server's ping. A client's frames are masked (RFC 6455 §5.3).
    public static func pong(to ping: WebSocketFrame) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: ping.unmaskedData)
    }
}
