import CZlib
import Dispatch
import Foundation

/// Compresses with gzip on every core, the way pigz does, into one valid gzip stream: the input is cut into
/// 128 KiB blocks, each deflated independently (raw deflate primed with the previous 32 KiB as dictionary,
/// ended with a sync flush), and the blocks are joined in order under one gzip header and trailer (CRC-32 and
/// length of the whole input). The output depends only on the input and the level, never on the core count,
/// so layer digests stay reproducible.
public final class GzipSink<Base: ByteSink>: ByteSink {
    public private(set) var base: Base
    let level: Int32
    static var blockSize: Int { 128 * 1024 }
    static var dictionarySize: Int { 32 * 1024 }
    private let workers: Int
    private var pending: [[UInt8]] = []
    private var current: [UInt8] = []
    private var dictionary: [UInt8] = []
    private var crc: uLong = crc32(0, nil, 0)
    private var length: UInt64 = 0
    private var wroteHeader = false
    private var isFinished = false

    /// - Parameters:
    ///   - level: 1 (fastest) to 9 (smallest).
    ///   - workers: blocks compressed at once (default: the number of cores).
    public init(_ base: Base, level: Int32 = 6, workers: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        guard (1...9).contains(level) else { throw CompressionError(library: "zlib", message: "gzip level \(level) is not 1–9") }
        self.base = base
        self.level = level
        self.workers = max(1, workers)
        current.reserveCapacity(Self.blockSize)
    }

    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let take = min(Self.blockSize - current.count, bytes.count - offset)
            current.append(contentsOf: bytes[offset..<(offset + take)])
            offset += take
            if current.count == Self.blockSize {
                pending.append(current)
                current = []
                current.reserveCapacity(Self.blockSize)
                if pending.count >= workers * 2 { try flush(final: false) }
            }
        }
    }

    public func finish() throws {
        guard !isFinished else { return }
        if !current.isEmpty || pending.isEmpty { pending.append(current) }
        current = []
        try flush(final: true)
        var trailer = [UInt8](repeating: 0, count: 8)
        for index in 0..<4 {
            trailer[index] = UInt8(truncatingIfNeeded: UInt64(crc) >> (8 * UInt64(index)))
            trailer[4 + index] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(index)))
        }
        try base.write(trailer)
        isFinished = true
    }

    /// Compresses the pending blocks in parallel and writes them in order.
    private func flush(final: Bool) throws {
        if !wroteHeader {
            // ID1 ID2 CM FLG MTIME(4) XFL OS: no name, no time (reproducible), OS = Unix.
            let extraFlags: UInt8 = level == 1 ? 4 : level == 9 ? 2 : 0
            try base.write([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, extraFlags, 3])
            wroteHeader = true
        }
        let blocks = pending
        pending = []
        var dictionaries: [[UInt8]] = []
        var previous = dictionary
        for block in blocks {
            dictionaries.append(previous)
            let tail = (previous + block).suffix(Self.dictionarySize)
            previous = Array(tail)
        }
        dictionary = previous
        let primers = dictionaries
        let results = UnsafeResults(count: blocks.count)
        let level = self.level
        DispatchQueue.concurrentPerform(iterations: blocks.count) { index in
            let isLast = final && index == blocks.count - 1
            results.store(index, Self.compress(blocks[index], dictionary: primers[index], level: level, last: isLast))
        }
        for (index, block) in blocks.enumerated() {
            let (output, blockCRC, error) = results.value(index)
            if let error { throw error }
            crc = crc32_combine(crc, blockCRC, off_t(block.count))
            length += UInt64(block.count)
            try base.write(output)
        }
    }

    /// Raw-deflates one block; returns the bytes, the block's CRC-32 and any error.
    private static func compress(_ block: [UInt8], dictionary: [UInt8], level: Int32, last: Bool) -> ([UInt8], uLong, CompressionError?) {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return ([], 0, CompressionError(library: "zlib", message: "deflateInit2 failed"))
        }
        defer { deflateEnd(&stream) }
        if !dictionary.isEmpty {
            var dictionary = dictionary
            _ = dictionary.withUnsafeMutableBufferPointer { deflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
        }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(block.count))) + 16)
        var input = block
        let status: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                return deflate(&stream, last ? Z_FINISH : Z_SYNC_FLUSH)
            }
        }
        guard status == (last ? Z_STREAM_END : Z_OK), stream.avail_in == 0 else {
            return ([], 0, CompressionError(library: "zlib", message: "deflate failed (\(status))"))
        }
        output.removeSubrange(Int(stream.total_out)...)
        let blockCRC = block.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        return (output, blockCRC, nil)
    }
}

/// Per-index result slots written by parallel workers (each index by exactly one worker).
private final class UnsafeResults: @unchecked Sendable {
    private var values: [([UInt8], uLong, CompressionError?)]
    private let lock = NSLock()

    init(count: Int) {
        values = Array(repeating: ([], 0, nil), count: count)
    }

    func store(_ index: Int, _ value: ([UInt8], uLong, CompressionError?)) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }

    func value(_ index: Int) -> ([UInt8], uLong, CompressionError?) {
        values[index]
    }
}
