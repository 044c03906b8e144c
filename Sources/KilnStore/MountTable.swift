import Foundation

/// The mount table of this process (`/proc/self/mountinfo`).
public enum MountTable {
    /// Mount points at or below `path`, in mount order.
    public static func mountPoints(under path: String) -> [String] {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return table.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let mountPoint = unescape(String(fields[4]))
            return mountPoint == path || mountPoint.hasPrefix(path + "/") ? mountPoint : nil
        }
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
