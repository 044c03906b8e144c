import Foundation

/// A directory served over plain HTTP on a free loopback port by python3's `http.server` (with Last-Modified
/// headers), for `ADD <url>` and git's dumb HTTP protocol in tests. Stopped when released.
public final class StaticFileServer: @unchecked Sendable {
    public let port: Int
    private let process = Process()

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts serving `directory`; returns once the port answers.
    public init(directory: String) throws {
        port = try LoopbackRegistry.freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if LoopbackRegistry.answers(port: port) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw ServerDidNotStart(port: port)
    }

    deinit {
        // SIGKILL: python keeps the signal mask of the thread that spawned it, where SIGTERM may be blocked.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public struct ServerDidNotStart: Error { public var port: Int }
}
