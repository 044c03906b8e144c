import Foundation
import KilnArchive
import KilnOCI

extension LayoutStore {
    /// Stores the tree at `directory` as a layer in one streaming pass: the deterministic tar is hashed for
    /// its diffID while it is compressed into a blob that is hashed for its digest.
    ///
    /// - Parameter level: the compression level (default: gzip 6 as BuildKit, zstd 3).
    /// - Parameter options: `convertsOverlayWhiteouts` for an overlayfs upper directory; `sourceDateEpoch` to clamp times.
    public func commitLayer(
        directory: String, compression: CompressionFormat = .gzip, level: Int32? = nil,
        options: TreeArchiver.Options = TreeArchiver.Options()
    ) throws -> (descriptor: Descriptor, info: LayerInfo) {
        try storeLayer(compression: compression, level: level) { sink in
            try archive(directory, into: sink, options: options)
        }
    }

    private func archive<Sink: ByteSink>(_ directory: String, into sink: Sink, options: TreeArchiver.Options) throws -> (Digest, Int64) {
        var writer = TarWriter(sink: DigestingSink(sink))
        var archiver = TreeArchiver(options: options)
        try archiver.archive(directory: directory, to: &writer)
        try writer.finish()
        return (writer.sink.digest, writer.sink.count)
    }
}
