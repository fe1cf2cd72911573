import CallControl
import Reports
import Testing

/// A scripted stretch of a day on a manual clock: every figure computed by hand here.
@Suite struct QueueReportTests {
    /// Runs commands through the core at given seconds after 10:00:00 UTC on 2026-12-07 and feeds
    /// every event to the report, as the server would once each is committed.
    struct Day {
        static let tenOClock: Int64 = 1_796_637_600_000  // 2026-12-07T10:00:00Z
        var center = CallCenter(configuration: CenterConfiguration(
            agents: [.init(id: "agent1", team: "blue"), .init(id: "agent2", team: "blue")],
            queues: [.init(id: "sales", teams: ["blue"]), .init(id: "support", teams: ["blue"])],
            wrapUpCodes: ["resolved"], idleCodes: ["break"], ringNoAnswerMilliseconds: 60_000, autoWrapUpMilliseconds: nil))
        var report: QueueReport
        var events: [Event] = []

        init(settings: QueueReport.Settings = .init()) { report = QueueReport(settings: settings) }

        mutating func at(_ seconds: Double, _ command: Command, sourceLocation: SourceLocation = #_sourceLocation) {
            let time = Timestamp(milliseconds: Self.tenOClock + Int64(seconds * 1000))
            let outcome = center.handle(command, at: time)
            #expect(outcome.rejection == nil, "\(command): \(String(describing: outcome.rejection))", sourceLocation: sourceLocation)
            for event in outcome.events {
                events.append(event)
                report.apply(event)
            }
        }

        /// The figures of a queue over the hour from 10:00 (or over `from`…`to` seconds).
        func figures(_ queue: QueueID, from: Double = 0, to: Double = 3600) -> QueueReport.Figures {
            let rows = report.rows(
                from: Self.tenOClock + Int64(from * 1000), to: Self.tenOClock + Int64(to * 1000),
                length: Int64((to - from) * 1000), queues: [queue])
            return rows.first?.figures ?? QueueReport.Figures()
        }
    }

    @Test func anAnsweredHeldAndWrappedUpCallGivesItsWaitTalkHoldAndAfterCallWork() {
        var day = Day()
        day.at(0, .agent("agent1", .login))
        day.at(0, .agent("agent1", .setAvailable))
        day.at(100, .arrival("call-a", queue: "sales", from: "+15550100"))  // offered to agent1 at once
        day.at(105, .desktop("agent1", "call-a", .accept))                  // wait 5 s
        day.at(165, .desktop("agent1", "call-a", .hold))                    // talk 60 s
        day.at(195, .desktop("agent1", "call-a", .resume))                  // hold 30 s
        day.at(225, .desktop("agent1", "call-a", .end))                     // talk 30 s more
        day.at(235, .desktop("agent1", "call-a", .wrapUp(code: "resolved", notes: "")))  // after-call work 10 s
        let figures = day.figures("sales")
        #expect(figures.offered == 1 && figures.answered == 1 && figures.abandoned == 0)
        #expect(figures.answeredWithinThreshold == 1)
        #expect(figures.averageSpeedOfAnswerMilliseconds == 5_000)
        #expect(figures.handled == 1)
        #expect(figures.talkMilliseconds == 90_000 && figures.holdMilliseconds == 30_000 && figures.wrapUpMilliseconds == 10_000)
        #expect(figures.averageHandleTimeMilliseconds == 130_000)
        #expect(figures.serviceLevel(.counted) == 1.0)
    }

