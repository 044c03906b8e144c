import KilnGraph

/// Why a step's cache key differs from the same step's in an earlier build: every difference in plain
/// words, the first one being what a miss reports (`src/main.c content changed`, `ARG VERSION changed
/// 1.2 → 1.3`, `parent step changed (#6 …)`, `base image … now resolves to sha256:…`).
public enum CacheExplanation {
    /// The differences from `previous` to `current`, most telling first (inputs, then the instruction, then
    /// the files it reads); empty when they are equal.
    /// `buildArguments` names the environment entries that are build args.
    public static func differences(from previous: StepFingerprint, to current: StepFingerprint, buildArguments: [String] = []) -> [String] {
        var result: [String] = []
        if previous.settings != current.settings { result.append("layer compression or SOURCE_DATE_EPOCH changed") }
        if previous.inputs.count != current.inputs.count {
            result.append("the step reads \(current.inputs.count) inputs instead of \(previous.inputs.count)")
        } else {
            for (old, new) in zip(previous.inputs, current.inputs) where old.identity != new.identity {
                if let image = new.resolvedImage {
                    let parts = image.split(separator: "@", maxSplits: 1)
                    result.append("base image \(parts[0]) now resolves to \(parts.count > 1 ? String(parts[1]) : image)")
                } else {
                    result.append("parent step changed (#\(new.number) \(new.name))")
                }
            }
        }
        result += opDifferences(previous.op, current.op, buildArguments: Set(buildArguments))
        for label in Set(previous.sourceDigests.keys).union(current.sourceDigests.keys).sorted() {
            guard previous.sourceDigests[label] != current.sourceDigests[label] else { continue }
            guard let old = previous.sourceEntries[label], let new = current.sourceEntries[label] else {
                result.append("files of \(label) changed")
                continue
            }
            result += fileDifferences(old, new)
        }
        return result
    }

    /// File-level differences between two sets of source entries, in path order.
    static func fileDifferences(_ old: [String: String], _ new: [String: String]) -> [String] {
        var result: [String] = []
        for path in Set(old.keys).union(new.keys).sorted() {
            let shown = path == "." ? "the source directory" : path
            switch (old[path], new[path]) {
            case (nil, _?): result.append("\(shown) added")
            case (_?, nil): result.append("\(shown) removed")
            case let (before?, after?) where before != after:
                let a = before.split(separator: " ", maxSplits: 3).map(String.init)
                let b = after.split(separator: " ", maxSplits: 3).map(String.init)
                if a.first != b.first {
                    result.append("\(shown) changed type")
                } else if a.count > 3, b.count > 3, a[3] != b[3] {
                    result.append(a[0] == "l" ? "\(shown) link target changed" : "\(shown) content changed")
                } else if a.count > 1, b.count > 1, a[1] != b[1] {
                    result.append("\(shown) mode changed \(a[1]) → \(b[1])")
                } else if a.count > 2, b.count > 2, a[2] != b[2] {
                    result.append("\(shown) owner changed \(a[2]) → \(b[2])")
                } else {
                    result.append("\(shown) extended attributes changed")
                }
            default: break
            }
        }
        return result
    }

    private static func opDifferences(_ old: Op, _ new: Op, buildArguments: Set<String>) -> [String] {
        guard old != new else { return [] }
        switch (old, new) {
        case let (.exec(a), .exec(b)):
            var result: [String] = []
            if a.arguments != b.arguments { result.append("command changed: \(quoted(a.arguments)) → \(quoted(b.arguments))") }
            let environment = environmentDifferences(a.environment, b.environment, buildArguments: buildArguments)
            result += environment
            if environment.isEmpty && a.environment != b.environment { result.append("order of environment variables changed") }
            if a.workingDirectory != b.workingDirectory { result.append("WORKDIR changed \(a.workingDirectory) → \(b.workingDirectory)") }
            if a.user != b.user { result.append("USER changed \(a.user.isEmpty ? "root" : a.user) → \(b.user.isEmpty ? "root" : b.user)") }
            if a.mounts != b.mounts { result.append("RUN --mount options changed") }
            if a.network != b.network { result.append("network changed \(a.network.rawValue) → \(b.network.rawValue)") }
            if a.security != b.security { result.append("security changed \(a.security.rawValue) → \(b.security.rawValue)") }
            if a.inlineFiles != b.inlineFiles { result.append("heredoc changed") }
            return result.isEmpty ? ["instruction changed"] : result
        case let (.file(a), .file(b)):
            guard a.actions.count == b.actions.count else { return ["instruction changed"] }
            var result: [String] = []
            for (x, y) in zip(a.actions, b.actions) where x != y {
                switch (x, y) {
                case let (.copy(c), .copy(d)):
                    if c.sources != d.sources { result.append("sources changed: \(c.sources.joined(separator: " ")) → \(d.sources.joined(separator: " "))") }
                    if c.destination != d.destination { result.append("destination changed \(c.destination) → \(d.destination)") }
                    if c.owner != d.owner { result.append("--chown changed") }
                    if c.mode != d.mode { result.append("--chmod changed \(c.mode ?? "none") → \(d.mode ?? "none")") }
                    if result.isEmpty { result.append("copy options changed") }
                case let (.makeFile(c), .makeFile(d)) where c.path == d.path:
                    result.append("contents of \(c.path) changed")
                default:
                    result.append("instruction changed")
                }
            }
            return result
        default:
            return ["instruction changed"]
        }
    }

    private static func environmentDifferences(_ old: [String], _ new: [String], buildArguments: Set<String>) -> [String] {
        func table(_ entries: [String]) -> [(String, String)] {
            entries.map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
        }
        let before = Dictionary(table(old), uniquingKeysWith: { $1 })
        let after = table(new)
        let afterNames = Set(after.map(\.0))
        var result: [String] = []
        for (name, value) in after where before[name] != value {
            let kind = buildArguments.contains(name) ? "ARG" : "ENV"
            if let previous = before[name] {
                result.append("\(kind) \(name) changed \(previous) → \(value)")
            } else {
                result.append("\(kind) \(name) set to \(value)")
            }
        }
        for (name, _) in table(old) where !afterNames.contains(name) {
            result.append("\(name) no longer set")
        }
        return result
    }

    private static func quoted(_ arguments: [String]) -> String {
        // Shell form: show the command line rather than the shell's argument vector.
        let shown = arguments.count == 3 && arguments[1] == "-c" ? arguments[2] : arguments.joined(separator: " ")
        return "\"\(shown)\""
    }
}
