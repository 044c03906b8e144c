import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnOCI
import KilnStore

/// What a process run by ``ContainerExecutor`` left: its exit code, its last lines of output, and the
/// writable layer (an overlayfs upper directory) holding what it changed.
public struct Execution: Sendable {
    public let id: String
    public let exitCode: Int32
    public let lastOutput: [String]
    /// The upper directory: new and changed files, deletions as overlay whiteouts, opaque directories.
    public let upperDirectory: String
    /// Whether the process changed anything in the root filesystem.
    public let hasChanges: Bool
    let directory: String

    /// Removes the upper directory and the execution's directory.
    public func discard() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs one process in a container on snapshots: the lower directories (read-only snapshots) under a
/// fresh writable layer, with the image's user, `/etc/hosts` and friends mounted in, `RUN --mount`s
/// prepared, and the OCI runtime doing the isolation. Everything it mounts or creates is undone when the
/// process ends, fails or is cancelled, except the upper directory it returns.
public struct ContainerExecutor: Sendable {
    public let runtime: OCIRuntime
    public let store: LayoutStore
    /// overlayfs, or copying where overlayfs cannot be mounted.
    public let snapshotMethod: SnapshotMethod
    /// The default network's slirp4netns networks; nil when slirp4netns is not installed (loopback only).
    private let networks: NetworkPool?

    /// An executor for `store`; `snapshotMethod` is detected when not given.
    public init(runtime: OCIRuntime, store: LayoutStore, snapshotMethod: SnapshotMethod? = nil) {
        self.runtime = runtime
        self.store = store
        let executions = store.layout.root + "/executions"
        self.snapshotMethod = snapshotMethod ?? SnapshotMethod.detect(in: executions)
        networks = SlirpNetwork.executable.map { NetworkPool(executable: $0, directory: executions) }
    }

    /// Stops what the executor keeps ready for later steps (a prestarted network); call it after the last step.
    public func shutdown() async {
        await networks?.drain()
    }

    /// Where executions keep their directories: `executions/<id>/{upper,work,rootfs,bundle,files,mounts}`.
    public var executionsDirectory: String { store.layout.root + "/executions" }

    /// Runs `request` over `lowers` (topmost first; empty for `scratch`). With `prestartingNetwork`, when
    /// another step on the default network will follow, its network starts while this one runs.
    public func execute(
        _ request: ProcessRequest, lowers: [String], mounts: [MountRequest] = [], prestartingNetwork: Bool = false,
        output: @escaping OutputHandler = { _, _ in }
    ) async throws -> Execution {
        let (id, directory) = try makeExecutionDirectory(with: ["bundle", "files", "mounts"])
        let upper = directory + "/upper", rootfs = directory + "/rootfs", bundle = directory + "/bundle"
        var succeeded = false
        defer {
            if !succeeded { try? FileManager.default.removeItem(atPath: directory) }
        }
        try mountLayer(over: lowers, in: directory)
        var prepared: PreparedMounts?
        var stubs: MountStubs?
        let tail = OutputTail()
        let exitCode: Int32
        // The default network reaches out through slirp4netns when it is installed; otherwise only loopback.
        var network: SlirpNetwork?
        do {
            defer {
                prepared?.release()
                snapshotMethod.release(rootfs: rootfs)
            }
            let user = try UserDatabase(root: rootfs).resolve(request.user)
            try createWorkingDirectory(request.workingDirectory, in: rootfs)
            if request.network == .sandbox, let networks {
                network = try await networks.take(prestartingNext: prestartingNetwork)
            }
            let hostFiles = try HostFiles.write(to: directory + "/files", request: request, nameserver: network.map { _ in SlirpNetwork.nameserver })
            prepared = try await PreparedMounts(
                mounts, directory: directory + "/mounts", cacheMounts: CacheMountStore(layout: store.layout), snapshotMethod: snapshotMethod)
            let spec = SpecGenerator.spec(
                for: request, rootfs: rootfs, user: user, mounts: hostFiles + (prepared?.mounts ?? []), containerID: id,
                networkNamespace: network?.namespacePath)
            stubs = MountStubs(targets: spec.mounts.map(\.destination), rootfs: rootfs)
            try CanonicalJSON.encode(spec).write(to: URL(fileURLWithPath: bundle + "/config.json"))
            exitCode = try await runtime.run(bundle: bundle, id: id) { stream, bytes in
                tail.append(bytes)
                output(stream, bytes)
            }
            try snapshotMethod.capture(lowers: lowers, rootfs: rootfs, upper: upper, work: directory + "/work")
        } catch {
            network?.stop()
            throw error
        }
        network?.stop()
        stubs?.clean(upper: upper)
        succeeded = true
        return finish(id: id, directory: directory, exitCode: exitCode, lastOutput: tail.lines)
    }

