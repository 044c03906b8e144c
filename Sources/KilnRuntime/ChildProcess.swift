import CKilnLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which stream a chunk of process output came from.
public enum OutputStream: Sendable, Hashable {
    case standardOutput, standardError
}

/// Receives a process's output as it is written.
public typealias OutputHandler = @Sendable (OutputStream, [UInt8]) -> Void

/// Runs a helper program (the OCI runtime, git) with its output streamed to a handler, without blocking
/// the cooperative thread pool: pipes are drained on their own threads and the exit is awaited.
public enum ChildProcess {
    /// Runs `executable arguments…` (an absolute path, or a name looked up in `PATH`) with `environment`
    /// added to kiln's own, and returns its exit code (128 + N when killed by signal N).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], output: @escaping OutputHandler
    ) async throws -> Int32 {
        var standardOutput: [Int32] = [0, 0], standardError: [Int32] = [0, 0]
        guard kiln_pipe_cloexec(&standardOutput) == 0 else { throw RuntimeError("pipe: \(String(cString: strerror(errno)))") }
        guard kiln_pipe_cloexec(&standardError) == 0 else {
            close(standardOutput[0]); close(standardOutput[1])
            throw RuntimeError("pipe: \(String(cString: strerror(errno)))")
        }
        let variables = environment.isEmpty
            ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { $0.key + "=" + $0.value }
        let spawned = ProcessSpawn.spawn(
            [executable] + arguments, environment: variables, descriptors: [standardOutput[1]: 1, standardError[1]: 2])
        close(standardOutput[1])
        close(standardError[1])
        guard case .success(let pid) = spawned else {
            close(standardOutput[0]); close(standardError[0])
            if case .failure(let error) = spawned { throw error }
            throw RuntimeError("cannot start \(executable)")
        }
        // Done when the process has exited and both pipes are drained; deliberately not cancellable:
        // the caller cancels by killing the process, and must still wait for it.
        let exitCode = ExitCode()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let pending = Countdown(3) { continuation.resume() }
            drain(standardOutput[0], as: .standardOutput, to: output, then: pending.decrement)
            drain(standardError[0], as: .standardError, to: output, then: pending.decrement)
            Thread {
                exitCode.value = ProcessSpawn.exitCode(of: pid)
                pending.decrement()
            }.start()
        }
        return exitCode.value
    }

    /// Runs a short command and returns its exit code and what it wrote to each stream.
    public static func capture(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:]
    ) async throws -> (status: Int32, output: String, errors: String) {
        let output = Collected(), errors = Collected()
        let status = try await run(executable, arguments, environment: environment) { stream, bytes in
            (stream == .standardOutput ? output : errors).append(bytes)
        }
        return (status, output.text, errors.text)
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes: [UInt8] = []
        func append(_ chunk: [UInt8]) { lock.withLock { bytes += chunk } }
        var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
    }

    /// Reads `descriptor` on a thread until end of file, handing each chunk to `output`, then closes it and
    /// calls `finished`.
    private static func drain(
        _ descriptor: Int32, as stream: OutputStream, to output: @escaping OutputHandler, then finished: @escaping @Sendable () -> Void
    ) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                output(stream, Array(buffer[0..<count]))
            }
            close(descriptor)
            finished()
        }
        thread.start()
    }

    /// The exit code, set by the waiting thread before the continuation resumes.
    private final class ExitCode: @unchecked Sendable {
        var value: Int32 = 0
    }

    /// Calls `action` once `decrement()` was called `count` times.
    private final class Countdown: @unchecked Sendable {
        private let lock = NSLock()
        private var remaining: Int
        private let action: @Sendable () -> Void

        init(_ count: Int, action: @escaping @Sendable () -> Void) {
            remaining = count
            self.action = action
        }

        func decrement() {
            let fire = lock.withLock {
                remaining -= 1
                return remaining == 0
            }
            if fire { action() }
        }
    }
}
