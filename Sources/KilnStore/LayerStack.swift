import CKilnLinux
#if canImport(Glibc)
import Glibc
#endif

/// Snapshot directories seen as one tree, the way overlayfs merges its lower directories: each entry comes
/// from the topmost directory that has it, a whiteout (a 0:0 character device) hides the entry below it,
/// and an opaque directory (`trusted.overlay.opaque=y`) hides everything below it. Used where overlayfs
/// cannot be mounted.
public struct LayerStack: Sendable {
    /// The snapshot directories, topmost first.
    public let layers: [String]

    public init(layers: [String]) {
        self.layers = layers
    }

    /// A directory of the merged tree: the host directories that make it up, topmost first.
    public struct Directory: Sendable {
        public let sources: [String]
    }

    /// An entry of a merged directory.
    public struct Entry {
        public let name: String
        /// The host path of the entry shown.
        public let path: String
        public let info: stat
        /// For a directory, the host directories that make it up.
        public let directory: Directory?
    }

    /// The root of the merged tree.
    public var root: Directory { Directory(sources: layers) }

    /// The entries of `directory`, sorted by name, whiteouts applied.
    public func entries(of directory: Directory) -> [Entry] {
        var hidden = Set<String>()
        var found: [String: (path: String, info: stat, layer: Int)] = [:]
        for (index, source) in directory.sources.enumerated() {
            for name in Self.names(in: source) where !hidden.contains(name) {
                hidden.insert(name)
                var info = stat()
                guard lstat(source + "/" + name, &info) == 0, !Self.isWhiteout(info) else { continue }
                found[name] = (source + "/" + name, info, index)
            }
        }
        return found.keys.sorted().map { name in
            let (path, info, layer) = found[name]!
            guard info.st_mode & S_IFMT == S_IFDIR else { return Entry(name: name, path: path, info: info, directory: nil) }
            // The same directory in the layers below joins it until one of them is opaque or not a directory.
            var sources = [path]
            if !Self.isOpaque(path) {
                for source in directory.sources.dropFirst(layer + 1) {
                    var below = stat()
                    let candidate = source + "/" + name
                    guard lstat(candidate, &below) == 0 else { continue }
                    guard below.st_mode & S_IFMT == S_IFDIR else { break }
                    sources.append(candidate)
                    if Self.isOpaque(candidate) { break }
                }
            }
            return Entry(name: name, path: path, info: info, directory: Directory(sources: sources))
        }
    }

    /// Whether `info` describes an overlayfs whiteout.
    public static func isWhiteout(_ info: stat) -> Bool {
        info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0
    }

    /// Whether the directory at `path` hides the same directory in the layers below it.
    public static func isOpaque(_ path: String) -> Bool {
        var value: UInt8 = 0
        return lgetxattr(path, "trusted.overlay.opaque", &value, 1) == 1 && value == UInt8(ascii: "y")
    }

    /// The names in the directory at `path`, none when it cannot be read.
    static func names(in path: String) -> [String] {
        guard let stream = opendir(path) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
