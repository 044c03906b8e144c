import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP proxy that breaks connections it relays: every chunk of response data it forwards has a
/// `faultRate` chance of being cut short, after which both sides are closed, so the client sees a reset or a
/// truncated response (clients pool connections, so faults are drawn per chunk, not per connection). Decisions
/// come from a seeded generator, so a failing run can be repeated.
public final class FaultyProxy: @unchecked Sendable {
    public let port: Int
    /// Connections cut so far.
    public var faults: Int { state.withLockedValue { $0.faults } }

    private let group: MultiThreadedEventLoopGroup
    private var channel: (any Channel)?
    private let state: NIOLockedValueBox<State>

    struct State {
        var random: SplitMix64
        var faults = 0

        mutating func next() -> UInt64 { random.next() }
    }

    /// Relays to `127.0.0.1:upstreamPort`, cutting `faultRate` (0…1) of the connections.
    public init(upstreamPort: Int, faultRate: Double, seed: UInt64 = 42) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        state = NIOLockedValueBox(State(random: SplitMix64(seed: seed)))
        let state = self.state
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { inbound in
                // The cut point within a chunk, or nil to forward the chunk whole.
                let decide: @Sendable (Int) -> Int? = { length in
                    state.withLockedValue { value in
                        guard Double(value.next() % 10_000) / 10_000 < faultRate else { return nil }
                        value.faults += 1
                        return Int(value.next() % UInt64(max(length, 1)))
                    }
                }
                return inbound.pipeline.addHandler(ConnectHandler(upstreamPort: upstreamPort, decide: decide))
            }
        let bound = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        port = bound.localAddress?.port ?? 0
        channel = bound
    }

    deinit {
        try? channel?.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Once the client's connection is up, connects upstream and joins the two with relays.
private final class ConnectHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let upstreamPort: Int
    let decide: @Sendable (Int) -> Int?

    init(upstreamPort: Int, decide: @escaping @Sendable (Int) -> Int?) {
        self.upstreamPort = upstreamPort
        self.decide = decide
    }

    func channelActive(context: ChannelHandlerContext) {
        let inbound = context.channel
        let decide = self.decide
        ClientBootstrap(group: context.eventLoop).connect(host: "127.0.0.1", port: upstreamPort).whenComplete { result in
            guard case .success(let outbound) = result else {
                inbound.close(promise: nil)
                return
            }
            let toClient = RelayHandler(decide: decide)
            toClient.partner = inbound
            let toServer = RelayHandler(decide: nil)
            toServer.partner = outbound
            outbound.pipeline.addHandler(toClient).flatMap {
                inbound.pipeline.removeHandler(self)
            }.flatMap {
                inbound.pipeline.addHandler(toServer)
            }.whenSuccess {
                inbound.read()
            }
        }
        context.fireChannelActive()
    }
}

/// Copies what one side reads to the other side; with `decide`, may cut the connection inside a chunk.
private final class RelayHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var partner: (any Channel)?
    let decide: (@Sendable (Int) -> Int?)?

    init(decide: (@Sendable (Int) -> Int?)?) {
        self.decide = decide
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let partner else { return }
        if let decide, let cut = decide(buffer.readableBytes) {
            if cut > 0, let slice = buffer.readSlice(length: cut) {
                partner.writeAndFlush(slice).whenComplete { _ in partner.close(promise: nil) }
            } else {
                partner.close(promise: nil)
            }
            context.close(promise: nil)
            return
        }
        partner.writeAndFlush(buffer).whenSuccess { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
        partner?.close(promise: nil)
    }
}
