import Foundation
import KilnArchive
import KilnStore

/// `--output type=local|tar`: the image's final filesystem (layers applied in order, whiteouts honoured)
/// as a directory, or as a tar file or stream.
enum FilesystemExport {
    enum Kind {
        case directory, tar
    }

    static func export(_ image: StoredImage, from store: LayoutStore, kind: Kind, to destination: String) throws {
        switch kind {
        case .directory:
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
            try unpack(image, from: store, into: destination)
        case .tar:
            let scratch = "/dev/shm/kiln-export-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try unpack(image, from: store, into: scratch)
            let sink: FileByteSink = destination == "-" ? FileByteSink(descriptor: 1, name: "standard output") : try FileByteSink(path: destination)
            var writer = TarWriter(sink: sink)
            var archiver = TreeArchiver()
            try archiver.archive(directory: scratch, to: &writer)
            try writer.finish()
        }
    }

    private static func unpack(_ image: StoredImage, from store: LayoutStore, into directory: String) throws {
        for layer in image.manifest.layers {
            var reader = TarReader(source: DecompressingSource(try store.openBlob(layer.digest)))
            var extractor = try SafeExtractor(root: directory)
            try extractor.extractAll(from: &reader)
        }
    }
}
