import CallControl
import Center
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Starts of web calls per source address in a sliding minute (on the center's clock): the web
/// call door needs no sign-in, so one address cannot fill the queues.
final class WebCallLimiter: Sendable {
    let perMinute: Int
    private let starts = Mutex<[String: [Int64]]>([:])

    init(perMinute: Int) { self.perMinute = perMinute }

    /// Counts a start from `address` at `now` (ms); nil when allowed, else the seconds to wait.
    func admit(_ address: String, now: Int64) -> Int? {
        starts.withLock { starts in
            // Forget addresses whose minute has passed (bounded by the addresses of the last minute).
            if starts.count > 10_000 { starts = starts.filter { ($0.value.last ?? 0) > now - 60_000 } }
            var recent = (starts[address] ?? []).filter { $0 > now - 60_000 }
            guard recent.count < perMinute else {
                starts[address] = recent
                return Int(max(1, (recent[0] + 60_000 - now + 999) / 1_000))
            }
            recent.append(now)
            starts[address] = recent
            return nil
        }
    }
}

extension APIError {
    init(_ error: BrowserStationError) {
        self.init(status: HTTPResponse.Status(code: error.status), code: error.code, message: error.message)
    }

    static let noBrowserStations = APIError(
        status: .notFound, code: "webrtcUnavailable", message: "this server carries no media (start it with --telephony sip)")
}

/// WebRTC, WHIP-style (RFC 9725): an SDP offer POSTed as `application/sdp` is answered `201
/// Created` with the SDP answer and a `Location`; DELETE on the location ends the session.
func addWebRTCRoutes(
    router: Router<SwitchboardContext>, v1: RouterGroup<SwitchboardContext>, stations: (any BrowserStations)?, api: API,
    limiter: WebCallLimiter, desktop: String?
) {
    // An agent's (or supervisor's) media session, for the whole sign-in.
    v1.post("/me/webrtc") { request, context in
        guard let stations else { throw APIError.noBrowserStations }
        let offer = try await api.sdp(request)
        let user = try context.user()
        let opened: (id: String, answer: String)
        do { opened = try await stations.openSession(for: AgentID(user.user), offer: offer) } catch let error as BrowserStationError { throw APIError(error) }
        return api.sdpAnswer(opened.answer, status: .created, location: "/v1/me/webrtc/\(opened.id)")
    }
    v1.get("/me/webrtc") { _, context in
        guard let stations else { throw APIError.noBrowserStations }
        struct State: Encodable { var connected: Bool }
        return api.json(State(connected: await stations.sessionConnected(of: AgentID(try context.user().user))))
    }
    v1.delete("/me/webrtc/:session") { _, context in
        guard let stations else { throw APIError.noBrowserStations }
        do {
            try await stations.closeSession(context.parameters.get("session") ?? "", of: AgentID(try context.user().user))
        } catch let error as BrowserStationError {
            throw APIError(error)
        }
        return Response(status: .noContent)
    }

    // Customers' web calls: no sign-in; the location's key is the call's secret.
    router.post("/v1/webcalls/:number") { request, context in
        guard let stations else { throw APIError.noBrowserStations }
        let number = context.parameters.get("number") ?? ""
        guard stations.allowsWebCalls(number) else { throw APIError(BrowserStationError.noWebCalls) }
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        if let wait = limiter.admit(address, now: api.center.now().milliseconds) {
            var error = APIError(
                status: .tooManyRequests, code: "tooManyWebCalls",
                message: "too many calls from your address: try again in \(wait) seconds")
            error.retryAfter = wait
            throw error
        }
        let offer = try await api.sdp(request)
        let started: (key: String, call: InteractionID, answer: String)
        do { started = try await stations.startWebCall(number: number, offer: offer) } catch let error as BrowserStationError { throw APIError(error) }
        return api.sdpAnswer(started.answer, status: .created, location: "/v1/webcalls/\(number)/\(started.key)")
    }
    router.put("/v1/webcalls/:number/:key") { request, context in
        guard let stations else { throw APIError.noBrowserStations }
        let offer = try await api.sdp(request)
        let answer: String
        do {
            answer = try await stations.resumeWebCall(
                number: context.parameters.get("number") ?? "", key: context.parameters.get("key") ?? "", offer: offer)
        } catch let error as BrowserStationError {
            throw APIError(error)
        }
        return api.sdpAnswer(answer, status: .ok, location: nil)
    }
    router.get("/v1/webcalls/:number/:key") { _, context in
        guard let stations else { throw APIError.noBrowserStations }
        struct State: Encodable { var state: String }
        guard let state = await stations.webCallState(number: context.parameters.get("number") ?? "", key: context.parameters.get("key") ?? "")
        else { throw APIError(BrowserStationError.unknownWebCall) }
        return api.json(State(state: state))
    }
    router.delete("/v1/webcalls/:number/:key") { _, context in
        guard let stations else { throw APIError.noBrowserStations }
        do {
            try await stations.endWebCall(number: context.parameters.get("number") ?? "", key: context.parameters.get("key") ?? "")
        } catch let error as BrowserStationError {
            throw APIError(error)
        }
        return Response(status: .noContent)
    }

    // The customer's page: one Call button for the number.
    router.get("/call/:number") { _, context in
        let number = context.parameters.get("number") ?? ""
        guard let stations, stations.allowsWebCalls(number), let desktop,
            let page = try? Data(contentsOf: URL(fileURLWithPath: desktop + "/call.html"))
        else {
            return Response(
                status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "This number does not take web calls.\n")))
        }
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: page)))
    }
}

extension API {
    /// An SDP offer: `application/sdp`, at most 32 KiB (a browser's is 2–10 KB).
    func sdp(_ request: Request) async throws -> String {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/sdp") == true else {
            throw APIError(status: .unsupportedMediaType, code: "notSDP", message: "send the offer as application/sdp")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 32 * 1024)
        } catch {
            throw APIError(status: .contentTooLarge, code: "payloadTooLarge", message: "an SDP offer is at most 32 KiB")
        }
        guard let text = String(validating: Array(buffer.readableBytesView), as: UTF8.self) else {
            throw APIError(status: .badRequest, code: "sdpMalformed", message: "the offer is not UTF-8 text")
        }
        return text
    }

    func sdpAnswer(_ answer: String, status: HTTPResponse.Status, location: String?) -> Response {
        var headers: HTTPFields = [.contentType: "application/sdp", .cacheControl: "no-store"]
        if let location { headers[.location] = location }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer)))
    }
}
