#if canImport(Glibc)
import Glibc
#endif

/// Resolves paths inside a container root the way the container would see them: symlinks are followed,
/// but absolute targets and `..` stay inside the root (like `filepath-securejoin`). Used to read
/// `/etc/passwd` or create the working directory of an image that may be hostile.
public enum RootedPath {
    /// The host path of `path` inside `root`; components that do not exist are appended as written.
    public static func resolve(_ path: String, in root: String) throws -> String {
        var resolved: [String] = []
        var pending = Array(path.split(separator: "/").map(String.init).reversed())
        var linksFollowed = 0
        while let component = pending.popLast() {
            switch component {
            case "", ".":
                continue
            case "..":
                _ = resolved.popLast()
                continue
            default:
                break
            }
            let candidate = root + "/" + (resolved + [component]).joined(separator: "/")
            var info = stat()
            guard lstat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else {
                resolved.append(component)
                continue
            }
            linksFollowed += 1
            guard linksFollowed <= 255 else { throw RuntimeError("too many levels of symbolic links in \(path)") }
            let target = try readLink(candidate)
            if target.hasPrefix("/") { resolved.removeAll() }
            pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
        }
        return resolved.isEmpty ? root : root + "/" + resolved.joined(separator: "/")
    }

    private static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { throw RuntimeError.system("readlink", path) }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
