import CZlib
import CZstd
import Foundation
import KilnOCI

/// Compression formats of layers, recognised on read by their magic bytes.
public enum CompressionFormat: Sendable, Equatable {
    case none, gzip, zstd

    /// The format `bytes` start with.
    public static func detect(_ bytes: some Collection<UInt8>) -> CompressionFormat {
        let prefix = Array(bytes.prefix(4))
        if prefix.count >= 2 && prefix[0] == 0x1F && prefix[1] == 0x8B { return .gzip }
        if prefix == [0x28, 0xB5, 0x2F, 0xFD] { return .zstd }
        return .none
    }

    /// gzip's level for layers unless asked otherwise: 6, as BuildKit and docker use.
    public static let defaultGzipLevel: Int32 = 6
    /// zstd's level for layers unless asked otherwise.
    public static let defaultZstdLevel: Int32 = 3

    /// The layer media type for this compression.
    public var layerMediaType: MediaType {
        switch self {
        case .none: return .ociLayer
        case .gzip: return .ociLayerGzip
        case .zstd: return .ociLayerZstd
        }
    }
}

/// A compression library failure.
public struct CompressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var library: String
    public var message: String
    public var description: String { "\(library): \(message)" }
}

/// Compresses everything written to it with zstd into `base`, using `workers` threads (0: single-threaded).
public final class ZstdSink<Base: ByteSink>: ByteSink {
    public private(set) var base: Base
    private let context: OpaquePointer
    private var output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    private var isFinished = false

    public init(_ base: Base, level: Int32 = 3, workers: Int32 = 0) throws {
        guard let context = ZSTD_createCCtx() else { throw CompressionError(library: "zstd", message: "cannot create a context") }
        self.base = base
        self.context = context
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        // A content checksum per frame, so corruption is caught on read.
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        if workers > 0 { _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, workers) }
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    public func write(_ bytes: [UInt8]) throws {
        try run(bytes, directive: ZSTD_e_continue)
    }

    public func finish() throws {
        guard !isFinished else { return }
        try run([], directive: ZSTD_e_end)
        isFinished = true
    }

    private func run(_ input: [UInt8], directive: ZSTD_EndDirective) throws {
        try input.withUnsafeBytes { inputBytes in
            var inBuffer = ZSTD_inBuffer(src: inputBytes.baseAddress, size: inputBytes.count, pos: 0)
            while true {
                let (remaining, produced): (Int, Int) = try output.withUnsafeMutableBytes { outputBytes in
                    var outBuffer = ZSTD_outBuffer(dst: outputBytes.baseAddress, size: outputBytes.count, pos: 0)
                    let result = ZSTD_compressStream2(context, &outBuffer, &inBuffer, directive)
                    if ZSTD_isError(result) != 0 {
                        throw CompressionError(library: "zstd", message: String(cString: ZSTD_getErrorName(result)))
                    }
                    return (result, outBuffer.pos)
                }
                if produced > 0 { try base.write(Array(output[0..<produced])) }
                let done = directive == ZSTD_e_end ? remaining == 0 : inBuffer.pos == inBuffer.size
                if done { break }
            }
        }
    }
}

/// Reads a layer that may be gzip- or zstd-compressed (detected from its first bytes) as plain bytes.
/// Concatenated gzip members and zstd frames are read as one stream.
public final class DecompressingSource<Base: ByteSource>: ByteSource {
    public private(set) var base: Base
    public private(set) var format: CompressionFormat = .none
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var detected = false
    private var baseAtEnd = false
    private var zlib = z_stream()
    private var zlibReady = false
    private var zstd: OpaquePointer?
    private var output = [UInt8](repeating: 0, count: 256 * 1024)

    public init(_ base: Base) {
        self.base = base
    }

    deinit {
        if zlibReady { inflateEnd(&zlib) }
        if let zstd { ZSTD_freeDCtx(zstd) }
    }

    public func read(upTo count: Int) throws -> [UInt8] {
        if !detected {
            while pending.count < 4 && !baseAtEnd { try fill() }
            format = CompressionFormat.detect(pending)
            detected = true
            switch format {
            case .gzip:
                guard inflateInit2_(&zlib, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    throw CompressionError(library: "zlib", message: "inflateInit2 failed")
                }
                zlibReady = true
            case .zstd:
                guard let context = ZSTD_createDCtx() else { throw CompressionError(library: "zstd", message: "cannot create a context") }
                zstd = context
            case .none:
                break
            }
        }
        switch format {
        case .none:
            if pendingStart == pending.count {
                if baseAtEnd { return [] }
                return try base.read(upTo: count)
            }
            let end = min(pending.count, pendingStart + count)
            defer { pendingStart = end }
            return Array(pending[pendingStart..<end])
        case .gzip: return try inflateChunk(upTo: count)
        case .zstd: return try decompressZstdChunk(upTo: count)
        }
    }

