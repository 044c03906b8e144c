/// Reads a tar stream entry by entry: ustar, PAX (`x` and global `g` records) and GNU long names (`L`, `K`),
/// octal and base-256 numbers, with header checksums verified. Contents are read with ``readContents(upTo:)``;
/// whatever is not read is skipped by the next call to ``next()``.
public struct TarReader<Source: ByteSource> {
    private var source: Source
    private var offset: Int64 = 0
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    private var globalRecords: [String: [UInt8]] = [:]
    private var currentPath = ""
    private var isAtEnd = false
    private var buffer: [UInt8] = []
    private var bufferStart = 0

    public init(source: Source) {
        self.source = source
    }

    /// Reads whatever follows the archive's end (the rest of the last record, padding some writers add)
    /// and returns the source: a digesting source then holds the digest of the whole stream.
    public mutating func drain() throws -> Source {
        while try !source.read(upTo: 1 << 16).isEmpty {}
        return source
    }

    /// The next entry, or nil at the end of the archive.
    public mutating func next() throws -> TarEntry? {
        guard !isAtEnd else { return nil }
        try skip(remaining + padding)
        remaining = 0
        padding = 0
        var records: [String: [UInt8]] = [:]
        var longName: String?
        var longLink: String?
        while true {
            let headerOffset = offset
            let block = try readExactly(TarHeader.blockSize, allowEnd: true)
            guard let block else {
                isAtEnd = true
                return nil
            }
            if block.allSatisfy({ $0 == 0 }) {
                // End of archive: a second zero block (or the end of the stream) follows.
                _ = try readExactly(TarHeader.blockSize, allowEnd: true)
                isAtEnd = true
                return nil
            }
            let header = block[...]
            guard let stored = TarHeader.number(header, field: TarHeader.checksum),
                TarHeader.hasValidChecksum(header, stored: stored)
            else { throw ArchiveError.invalidHeaderChecksum(offset: headerOffset) }
            guard var size = TarHeader.number(header, field: TarHeader.size), size >= 0 else {
                throw ArchiveError.invalidHeaderField(field: "size", offset: headerOffset)
            }
            let type = block[TarHeader.typeFlag]
            switch type {
            case TarHeader.TypeFlag.paxExtended, TarHeader.TypeFlag.paxGlobal:
                guard size <= 1 << 24 else { throw ArchiveError.invalidPAXRecord(offset: headerOffset) }
                let data = try readEntryData(Int(size), path: "PAX header")
                guard let decoded = PAXRecords.decode(data) else { throw ArchiveError.invalidPAXRecord(offset: headerOffset) }
                if type == TarHeader.TypeFlag.paxGlobal {
                    globalRecords.merge(decoded) { $1 }
                } else {
                    records.merge(decoded) { $1 }
                }
                continue
            case TarHeader.TypeFlag.gnuLongName, TarHeader.TypeFlag.gnuLongLink:
                guard size <= 1 << 20 else { throw ArchiveError.invalidHeaderField(field: "GNU long name", offset: headerOffset) }
                let data = try readEntryData(Int(size), path: "GNU long name")
                let text = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                if type == TarHeader.TypeFlag.gnuLongName { longName = text } else { longLink = text }
                continue
            default:
                break
            }
            let merged = globalRecords.merging(records) { $1 }
            func record(_ key: String) -> String? { merged[key].map { String(decoding: $0, as: UTF8.self) } }

            var path = TarHeader.string(header, field: TarHeader.name)
            let isUSTAR = TarHeader.string(header, field: TarHeader.magic).hasPrefix("ustar")
            let prefix = isUSTAR ? TarHeader.string(header, field: TarHeader.prefix) : ""
            if !prefix.isEmpty { path = prefix + "/" + path }
            if let longName { path = longName }
            if let value = record("path") { path = value }
            var linkTarget = TarHeader.string(header, field: TarHeader.linkName)
            if let longLink { linkTarget = longLink }
            if let value = record("linkpath") { linkTarget = value }
            currentPath = path

            func number(_ key: String, _ field: (Int, Int), _ name: String) throws -> Int64 {
                if let text = record(key) {
                    guard let value = Int64(text) else { throw ArchiveError.invalidPAXRecord(offset: headerOffset) }
                    return value
                }
                guard let value = TarHeader.number(header, field: field) else {
                    throw ArchiveError.invalidHeaderField(field: name, offset: headerOffset)
                }
                return value
            }
            if let text = record("size") {
                guard let value = Int64(text), value >= 0 else { throw ArchiveError.invalidPAXRecord(offset: headerOffset) }
                size = value
            }
            guard let headerSeconds = TarHeader.number(header, field: TarHeader.mtime) else {
                throw ArchiveError.invalidHeaderField(field: "mtime", offset: headerOffset)
            }
            var mtime = TarTime(seconds: headerSeconds)
            if let text = record("mtime") {
                let parts = text.split(separator: ".", maxSplits: 1)
                guard let seconds = parts.first.flatMap({ Int64($0) }) else { throw ArchiveError.invalidPAXRecord(offset: headerOffset) }
                var nanoseconds: Int32 = 0
                if parts.count == 2 {
                    let digits = String(parts[1].prefix(9))
                    guard let value = Int32(digits + String(repeating: "0", count: 9 - digits.count)) else {
                        throw ArchiveError.invalidPAXRecord(offset: headerOffset)
                    }
                    nanoseconds = value
                }
                mtime = TarTime(seconds: seconds, nanoseconds: nanoseconds)
            }
            let kind: TarEntry.Kind
            switch type {
            case TarHeader.TypeFlag.regular, TarHeader.TypeFlag.regularOld, TarHeader.TypeFlag.contiguous:
                kind = path.hasSuffix("/") && type == TarHeader.TypeFlag.regularOld ? .directory : .regular
            case TarHeader.TypeFlag.hardlink: kind = .hardlink
            case TarHeader.TypeFlag.symlink: kind = .symlink
            case TarHeader.TypeFlag.characterDevice: kind = .characterDevice
            case TarHeader.TypeFlag.blockDevice: kind = .blockDevice
            case TarHeader.TypeFlag.directory: kind = .directory
            case TarHeader.TypeFlag.fifo: kind = .fifo
            default: throw ArchiveError.unsupportedEntryType(type: type, path: path)
            }
            var attributes: [String: [UInt8]] = [:]
            for (key, value) in merged where key.hasPrefix("SCHILY.xattr.") {
                attributes[String(key.dropFirst("SCHILY.xattr.".count))] = value
            }
            let entry = TarEntry(
                path: Self.cleaned(path), kind: kind, linkTarget: linkTarget,
                mode: UInt32(truncatingIfNeeded: (TarHeader.number(header, field: TarHeader.mode) ?? 0) & 0o7777),
                uid: Int(try number("uid", TarHeader.uid, "uid")), gid: Int(try number("gid", TarHeader.gid, "gid")),
                userName: record("uname") ?? TarHeader.string(header, field: TarHeader.userName),
                groupName: record("gname") ?? TarHeader.string(header, field: TarHeader.groupName),
                size: kind == .regular ? size : 0, modificationTime: mtime,
                deviceMajor: UInt32(truncatingIfNeeded: TarHeader.number(header, field: TarHeader.deviceMajor) ?? 0),
                deviceMinor: UInt32(truncatingIfNeeded: TarHeader.number(header, field: TarHeader.deviceMinor) ?? 0),
                extendedAttributes: attributes)
            // Hardlinks and other non-regular entries may still carry data; it is skipped.
            remaining = size
            padding = Int64(TarWriter<MemorySink>.padding(for: size).count)
            return entry
        }
    }

