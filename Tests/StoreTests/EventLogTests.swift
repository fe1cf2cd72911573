import CallControl
import Foundation
import Store
import Testing

/// Every kind of event, with every kind of party and destination its fields can hold.
let everyEvent: [Event.Subject] = {
    let call: InteractionID = "call-1"
    let interaction: [InteractionEvent] = [
        .arrived(queue: "sales", caller: "+15550100"), .arrived(queue: "sales", caller: .withheld),
        .arrived(queue: "sales", caller: Caller(address: "alice@example.com", name: "Alice \"Al\" Liddell")),
        .arrived(queue: "sales", caller: Caller(number: "+15550100", name: "Bob")), .arrived(queue: "sales", caller: Caller()),
        .offered(to: "agent1"), .offerTimedOut(agent: "agent1"),
        .accepted(by: "agent1"), .customerHeld, .customerResumed, .consultStarted(.agent("agent2")),
        .consultStarted(.queue("support")), .consultStarted(.dialNumber("+442079460000")), .consultOffered(to: "agent2"),
        .consultOfferTimedOut(agent: "agent2"), .consultAnswered(.agent("agent2")),
        .consultAnswered(.dialNumber("+442079460000")), .ringFailed(.agent("agent2"), .busy),
        .ringFailed(.dialNumber("+442079460000"), .unreachable), .consultCancelled,
        .consultedPartyLeft(.agent("agent2")), .conferenceStarted, .consultTransferred,
        .conferenceTransferred(to: "agent2"), .conferenceExited(.dialNumber("+442079460000")), .conferenceEnded,
        .blindTransferred(.queue("support")), .blindTransferred(.agent("agent3")), .endedByOwner, .customerLeft,
        .wrapUpApplied(agent: "agent1", code: "resolved", notes: "said \"thanks\"\n/ok", automatic: false),
        .wrapUpApplied(agent: "agent2", code: "resolved", notes: "", automatic: true),
    ]
    let agent: [AgentEvent] = [
        .loggedIn, .loggedOut, .becameAvailable, .wentIdle("break"), .idleRequested("lunch"), .answerModeSet(.phone),
    ]
    return interaction.map { .interaction(call, $0) } + agent.map { .agent("agent1", $0) }
}()

@Suite("Event log encoding")
struct EventLogTests {
    @Test(arguments: everyEvent)
    func everyEventReadsBackAsItWasWritten(_ subject: Event.Subject) throws {
        #expect(try EventLog.decode(EventLog.encode(subject)) == subject)
    }

    /// The stored text is a contract with every database already written: these bodies must never change.
    @Test func theStoredTextOfAnEventIsFixed() {
        #expect(EventLog.encode(.interaction("c1", .arrived(queue: "sales", caller: "+15550100"))).body
            == #"{"customerNumber":"+15550100","event":"arrived","queue":"sales"}"#)
        #expect(EventLog.encode(.interaction("c1", .arrived(queue: "sales", caller: .withheld))).body
            == #"{"customerWithheld":true,"event":"arrived","queue":"sales"}"#)
        #expect(EventLog.encode(.interaction("c1", .arrived(queue: "sales", caller: Caller(address: "alice@example.com", name: "Alice")))).body
            == #"{"customerAddress":"alice@example.com","customerName":"Alice","event":"arrived","queue":"sales"}"#)
        #expect(EventLog.encode(.interaction("c1", .consultStarted(.dialNumber("+4420"))))
            == EventLog.Row(interaction: "c1", agent: nil, body: #"{"event":"consultStarted","number":"+4420"}"#))
        #expect(EventLog.encode(.interaction("c1", .ringFailed(.agent("agent2"), .declined))).body
            == #"{"agent":"agent2","event":"ringFailed","reason":"declined"}"#)
        #expect(EventLog.encode(.interaction("c1", .wrapUpApplied(agent: "a", code: "ok", notes: "", automatic: true))).body
            == #"{"agent":"a","automatic":true,"code":"ok","event":"wrapUpApplied","notes":""}"#)
        #expect(EventLog.encode(.agent("agent1", .wentIdle("break")))
            == EventLog.Row(interaction: nil, agent: "agent1", body: #"{"code":"break","event":"wentIdle"}"#))
    }

    @Test func schemaZeroBodiesAreReadAsTheirEvents() throws {
        let cases: [(String, Event.Subject)] = [
            (#"{"agent":{"_0":"agent1","_1":{"loggedIn":{}}}}"#, .agent("agent1", .loggedIn)),
            (#"{"agent":{"_1":{"wentIdle":{"_0":"break"}},"_0":"agent1"}}"#, .agent("agent1", .wentIdle("break"))),
            (#"{"interaction":{"_0":"t1","_1":{"arrived":{"queue":"sales","customerNumber":"+15550100"}}}}"#,
             .interaction("t1", .arrived(queue: "sales", caller: "+15550100"))),
            (#"{"interaction":{"_0":"t1","_1":{"offered":{"to":"agent1"}}}}"#, .interaction("t1", .offered(to: "agent1"))),
            (#"{"interaction":{"_0":"t1","_1":{"accepted":{"by":"agent1"}}}}"#, .interaction("t1", .accepted(by: "agent1"))),
            (#"{"interaction":{"_0":"t1","_1":{"consultStarted":{"_0":{"dialNumber":{"_0":"+15550199"}}}}}}"#,
             .interaction("t1", .consultStarted(.dialNumber("+15550199")))),
            (#"{"interaction":{"_0":"t1","_1":{"blindTransferred":{"_0":{"queue":{"_0":"support"}}}}}}"#,
             .interaction("t1", .blindTransferred(.queue("support")))),
            (#"{"interaction":{"_0":"t1","_1":{"wrapUpApplied":{"agent":"agent1","code":"resolved","notes":"x","automatic":false}}}}"#,
             .interaction("t1", .wrapUpApplied(agent: "agent1", code: "resolved", notes: "x", automatic: false))),
            (#"{"interaction":{"_0":"t1","_1":{"customerLeft":{}}}}"#, .interaction("t1", .customerLeft)),
        ]
        for (body, subject) in cases {
            #expect(try EventLog.decodeSchema0(body) == subject, "\(body)")
        }
    }

    @Test func anUnreadableBodyIsATypedErrorNotACrash() {
        for body in ["", "{}", "[1]", #"{"event":"teleported"}"#, #"{"event":"offered"}"#, #"{"event":"ringFailed","agent":"a","reason":"bored"}"#] {
            #expect(throws: EventLogError.self) { try EventLog.decode(EventLog.Row(interaction: "c1", agent: nil, body: body)) }
        }
        #expect(throws: EventLogError.self) { try EventLog.decodeSchema0(#"{"interaction":{"_0":"t1","_1":{"teleported":{}}}}"#) }
        #expect(throws: EventLogError.self) { try EventLog.decode(EventLog.Row(interaction: nil, agent: nil, body: #"{"event":"loggedIn"}"#)) }
    }
}
