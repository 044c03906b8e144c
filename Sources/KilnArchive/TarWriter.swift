/// Writes a tar stream entry by entry: ustar headers, with PAX records for what ustar cannot hold
/// (long or non-ASCII names and link targets, sizes of 8 GiB and more, large ids, sub-second times,
/// extended attributes). The same entries always give the same bytes.
public struct TarWriter<Sink: ByteSink> {
    public private(set) var sink: Sink
    private var remaining: Int64 = 0
    private var written: Int64 = 0
    private var currentPath = ""
    private var currentSize: Int64 = 0
    private var isFinished = false

    public init(sink: Sink) {
        self.sink = sink
    }

    /// Starts an entry; for a regular file, write exactly `entry.size` bytes with ``writeContents(_:)`` next.
    public mutating func beginEntry(_ entry: TarEntry) throws {
        try closeEntry()
        var records: [String: [UInt8]] = [:]
        var block = [UInt8](repeating: 0, count: TarHeader.blockSize)
        let path = entry.kind == .directory && !entry.path.hasSuffix("/") ? entry.path + "/" : entry.path
        let pathBytes = Array(path.utf8)
        if pathBytes.count <= TarHeader.name.1 && pathBytes.allSatisfy({ $0 < 0x80 }) {
            TarHeader.put(pathBytes, into: &block, field: TarHeader.name)
        } else {
            records["path"] = pathBytes
            TarHeader.put(Self.placeholder(pathBytes, length: TarHeader.name.1), into: &block, field: TarHeader.name)
        }
        let linkBytes = Array(entry.linkTarget.utf8)
        if linkBytes.count <= TarHeader.linkName.1 && linkBytes.allSatisfy({ $0 < 0x80 }) {
            TarHeader.put(linkBytes, into: &block, field: TarHeader.linkName)
        } else {
            records["linkpath"] = linkBytes
            TarHeader.put(Self.placeholder(linkBytes, length: TarHeader.linkName.1), into: &block, field: TarHeader.linkName)
        }
        TarHeader.putOctal(Int64(entry.mode & 0o7777), into: &block, field: TarHeader.mode)
        putNumber(Int64(entry.uid), key: "uid", field: TarHeader.uid, block: &block, records: &records)
        putNumber(Int64(entry.gid), key: "gid", field: TarHeader.gid, block: &block, records: &records)
        let size = entry.kind == .regular ? entry.size : 0
        guard size >= 0 else { throw ArchiveError.unrepresentable(field: "size", path: entry.path) }
        putNumber(size, key: "size", field: TarHeader.size, block: &block, records: &records)
        let mtime = entry.modificationTime
        guard mtime.seconds >= 0 else { throw ArchiveError.unrepresentable(field: "modification time", path: entry.path) }
        putNumber(mtime.seconds, key: "mtime", field: TarHeader.mtime, block: &block, records: &records)
        if mtime.nanoseconds != 0 {
            let fraction = String(mtime.nanoseconds)
            records["mtime"] = Array("\(mtime.seconds).\(String(repeating: "0", count: 9 - fraction.count) + fraction)".utf8)
        }
        block[TarHeader.typeFlag] = Self.typeFlag(entry.kind)
        TarHeader.put(Array("ustar\0".utf8), into: &block, field: TarHeader.magic)
        TarHeader.put(Array("00".utf8), into: &block, field: TarHeader.version)
        putName(entry.userName, key: "uname", field: TarHeader.userName, block: &block, records: &records)
        putName(entry.groupName, key: "gname", field: TarHeader.groupName, block: &block, records: &records)
        if entry.kind == .characterDevice || entry.kind == .blockDevice {
            TarHeader.putOctal(Int64(entry.deviceMajor), into: &block, field: TarHeader.deviceMajor)
            TarHeader.putOctal(Int64(entry.deviceMinor), into: &block, field: TarHeader.deviceMinor)
        }
        for (name, value) in entry.extendedAttributes { records["SCHILY.xattr." + name] = value }
        TarHeader.seal(&block)

        if !records.isEmpty {
            let data = PAXRecords.encode(records)
            var pax = [UInt8](repeating: 0, count: TarHeader.blockSize)
            let base = path.split(separator: "/").last.map(String.init) ?? "entry"
            TarHeader.put(Self.placeholder(Array("PaxHeaders.0/\(base)".utf8), length: TarHeader.name.1), into: &pax, field: TarHeader.name)
            TarHeader.putOctal(0o644, into: &pax, field: TarHeader.mode)
            TarHeader.putOctal(0, into: &pax, field: TarHeader.uid)
            TarHeader.putOctal(0, into: &pax, field: TarHeader.gid)
            TarHeader.putOctal(Int64(data.count), into: &pax, field: TarHeader.size)
            TarHeader.putOctal(0, into: &pax, field: TarHeader.mtime)
            pax[TarHeader.typeFlag] = TarHeader.TypeFlag.paxExtended
            TarHeader.put(Array("ustar\0".utf8), into: &pax, field: TarHeader.magic)
            TarHeader.put(Array("00".utf8), into: &pax, field: TarHeader.version)
            TarHeader.seal(&pax)
            try sink.write(pax)
            try sink.write(data + Self.padding(for: Int64(data.count)))
        }
        try sink.write(block)
        currentPath = entry.path
        currentSize = size
        remaining = size
        written = 0
    }

