import ArgumentParser
import Dispatch
import Foundation

/// Turns Ctrl-C and SIGTERM into task cancellation, so a running container is killed and everything it
/// mounted is cleaned up before kiln exits (128 + the signal number, as shells report it).
enum SignalCancellation {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let received = ReceivedSignal()
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                received.set(number)
                task.cancel()
            }
            source.resume()
            return source
        }
        defer {
            for source in sources { source.cancel() }
        }
        do {
            return try await task.value
        } catch {
            if let number = received.value { throw ExitCode(128 + number) }
            throw error
        }
    }

    private final class ReceivedSignal: @unchecked Sendable {
        private let lock = NSLock()
        private var number: Int32?
        func set(_ value: Int32) { lock.withLock { number = value } }
        var value: Int32? { lock.withLock { number } }
    }
}
