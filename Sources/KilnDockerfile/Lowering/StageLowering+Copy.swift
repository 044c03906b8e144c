import KilnGraph

/// COPY and ADD.
extension StageLowering {
    mutating func dispatchCopy(_ copy: CopyInstruction, instruction: Instruction) throws(DockerfileError) {
        step += 1
        let source: VertexID
        if copy.from.isEmpty {
            source = contextVertex()
        } else {
            source = sourceVertex(for: copy.from, range: instruction.range)
        }
        try addFileStep(
            sources: copy.sources, source: source, chown: copy.chown, chmod: copy.chmod, link: copy.link,
            parents: copy.parents, excludes: copy.excludes, extract: false, checksum: nil, instruction: instruction)
    }

    mutating func dispatchAdd(_ add: AddInstruction, instruction: Instruction) throws(DockerfileError) {
        step += 1
        let checksum = add.checksum.isEmpty ? nil : try expand(add.checksum)
        var local = add.sources
        local.sourcePaths = []
        var remoteSteps: [(VertexID, String)] = []
        for path in add.sources.sourcePaths {
            let expanded = try expand(path)
            if RemoteSource.isGit(expanded) {
                let git = RemoteSource.gitSource(expanded, keepGitDirectory: add.keepGitDirectory ?? false, checksum: checksum)
                remoteSteps.append((graph.add(.git(git), name: "ADD \(expanded)", sourceRanges: [instruction.range]), "/"))
            } else if RemoteSource.isHTTP(expanded) {
                let http = HTTPSource(url: expanded, checksum: checksum)
                remoteSteps.append((graph.add(.http(http), name: "ADD \(expanded)", sourceRanges: [instruction.range]), "/*"))
            } else {
                if checksum != nil { throw DockerfileError("checksum can't be specified for non-HTTP(S) sources") }
                local.sourcePaths.append(path)
            }
        }
        if add.checksum.isEmpty == false, remoteSteps.isEmpty {
            throw DockerfileError("checksum can't be specified for non-HTTP(S) sources")
        }
        var copySteps: [(VertexID, CopySources)] = remoteSteps.map { vertex, pattern in
            (vertex, CopySources(sourcePaths: [pattern], inlineSources: [], destination: add.sources.destination))
        }
        if !local.sourcePaths.isEmpty || !local.inlineSources.isEmpty { copySteps.append((contextVertex(), local)) }
        let extract = add.unpack ?? true
        // Every source lands in one step, so ADD makes one layer like docker's.
        var actions: [FileAction] = []
        var inputs: [VertexID] = []
        for (vertex, sources) in copySteps {
            inputs.append(vertex)
            actions += try fileActions(
                sources: sources, inputIndex: inputs.count, chown: add.chown, chmod: add.chmod, parents: false,
                excludes: add.excludes, extract: extract, checksum: checksum, isAdd: true)
        }
        commitFileStep(actions: actions, inputs: inputs, link: add.link, instruction: instruction)
    }

    private mutating func addFileStep(
        sources: CopySources, source: VertexID, chown: String, chmod: String, link: Bool, parents: Bool,
        excludes: [String], extract: Bool, checksum: String?, instruction: Instruction
    ) throws(DockerfileError) {
        let actions = try fileActions(
            sources: sources, inputIndex: 1, chown: chown, chmod: chmod, parents: parents, excludes: excludes,
            extract: extract, checksum: checksum, isAdd: false)
        commitFileStep(actions: actions, inputs: [source], link: link, instruction: instruction)
    }

    /// Adds the file op (and, for `--link`, the merge) and records history.
    private mutating func commitFileStep(actions: [FileAction], inputs: [VertexID], link: Bool, instruction: Instruction) {
        let name = vertexName(instruction.code)
        if link || root == nil {
            let layer = graph.add(
                .file(FileOp(base: nil, actions: actions.map { $0.shiftingInputs(by: -1) })), inputs: inputs, name: name,
                sourceRanges: [instruction.range])
            if let root {
                self.root = graph.add(.merge, inputs: [root, layer], name: name, sourceRanges: [instruction.range])
            } else {
                self.root = layer
            }
        } else {
            self.root = graph.add(
                .file(FileOp(base: 0, actions: actions)), inputs: [root!] + inputs, name: name,
                sourceRanges: [instruction.range])
        }
        commitHistory("\(instruction.code) # buildkit", emptyLayer: false)
    }

