import CKilnLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnOCI
import KilnStore

/// `RUN --mount`s turned into runtime mounts, with what must be undone when the process is gone:
/// cache leases released, secret tmpfs and writable-bind views unmounted.
final class PreparedMounts: @unchecked Sendable {
    private(set) var mounts: [RuntimeSpec.Mount] = []
    private var leases: [CacheMountStore.Lease] = []
    private var mountedPaths: [String] = []
    private var proxies: [SSHAgentProxy] = []
    private let directory: String
    private let snapshotMethod: SnapshotMethod

    /// Prepares `requests` using `directory` (inside the execution's directory) for scratch space; writable
    /// binds get throwaway views made by `snapshotMethod`.
    init(_ requests: [MountRequest], directory: String, cacheMounts: CacheMountStore, snapshotMethod: SnapshotMethod) async throws {
        self.directory = directory
        self.snapshotMethod = snapshotMethod
        do {
            for (index, request) in requests.enumerated() {
                try await prepare(request, index: index, cacheMounts: cacheMounts)
            }
        } catch {
            release()
            throw error
        }
    }

    private func prepare(_ request: MountRequest, index: Int, cacheMounts: CacheMountStore) async throws {
        let target = request.target
        switch request.kind {
        case .bind(let source, let readOnly):
            var info = stat()
            guard stat(source, &info) == 0 else { throw RuntimeError.system("bind mount source", source) }
            if readOnly {
                mounts.append(.init(destination: target, type: "bind", source: source, options: ["rbind", "ro"]))
            } else if info.st_mode & S_IFMT == S_IFDIR {
                // A writable bind must not change its source: the process writes to a throwaway overlay.
                let base = directory + "/bind-\(index)"
                for name in ["upper", "work", "merged"] { try FileManager.default.createDirectory(atPath: base + "/" + name, withIntermediateDirectories: true) }
                try snapshotMethod.mountThrowawayCopy(of: source, upper: base + "/upper", work: base + "/work", on: base + "/merged")
                mountedPaths.append(base + "/merged")
                mounts.append(.init(destination: target, type: "bind", source: base + "/merged", options: ["rbind", "rw"]))
            } else {
                let copy = directory + "/bind-\(index)-file"
                try FileManager.default.copyItem(atPath: source, toPath: copy)
                mounts.append(.init(destination: target, type: "bind", source: copy, options: ["rbind", "rw"]))
            }
        case .cache(let id, let sharing, let initialisation, let readOnly):
            let lease = try await cacheMounts.lease(id: id, sharing: sharing, initialisation: initialisation)
            leases.append(lease)
            mounts.append(.init(destination: target, type: "bind", source: lease.path, options: ["rbind", readOnly ? "ro" : "rw"]))
        case .secret(let contents, let uid, let gid, let mode):
            let secrets = try secretsDirectory()
            let path = secrets + "/\(index)"
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw RuntimeError.system("create secret file", path) }
            defer { close(descriptor) }
            var written = 0
            while written < contents.count {
                let count = contents[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { throw RuntimeError.system("write secret file", path) }
                written += count
            }
            guard fchown(descriptor, uid, gid) == 0, fchmod(descriptor, mode_t(mode)) == 0 else {
                throw RuntimeError.system("set owner of secret file", path)
            }
            mounts.append(.init(destination: target, type: "bind", source: path, options: ["rbind", "ro", "nosuid", "nodev", "noexec"]))
        case .tmpfs(let size):
            mounts.append(.init(destination: target, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"] + (size.map { ["size=\($0)"] } ?? [])))
        case .sshAgent(let socket, let uid, let gid, let mode):
            var info = stat()
            guard stat(socket, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else {
                throw RuntimeError("SSH agent socket \(socket) does not exist or is not a socket")
            }
            // Unix socket paths are limited to 107 bytes, which a store path can exceed: the forwarding socket
            // lives under /run/kiln (tmpfs) and is removed when the step ends.
            try FileManager.default.createDirectory(atPath: "/run/kiln/ssh", withIntermediateDirectories: true)
            let name = UUID().uuidString.lowercased().prefix(16)
            let proxy = try SSHAgentProxy(path: "/run/kiln/ssh/\(name).sock", agent: socket, uid: uid, gid: gid, mode: mode)
            proxies.append(proxy)
            mounts.append(.init(destination: target, type: "bind", source: proxy.path, options: ["rbind", "rw"]))
        }
    }

    /// A tmpfs of its own for secret files, so their bytes never touch a disk.
    private func secretsDirectory() throws -> String {
        let path = directory + "/secrets"
        if mountedPaths.contains(path) { return path }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard kiln_mount("tmpfs", path, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=0700,size=16m") == 0 else {
            throw RuntimeError.system("mount tmpfs for secrets on", path)
        }
        mountedPaths.append(path)
        return path
    }

    /// Undoes everything; safe to call more than once.
    func release() {
        for lease in leases { lease.release() }
        leases = []
        for proxy in proxies { proxy.stop() }
        proxies = []
        for path in mountedPaths.reversed() { try? OverlayMount.unmount(path) }
        mountedPaths = []
    }
}
