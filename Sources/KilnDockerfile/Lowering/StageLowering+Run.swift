import KilnGraph

/// RUN and WORKDIR: steps that change the filesystem by running or creating things.
extension StageLowering {
    mutating func dispatchRun(_ run: RunInstruction, instruction: Instruction) throws(DockerfileError) {
        step += 1
        var inputs: [VertexID] = []
        var base: VertexID
        if let root {
            base = root
        } else {
            base = graph.add(.file(FileOp(base: nil, actions: [])), name: "scratch")
        }
        inputs.append(base)

        var mounts: [Mount] = []
        for raw in run.rawMounts {
            let lexer = self.lexer
            let variables = self.variables
            let spec = try MountSpec.parse(raw) { (word: String) throws(DockerfileError) -> String in
                do throws(ShellExpansionError) {
                    return try lexer.processWord(word, with: variables)
                } catch {
                    throw DockerfileError(error.description)
                }
            }
            mounts.append(try mount(for: spec, inputs: &inputs, range: instruction.range))
        }

        var arguments = run.command.arguments
        var inlineFiles: [InlineFile] = []
        if run.command.prependsShell {
            let script = arguments.first ?? ""
            if run.command.files.count == 1, let only = run.command.files.first,
                (try? HeredocMarker.parse(script.trimmingGoSpace())) != nil
            {
                // `RUN <<EOF` alone: the body is the script, run by the shell or by its own #! line.
                let body = only.chomp ? only.chompedContent : only.content
                let path = "/dev/pipes/\(only.name)"
                inlineFiles.append(InlineFile(path: path, contents: body, mode: 0o755))
                arguments = body.hasPrefix("#!") ? [path] : [shell[0], path]
            } else if !run.command.files.isEmpty {
                // The shell reads the heredocs itself: pass the line with its bodies and terminators.
                var text = script
                for file in run.command.files { text += "\n" + file.content + file.name }
                arguments = shell + [text]
            } else {
                arguments = shell + arguments
            }
        }
        guard !arguments.isEmpty else { throw DockerfileError("parsing produced an invalid run command: []") }

        let exec = ExecOp(
            arguments: arguments, environment: stepEnvironment, workingDirectory: workingDirectory,
            user: config.config.user ?? "", mounts: mounts, network: NetworkMode(rawValue: run.network) ?? .default,
            security: SecurityMode(rawValue: run.security) ?? .sandbox, inlineFiles: inlineFiles)
        let shown = instruction.code
        root = graph.add(
            .exec(exec), inputs: inputs, name: vertexName(shown), sourceRanges: [instruction.range], buildArguments: declaredArgs.map(\.0))
        var argsPrefix = ""
        if !declaredArgs.isEmpty {
            argsPrefix = "|\(declaredArgs.count) " + declaredArgs.map { "\($0.0)=\($0.1)" }.joined(separator: " ") + " "
        }
        commitHistory("RUN \(argsPrefix)\(arguments.joined(separator: " ")) # buildkit", emptyLayer: false)
    }

    private mutating func mount(for spec: MountSpec, inputs: inout [VertexID], range: SourceRange) throws(DockerfileError) -> Mount {
        var target = spec.target
        if spec.kind == .secret && target.isEmpty {
            target = "/run/secrets/" + (spec.cacheID.isEmpty ? spec.source : spec.cacheID)
        }
        if spec.kind == .ssh && target.isEmpty {
            target = "/run/buildkit/ssh_agent.\(inputs.count)"
        }
        guard !target.isEmpty else { throw DockerfileError("mount target must be set for \(spec.kind.rawValue) mounts") }
        if !target.hasPrefix("/") { target = absolutePath(target) }
        var input: Int?
        if spec.kind == .bind || (spec.kind == .cache && !spec.from.isEmpty) {
            let vertex = spec.from.isEmpty ? contextVertex() : sourceVertex(for: spec.from, range: range)
            inputs.append(vertex)
            input = inputs.count - 1
        }
        var id = spec.cacheID
        if spec.kind == .cache && id.isEmpty { id = target }
        if spec.kind == .secret && id.isEmpty { id = spec.source.isEmpty ? target.lastComponent : spec.source }
        if spec.kind == .ssh && id.isEmpty { id = "default" }
        return Mount(
            kind: Mount.Kind(rawValue: spec.kind.rawValue)!, target: target, input: input, source: spec.source,
            readOnly: spec.readOnly, id: id, sharing: Mount.Sharing(rawValue: spec.sharing) ?? .shared,
            sizeLimit: spec.sizeLimit == 0 ? nil : spec.sizeLimit, required: spec.required, mode: spec.mode,
            uid: spec.uid, gid: spec.gid, environmentVariable: spec.environmentVariable)
    }

    mutating func dispatchWorkdir(_ path: String, instruction: Instruction) throws(DockerfileError) {
        step += 1
        let expanded = try expand(path)
        // As BuildKit's NormalizeWorkdir: a relative path is joined to the current one and cleaned, an absolute
        // one is kept as written (`/tmp/` stays `/tmp/` in the image config).
        let absolute = expanded.hasPrefix("/") ? expanded : PathText.clean(workingDirectory + "/" + expanded)
        config.config.workingDir = absolute
        // The directory belongs to USER (`name`, `uid`, `user:group`), as BuildKit's mkdir does it.
        let owner = (config.config.user ?? "").isEmpty ? nil : Self.ownership(config.config.user!)
        root = graph.add(
            .file(FileOp(base: root == nil ? nil : 0, actions: [.makeDirectory(MakeDirectoryAction(path: absolute, owner: owner))])),
            inputs: root.map { [$0] } ?? [], name: vertexName(instruction.code), sourceRanges: [instruction.range])
        commitHistory("WORKDIR \(absolute)", emptyLayer: false)
    }
}

extension StageLowering {
    /// A `USER` value (`user` or `user:group`) as the owner of files a step creates.
    static func ownership(_ user: String) -> Ownership {
        let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        return Ownership(user: parts[0], group: parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil)
    }
}

extension String {
    /// The last component of a slash-separated path.
    var lastComponent: String {
        split(separator: "/").last.map(String.init) ?? self
    }
}