    /// Mounts a fresh writable layer over `lowers` (topmost first; empty for `scratch`), lets `body` change
    /// the root filesystem from the host (COPY, WORKDIR, heredoc files), and returns the layer as
    /// ``execute(_:lowers:mounts:output:)`` does, with exit code 0.
    public func modify(lowers: [String], _ body: (String) async throws -> Void) async throws -> Execution {
        let (id, directory) = try makeExecutionDirectory(with: [])
        let rootfs = directory + "/rootfs"
        var succeeded = false
        defer {
            if !succeeded { try? FileManager.default.removeItem(atPath: directory) }
        }
        try mountLayer(over: lowers, in: directory)
        do {
            defer { snapshotMethod.release(rootfs: rootfs) }
            try await body(rootfs)
            try snapshotMethod.capture(lowers: lowers, rootfs: rootfs, upper: directory + "/upper", work: directory + "/work")
        }
        succeeded = true
        return finish(id: id, directory: directory, exitCode: 0, lastOutput: [])
    }

    /// A new `executions/<id>` with `upper`, `work`, `rootfs`, `empty` and `extra` directories, and an
    /// `owner` file naming this process, so ``sweepAbandoned()`` can tell live executions from dead ones.
    private func makeExecutionDirectory(with extra: [String]) throws -> (id: String, directory: String) {
        let made = try OwnedDirectory.make(in: executionsDirectory, prefix: "kiln-", subdirectories: ["upper", "work", "rootfs", "empty"] + extra)
        return (made.name, made.path)
    }

    /// Mounts the writable layer of an execution directory over `lowers` (an empty lower for `scratch`).
    private func mountLayer(over lowers: [String], in directory: String) throws {
        try snapshotMethod.mount(
            lowers: lowers, upper: directory + "/upper", work: directory + "/work", empty: directory + "/empty", on: directory + "/rootfs")
    }

    /// Removes everything of an execution but its upper directory and describes what is left.
    private func finish(id: String, directory: String, exitCode: Int32, lastOutput: [String]) -> Execution {
        for name in ["work", "rootfs", "bundle", "files", "mounts", "empty"] {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        let upper = directory + "/upper"
        let changed = ((try? FileManager.default.contentsOfDirectory(atPath: upper)) ?? []).isEmpty == false
        return Execution(id: id, exitCode: exitCode, lastOutput: lastOutput, upperDirectory: upper, hasChanges: changed, directory: directory)
    }

    /// Mounts the union of `lowers` read-only (a bind or copy source that spans several layers) for the
    /// duration of `body`.
    public func withReadOnlyView<T>(of lowers: [String], _ body: (String) async throws -> T) async throws -> T {
        if lowers.count == 1 { return try await body(lowers[0]) }
        let id = "kiln-view-" + UUID().uuidString.lowercased().prefix(8)
        let directory = executionsDirectory + "/" + id
        try FileManager.default.createDirectory(atPath: directory + "/rootfs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/empty", withIntermediateDirectories: true)
        try String(getpid()).write(toFile: directory + "/owner", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try snapshotMethod.mountReadOnly(lowers: lowers, empty: directory + "/empty", on: directory + "/rootfs")
        defer { snapshotMethod.release(rootfs: directory + "/rootfs") }
        return try await body(directory + "/rootfs")
    }

    /// Creates the working directory (and its parents) when the image lacks it, as runc would.
    private func createWorkingDirectory(_ path: String, in rootfs: String) throws {
        let host = try RootedPath.resolve(path, in: rootfs)
        var info = stat()
        if stat(host, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw RuntimeError("working directory \(path) is not a directory") }
            return
        }
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    }

    /// Cleans up after executions whose kiln process died (killed, crashed, power loss): deletes their
    /// containers, unmounts what they mounted and removes their directories.
    public func sweepAbandoned() async {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: executionsDirectory) else { return }
        for name in names {
            let directory = executionsDirectory + "/" + name
            if let owner = try? String(contentsOfFile: directory + "/owner", encoding: .utf8), let pid = pid_t(owner),
                pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
            {
                continue  // its process is still running
            }
            await runtime.delete(name)
            // A mount can still be going away (or appear late in the table): try a few times.
            for _ in 0..<3 {
                for mountPoint in MountTable.mountPoints(under: directory).reversed() { try? OverlayMount.unmount(mountPoint) }
                if (try? FileManager.default.removeItem(atPath: directory)) != nil { break }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
        }
    }
}

/// The last lines of a process's output, kept for the error report of a failing step.
final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer: [UInt8] = []
    private let limit: Int

    init(limit: Int = 16 * 1024) {
        self.limit = limit
    }

    func append(_ bytes: [UInt8]) {
        lock.withLock {
            buffer += bytes
            if buffer.count > limit { buffer.removeFirst(buffer.count - limit) }
        }
    }

    /// Up to the last 20 lines.
    var lines: [String] {
        let text = lock.withLock { String(decoding: buffer, as: UTF8.self) }
        return Array(text.split(whereSeparator: \.isNewline).map(String.init).suffix(20))
    }
}
