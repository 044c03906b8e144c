import Foundation

/// Blocking file-system work (unpacking, hashing, copying trees) run on a dispatch queue, so the Swift
/// concurrency pool's few threads stay free for the tasks that wait on the network or on children.
public enum BlockingWork {
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