    private func fill() throws {
        let chunk = try base.read(upTo: 256 * 1024)
        if chunk.isEmpty { baseAtEnd = true; return }
        if pendingStart > 0 {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
        pending += chunk
    }

    private var zlibStreamEnded = false

    private func inflateChunk(upTo count: Int) throws -> [UInt8] {
        while true {
            if pendingStart == pending.count {
                if baseAtEnd {
                    guard zlibStreamEnded else { throw CompressionError(library: "zlib", message: "unexpected end of gzip stream") }
                    return []
                }
                try fill()
                continue
            }
            if zlibStreamEnded {
                // Another gzip member follows.
                inflateReset(&zlib)
                zlibStreamEnded = false
            }
            let limit = min(count, output.count)
            let (consumed, produced, status): (Int, Int, Int32) = pending.withUnsafeMutableBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    zlib.next_in = input.baseAddress! + pendingStart
                    zlib.avail_in = uInt(input.count - pendingStart)
                    zlib.next_out = out.baseAddress
                    zlib.avail_out = uInt(limit)
                    let status = inflate(&zlib, Z_NO_FLUSH)
                    return (input.count - pendingStart - Int(zlib.avail_in), limit - Int(zlib.avail_out), status)
                }
            }
            pendingStart += consumed
            if status == Z_STREAM_END { zlibStreamEnded = true }
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw CompressionError(library: "zlib", message: "corrupt gzip data (\(status))")
            }
            if produced > 0 { return Array(output[0..<produced]) }
        }
    }

    private var zstdFrameOpen = false

    private func decompressZstdChunk(upTo count: Int) throws -> [UInt8] {
        guard let zstd else { return [] }
        while true {
            if pendingStart == pending.count {
                if baseAtEnd {
                    guard !zstdFrameOpen else { throw CompressionError(library: "zstd", message: "unexpected end of zstd stream") }
                    return []
                }
                try fill()
                continue
            }
            let limit = min(count, output.count)
            let (consumed, produced, hint): (Int, Int, Int) = try pending.withUnsafeBytes { input in
                try output.withUnsafeMutableBytes { out in
                    var inBuffer = ZSTD_inBuffer(src: input.baseAddress! + pendingStart, size: input.count - pendingStart, pos: 0)
                    var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: limit, pos: 0)
                    let result = ZSTD_decompressStream(zstd, &outBuffer, &inBuffer)
                    if ZSTD_isError(result) != 0 {
                        throw CompressionError(library: "zstd", message: String(cString: ZSTD_getErrorName(result)))
                    }
                    return (inBuffer.pos, outBuffer.pos, result)
                }
            }
            pendingStart += consumed
            zstdFrameOpen = hint != 0
            if produced > 0 { return Array(output[0..<produced]) }
        }
    }
}

/// Compresses what is written to it in `format` (or passes it through for `.none`), with the layer defaults
/// for the level. One sink for every format, so callers need no switch of their own.
public final class CompressingSink<Base: ByteSink>: ByteSink {
    private enum Stage {
        case gzip(GzipSink<Base>)
        case zstd(ZstdSink<Base>)
        case plain(Base)
    }

    private var stage: Stage

    /// - Parameter level: gzip 1–9 (default 6) or zstd 1–19 (default 3); zstd uses every core.
    public init(_ base: Base, format: CompressionFormat, level: Int32? = nil) throws {
        switch format {
        case .gzip: stage = .gzip(try GzipSink(base, level: level ?? CompressionFormat.defaultGzipLevel))
        case .zstd:
            let workers = Int32(ProcessInfo.processInfo.activeProcessorCount)
            stage = .zstd(try ZstdSink(base, level: level ?? CompressionFormat.defaultZstdLevel, workers: workers))
        case .none: stage = .plain(base)
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        switch stage {
        case .gzip(let sink): try sink.write(bytes)
        case .zstd(let sink): try sink.write(bytes)
        case .plain(var sink):
            try sink.write(bytes)
            stage = .plain(sink)
        }
    }

    /// Flushes the end of the compressed stream.
    public func finish() throws {
        switch stage {
        case .gzip(let sink): try sink.finish()
        case .zstd(let sink): try sink.finish()
        case .plain: break
        }
    }
}
