import CallControl
import Foundation
import HTTPTypes

/// A refusal the API answers with `{"error": {"code", "message"}}`.
struct APIError: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// Sent as `Retry-After` (seconds).
    var retryAfter: Int?

    static let storeUnavailable = APIError(
        status: .serviceUnavailable, code: "storeUnavailable", message: "the event store refused a write; restart the server")
    static let draining = APIError(
        status: .serviceUnavailable, code: "draining", message: "the server is shutting down and takes no new calls")
    static let unauthorized = APIError(status: .unauthorized, code: "unauthorized", message: "sign in first: no or bad bearer token")
    static let payloadTooLarge = APIError(
        status: .contentTooLarge, code: "payloadTooLarge", message: "the request body is larger than \(API.maxBody / 1024) KiB")
    static let internalError = APIError(
        status: .internalServerError, code: "internal", message: "the server failed to answer; the failure is logged")
    static let alreadyWrappedUp = APIError(
        status: .conflict, code: "alreadyWrappedUp", message: "you have already wrapped up this task")
    static let notFound = APIError(status: .notFound, code: "notFound", message: "no such task for you")
    static let badCredentials = APIError(status: .unauthorized, code: "badCredentials", message: "unknown user or wrong password")
    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "badRequest", message: message) }
    static func tooManyAttempts(retryAfterSeconds seconds: Int) -> APIError {
        var error = APIError(
            status: .tooManyRequests, code: "tooManyAttempts",
            message: "too many failed sign-ins: try again in \(seconds) seconds")
        error.retryAfter = seconds
        return error
    }

    /// A token that no longer stands for a live session: the code says why.
    static func sessionEnded(_ ending: Sessions.Ending, by: String?) -> APIError {
        let message =
            switch ending {
            case .signedOut: "this session was signed out: sign in again"
            case .sessionExpired: "your session has ended: sign in again"
            case .signedOutBySupervisor: "you were signed out by \(by ?? "a supervisor"): sign in again"
            }
        return APIError(status: .unauthorized, code: ending.rawValue, message: message)
    }

    /// The answer's body: `{"error": {"code", "message"}}`.
    var body: Data { encodeJSON(["error": ["code": code, "message": message]]) }

    init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    init(_ rejection: Rejection) {
        switch rejection.kind {
        case .role: status = .forbidden
        case .state: status = .conflict
        case .notFound: status = .notFound
        case .invalid: status = .badRequest
        }
        code = rejection.code
        message = Self.explain(rejection)
    }

    /// Every refusal in words a desktop can show as it is.
    static func explain(_ rejection: Rejection) -> String {
        switch rejection {
        case .notOwner: "only the agent who owns the call may do that"
        case .ownerCannotExitConference: "you own this conference: end it, or transfer it, rather than exit"
        case .actorNotPermitted: "that line may not do this"
        case .useAgentDesktop: "transfers and conferences are made from the Agent Desktop, not the phone"
        case .notAParticipant: "you are not on this call"
        case .holdNotAllowedInConference: "the customer cannot be put on hold during a conference"
        case .notAllowedInConference: "not possible during a conference"
        case .notAllowedInWrapUpAssist: "no hold, resume or consult once the customer has left"
        case .consultInProgress: "a consult is already in progress"
        case .noActiveConsult: "there is no consult in progress"
        case .consultNotAnswered: "the consulted party has not answered yet"
        case .conferenceFull: "the conference is full"
        case .notInConference: "the call is not a conference"
        case .notOffered: "this call is not being offered to you"
        case .answerOnPhone: "answer this call on your phone"
        case .notConnected: "you are not connected to this call"
        case .alreadyHeld: "the customer is already on hold"
        case .notHeld: "the customer is not on hold"
        case .interactionEnded: "the call has ended"
        case .wrapUpNotRequired: "no wrap-up is owed for this task"
        case .noAgentToTransferTo: "there is no one to transfer the call to"
        case .timerNotActive: "that timer is no longer running"
        case .agentLoggedOut: "that agent is signed out"
        case .agentBusy: "that agent is busy with another call"
        case .alreadyInState: "you are already in that state"
        case .agentUnavailable: "that agent is not available"
        case .cannotTargetSelf: "you cannot consult or transfer to yourself"
        case .unknownInteraction: "no such call"
        case .interactionExists: "a call with that id already exists"
        case .unknownAgent: "no such agent"
        case .unknownQueue: "no such queue"
        case .unknownWrapUpCode: "no such wrap-up reason"
        case .unknownIdleCode: "no such idle reason"
        case .invalidDialNumber: "not a dial number: up to 15 digits, optionally after a +"
        case .invalidIdentifier: "an id is at most 15 bytes"
        case .notASupervisor: "only supervisors may do this"
        case .notSupervisedQueue: "you do not supervise this call's queue"
        case .monitorLimitReached: "this call already has as many supervisors on it as allowed"
        case .notMonitoring: "you are not listening in on this call"
        case .supervisorBargedIn: "a supervisor is on the call: ask them to switch to monitor or leave first"
        case .notRecorded: "this call is not being recorded"
        case .recordingAlreadyPaused: "the recording is already paused"
        case .recordingNotPaused: "the recording is not paused"
        }
    }
}


/// Every JSON the server writes (answers, stream messages), keys sorted so the same value always
/// reads the same. Only values that cannot fail to encode are passed.
func encodeJSON(_ value: some Encodable) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(value)) ?? Data("{}".utf8)
}
