import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnGraph
import KilnRuntime
import KilnStore

extension Solver {
    /// COPY, ADD, WORKDIR and heredoc files: the actions applied to a writable layer over the base.
    func runFile(_ file: FileOp, vertex: Vertex, inputs: [FileSystemState], session: BuildSession) async throws -> FileSystemState {
        let base = file.base.map { inputs[$0] } ?? .empty
        if base.directory != nil { throw SolveError(step: vertex.name, message: "cannot change files of a local directory source") }
        let execution = try await executor.modify(lowers: base.lowers) { rootfs in
            for action in file.actions {
                do {
                    try await apply(action, in: rootfs, inputs: inputs)
                } catch let error as SolveError {
                    throw error
                } catch {
                    throw SolveError(step: vertex.name, message: "\(error)", sourceRanges: vertex.sourceRanges)
                }
            }
        }
        return base.adding(try commitLayer(execution, session: session))
    }

    private func apply(_ action: FileAction, in rootfs: String, inputs: [FileSystemState]) async throws {
        switch action {
        case .copy(let copy):
            guard copy.input < inputs.count else { throw CopyError("copy source \(copy.input) is not an input of the step") }
            let source = inputs[copy.input]
            let owner = try copy.owner.map { try resolve($0, in: rootfs) }
            let mode = try copy.mode.map { text -> FileModeChange in
                guard let change = FileModeChange(text) else { throw CopyError("invalid chmod parameter: \(text)") }
                return change
            }
            try await withViews([source]) { paths in
                var engine = CopyEngine(
                    sourceRoot: paths[0], ignored: source.excludes, resetsOwners: source.directory != nil, rootfs: rootfs, owner: owner, mode: mode)
                try engine.copy(copy)
            }
        case .makeDirectory(let directory):
            let owner = try directory.owner.map { try resolve($0, in: rootfs) } ?? CopyEngine.Owner(uid: 0, gid: 0)
            try makeDirectory(directory.path, mode: directory.mode, parents: directory.makeParents, owner: owner, in: rootfs)
        case .makeFile(let file):
            let owner = try file.owner.map { try resolve($0, in: rootfs) } ?? CopyEngine.Owner(uid: 0, gid: 0)
            let parent = (file.path as NSString).deletingLastPathComponent
            try makeDirectory(parent.isEmpty ? "/" : parent, mode: 0o755, parents: true, owner: CopyEngine.Owner(uid: 0, gid: 0), in: rootfs)
            let path = try RootedPath.resolve(file.path, in: rootfs)
            unlink(path)
            guard FileManager.default.createFile(atPath: path, contents: Data(file.contents.utf8)) else { throw CopyError.system("create", file.path) }
            guard chown(path, owner.uid, owner.gid) == 0, chmod(path, mode_t(file.mode)) == 0 else { throw CopyError.system("chown", file.path) }
        case .remove(let path, let allowNotFound):
            let resolved = try RootedPath.resolve((path as NSString).deletingLastPathComponent, in: rootfs) + "/" + (path as NSString).lastPathComponent
            if !FileManager.default.fileExists(atPath: resolved) {
                if allowNotFound { return }
                throw CopyError("\(path): not found")
            }
            try FileManager.default.removeItem(atPath: resolved)
        }
    }

    /// `--chown` and WORKDIR owners, from the destination's `/etc/passwd` and `/etc/group` as BuildKit resolves
    /// them (an unknown name is root, not an error).
    func resolve(_ ownership: Ownership, in rootfs: String) throws -> CopyEngine.Owner {
        let owner = try UserDatabase(root: rootfs).fileOwner(user: ownership.user, group: ownership.group)
        return CopyEngine.Owner(uid: owner.uid, gid: owner.gid)
    }

    /// mkdir (-p): missing directories get `mode` and `owner`; existing ones are left as they are.
    private func makeDirectory(_ path: String, mode: UInt32, parents: Bool, owner: CopyEngine.Owner, in rootfs: String) throws {
        let resolved = try RootedPath.resolve(path, in: rootfs)
        var info = stat()
        if stat(resolved, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw CopyError("cannot create directory \(path): a file is in the way") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if parents, !parent.isEmpty, parent != path { try makeDirectory(parent, mode: mode, parents: true, owner: owner, in: rootfs) }
        guard mkdir(resolved, mode_t(mode)) == 0 || errno == EEXIST else { throw CopyError.system("mkdir", path) }
        guard chown(resolved, owner.uid, owner.gid) == 0, chmod(resolved, mode_t(mode)) == 0 else { throw CopyError.system("chown", path) }
    }
}