    /// Reads up to `count` bytes of the current entry's contents; empty at its end.
    public mutating func readContents(upTo count: Int) throws -> [UInt8] {
        guard remaining > 0 else { return [] }
        let wanted = Int(min(Int64(count), remaining))
        guard let bytes = try readExactly(wanted, allowEnd: false) else { throw ArchiveError.truncated(path: currentPath) }
        remaining -= Int64(bytes.count)
        return bytes
    }

    /// `./a/b/` → `a/b`; `/a` → `a`.
    static func cleaned(_ path: String) -> String {
        var text = Substring(path)
        while text.hasPrefix("./") { text = text.dropFirst(2) }
        while text.hasPrefix("/") { text = text.dropFirst() }
        while text.count > 1 && text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }

    private mutating func readEntryData(_ size: Int, path: String) throws -> [UInt8] {
        guard let data = try readExactly(size, allowEnd: false) else { throw ArchiveError.truncated(path: path) }
        try skip(Int64(TarWriter<MemorySink>.padding(for: Int64(size)).count))
        return data
    }

    /// Reads exactly `count` bytes; nil at a clean end of stream when `allowEnd`.
    private mutating func readExactly(_ count: Int, allowEnd: Bool) throws -> [UInt8]? {
        while buffer.count - bufferStart < count {
            let chunk = try source.read(upTo: max(count - (buffer.count - bufferStart), 64 * 1024))
            if chunk.isEmpty {
                if buffer.count == bufferStart && allowEnd { return nil }
                throw ArchiveError.truncated(path: currentPath.isEmpty ? "header" : currentPath)
            }
            if bufferStart > 0 {
                buffer.removeFirst(bufferStart)
                bufferStart = 0
            }
            buffer += chunk
        }
        let result = Array(buffer[bufferStart..<(bufferStart + count)])
        bufferStart += count
        offset += Int64(count)
        return result
    }

    private mutating func skip(_ count: Int64) throws {
        var left = count
        while left > 0 {
            let step = Int(min(left, 1 << 20))
            guard try readExactly(step, allowEnd: false) != nil else { throw ArchiveError.truncated(path: currentPath) }
            left -= Int64(step)
        }
    }
}
