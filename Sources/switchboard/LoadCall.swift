import APIClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

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

    private var http: [Channel?] = [nil, nil]
    private var streams: [Channel?] = [nil, nil]
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
    func run() -> EventLoopFuture<Samples> {
        let streamPaths = tokens.map { "/v1/notifications?token=\($0)&since=0" }
        var connected: [EventLoopFuture<Void>] = []
        for side in [Side.a, .b] {
            connected.append(connect(handler: AnswerReader(call: self, side: side), http: true).map {
                self.http[side.rawValue] = $0
            })
            let upgraded = loop.makePromise(of: Void.self)
            connected.append(connect(handler: FrameReader(call: self, side: side, path: streamPaths[side.rawValue],
                                                          host: "\(address.host):\(address.port)", upgraded: upgraded),
                                     http: false).flatMap { channel in
                self.streams[side.rawValue] = channel
                return upgraded.futureResult
            })
        }
        EventLoopFuture.andAllSucceed(connected, on: loop).whenComplete { result in
            switch result {
            case .success:
                Driver.phases.withLock { $0[self.index] = "at the start gate" }
                let gate = self.gate, index = self.index
                Task {
                    let deadline = await gate.ready(index)
                    self.loop.execute { self.start(deadline: deadline) }
                }
            case .failure(let error):
                let gate = self.gate, index = self.index
                Task { await gate.abandon(index) }
                self.finish(failure: "call \(self.index): \(error)")
            }
        }
        return promise.futureResult
    }

    private func connect(handler: ChannelHandler & Sendable, http: Bool) -> EventLoopFuture<Channel> {
        ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if http { try channel.pipeline.syncOperations.addHTTPClientHandlers() }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: address.host, port: address.port)
    }

    private func start(deadline: ContinuousClock.Instant) {
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
        guard !finished, let channel = http[steps[stepIndex].side.rawValue] else { return }
        let step = steps[stepIndex]
        let path = stepIndex == 0 ? step.path : taskPath + step.path
        Driver.phases.withLock { $0[index] = "waiting for the answer to \(step.path)" }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(address.host):\(address.port)")
        headers.add(name: "Authorization", value: "Bearer \(tokens[step.side.rawValue])")
        headers.add(name: "Content-Length", value: String(step.body?.count ?? 0))
        if step.body != nil { headers.add(name: "Content-Type", value: "application/json") }
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: step.method, uri: path, headers: headers)),
                      promise: nil)
        if let body = step.body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
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
        for channel in http + streams { channel?.close(promise: nil) }
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

/// One agent's event stream: the WebSocket opening handshake, then the server's frames (RFC 6455
/// §5.2: unmasked from a server; a message may come in fragments; pings are answered).
private final class FrameReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let call: LoadCall
    let side: LoadCall.Side
    let path: String
    let host: String
    let upgraded: EventLoopPromise<Void>
    private var handshakeDone = false
    private var pending = ByteBuffer()
    private var fragments = ByteBuffer()

    init(call: LoadCall, side: LoadCall.Side, path: String, host: String, upgraded: EventLoopPromise<Void>) {
        self.call = call
        self.side = side
        self.path = path
        self.host = host
        self.upgraded = upgraded
    }

    func channelActive(context: ChannelHandlerContext) {
        var key = [UInt8](repeating: 0, count: 16)
        for index in key.indices { key[index] = .random(in: 0...255) }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(Data(key).base64EncodedString())\r\nSec-WebSocket-Version: 13\r\n\r\n"
        context.writeAndFlush(NIOAny(ByteBuffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        if !handshakeDone {
            let view = pending.readableBytesView
            guard let end = view.firstRange(of: [13, 10, 13, 10]) else { return }
            let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
            handshakeDone = true
            guard head.hasPrefix("HTTP/1.1 101") else {
                upgraded.fail(APIClientError.notUpgraded)
                context.close(promise: nil)
                return
            }
            pending.moveReaderIndex(to: end.upperBound)
            upgraded.succeed()
        }
        while let (fin, opcode, payload) = nextFrame() {
            switch opcode {
            case 0x0, 0x1:
                if fin && fragments.readableBytes == 0 {
                    call.received(side, payload)
                } else {
                    var part = payload
                    fragments.writeBuffer(&part)
                    if fin {
                        call.received(side, fragments)
                        fragments = ByteBuffer()
                    }
                }
            case 0x8: context.close(promise: nil)
            case 0x9: context.writeAndFlush(NIOAny(Self.pong(payload)), promise: nil)
            default: continue
            }
        }
        pending.discardReadBytes()
    }

    /// The next whole frame in `pending`, if one has arrived.
    private func nextFrame() -> (fin: Bool, opcode: UInt8, payload: ByteBuffer)? {
        let start = pending.readerIndex
        guard let first = pending.getInteger(at: start, as: UInt8.self),
              let second = pending.getInteger(at: start + 1, as: UInt8.self) else { return nil }
        var offset = start + 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let long = pending.getInteger(at: offset, as: UInt16.self) else { return nil }
            length = Int(long)
            offset += 2
        } else if length == 127 {
            guard let long = pending.getInteger(at: offset, as: UInt64.self), long < 1 << 30 else { return nil }
            length = Int(long)
            offset += 8
        }
        let masked = second & 0x80 != 0
        let mask = masked ? pending.getBytes(at: offset, length: 4) : nil
        if masked { offset += 4 }
        guard var payload = pending.getSlice(at: offset, length: length) else { return nil }
        if let mask {
            payload = ByteBuffer(bytes: payload.readableBytesView.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        }
        pending.moveReaderIndex(to: offset + length)
        return (first & 0x80 != 0, first & 0x0F, payload)
    }

    /// A pong for a ping: a client's frames are masked (RFC 6455 §5.3).
    static func pong(_ payload: ByteBuffer) -> ByteBuffer {
        let data = Array(payload.readableBytesView.prefix(125))
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        return ByteBuffer(bytes: [0x8A, 0x80 | UInt8(data.count)] + mask + data.enumerated().map { $0.element ^ mask[$0.offset % 4] })
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !handshakeDone {
            handshakeDone = true
            upgraded.fail(APIClientError.connectionClosed)
        }
        call.failed(side, "the event stream closed")
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !handshakeDone {
            handshakeDone = true
            upgraded.fail(error)
        }
        call.failed(side, "\(error)")
    }
}
