/// What a user agent server checks before it acts on a request (RFC 3261 §8.2.1–8.2.3), in the
/// RFC's order: the method, the Request-URI's scheme, required extensions, the body's type and
/// what the client accepts back. Each failure is the response the request gets.
public struct UASPolicy: Sendable {
    /// The methods this UAS handles; other known ones get 405 with Allow, unknown ones 501.
    public var allowed: [SIPMethod]
    /// Option tags this UAS supports (none: every Require gets 420).
    public var supportedExtensions: Set<String> = []
    /// Body types it understands.
    public var acceptedBodies: Set<String> = ["application/sdp"]

    public init(allowed: [SIPMethod]) { self.allowed = allowed }

    public static let knownMethods: Set<SIPMethod> = [
        .invite, .ack, .bye, .cancel, .register, .options, .info, .update, .refer, .prack, .subscribe, .notify, .message,
    ]

    public func refusal(of request: SIPRequest, toTag: String) -> SIPResponse? {
        if !allowed.contains(request.method) {
            var response = SIPResponse(
                answering: request, status: Self.knownMethods.contains(request.method) ? 405 : 501, toTag: toTag)
            response.headers.add("Allow", allowed.map(\.description).joined(separator: ", "))
            return response
        }
        // A branch that is only the magic cookie identifies no transaction (RFC 4475 §3.2.1).
        if request.topVia?.branch == "z9hG4bK" {
            return SIPResponse(answering: request, status: 400, reason: "Bad Request (branch is only the magic cookie)", toTag: toTag)
        }
        do {
            _ = try SIPURI(parsing: request.requestURI)
        } catch {
            return SIPResponse(answering: request, status: error.status, reason: error.reason, toTag: toTag)
        }
        // CANCEL and ACK cannot be refused for an extension (§8.2.2.3).
        if request.method != .cancel, request.method != .ack {
            let unsupported = request.headers.values("Require").filter { !supportedExtensions.contains($0.lowercased()) }
            if !unsupported.isEmpty {
                var response = SIPResponse(answering: request, status: 420, toTag: toTag)
                response.headers.add("Unsupported", unsupported.joined(separator: ", "))
                return response
            }
        }
        if !request.body.isEmpty {
            let type = (request.headers["Content-Type"] ?? "application/sdp").split(separator: ";").first.map {
                SIPSyntax.trim($0).lowercased()
            } ?? ""
            if !acceptedBodies.contains(type) {
                var response = SIPResponse(answering: request, status: 415, toTag: toTag)
                response.headers.add("Accept", acceptedBodies.sorted().joined(separator: ", "))
                return response
            }
        }
        // A client that accepts no SDP cannot take our answer to its INVITE (§8.2.3, RFC 4475
        // §3.4.2). An OPTIONS is answered whatever it accepts (§11.2): our 200 has no body, and
        // monitoring pings (`sipsak -s`, Nagios) send `Accept: text/plain`.
        if request.method == .invite {
            let accepts = request.headers.values("Accept").map { SIPSyntax.trim($0.split(separator: ";").first ?? "").lowercased() }
            if request.headers.count("Accept") > 0, !accepts.isEmpty,
                !accepts.contains(where: { $0 == "application/sdp" || $0 == "application/*" || $0 == "*/*" })
            {
                return SIPResponse(answering: request, status: 406, toTag: toTag)
            }
        }
        return nil
    }
}
