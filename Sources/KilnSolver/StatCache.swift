import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Remembers the content digest of files by what `lstat` says about them (device, inode, size, change
/// and modification times), so an unchanged build context costs a stat walk instead of a re-hash. A file
/// touched without a change is hashed again and gives the same digest, so the cache still hits.
///
/// Entries whose times are within two seconds of the moment they were hashed are not kept: a write in the
/// same clock tick would not change the stat (git's "racy" index entries).
final class StatCache: @unchecked Sendable {
    struct Entry: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var changed: Int64
        var digest: String
    }

    private let path: String?
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var used: Set<String> = []
    private var isDirty = false
    /// Beyond this many entries, entries this build did not use are dropped when saving.
    private let capacity = 200_000

    /// How recent a change must be for an entry to count as racy.
    private let racyWindow: Int64

    /// A cache kept in `path`, or only in memory when nil.
    init(path: String?, racyWindow: TimeInterval = 2) {
        self.path = path
        self.racyWindow = Int64(racyWindow * 1_000_000_000)
        guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            // device inode size mtime ctime digest path (the path last: it may hold spaces)
            let fields = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false)
            guard fields.count == 7, let device = UInt64(fields[0]), let inode = UInt64(fields[1]), let size = Int64(fields[2]),
                  let modified = Int64(fields[3]), let changed = Int64(fields[4]) else { continue }
            entries[String(fields[6])] = Entry(device: device, inode: inode, size: size, modified: modified, changed: changed, digest: String(fields[5]))
        }
    }

    static func entry(for info: stat, digest: String) -> Entry {
        Entry(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            changed: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec), digest: digest)
    }

    /// The digest of the file at `path` if its stat is unchanged since it was hashed.
    func digest(of path: String, info: stat) -> String? {
        let current = Self.entry(for: info, digest: "")
        return lock.withLock {
            guard var known = entries[path] else { return nil }
            known.digest = ""
            guard known == current else { return nil }
            used.insert(path)
            return entries[path]?.digest
        }
    }

    func remember(_ digest: String, of path: String, info: stat) {
        let entry = Self.entry(for: info, digest: digest)
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        guard now - max(entry.modified, entry.changed) >= racyWindow, !path.contains("\n") else { return }
        lock.withLock {
            entries[path] = entry
            used.insert(path)
            isDirty = true
        }
    }

    /// Writes the cache back if it changed (atomically; a concurrent build's copy may win, which only costs hashing).
    func save() {
        guard let path else { return }
        let snapshot: [String: Entry]? = lock.withLock {
            guard isDirty else { return nil }
            isDirty = false
            if entries.count > capacity { entries = entries.filter { used.contains($0.key) } }
            return entries
        }
        guard let snapshot else { return }
        var text = ""
        text.reserveCapacity(snapshot.count * 120)
        for (file, entry) in snapshot {
            text += "\(entry.device) \(entry.inode) \(entry.size) \(entry.modified) \(entry.changed) \(entry.digest) \(file)\n"
        }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