    /// Writes part of the current entry's contents.
    public mutating func writeContents(_ bytes: [UInt8]) throws {
        guard Int64(bytes.count) <= remaining else {
            throw ArchiveError.sizeMismatch(path: currentPath, declared: currentSize, written: written + Int64(bytes.count))
        }
        try sink.write(bytes)
        remaining -= Int64(bytes.count)
        written += Int64(bytes.count)
    }

    /// Writes one entry with its whole contents.
    public mutating func append(_ entry: TarEntry, contents: [UInt8] = []) throws {
        var entry = entry
        if entry.kind == .regular { entry.size = Int64(contents.count) }
        try beginEntry(entry)
        if !contents.isEmpty { try writeContents(contents) }
    }

    /// Ends the archive with two zero blocks. Nothing may be written afterwards.
    public mutating func finish() throws {
        guard !isFinished else { return }
        try closeEntry()
        try sink.write([UInt8](repeating: 0, count: 2 * TarHeader.blockSize))
        isFinished = true
    }

    private mutating func closeEntry() throws {
        guard remaining == 0 else {
            throw ArchiveError.sizeMismatch(path: currentPath, declared: currentSize, written: written)
        }
        if currentSize > 0 { try sink.write(Self.padding(for: currentSize)) }
        currentSize = 0
    }

    private func putNumber(_ value: Int64, key: String, field: (Int, Int), block: inout [UInt8], records: inout [String: [UInt8]]) {
        if value >= 0 && value <= TarHeader.octalLimit(field.1) {
            TarHeader.putOctal(value, into: &block, field: field)
        } else {
            TarHeader.putOctal(0, into: &block, field: field)
            records[key] = Array(String(value).utf8)
        }
    }

    private func putName(_ name: String, key: String, field: (Int, Int), block: inout [UInt8], records: inout [String: [UInt8]]) {
        let bytes = Array(name.utf8)
        if bytes.count <= field.1 && bytes.allSatisfy({ $0 < 0x80 }) {
            TarHeader.put(bytes, into: &block, field: field)
        } else {
            records[key] = bytes
        }
    }

    /// An ASCII stand-in for a name that lives in a PAX record (readers without PAX still see something sane).
    private static func placeholder(_ bytes: [UInt8], length: Int) -> [UInt8] {
        Array(bytes.map { $0 < 0x80 ? $0 : UInt8(ascii: "_") }.prefix(length))
    }

    static func padding(for size: Int64) -> [UInt8] {
        let remainder = Int(size % Int64(TarHeader.blockSize))
        return remainder == 0 ? [] : [UInt8](repeating: 0, count: TarHeader.blockSize - remainder)
    }

    static func typeFlag(_ kind: TarEntry.Kind) -> UInt8 {
        switch kind {
        case .regular: return TarHeader.TypeFlag.regular
        case .directory: return TarHeader.TypeFlag.directory
        case .symlink: return TarHeader.TypeFlag.symlink
        case .hardlink: return TarHeader.TypeFlag.hardlink
        case .characterDevice: return TarHeader.TypeFlag.characterDevice
        case .blockDevice: return TarHeader.TypeFlag.blockDevice
        case .fifo: return TarHeader.TypeFlag.fifo
        }
    }
}
