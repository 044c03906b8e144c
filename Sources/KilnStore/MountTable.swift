import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The mount table of this process (`/proc/self/mountinfo`).
public enum MountTable {
    /// Mount points at or below `path`, in mount order.
    public static func mountPoints(under path: String) -> [String] {
        guard let table = snapshot() else { return [] }
        return table.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let mountPoint = unescape(String(fields[4]))
            return mountPoint == path || mountPoint.hasPrefix(path + "/") ? mountPoint : nil
        }
    }

    /// The whole table from a single read: the kernel lists it consistently within one read, but a table read
    /// in several pieces while other mounts come and go can miss entries.
    static func snapshot() -> String? {
        var size = 256 * 1024
        while size <= 64 << 20 {
            let descriptor = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return nil }
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: size)
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count >= 0 else { return nil }
            if count < size { return String(decoding: buffer[0..<count], as: UTF8.self) }
            size *= 4
        }
        return nil
    }

    /// Undoes the octal escapes (`\040` for a space) of mountinfo fields.
    static func unescape(_ field: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
