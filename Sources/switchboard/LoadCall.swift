import APIClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// One simulated call of `switchboard load` once its agents are signed in: their two kept-open
/// HTTP connections and two event streams, driven by a state machine on one event loop.
///
/// Why not async code: the load generator shares this machine's two cores with the server it
/// measures. Driving each command from a task cost ~6 thread switches per command in the client
/// (an event loop thread hands every answer and every event to a concurrency thread and back),
/// which made the generator take half a core at 3,000 commands/s and left the server less.
/// Here an answer or an event is handled on the event loop thread that read it.
///
///     connecting ──(4 channels up, streams upgraded)──▶ atGate ──(gate opens)──▶ running
///     running: send step ─▶ answer ─▶ [await the other agent's event] ─▶ next step (paced)
///     running ──(deadline at a lifecycle's start, or a failure)──▶ finished (promise fulfilled)
final class LoadCall: @unchecked Sendable {  // Touched only on `loop`.
    enum Side: Int { case a = 0, b = 1 }

    struct Step {
        var side: Side
        var method: HTTPMethod
        /// The path after `/v1/tasks/ID/`, or a whole path for the first step.
        var path: String
        var body: [UInt8]?
        var expect = 200
        /// The other agent's stream must show the task at the answer's version before going on.
        var awaitOther = false
    }

    let index: Int
    let loop: EventLoop
    let address: ServerAddress
    let tokens: [String]
    let gate: StartGate
    let interval: Duration?
    private let promise: EventLoopPromise<Samples>

    private var http: [Channel] = []
    private var streams: [Channel] = []
    private var samples = Samples()
    private var deadline = ContinuousClock.now
    private var finished = false

    private var steps: [Step] = []
    private var stepIndex = 0
    private var round = 0
    private var task = ""
    private var taskPath = ""
    private var sentAt = ContinuousClock.now
    /// While awaiting the other agent's event: its stream, the task text it must name, the version.
    private var awaiting: (side: Side, wanted: [UInt8], version: Int)?
    /// Messages each stream delivered that nobody has looked at yet, with when they arrived.
    private var unread: [CircularBuffer<(ByteBuffer, ContinuousClock.Instant)>] = [.init(), .init()]

    init(index: Int, loop: EventLoop, address: ServerAddress, tokens: [String], gate: StartGate, interval: Duration?) {
        self.index = index
        self.loop = loop
        self.address = address
        self.tokens = tokens
        self.gate = gate
        self.interval = interval
        promise = loop.makePromise()
    }

