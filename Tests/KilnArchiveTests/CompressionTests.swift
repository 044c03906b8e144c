import Foundation
import KilnOCI
import Testing
@testable import KilnArchive

@Suite("Compression")
struct CompressionTests {
    static let payload: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: ($0 * 7919) >> 5) }

    func readAll<Source: ByteSource>(_ source: inout Source, chunk: Int = 10_000) throws -> [UInt8] {
        var result: [UInt8] = []
        while true {
            let bytes = try source.read(upTo: chunk)
            if bytes.isEmpty { return result }
            result += bytes
        }
    }

    @Test("gzip and zstd round-trip and are detected by magic bytes", arguments: [CompressionFormat.gzip, .zstd, .none])
    func roundTrip(_ format: CompressionFormat) throws {
        var compressed: [UInt8]
        switch format {
        case .gzip:
            let sink = try GzipSink(MemorySink(), level: 1)
            try sink.write(Array(Self.payload[0..<1000]))
            try sink.write(Array(Self.payload[1000...]))
            try sink.finish()
            compressed = sink.base.bytes
        case .zstd:
            let sink = try ZstdSink(MemorySink(), level: 3, workers: 2)
            try sink.write(Self.payload)
            try sink.finish()
            compressed = sink.base.bytes
        case .none:
            compressed = Self.payload
        }
        #expect(CompressionFormat.detect(compressed) == format)
        var source = DecompressingSource(MemorySource(compressed))
        #expect(try readAll(&source) == Self.payload)
        #expect(source.format == format)
    }

    @Test("what kiln compresses, gzip(1) reads, and what gzip(1) writes, kiln reads")
    func gzipInterop() throws {
        let sink = try GzipSink(MemorySink())
        try sink.write(Self.payload)
        try sink.finish()
        #expect(try run("gzip -dc", input: sink.base.bytes) == Self.payload)
        var source = DecompressingSource(MemorySource(try run("gzip -1c", input: Self.payload)))
        #expect(try readAll(&source) == Self.payload)
    }

    @Test("parallel gzip gives the same bytes whatever the number of workers, and gzip(1) reads them", arguments: [1, 2, 7])
    func parallelGzip(_ workers: Int) throws {
        let large = Array(repeating: Self.payload, count: 4).flatMap { $0 }
        func compress(workers: Int) throws -> [UInt8] {
            let sink = try GzipSink(MemorySink(), level: 1, workers: workers)
            for start in stride(from: 0, to: large.count, by: 100_003) {
                try sink.write(Array(large[start..<min(large.count, start + 100_003)]))
            }
            try sink.finish()
            return sink.base.bytes
        }
        let bytes = try compress(workers: workers)
        #expect(bytes == (try compress(workers: 3)))
        #expect(try run("gzip -dc", input: bytes) == large)
        #expect(try run("gzip -t && echo ok", input: bytes) == Array("ok\n".utf8))
    }

    @Test("an empty stream is a valid gzip file")
    func emptyGzip() throws {
        let sink = try GzipSink(MemorySink())
        try sink.finish()
        #expect(try run("gzip -dc | wc -c", input: sink.base.bytes) == Array("0\n".utf8))
    }

    @Test("concatenated gzip members read as one stream")
    func gzipMembers() throws {
        let first = try run("gzip -c", input: Array("hello ".utf8))
        let second = try run("gzip -c", input: Array("world".utf8))
        var source = DecompressingSource(MemorySource(first + second))
        #expect(try readAll(&source) == Array("hello world".utf8))
    }

    @Test("truncated and corrupt streams are errors, not short reads", arguments: [CompressionFormat.gzip, .zstd])
    func damaged(_ format: CompressionFormat) throws {
        let compressed: [UInt8]
        if format == .gzip {
            let sink = try GzipSink(MemorySink())
            try sink.write(Self.payload)
            try sink.finish()
            compressed = sink.base.bytes
        } else {
            let sink = try ZstdSink(MemorySink())
            try sink.write(Self.payload)
            try sink.finish()
            compressed = sink.base.bytes
        }
        var truncated = DecompressingSource(MemorySource(Array(compressed.prefix(compressed.count / 2))))
        #expect(throws: CompressionError.self) { try readAll(&truncated) }
        var corrupt = compressed
        for index in stride(from: 20, to: corrupt.count - 20, by: 97) { corrupt[index] ^= 0x5A }
        var damaged = DecompressingSource(MemorySource(corrupt))
        #expect(throws: CompressionError.self) { try readAll(&damaged) }
    }

    @Test("digesting sinks give the digest and size of what passed through")
    func digests() throws {
        var sink = DigestingSink(MemorySink())
        try sink.write(Array("ab".utf8))
        try sink.write(Array("c".utf8))
        #expect(sink.digest == Digest.sha256(of: "abc"))
        #expect(sink.count == 3)
    }

    /// Runs a shell command with `input` on standard input and returns its standard output.
    func run(_ command: String, input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(output)
    }
}
