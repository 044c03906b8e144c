import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnGraph
import KilnRuntime

/// The source side of a COPY/ADD: which paths of a source tree an action's sources name (wildcards in
/// Go's `filepath.Glob` order) and which files below them a copy skips (`.dockerignore`, `--exclude`).
/// The copy itself and the cache's content checksum both go by it, so they always agree on what is read.
struct CopySource {
    let root: String
    /// Files to treat as absent (`.dockerignore` of a build context).
    let ignored: PathPatternMatcher?

    /// The matched paths of `action`'s sources, relative to the root (`.` for the root itself).
    func matches(of action: CopyAction) throws -> [String] {
        try matches(of: action.sources, allowEmptyWildcard: action.allowEmptyWildcard)
    }

    /// The matched paths of `sources`, relative to the root, in order.
    func matches(of sources: [String], allowEmptyWildcard: Bool) throws -> [String] {
        var matches: [String] = []
        for source in sources {
            let cleaned = Self.clean(source)
            if GlobPattern.hasMetacharacters(cleaned) {
                let found = try expand(cleaned)
                if found.isEmpty && !allowEmptyWildcard {
                    throw CopyError("no source files were specified: \(source) matched nothing")
                }
                matches += found
            } else {
                guard exists(cleaned) else { throw CopyError.notFound(source, ignored: isIgnored(cleaned)) }
                matches.append(cleaned)
            }
        }
        return matches
    }

    /// `path` relative to the source root, cleaned (`./a/../b/` → `b`; the root itself is `.`).
    static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    func hostPath(_ relative: String) -> String {
        relative == "." ? root : root + "/" + relative
    }

    /// The host path a match is read from: a symlink named as the source itself is followed (within the root).
    func matchPath(_ relative: String, followSymlinks: Bool) throws -> String {
        followSymlinks ? try RootedPath.resolve(relative, in: root) : hostPath(relative)
    }

    func isIgnored(_ relative: String) -> Bool {
        guard relative != ".", let ignored else { return false }
        return (try? ignored.matches(relative)) ?? false
    }

    /// Whether a path is in the context as docker sends it: not ignored, or an ignored directory that still
    /// holds re-included (`!pattern`) files, sent as their parent. An ignored directory with nothing
    /// re-included under it is not sent at all, not even empty.
    func isVisible(_ relative: String) -> Bool {
        guard isIgnored(relative) else { return true }
        guard let ignored, ignored.hasExclusions, (try? ignored.excludesWholeDirectory(relative)) == false else { return false }
        var info = stat()
        guard lstat(hostPath(relative), &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return false }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: hostPath(relative))) ?? []
        return names.contains { isVisible(relative == "." ? $0 : relative + "/" + $0) }
    }

    /// Whether a directory below a match is left out whole.
    func skipsDirectory(_ relative: String, excludeRelative: String, excludes: PathPatternMatcher?) -> Bool {
        if !isVisible(relative) { return true }
        if let excludes, (try? excludes.matches(excludeRelative)) == true, (try? excludes.excludesWholeDirectory(excludeRelative)) == true {
            return true
        }
        return false
    }

    /// Whether a file (not a directory) below a match is left out.
    func skipsFile(_ relative: String, excludeRelative: String, excludes: PathPatternMatcher?) -> Bool {
        if isIgnored(relative) { return true }
        if let excludes, (try? excludes.matches(excludeRelative)) == true { return true }
        return false
    }

    private func exists(_ relative: String) -> Bool {
        if !isVisible(relative) { return false }
        guard let resolved = try? RootedPath.resolve(relative, in: root) else { return false }
        var info = stat()
        return lstat(resolved, &info) == 0
    }

    /// The paths matching a wildcard source, in lexical order (Go's `filepath.Glob` over the source root).
    private func expand(_ pattern: String) throws -> [String] {
        var current = ["."]
        for component in pattern.split(separator: "/").map(String.init) {
            var next: [String] = []
            for directory in current {
                let base = directory == "." ? "" : directory + "/"
                if !GlobPattern.hasMetacharacters(component) {
                    if exists(base + component) { next.append(base + component) }
                    continue
                }
                let glob = GlobPattern(component)
                let names = (try? FileManager.default.contentsOfDirectory(atPath: hostPath(directory))) ?? []
                for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    do {
                        if try glob.matches(name), isVisible(base + name) { next.append(base + name) }
                    } catch {
                        throw CopyError("syntax error in pattern \(pattern)")
                    }
                }
            }
            current = next
        }
        return current
    }
}
