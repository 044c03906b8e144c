import Foundation
import KilnGraph
import KilnOCI
import KilnRuntime
import KilnStore

extension Solver {
    /// RUN: the process on the input's layers, with its mounts; what it changed becomes a layer.
    func runExec(_ exec: ExecOp, vertex: Vertex, inputs: [FileSystemState], session: BuildSession) async throws -> FileSystemState {
        guard let base = inputs.first else { throw SolveError(step: vertex.name, message: "a process needs a root filesystem") }
        var request = ProcessRequest(
            arguments: exec.arguments, environment: exec.environment, workingDirectory: exec.workingDirectory, user: exec.user,
            network: try networkAccess(exec.network, step: vertex.name), security: try securityMode(exec.security, step: vertex.name))
        var mounts: [MountRequest] = []
        var views: [(index: Int, state: FileSystemState)] = []
        var sshSocketSet = request.environment.contains { $0.hasPrefix("SSH_AUTH_SOCK=") }
        for mount in exec.mounts {
            switch mount.kind {
            case .bind:
                guard let input = mount.input, input < inputs.count else { continue }
                views.append((mounts.count, inputs[input]))
                mounts.append(MountRequest(target: mount.target, kind: .bind(source: mount.source, readOnly: mount.readOnly)))
            case .cache:
                var seed: String?
                if let input = mount.input, input < inputs.count {
                    views.append((mounts.count, inputs[input]))
                    seed = mount.source
                }
                let initialisation = CacheMountStore.Initialisation(uid: mount.uid ?? 0, gid: mount.gid ?? 0, mode: mount.mode ?? 0o755, seed: seed)
                let sharing = CacheMountStore.Sharing(rawValue: mount.sharing.rawValue) ?? .shared
                mounts.append(MountRequest(target: mount.target, kind: .cache(id: mount.id, sharing: sharing, initialisation: initialisation, readOnly: mount.readOnly)))
            case .tmpfs:
                mounts.append(MountRequest(target: mount.target, kind: .tmpfs(size: mount.sizeLimit.map { UInt64(max(0, $0)) })))
            case .secret:
                guard let value = options.secrets[mount.id] else {
                    if mount.required { throw SolveError(step: vertex.name, message: "secret \(mount.id) is required but was not given (--secret id=\(mount.id),src=…)") }
                    continue
                }
                if let variable = mount.environmentVariable {
                    request.environment.append(variable + "=" + String(decoding: value, as: UTF8.self))
                }
                mounts.append(MountRequest(
                    target: mount.target, kind: .secret(contents: value, uid: mount.uid ?? 0, gid: mount.gid ?? 0, mode: mount.mode ?? 0o400)))
            case .ssh:
                guard let socket = options.sshAgents[mount.id] else {
                    if mount.required { throw SolveError(step: vertex.name, message: "no SSH agent \(mount.id) was forwarded (--ssh \(mount.id)=$SSH_AUTH_SOCK)") }
                    continue
                }
                mounts.append(MountRequest(
                    target: mount.target, kind: .sshAgent(socket: socket, uid: mount.uid ?? 0, gid: mount.gid ?? 0, mode: mount.mode ?? 0o600)))
                if !sshSocketSet {
                    request.environment.append("SSH_AUTH_SOCK=" + mount.target)
                    sshSocketSet = true
                }
            }
        }
        // RUN heredocs: files the process reads, mounted read-only, never part of the layer.
        let scratch = exec.inlineFiles.isEmpty ? "" : try makeScratchDirectory("inline", session: session)
        for (index, file) in exec.inlineFiles.enumerated() {
            let path = scratch + "/\(index)"
            guard FileManager.default.createFile(atPath: path, contents: Data(file.contents.utf8), attributes: [.posixPermissions: Int(file.mode)]) else {
                throw SolveError(step: vertex.name, message: "cannot write \(path)")
            }
            mounts.append(MountRequest(target: file.path, kind: .bind(source: path, readOnly: true)))
        }
        let execution = try await withMountViews(views.map(\.state), session: session) { paths in
            var resolved = mounts
            for (position, view) in views.enumerated() {
                let path = paths[position]
                switch resolved[view.index].kind {
                case .bind(let source, let readOnly):
                    resolved[view.index].kind = .bind(source: try RootedPath.resolve(source, in: path), readOnly: readOnly)
                case .cache(let id, let sharing, var initialisation, let readOnly):
                    initialisation.seed = try RootedPath.resolve(initialisation.seed ?? "/", in: path)
                    resolved[view.index].kind = .cache(id: id, sharing: sharing, initialisation: initialisation, readOnly: readOnly)
                default:
                    break
                }
            }
            return try await executor.execute(
                request, lowers: base.lowers, mounts: resolved, prestartingNetwork: session.anotherSandboxStepFollows
            ) { _, bytes in
                progress(.output(vertex.id, bytes))
            }
        }
        guard execution.exitCode == 0 else {
            execution.discard()
            let command = exec.arguments.joined(separator: " ")
            throw SolveError(
                step: vertex.name, message: "process \"\(command)\" did not complete successfully: exit code: \(execution.exitCode)",
                sourceRanges: vertex.sourceRanges, lastOutput: execution.lastOutput)
        }
        return base.adding(try commitLayer(execution, session: session))
    }

