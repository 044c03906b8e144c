import KilnArchive
import Testing

@testable import KilnCommands

@Suite("--output values as buildx takes them")
struct OutputFlagTests {
    @Test("types, destinations and layer compression", arguments: [
        ("type=image", OutputFlag(kind: .image)),
        ("type=image,name=a:1,push=true", OutputFlag(kind: .image, names: ["a:1"], push: true)),
        ("type=oci,dest=out.tar", OutputFlag(kind: .oci, destination: "out.tar")),
        ("out", OutputFlag(kind: .local, destination: "out")),
        ("-", OutputFlag(kind: .tar, destination: "-")),
        ("type=image,compression=zstd", OutputFlag(kind: .image, compression: .zstd)),
        ("type=image,compression=zstd,compression-level=19", OutputFlag(kind: .image, compression: .zstd, compressionLevel: 19)),
        ("type=docker,dest=x.tar,compression=uncompressed", OutputFlag(kind: .docker, destination: "x.tar", compression: CompressionFormat.none)),
        ("type=image,compression=gzip,compression-level=9", OutputFlag(kind: .image, compression: .gzip, compressionLevel: 9)),
    ])
    func parses(value: String, expected: OutputFlag) throws {
        #expect(try OutputFlag.parse(value) == expected)
    }

    @Test("bad values are refused with the reason", arguments: [
        ("type=floppy", "unknown type floppy"),
        ("type=oci", "dest=… is required"),
        ("type=image,compression=lz4", "unknown compression lz4"),
        ("type=image,compression=gzip,compression-level=12", "compression-level must be 1–9"),
        ("type=image,compression=zstd,compression-level=x", "compression-level must be 1–19"),
    ])
    func refuses(value: String, message: String) {
        #expect { try OutputFlag.parse(value) } throws: { "\($0)".contains(message) }
    }
}
