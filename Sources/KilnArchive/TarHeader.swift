/// The 512-byte ustar header block and its field layout.
///
/// Source: POSIX pax/ustar format (IEEE Std 1003.1, "pax - portable archive interchange").
enum TarHeader {
    static let blockSize = 512

    // Field (offset, length) pairs.
    static let name = (0, 100)
    static let mode = (100, 8)
    static let uid = (108, 8)
    static let gid = (116, 8)
    static let size = (124, 12)
    static let mtime = (136, 12)
    static let checksum = (148, 8)
    static let typeFlag = 156
    static let linkName = (157, 100)
    static let magic = (257, 6)
    static let version = (263, 2)
    static let userName = (265, 32)
    static let groupName = (297, 32)
    static let deviceMajor = (329, 8)
    static let deviceMinor = (337, 8)
    static let prefix = (345, 155)

    enum TypeFlag {
        static let regular = UInt8(ascii: "0")
        static let regularOld: UInt8 = 0
        static let hardlink = UInt8(ascii: "1")
        static let symlink = UInt8(ascii: "2")
        static let characterDevice = UInt8(ascii: "3")
        static let blockDevice = UInt8(ascii: "4")
        static let directory = UInt8(ascii: "5")
        static let fifo = UInt8(ascii: "6")
        static let contiguous = UInt8(ascii: "7")
        static let paxExtended = UInt8(ascii: "x")
        static let paxGlobal = UInt8(ascii: "g")
        static let gnuLongName = UInt8(ascii: "L")
        static let gnuLongLink = UInt8(ascii: "K")
    }

    /// The largest value an octal field of `length` bytes holds (length - 1 digits).
    static func octalLimit(_ length: Int) -> Int64 {
        (Int64(1) << (3 * Int64(length - 1))) - 1
    }

    /// Writes `value` as zero-padded octal with a NUL terminator.
    static func putOctal(_ value: Int64, into block: inout [UInt8], field: (Int, Int)) {
        let digits = String(value, radix: 8)
        let padded = String(repeating: "0", count: max(0, field.1 - 1 - digits.count)) + digits
        put(Array(padded.utf8), into: &block, field: field)
    }

    /// Copies `bytes` into a field, truncated to its length (the rest stays NUL).
    static func put(_ bytes: [UInt8], into block: inout [UInt8], field: (Int, Int)) {
        for (index, byte) in bytes.prefix(field.1).enumerated() { block[field.0 + index] = byte }
    }

    /// Fills in the checksum field (six octal digits, NUL, space).
    static func seal(_ block: inout [UInt8]) {
        for index in checksum.0..<(checksum.0 + checksum.1) { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int64($1) }
        let digits = String(sum, radix: 8)
        let text = Array((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8) + [0, 0x20]
        put(text, into: &block, field: checksum)
    }

    /// Whether the checksum matches, accepting the historical signed-byte sum too.
    static func hasValidChecksum(_ block: ArraySlice<UInt8>, stored: Int64) -> Bool {
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (offset, byte) in block.enumerated() {
            let value = (checksum.0..<(checksum.0 + checksum.1)).contains(offset) ? 0x20 : byte
            unsigned += Int64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        return stored == unsigned || stored == signed
    }

    /// Reads a NUL-terminated string field.
    static func string(_ block: ArraySlice<UInt8>, field: (Int, Int)) -> String {
        let start = block.startIndex + field.0
        let bytes = block[start..<(start + field.1)]
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// Reads a numeric field: octal (spaces and NULs around it allowed) or base-256 (GNU, high bit set).
    static func number(_ block: ArraySlice<UInt8>, field: (Int, Int)) -> Int64? {
        let start = block.startIndex + field.0
        let bytes = block[start..<(start + field.1)]
        if let first = bytes.first, first & 0x80 != 0 {
            // Base-256 (GNU): big-endian two's complement after the marker bit.
            let invert: UInt8 = first & 0x40 != 0 ? 0xFF : 0
            var value: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                var digit = byte ^ invert
                if index == 0 { digit &= 0x7F }
                guard value >> 56 == 0 else { return nil }
                value = value << 8 | UInt64(digit)
            }
            guard value >> 63 == 0 else { return nil }
            return invert == 0xFF ? ~Int64(value) : Int64(value)
        }
        var value: Int64 = 0
        var seenDigit = false
        var finished = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard !finished else { return nil }
                guard value <= (Int64.max >> 3) else { return nil }
                value = value * 8 + Int64(byte - UInt8(ascii: "0"))
                seenDigit = true
            case 0, 0x20:
                if seenDigit { finished = true }
            default:
                return nil
            }
        }
        return value
    }
}
