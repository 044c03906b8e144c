import CKilnLinux
#if canImport(Glibc)
import Glibc
#endif

/// The extended attributes a layer carries (`user.*`, `security.capability`, ACLs), as COPY and the copying
/// snapshotter carry them over; overlayfs's own (`trusted.overlay.*`) and SELinux labels are left behind.
public enum ExtendedAttributes {
    /// The attributes of `path` (not following a symlink) worth carrying, in name order.
    public static func copied(from path: String) -> [(name: String, value: [UInt8])] {
        let size = llistxattr(path, nil, 0)
        guard size > 0 else { return [] }
        var names = [CChar](repeating: 0, count: size)
        let count = llistxattr(path, &names, size)
        guard count > 0 else { return [] }
        let list = names[0..<count].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        var result: [(name: String, value: [UInt8])] = []
        for name in list.sorted() where !name.hasPrefix("trusted.overlay.") && name != "security.selinux" {
            let valueSize = lgetxattr(path, name, nil, 0)
            guard valueSize >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: max(valueSize, 1))
            let read = lgetxattr(path, name, &value, valueSize)
            guard read >= 0 else { continue }
            result.append((name, Array(value[0..<read])))
        }
        return result
    }
}