    @Test func abandonsCountAsTheSettingsSayAndAShortOneNowhere() {
        var day = Day(settings: .init(shortAbandonMilliseconds: 5_000))
        day.at(0, .agent("agent1", .login))
        day.at(0, .agent("agent1", .setAvailable))
        day.at(10, .arrival("call-a", queue: "sales", from: "+15550100"))
        day.at(40, .desktop("agent1", "call-a", .accept))                  // answered after 30 s: late
        day.at(50, .arrival("call-b", queue: "sales", from: "+15550101"))  // nobody free
        day.at(53, .line("call-b", .hungUp(.customer)))                     // 3 s: a short abandon
        day.at(60, .arrival("call-c", queue: "sales", from: "+15550102"))
        day.at(70, .line("call-c", .hungUp(.customer)))                     // 10 s: within the threshold
        day.at(80, .arrival("call-d", queue: "sales", from: "+15550103"))
        day.at(110, .line("call-d", .hungUp(.customer)))                    // 30 s: late
        day.at(120, .desktop("agent1", "call-a", .end))
        day.at(130, .desktop("agent1", "call-a", .wrapUp(code: "resolved", notes: "")))
        let figures = day.figures("sales")
        #expect(figures.offered == 4)
        #expect(figures.answered == 1 && figures.answeredWithinThreshold == 0)
        #expect(figures.abandoned == 2 && figures.shortAbandoned == 1 && figures.abandonedWithinThreshold == 1)
        #expect(figures.averageTimeToAbandonMilliseconds == 20_000)
        #expect(figures.longestWaitMilliseconds == 30_000)
        #expect(figures.abandonRate == 0.5)
        // Left the queue: 1 answered (late), 2 abandoned (one within 20 s).
        #expect(figures.serviceLevel(.counted) == 1.0 / 3.0)
        #expect(figures.serviceLevel(.ignored) == 0.0)
        #expect(figures.serviceLevel(.againstLevel) == 0.0)
        #expect(figures.handled == 1, "an abandoned contact has no handle time")
    }

    @Test func aCallStartingBeforeTheQuarterAndAnsweredAfterIsOfferedInOneAndAnsweredInTheNext() {
        var day = Day()
        day.at(0, .agent("agent1", .login))
        day.at(0, .agent("agent1", .setAvailable))
        day.at(890, .arrival("call-a", queue: "sales", from: "+15550100"))   // 10:14:50
        day.at(920, .desktop("agent1", "call-a", .accept))                   // 10:15:20
        let first = day.figures("sales", from: 0, to: 900), second = day.figures("sales", from: 900, to: 1800)
        #expect(first.offered == 1 && first.answered == 0)
        #expect(second.offered == 0 && second.answered == 1 && second.waitAnsweredMilliseconds == 30_000)
    }

    @Test func consultsConferencesAndTransfersAreCountedAndTheHeldConsultIsHold() {
        var day = Day()
        for agent: AgentID in ["agent1", "agent2"] {
            day.at(0, .agent(agent, .login))
            day.at(0, .agent(agent, .setAvailable))
        }
        day.at(10, .arrival("call-a", queue: "support", from: "+15550100"))
        day.at(12, .desktop("agent1", "call-a", .accept))
        day.at(42, .desktop("agent1", "call-a", .consult(to: .agent("agent2"))))  // talk 30 s; held from here
        day.at(47, .desktop("agent2", "call-a", .consultAccept))
        day.at(62, .desktop("agent1", "call-a", .conference))                       // hold 20 s
        day.at(92, .desktop("agent1", "call-a", .conferenceTransfer))               // talk 30 s; agent1 wraps up
        day.at(100, .desktop("agent1", "call-a", .wrapUp(code: "resolved", notes: "")))  // 8 s
        day.at(152, .desktop("agent2", "call-a", .end))                              // talk 60 s
        day.at(157, .desktop("agent2", "call-a", .wrapUp(code: "resolved", notes: "")))  // 5 s
        let figures = day.figures("support")
        #expect(figures.consults == 1 && figures.conferences == 1 && figures.transfers == 1)
        #expect(figures.talkMilliseconds == 120_000 && figures.holdMilliseconds == 20_000)
        #expect(figures.wrapUpMilliseconds == 13_000)
        #expect(figures.handled == 1)
    }