    /// Like `withViews`, but a directory with `.dockerignore` patterns is seen without what they leave out.
    private func withMountViews<T>(_ states: [FileSystemState], session: BuildSession, _ body: ([String]) async throws -> T) async throws -> T {
        guard let first = states.first else { return try await body([]) }
        let rest = Array(states.dropFirst())
        guard let directory = first.directory, let excludes = first.excludes, !excludes.patterns.isEmpty else {
            return try await withViews([first]) { paths in
                try await withMountViews(rest, session: session) { others in try await body(paths + others) }
            }
        }
        let whiteouts = try makeScratchDirectory("ignore", session: session) + "/whiteouts"
        try FileManager.default.createDirectory(atPath: whiteouts, withIntermediateDirectories: true)
        try FilteredContext.writeWhiteouts(for: CopySource(root: directory, ignored: excludes), into: whiteouts)
        return try await executor.withReadOnlyView(of: [whiteouts, directory]) { path in
            try await withMountViews(rest, session: session) { others in try await body([path] + others) }
        }
    }

    /// Mounts each layered state read-only (directories are used as they are) for the duration of `body`.
    func withViews<T>(_ states: [FileSystemState], _ body: ([String]) async throws -> T) async throws -> T {
        guard let first = states.first else { return try await body([]) }
        let rest = Array(states.dropFirst())
        if let directory = first.directory {
            return try await withViews(rest) { paths in try await body([directory] + paths) }
        }
        return try await executor.withReadOnlyView(of: first.lowers) { path in
            try await withViews(rest) { paths in try await body([path] + paths) }
        }
    }

    /// Whether `vertex` is a RUN step on the default (slirp4netns) network.
    func isOnDefaultNetwork(_ vertex: Vertex) -> Bool {
        guard case .exec(let exec) = vertex.op else { return false }
        return (try? networkAccess(exec.network, step: vertex.name)) == .sandbox
    }

    private func networkAccess(_ mode: NetworkMode, step: String) throws -> NetworkAccess {
        switch mode {
        case .none: return .none
        case .host:
            guard options.entitlements.contains("network.host") || options.defaultNetwork == "host" else {
                throw SolveError(step: step, message: "network.host is not allowed: run kiln build with --allow network.host")
            }
            return .host
        case .default:
            switch options.defaultNetwork {
            case "host": return .host
            case "none": return .none
            default: return .sandbox
            }
        }
    }

    private func securityMode(_ mode: KilnGraph.SecurityMode, step: String) throws -> KilnRuntime.SecurityMode {
        guard mode == .insecure else { return .sandbox }
        guard options.entitlements.contains("security.insecure") else {
            throw SolveError(step: step, message: "security.insecure is not allowed: run kiln build with --allow security.insecure")
        }
        return .insecure
    }
}
