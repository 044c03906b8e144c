import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnGraph
import KilnOCI
import KilnRuntime
import KilnStore

/// Content checksums of exactly the files a step reads from a directory source (the build context, a
/// download, a checkout): one entry per file with its type, permissions, owner (unless the copy makes
/// everything root's), content digest or link target, and extended attributes; never its times. The
/// entries are what the cache key covers and what a miss explanation compares.
struct SourceChecksum {
    let tree: CopySource
    /// Whether owners matter (false for the build context: its files are copied as root's).
    let includesOwners: Bool
    let statCache: StatCache

    /// Relative path → entry, for what `action` copies (after `.dockerignore` and `--exclude`).
    func entries(of action: CopyAction) throws -> [String: String] {
        let excludes = action.excludePatterns.isEmpty ? nil : try PathPatternMatcher(action.excludePatterns)
        var result: [String: String] = [:]
        for match in try tree.matches(of: action) {
            let path = try tree.matchPath(match, followSymlinks: action.followSymlinks)
            try walk(path, relative: match == "." ? "" : match, excludeBase: "", excludes: excludes, isTop: true, into: &result)
        }
        return result
    }

    /// Relative path → entry, for everything under `subpath` (a bind mount's source).
    func entries(under subpath: String) throws -> [String: String] {
        let relative = CopySource.clean(subpath)
        var result: [String: String] = [:]
        try walk(try RootedPath.resolve(relative, in: tree.root), relative: relative == "." ? "" : relative, excludeBase: "", excludes: nil, isTop: true, into: &result)
        return result
    }

    /// One digest for a set of entries.
    static func digest(of entries: [String: String]) -> Digest {
        var hasher = DigestHasher()
        for path in entries.keys.sorted() {
            hasher.update(Array(path.utf8) + [0] + Array(entries[path]!.utf8) + [0x0A])
        }
        return hasher.finalize()
    }

    private func walk(
        _ path: String, relative: String, excludeBase: String, excludes: PathPatternMatcher?, isTop: Bool, into result: inout [String: String]
    ) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if isTop { throw CopyError.notFound(relative, ignored: false) }
            return
        }
        let type = info.st_mode & S_IFMT
        if type != S_IFDIR, !isTop, tree.skipsFile(relative, excludeRelative: excludeBase, excludes: excludes) { return }
        result[relative.isEmpty ? "." : relative] = try entry(path, info: info)
        guard type == S_IFDIR else { return }
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            let excludeRelative = excludeBase.isEmpty ? name : excludeBase + "/" + name
            if tree.skipsDirectory(childRelative, excludeRelative: excludeRelative, excludes: excludes) { continue }
            try walk(path + "/" + name, relative: childRelative, excludeBase: excludeRelative, excludes: excludes, isTop: false, into: &result)
        }
    }

    /// `kind permissions owner content [xattrs]`, e.g. `f 644 - sha256:…`.
    private func entry(_ path: String, info: stat) throws -> String {
        let permissions = String(info.st_mode & 0o7777, radix: 8)
        let owner = includesOwners ? "\(info.st_uid):\(info.st_gid)" : "-"
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return "f \(permissions) \(owner) \(try contentDigest(path, info: info))\(attributes(path))"
        case S_IFDIR:
            return "d \(permissions) \(owner)"
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(path, &buffer, buffer.count - 1)
            guard count >= 0 else { throw CopyError.system("readlink", path) }
            return "l \(permissions) \(owner) " + String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        case S_IFCHR, S_IFBLK:
            return "c \(permissions) \(owner) \(info.st_rdev)"
        case S_IFIFO:
            return "p \(permissions) \(owner)"
        default:
            return "s"
        }
    }

    private func contentDigest(_ path: String, info: stat) throws -> String {
        if let known = statCache.digest(of: path, info: info) { return known }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CopyError.system("open", path) }
        defer { close(descriptor) }
        var hasher = DigestHasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            guard count > 0 else {
                if errno == EINTR { continue }
                throw CopyError.system("read", path)
            }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        let digest = hasher.finalize().description
        statCache.remember(digest, of: path, info: info)
        return digest
    }

    /// The extended attributes a copy carries over, each as name and a short digest of its value.
    private func attributes(_ path: String) -> String {
        let parts = ExtendedAttributes.copied(from: path).map { $0.name + "=" + Digest.sha256(of: $0.value).encoded.prefix(16) }
        return parts.isEmpty ? "" : " x:" + parts.joined(separator: ",")
    }
}