    @Test func theSameEventsGiveTheSameReportWhetherLiveOrReplayedFromTheLog() {
        var day = Day()
        day.at(0, .agent("agent1", .login))
        day.at(0, .agent("agent1", .setAvailable))
        day.at(10, .arrival("call-a", queue: "sales", from: "+15550100"))
        day.at(15, .desktop("agent1", "call-a", .accept))
        day.at(20, .arrival("call-b", queue: "sales", from: "+15550101"))
        day.at(45, .line("call-b", .hungUp(.customer)))
        var replayed = QueueReport()
        for event in day.events { replayed.apply(event) }
        #expect(replayed.rows(from: 0, to: .max / 2, length: 86_400_000).map(\.figures)
            == day.report.rows(from: 0, to: .max / 2, length: 86_400_000).map(\.figures))
    }
}

/// The agents' report on a scripted stretch: time per state split at the quarters, occupancy.
@Suite struct AgentReportTests {
    @Test func timeInEachStateIsCountedAndSplitAtTheQuartersAndGivesOccupancy() {
        let configuration = CenterConfiguration(
            agents: [.init(id: "agent1", team: "blue")], queues: [.init(id: "sales", teams: ["blue"])],
            wrapUpCodes: ["resolved"], idleCodes: ["break"], ringNoAnswerMilliseconds: 60_000, autoWrapUpMilliseconds: nil)
        var center = CallCenter(configuration: configuration)
        var report = AgentReport(configuration: configuration)
        let ten: Int64 = 1_796_637_600_000  // 2026-12-07T10:00:00Z
        func at(_ seconds: Int64, _ command: Command) {
            let outcome = center.handle(command, at: Timestamp(milliseconds: ten + seconds * 1000))
            #expect(outcome.rejection == nil, "\(command)")
            for event in outcome.events { report.apply(event) }
        }
        at(0, .agent("agent1", .login))                      // idle (break) from 10:00:00
        at(60, .agent("agent1", .setAvailable))              // 60 s idle
        at(840, .arrival("call-a", queue: "sales", from: "+15550100"))  // 780 s available; rings
        at(850, .desktop("agent1", "call-a", .accept))       // 10 s ringing
        at(960, .desktop("agent1", "call-a", .end))          // on a call 10:14:10–10:16:00: 50 s + 60 s
        at(990, .desktop("agent1", "call-a", .wrapUp(code: "resolved", notes: "")))  // 30 s wrap-up; available again

        let figures = report.intervals(asOf: Timestamp(milliseconds: ten + 1_200 * 1000))
        let first = figures[.init(agent: "agent1", start: ten)]!
        let second = figures[.init(agent: "agent1", start: ten + 900_000)]!
        #expect(first.idleMilliseconds["break"] == 60_000)
        #expect(first.availableMilliseconds == 780_000 && first.ringingMilliseconds == 10_000 && first.onCallMilliseconds == 50_000)
        #expect(first.answered == 1)
        #expect(second.onCallMilliseconds == 60_000 && second.wrapUpMilliseconds == 30_000 && second.wrapUps == 1)
        // Available again from 10:16:30 to the report's 10:20:00: 210 s.
        #expect(second.availableMilliseconds == 210_000)
        var hour = first
        hour.add(second)
        // On contacts 10 + 110 + 30 = 150 s; available 780 + 210 = 990 s.
        #expect(hour.occupancy == 150.0 / 1140.0)
    }
}

/// Retention bounds the reports: intervals before its cutoff are forgotten.
@Suite struct ReportRetentionTests {
    @Test func intervalsBeforeTheCutoffAreForgottenAndLaterOnesKept() {
        var report = QueueReport()
        let day: Int64 = 86_400_000
        for (index, id) in ["old", "new"].enumerated() {
            report.apply(Event(at: Timestamp(milliseconds: Int64(index) * 10 * day), .interaction(InteractionID(id), .arrived(queue: "sales", caller: "+15550100"))))
        }
        #expect(report.intervals.count == 2)
        report.forget(before: 5 * day)
        #expect(report.intervals.keys.map(\.start) == [10 * day])
    }
}
