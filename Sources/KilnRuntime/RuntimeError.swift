#if canImport(Glibc)
import Glibc
#endif

/// An error of running a process in a container, saying what was being done and to what.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    /// A failed system call on `path`.
    static func system(_ call: String, _ path: String, errno code: Int32 = errno) -> RuntimeError {
        RuntimeError("\(call) \(path): \(String(cString: strerror(code)))")
    }

    public var description: String { message }
}

/// A process that ran and exited non-zero (or was killed by a signal).
public struct ProcessFailure: Error, Sendable, CustomStringConvertible {
    /// The exit code; 128 + N for a process killed by signal N, like a shell reports it.
    public var exitCode: Int32
    /// The last lines the process wrote (stdout and stderr interleaved), for the error report.
    public var lastOutput: [String]

    public init(exitCode: Int32, lastOutput: [String]) {
        self.exitCode = exitCode
        self.lastOutput = lastOutput
    }

    public var description: String { "process exited with code \(exitCode)" }
}
