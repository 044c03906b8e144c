import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnArchive

/// ADD's automatic unpacking of local tar archives: plain, gzip, zstd (read directly), bzip2 and xz
/// (through the `bzip2`/`xz` tools). A file that is not a tar archive, compressed or not, is copied as is.
enum ArchiveUnpacker {
    enum Format {
        case tar, bzip2, xz
    }

    /// The archive format of the file at `path`, or nil when it is not a tar archive.
    static func format(of path: String) -> Format? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        let magic = [UInt8](handle.readData(ofLength: 6))
        try? handle.close()
        if magic.starts(with: [0x42, 0x5A, 0x68]) { return isTar(decompressing: path, with: "bzip2") ? .bzip2 : nil }
        if magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return isTar(decompressing: path, with: "xz") ? .xz : nil }
        guard let source = try? FileByteSource(path: path) else { return nil }
        var reader = TarReader(source: DecompressingSource(source))
        return ((try? reader.next()) ?? nil) != nil ? .tar : nil
    }

    /// Unpacks the archive into the directory `target`, applying `--chown` when given.
    static func unpack(_ path: String, format: Format, into target: String, owner: CopyEngine.Owner?) throws {
        var plain = path
        var temporary: String?
        defer { if let temporary { unlink(temporary) } }
        switch format {
        case .tar:
            break
        case .bzip2, .xz:
            let output = NSTemporaryDirectory() + "/kiln-add-\(UUID().uuidString).tar"
            try decompress(path, with: format == .bzip2 ? "bzip2" : "xz", to: output)
            temporary = output
            plain = output
        }
        var reader = TarReader(source: DecompressingSource(try FileByteSource(path: plain)))
        var extractor = try SafeExtractor(root: target)
        while let entry = try reader.next() {
            var entry = entry
            if let owner {
                entry.uid = Int(owner.uid)
                entry.gid = Int(owner.gid)
            }
            try extractor.extract(entry, reader: &reader)
        }
        try extractor.finish()
    }

    private static func isTar(decompressing path: String, with tool: String) -> Bool {
        let output = NSTemporaryDirectory() + "/kiln-probe-\(UUID().uuidString).tar"
        defer { unlink(output) }
        guard (try? decompress(path, with: tool, to: output)) != nil, let source = try? FileByteSource(path: output) else { return false }
        var reader = TarReader(source: source)
        return ((try? reader.next()) ?? nil) != nil
    }

    private static func decompress(_ path: String, with tool: String, to output: String) throws {
        guard FileManager.default.createFile(atPath: output, contents: nil), let handle = FileHandle(forWritingAtPath: output) else {
            throw CopyError("cannot create \(output)")
        }
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool, "-dc", path]
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CopyError("cannot run \(tool) to unpack \(path): \(error)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CopyError("\(tool) cannot decompress \((path as NSString).lastPathComponent)") }
    }
}