    /// The copy and make-file actions for `sources`, reading input number `inputIndex` of the op.
    private func fileActions(
        sources: CopySources, inputIndex: Int, chown: String, chmod: String, parents: Bool, excludes: [String],
        extract: Bool, checksum: String?, isAdd: Bool
    ) throws(DockerfileError) -> [FileAction] {
        let destination = absolutePath(try expand(sources.destination))
        var owner: Ownership?
        let chownText = try expand(chown)
        if !chownText.isEmpty {
            let parts = chownText.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            owner = Ownership(user: String(parts[0]), group: parts.count > 1 ? String(parts[1]) : nil)
        }
        let mode = try expand(chmod)
        if !mode.isEmpty && !FileModeText.isValid(mode) {
            throw DockerfileError("invalid chmod parameter: \(mode). it should be octal string and between 0 and 07777, or symbolic mode")
        }
        var paths: [String] = []
        for path in sources.sourcePaths { paths.append(try expand(path)) }
        if paths.count + sources.inlineSources.count > 1 && !destination.hasSuffix("/") {
            throw DockerfileError(
                "When using \(isAdd ? "ADD" : "COPY") with more than one source file, the destination must be a directory and end with a /")
        }
        var actions: [FileAction] = []
        if !paths.isEmpty {
            actions.append(
                .copy(
                    CopyAction(
                        input: inputIndex, sources: paths, destination: destination, owner: owner,
                        mode: mode.isEmpty ? nil : mode, extractArchives: extract && isAdd, keepParents: parents,
                        excludePatterns: try excludes.map { (pattern) throws(DockerfileError) in try expand(pattern) },
                        allowEmptyWildcard: true, checksum: checksum)))
        }
        for inline in sources.inlineSources {
            let data = inline.expand ? try expandHeredocBody(inline.data) : inline.data
            let path = destination.hasSuffix("/") ? destination + inline.path : destination
            actions.append(
                .makeFile(MakeFileAction(path: path, contents: data, mode: UInt32(mode, radix: 8) ?? 0o644, owner: owner)))
        }
        return actions
    }
}

extension FileAction {
    /// The action with its input numbers moved by `offset` (for ops without a base input).
    func shiftingInputs(by offset: Int) -> FileAction {
        guard case .copy(var copy) = self else { return self }
        copy.input += offset
        return .copy(copy)
    }
}

/// `--chmod` values: octal up to 07777, or symbolic (`u+x,g-w`, `a=rX`).
enum FileModeText {
    static func isValid(_ text: String) -> Bool {
        if text.allSatisfy({ $0 >= "0" && $0 <= "7" }) {
            return UInt32(text, radix: 8).map { $0 <= 0o7777 } ?? false
        }
        for clause in text.split(separator: ",", omittingEmptySubsequences: false) {
            var rest = Substring(clause).drop { "ugoa".contains($0) }
            guard let op = rest.first, "+-=".contains(op) else { return false }
            rest = rest.dropFirst()
            guard rest.allSatisfy({ "rwxXst+-=".contains($0) }) else { return false }
        }
        return true
    }
}

/// Classifies ADD sources the way BuildKit does.
enum RemoteSource {
    static func isHTTP(_ text: String) -> Bool {
        text.hasPrefix("http://") || text.hasPrefix("https://")
    }

    static func isGit(_ text: String) -> Bool {
        if text.hasPrefix("git://") || text.hasPrefix("git@") || text.hasPrefix("ssh://") { return true }
        guard isHTTP(text) else { return false }
        let path = text.split(separator: "#", maxSplits: 1).first.map(String.init) ?? text
        return path.hasSuffix(".git")
    }

    static func gitSource(_ text: String, keepGitDirectory: Bool, checksum: String?) -> GitSource {
        let parts = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        var reference = ""
        var subdirectory = ""
        if parts.count == 2 {
            let fragment = parts[1].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            reference = String(fragment[0])
            if fragment.count == 2 { subdirectory = String(fragment[1]) }
        }
        return GitSource(
            remote: String(parts[0]), reference: reference, subdirectory: subdirectory, keepGitDirectory: keepGitDirectory,
            checksum: checksum)
    }
}
