import CKilnLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An OCI runtime binary (crun or runc) and how to call it on this host.
///
/// crun refuses hybrid cgroup hosts (cgroup v1 controllers under `/sys/fs/cgroup` plus a cgroup2 mount at
/// `/sys/fs/cgroup/unified` that holds a controller): "cgroups in hybrid mode not supported". On such hosts
/// kiln runs crun in a private mount namespace where the unified mount is unmounted, so crun sees, and
/// manages, a plain cgroup v1 host. The host's mounts are untouched.
public struct OCIRuntime: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case crun, runc
    }

    public let kind: Kind
    public let executable: String
    /// Whether calls go through a private mount namespace without `/sys/fs/cgroup/unified`.
    public let hidesUnifiedCgroup: Bool
    /// The runtime's state directory (`--root`), kiln's own so its containers stay apart.
    public let stateDirectory: String

    public init(kind: Kind, executable: String, hidesUnifiedCgroup: Bool, stateDirectory: String) {
        self.kind = kind
        self.executable = executable
        self.hidesUnifiedCgroup = hidesUnifiedCgroup
        self.stateDirectory = stateDirectory
    }

    /// The runtime to use: `preferred` (a kind or a path) when given, else crun, else runc, found on PATH.
    public static func detect(preferred: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> OCIRuntime {
        let searchPath = (environment["PATH"] ?? "") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        func locate(_ name: String) -> String? {
            if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
            return searchPath.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        let candidates: [String]
        if let preferred, !preferred.isEmpty {
            candidates = [preferred]
        } else {
            candidates = Kind.allCases.map(\.rawValue)
        }
        for candidate in candidates {
            guard let path = locate(candidate) else { continue }
            let name = (path as NSString).lastPathComponent
            let kind: Kind = name.contains("runc") ? .runc : .crun
            let hybrid = kind == .crun && CgroupMode.current() == .hybridWithUnifiedControllers
            return OCIRuntime(kind: kind, executable: path, hidesUnifiedCgroup: hybrid, stateDirectory: "/run/kiln/" + kind.rawValue)
        }
        if let preferred, !preferred.isEmpty {
            throw RuntimeError("OCI runtime \(preferred) not found")
        }
        throw RuntimeError("no OCI runtime found: install crun or runc (apt-get install crun)")
    }

    /// The program and arguments that run `runtime --root STATE arguments…` on this host.
    func command(_ arguments: [String]) -> (String, [String]) {
        let direct = ["--root", stateDirectory] + arguments
        guard hidesUnifiedCgroup else { return (executable, direct) }
        let script = "umount -l /sys/fs/cgroup/unified && exec \"$@\""
        return ("/usr/bin/unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "kiln-runtime", executable] + direct)
    }

    /// Creates, starts and waits for the container `id` of the bundle at `bundle`; returns its exit code.
    /// Cancelling the task kills every process of the container; the container is always deleted.
    public func run(bundle: String, id: String, output: @escaping OutputHandler) async throws -> Int32 {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let (program, arguments) = command(["run", "--bundle", bundle, "--no-new-keyring", id])
        let status: Int32
        do {
            status = try await withTaskCancellationHandler {
                try await ChildProcess.run(program, arguments, output: output)
            } onCancel: {
                Task.detached { await kill(id) }
            }
        } catch {
            await delete(id)
            throw error
        }
        await delete(id)
        try Task.checkCancellation()
        return status
    }

    /// Sends SIGKILL to every process of container `id`.
    public func kill(_ id: String) async {
        let (program, arguments) = command(["kill", "--all", id, "KILL"])
        _ = try? await ChildProcess.capture(program, arguments)
    }

    /// Removes container `id` (killing what is left of it); missing is fine.
    public func delete(_ id: String) async {
        let (program, arguments) = command(["delete", "--force", id])
        _ = try? await ChildProcess.capture(program, arguments)
    }

    /// The ids of containers the runtime knows in kiln's state directory.
    public func containers() async -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: stateDirectory) else { return [] }
        return names.filter { !$0.hasPrefix(".") }
    }
}

/// How the host's cgroups are mounted, as far as the runtime choice cares.
enum CgroupMode: Equatable {
    case unified, legacy, hybrid, hybridWithUnifiedControllers

    static func current() -> CgroupMode {
        let cgroup2Magic: Int = 0x6367_7270, tmpfsMagic: Int = 0x0102_1994
        func fileSystemType(_ path: String) -> Int? {
            var info = statfs()
            guard statfs(path, &info) == 0 else { return nil }
            return Int(info.f_type)
        }
        if fileSystemType("/sys/fs/cgroup") == cgroup2Magic { return .unified }
        guard fileSystemType("/sys/fs/cgroup") == tmpfsMagic, fileSystemType("/sys/fs/cgroup/unified") == cgroup2Magic else {
            return .legacy
        }
        let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/unified/cgroup.controllers", encoding: .utf8)) ?? ""
        return controllers.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? .hybrid : .hybridWithUnifiedControllers
    }
}
