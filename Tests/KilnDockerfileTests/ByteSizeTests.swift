import KilnDockerfile
import Testing

/// Sizes as docker's units.RAMInBytes reads them (`--mount size=`, `--keep-storage`): every unit binary.
struct ByteSizeTests {
    static let cases: [(text: String, bytes: Int64?)] = [
        ("100", 100), ("100b", 100), ("64m", 64 << 20), ("64MB", 64 << 20), ("512KiB", 512 << 10),
        ("10GB", 10 << 30), ("1.5g", 3 << 29), ("2t", 2 << 40), ("1 g", 1 << 30),
        ("", nil), ("ten", nil), ("-1m", nil), ("10 GBs", nil), ("1e3", nil),
    ]

    @Test(arguments: cases)
    func readsSizesAsDocker(text: String, bytes: Int64?) {
        #expect(ByteSize.parseRAM(text) == bytes)
    }
}