    /// Connects, waits at the gate, runs lifecycles until the window closes; the samples at the end.
    func run() async -> Samples {
        var http: [Channel] = [], streams: [Channel] = []
        do {
            for side in [Side.a, .b] {
                http.append(try await ClientBootstrap(group: loop)
                    .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .connect(host: address.host, port: address.port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            try channel.pipeline.syncOperations.addHandler(AnswerReader(call: self, side: side))
                            return channel
                        }
                    })
                // since=0: everything from the start, so no event is missed while connecting.
                let path = "/v1/notifications?token=\(tokens[side.rawValue])&since=0"
                streams.append(try await EventStream.connect(address, path: path, group: loop) { channel in
                    channel.pipeline.addHandler(FrameReader(call: self, side: side)).map { channel }
                })
            }
        } catch {
            for channel in http + streams { channel.close(promise: nil) }
            await gate.abandon(index)
            var samples = Samples()
            samples.failures.append("call \(index): \(error)")
            return samples
        }
        loop.execute {
            self.http = http
            self.streams = streams
            // A stream that closed while the others connected has ended the call already.
            if self.finished { for channel in http + streams { channel.close(promise: nil) } }
        }
        Driver.phases.withLock { $0[index] = "at the start gate" }
        let deadline = await gate.ready(index)
        loop.execute { self.start(deadline: deadline) }
        // Never fails: a failure ends the call with the samples so far and the failure among them.
        return (try? await promise.futureResult.get()) ?? Samples()
    }

    private func start(deadline: ContinuousClock.Instant) {
        guard !finished else { return }
        self.deadline = deadline
        samples.windowStart = deadline - gate.duration
        if let interval {
            // Calls start spread over one interval, so the offered rate is even.
            samples.nextCommand = ContinuousClock.now + interval * (Double(index) / Double(gate.count))
        }
        beginLifecycle()
    }

    private func beginLifecycle() {
        guard ContinuousClock.now < deadline else { return finish(failure: nil) }
        round += 1
        stepIndex = 0
        let call = Array(#"{"queueId":"q\#(index)","from":"+1555\#(index)"}"#.utf8)
        let consult = Array(#"{"destinationType":"agent","to":"b\#(index)"}"#.utf8)
        let wrapUp = Array(#"{"wrapUpCodeId":"resolved","notes":"load round \#(round)"}"#.utf8)
        // The customer calls (routed to A), A accepts, consults B, B accepts, A conferences, B
        // exits, A ends, A wraps up. Commands the other agent hears about wait for its event.
        steps = [
            Step(side: .a, method: .POST, path: "/v1/sim/calls", body: call, expect: 201),
            Step(side: .a, method: .POST, path: "accept"),
            Step(side: .a, method: .POST, path: "consult", body: consult, awaitOther: true),
            Step(side: .b, method: .POST, path: "consult/accept", awaitOther: true),
            Step(side: .a, method: .POST, path: "consult/conference", awaitOther: true),
            Step(side: .b, method: .POST, path: "conference/exit", awaitOther: true),
            Step(side: .a, method: .POST, path: "end"),
            Step(side: .a, method: .POST, path: "wrapup", body: wrapUp),
        ]
        sendWhenDue()
    }

    /// Paced: waits for the command's turn, and counts latency from when it was due (a late start
    /// is latency too, so a slow moment cannot hide itself).
    private func sendWhenDue() {
        let now = ContinuousClock.now
        if let due = samples.nextCommand, let interval {
            samples.nextCommand = due + interval
            sentAt = due
            if due > now {
                loop.scheduleTask(in: .nanoseconds((due - now).nanoseconds)) { self.send() }
                return
            }
        } else {
            sentAt = now
        }
        send()
    }

    private func send() {
        guard !finished else { return }
        let step = steps[stepIndex]
        let path = stepIndex == 0 ? step.path : taskPath + step.path
        Driver.phases.withLock { $0[index] = "waiting for the answer to \(step.path)" }
        let channel = http[step.side.rawValue]
        for part in HTTPConnection.request(step.method, path, host: "\(address.host):\(address.port)",
                                           token: tokens[step.side.rawValue], json: step.body) {
            channel.write(part, promise: nil)
        }
        channel.flush()
    }

    /// An HTTP answer on `side`'s connection.
    fileprivate func answered(_ side: Side, status: Int, body: ByteBuffer) {
        guard !finished else { return }
        let step = steps[stepIndex]
        guard side == step.side else { return finish(failure: "call \(index): an answer nobody asked for") }
        let latency = ContinuousClock.now - sentAt
        guard status == step.expect else {
            return finish(failure: "\(step.path): HTTP \(status) \(String(buffer: body))")
        }
        samples.commands += 1
        samples.commandLatencies.append(latency.nanoseconds)
        if let start = samples.windowStart { samples.commandTimes.append((sentAt - start).nanoseconds) }
        if stepIndex == 0 {
            struct Placed: Decodable { var taskId: String }
            guard let placed = try? JSONDecoder().decode(Placed.self, from: Data(body.readableBytesView)) else {
                return finish(failure: "\(step.path): no taskId in \(String(buffer: body))")
            }
            task = placed.taskId
            taskPath = "/v1/tasks/\(task)/"
        }
        if step.awaitOther {
            let version = status == 200 ? body.withUnsafeReadableBytes { Driver.version(in: $0.bindMemory(to: UInt8.self).span) } ?? 0 : 0
            let other: Side = side == .a ? .b : .a
            Driver.phases.withLock { $0[index] = "waiting for the event of \(task) v\(version)" }
            awaiting = (other, Array(#""taskId":"\#(task)""#.utf8), version)
            while let (message, at) = unread[other.rawValue].popFirst() {
                if matches(message, at: at) { return }
            }
        } else {
            advance()
        }
    }

    /// Whether `message` is the awaited event; if so, records it and moves on.
    private func matches(_ message: ByteBuffer, at receivedAt: ContinuousClock.Instant) -> Bool {
        guard let (_, wanted, version) = awaiting else { return false }
        // A cheap look instead of decoding every message: the load generator shares the CPU.
        let found = message.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard Driver.contains(wanted, in: bytes) else { return false }
            return (Driver.version(in: bytes.span) ?? Int.max) >= version  // taskRemoved has none
        }
        guard found else { return false }
        awaiting = nil
        samples.eventLatencies.append((receivedAt - sentAt).nanoseconds)
        advance()
        return true
    }

    private func advance() {
        stepIndex += 1
        if stepIndex < steps.count { return sendWhenDue() }
        samples.lifecycles += 1
        beginLifecycle()
    }

    /// A message on `side`'s event stream.
    fileprivate func received(_ side: Side, _ message: ByteBuffer) {
        let now = ContinuousClock.now
        // Awaited: read now, and consumed whether or not it is the one (a reader in order moves
        // past it). `unread` for this side is empty then: the wait began by reading it all.
        if let awaiting, awaiting.side == side {
            _ = matches(message, at: now)
            return
        }
        // Kept until this stream is next awaited; read in order then, as a desktop would. Only
        // messages since the last wait pile up here: one lifecycle's worth at most.
        unread[side.rawValue].append((message, now))
    }

    fileprivate func failed(_ side: Side, _ what: String) {
        finish(failure: "call \(index) (agent \(side == .a ? "A" : "B")): \(what)")
    }

    private func finish(failure: String?) {
        guard !finished else { return }
        finished = true
        if let failure { samples.failures.append(failure) }
        Driver.phases.withLock { $0[index] = "finished" }
        for channel in http + streams { channel.close(promise: nil) }
        let gate = gate, samples = samples, promise = promise
        Task {
            await gate.finished()
            promise.succeed(samples)
        }
    }
}

/// Reads one agent's HTTP answers, whole, and hands them to the call.
private final class AnswerReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let call: LoadCall
    let side: LoadCall.Side
    private var status = 0
    private var body = ByteBuffer()

    init(call: LoadCall, side: LoadCall.Side) {
        self.call = call
        self.side = side
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body.clear()
        case .body(var part): body.writeBuffer(&part)
        case .end: call.answered(side, status: status, body: body)
        }
    }

    func channelInactive(context: ChannelHandlerContext) { call.failed(side, "the server closed the connection") }
    func errorCaught(context: ChannelHandlerContext, error: Error) { call.failed(side, "\(error)") }
}

/// One agent's event stream, after NIO's WebSocket upgrade: text messages to the call, pings
/// answered.
private final class FrameReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    let call: LoadCall
    let side: LoadCall.Side

    init(call: LoadCall, side: LoadCall.Side) {
        self.call = call
        self.side = side
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text: call.received(side, frame.unmaskedData)
        case .ping: context.writeAndFlush(wrapOutboundOut(EventStream.pong(to: frame)), promise: nil)
        case .connectionClose: context.close(promise: nil)
        default: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) { call.failed(side, "the event stream closed") }
    func errorCaught(context: ChannelHandlerContext, error: Error) { call.failed(side, "\(error)") }
}
