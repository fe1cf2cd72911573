import CallControl
import Center
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Recordings

/// `GET /v1/interactions/{id}/recording`: the call's recording (`audio/wav`, byte ranges, so an
/// `<audio>` element can seek), for supervisors, and for the agents who were on the call when the
/// configuration's `recording.agentsMayListen` says so; 404 for everyone else, as for a call with
/// no recording. `GET /v1/alerts`: the latest operator alerts (a recording that failed), for
/// supervisors.
func addRecordingRoutes(v1: RouterGroup<SwitchboardContext>, api: API, accounts: Accounts, recordings: RecordingDirectory?) {
    let center = api.center
    let agentsMayListen = center.configuration.recording?.agentsMayListen ?? false
    let files = FileIO()

    v1.get("/interactions/:id/recording") { request, context in
        let id = InteractionID(context.parameters.get("id") ?? "")
        let user = try context.user()
        guard let recordings else { throw APIError.notFound }
        if let agent = user.agent {
            // Someone who was not on the call learns nothing, not even that a recording exists.
            guard agentsMayListen, try await center.history(id, for: agent) != nil else { throw APIError.notFound }
        }
        switch recordings.state(of: id) {
        case .none: throw APIError.notFound
        case .inProgress:
            throw APIError(status: .conflict, code: "recordingInProgress", message: "the call is still being recorded: it can be played once it ends")
        case .finished: break
        }
        let path = recordings.file(of: id)
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil else { throw APIError.notFound }
        var headers: HTTPFields = [.contentType: "audio/wav", .acceptRanges: "bytes"]
        headers[.contentDisposition] = "inline; filename=\"\(id.rawValue).wav\""
        guard let text = request.headers[.range] else {
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers, body: try await files.loadFile(path: path, context: context))
        }
        guard let range = ClosedRange(byteRange: text, size: size) else {
            return Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(size)"])
        }
        headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
        headers[.contentLength] = String(range.count)
        return Response(
            status: .partialContent, headers: headers, body: try await files.loadFile(path: path, range: range, context: context))
    }

    v1.get("/alerts") { _, context in
        try accounts.requireSupervisor(try context.user())
        return api.json(await center.alerts())
    }
}

extension ClosedRange where Bound == Int {
    /// One range of RFC 9110's `bytes=` ranges (`first-last`, `first-`, `-suffix`); a list of
    /// several is answered with its first (browsers ask for one). Nil when it is malformed or
    /// outside the file.
    init?(byteRange text: String, size: Int) {
        guard size > 0, text.hasPrefix("bytes="), let spec = text.dropFirst(6).split(separator: ",").first else { return nil }
        let parts = spec.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let (first, last) = (Int(parts[0]), Int(parts[1]))
        switch (parts[0].isEmpty, parts[1].isEmpty) {
        case (true, false):
            guard let suffix = last, suffix > 0 else { return nil }
            self = Swift.max(0, size - suffix)...(size - 1)
        case (false, true):
            guard let first, first >= 0, first < size else { return nil }
            self = first...(size - 1)
        case (false, false):
            guard let first, let last, first >= 0, first <= last, first < size else { return nil }
            self = first...Swift.min(last, size - 1)
        case (true, true):
            return nil
        }
    }
}
