import Foundation
import KilnArchive
import KilnOCI
import KilnStore
import KilnTestSupport
import Testing

@testable import KilnRuntime

/// What the container tests need from the machine: root, busybox-static and an OCI runtime.
enum ContainerRequirements {
    static let missing: String? = {
        if geteuid() != 0 { return "container tests need root (overlayfs, namespaces)" }
        if BusyboxRootfs.binary == nil { return "container tests need busybox-static (apt-get install busybox-static)" }
        if runtimes.isEmpty { return "container tests need crun or runc (apt-get install crun runc)" }
        return nil
    }()

    /// Every runtime installed, so each test runs with crun and with runc.
    static let runtimes: [OCIRuntime] = OCIRuntime.Kind.allCases.compactMap { try? OCIRuntime.detect(preferred: $0.rawValue) }

    /// Both ways of giving a step its root filesystem: overlayfs, and the copying fallback forced.
    static let snapshotMethods: [SnapshotMethod] = [.overlay, .copy(reason: "forced by the test")]

    static var enabled: ConditionTrait { .enabled(if: missing == nil, Comment(rawValue: missing ?? "")) }
}

/// A store and a busybox base snapshot on tmpfs, removed at the end.
final class ContainerSandbox {
    let path: String
    let store: LayoutStore
    let base: String
    let executor: ContainerExecutor

    /// A sandbox whose executor uses `snapshotMethod` (detected when nil).
    init(runtime: OCIRuntime, snapshotMethod: SnapshotMethod? = nil) throws {
        path = "/dev/shm/kiln-runtime-\(UUID().uuidString)"
        store = try LayoutStore(root: path + "/store")
        base = path + "/base"
        try BusyboxRootfs.make(at: base)
        executor = ContainerExecutor(runtime: runtime, store: store, snapshotMethod: snapshotMethod)
    }

    deinit {
        for mountPoint in MountTable.mountPoints(under: path).reversed() { try? OverlayMount.unmount(mountPoint) }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `script` with `/bin/sh -c` on the base; returns the execution and everything it printed.
    func run(
        _ script: String, user: String = "", workingDirectory: String = "/", environment: [String] = [], network: NetworkAccess = .sandbox,
        lowers: [String]? = nil, mounts: [MountRequest] = [], prestartingNetwork: Bool = false
    ) async throws -> (execution: Execution, output: String) {
        let request = ProcessRequest(
            arguments: ["/bin/sh", "-c", script], environment: environment, workingDirectory: workingDirectory, user: user, network: network)
        let collected = Collected()
        let execution = try await executor.execute(request, lowers: lowers ?? [base], mounts: mounts, prestartingNetwork: prestartingNetwork) { _, bytes in
            collected.append(bytes)
        }
        return (execution, collected.text)
    }

    /// The entries of the layer the upper directory of `execution` becomes.
    func layerEntries(of execution: Execution) throws -> [TarEntry] {
        let (descriptor, _) = try store.commitLayer(directory: execution.upperDirectory, options: .init(convertsOverlayWhiteouts: true))
        var reader = TarReader(source: DecompressingSource(try store.openBlob(descriptor.digest)))
        var entries: [TarEntry] = []
        while let entry = try reader.next() { entries.append(entry) }
        return entries
    }

    /// Every byte of every regular file under `directory`.
    static func allBytes(under directory: String) -> [UInt8] {
        var bytes: [UInt8] = []
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let relative = enumerator?.nextObject() as? String {
            var info = stat()
            guard lstat(directory + "/" + relative, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            bytes += FileManager.default.contents(atPath: directory + "/" + relative).map(Array.init) ?? []
        }
        return bytes
    }
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    func append(_ chunk: [UInt8]) { lock.withLock { bytes += chunk } }
    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
}

extension Array where Element == UInt8 {
    func contains(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
