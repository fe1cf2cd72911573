import NIOCore
import NIOHTTP1
import NIOPosix

/// A small client for Switchboard's own API, used by the `simulate` and `load` commands: HTTP/1.1
/// on a kept-open connection, one request at a time, and the WebSocket event stream. Built on
/// SwiftNIO, which the server already needs, so it adds nothing to the build.
public enum APIClientError: Error, CustomStringConvertible {
    case connectionClosed
    case notUpgraded
    case badURL(String)

    public var description: String {
        switch self {
        case .connectionClosed: "the server closed the connection"
        case .notUpgraded: "the server refused the WebSocket upgrade"
        case .badURL(let url): "not an http://host:port URL: \(url)"
        }
    }
}

/// Where a server listens, from a URL such as `http://127.0.0.1:8080/`.
public struct ServerAddress: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(url: String) throws {
        guard url.hasPrefix("http://") else { throw APIClientError.badURL(url) }
        let authority = url.dropFirst(7).prefix { $0 != "/" }
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
            !authority[..<colon].isEmpty
        else { throw APIClientError.badURL(url) }
        host = String(authority[..<colon])
        self.port = port
    }

    public var description: String { "http://\(host):\(port)/" }
}

public struct HTTPAnswer: Sendable {
    public var status: Int
    public var body: [UInt8]
}

/// One kept-open HTTP/1.1 connection; requests go one after another.
public struct HTTPConnection {
    private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    private let hostHeader: String

    /// Connects, runs `body` with the connection, and closes it.
    public static func open<Result>(
        _ address: ServerAddress, _ body: (inout HTTPConnection) async throws -> Result
    ) async throws -> Result {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = HTTPConnection(
                inbound: inbound.makeAsyncIterator(), outbound: outbound, hostHeader: "\(address.host):\(address.port)")
            return try await body(&connection)
        }
    }

    /// Sends a request (a JSON body if given) and reads the whole answer.
    public mutating func send(
        _ method: HTTPMethod, _ path: String, token: String? = nil, json: [UInt8]? = nil,
        headers extra: [(String, String)] = []
    ) async throws -> HTTPAnswer {
        let parts = Self.request(method, path, host: hostHeader, token: token, json: json, headers: extra)
        try await outbound.write(contentsOf: parts)

        var status = 0
        var body: [UInt8] = []
        while let part = try await inbound.next() {
            switch part {
            case .head(let response): status = Int(response.status.code)
            case .body(let buffer): body.append(contentsOf: buffer.readableBytesView)
            case .end: return HTTPAnswer(status: status, body: body)
            }
        }
        throw APIClientError.connectionClosed
    }

    /// A request's parts: the head (Host, bearer token, length, JSON type), the body, the end.
    public static func request(
        _ method: HTTPMethod, _ path: String, host: String, token: String?, json: [UInt8]?,
        headers extra: [(String, String)] = []
    ) -> [HTTPClientRequestPart] {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { headers.add(name: name, value: value) }
        headers.add(name: "Content-Length", value: String(json?.count ?? 0))
        if json != nil { headers.add(name: "Content-Type", value: "application/json") }
        var parts: [HTTPClientRequestPart] = [.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers))]
        if let json { parts.append(.body(.byteBuffer(ByteBuffer(bytes: json)))) }
        parts.append(.end(nil))
        return parts
    }
}
