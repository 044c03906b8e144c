import KilnGraph

/// The results of vertices as they complete; a vertex waits here for its inputs. Every vertex ends
/// in a result or an error, so no waiter is left hanging when a build fails.
actor VertexResults {
    private enum Entry {
        case done(FileSystemState)
        case failed(any Error)
        case pending([CheckedContinuation<FileSystemState, any Error>])
    }

    private var entries: [VertexID: Entry] = [:]

    func value(of vertex: VertexID) async throws -> FileSystemState {
        switch entries[vertex] {
        case .done(let state): return state
        case .failed(let error): throw error
        case .pending(let waiters):
            return try await withCheckedThrowingContinuation { continuation in
                entries[vertex] = .pending(waiters + [continuation])
            }
        case nil:
            return try await withCheckedThrowingContinuation { continuation in
                entries[vertex] = .pending([continuation])
            }
        }
    }

    func finish(_ vertex: VertexID, with result: Result<FileSystemState, any Error>) {
        let waiters: [CheckedContinuation<FileSystemState, any Error>]
        if case .pending(let pending) = entries[vertex] { waiters = pending } else { waiters = [] }
        switch result {
        case .success(let state):
            entries[vertex] = .done(state)
            for waiter in waiters { waiter.resume(returning: state) }
        case .failure(let error):
            entries[vertex] = .failed(error)
            for waiter in waiters { waiter.resume(throwing: error) }
        }
    }
}

/// Limits how many steps run processes at once.
actor StepLimiter {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) {
        available = max(1, limit)
    }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// An error of an input, passed on by the steps that needed it without being reported again.
struct InputFailed: Error {
    let underlying: any Error
}
