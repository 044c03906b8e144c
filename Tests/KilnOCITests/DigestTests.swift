import Testing
import KilnOCI

@Suite("Digest")
struct DigestTests {
    @Test("SHA-256 of known input")
    func knownValue() {
        #expect(Digest.sha256(of: "").description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256(of: "abc").encoded == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("parses valid digests", arguments: [
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "sha512:" + String(repeating: "a", count: 128),
    ])
    func valid(_ text: String) throws {
        #expect(try Digest(parsing: text).description == text)
    }

    @Test("rejects invalid digests", arguments: [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "md5:abc", "sha256:abc",
        "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "sha256:",
    ])
    func invalid(_ text: String) {
        #expect(throws: Digest.ParseError.self) { try Digest(parsing: text) }
    }
}

@Suite("Platform")
struct PlatformTests {
    @Test("parses and normalises", arguments: [
        ("linux/amd64", "linux/amd64"), ("linux/arm64/v8", "linux/arm64"), ("linux/aarch64", "linux/arm64"),
        ("linux/arm", "linux/arm/v7"), ("linux/arm/6", "linux/arm/v6"), ("Linux/X86_64", "linux/amd64"),
        ("arm64", "linux/arm64"), ("linux/386", "linux/386"), ("windows/amd64", "windows/amd64"),
        ("linux/riscv64", "linux/riscv64"),
    ])
    func parses(_ text: String, _ expected: String) throws {
        #expect(try Platform(parsing: text).description == expected)
    }

    @Test("rejects malformed platforms", arguments: ["", "linux/", "linux/amd64/v1/x", "linux/am d64"])
    func rejects(_ text: String) {
        #expect(throws: Platform.ParseError.self) { try Platform(parsing: text) }
    }
}
