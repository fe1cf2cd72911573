import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// What a standby node answers over HTTP while another node holds the lease (docs/ha.md): its own
/// port, so a balancer's health check and a desktop that came here learn where they are.
///
/// - `GET /health`: 503 `{"status":"ok","role":"standby"}` — alive, but not the node to send
///   work to (HAProxy keeps it out of rotation on the status alone).
/// - anything else: 503 `{"error":{"code":"standby",…}}` with `Retry-After`, so a command is never
///   half-taken here: the desktop tries again, through the front, at the active node.
public func buildStandbyApplication(
    host: String, port: Int, retryAfterSeconds: Int, onRunning: @escaping @Sendable (Int) -> Void = { _ in },
    logger: Logger = Logger(label: "Switchboard.standby")
) -> some ApplicationProtocol {
    let router = Router()
    router.addMiddleware { StandbyAnswer(retryAfterSeconds: retryAfterSeconds) }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "Switchboard", backlog: 4096),
        onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) },
        logger: logger)
}

/// Every request's answer on a standby node.
struct StandbyAnswer<Context: RequestContext>: RouterMiddleware {
    let retryAfterSeconds: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let json: String
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        if request.uri.path == "/health" {
            json = #"{"role":"standby","status":"ok"}"#
        } else {
            json = #"{"error":{"code":"standby","message":"this node is the standby: the active node takes commands; try again shortly"}}"#
            headers[.retryAfter] = String(retryAfterSeconds)
        }
        return Response(status: .serviceUnavailable, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
