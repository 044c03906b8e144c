import Foundation
import Testing
import KilnOCI

@Suite("Image references")
struct ImageReferenceTests {
    @Test("normalises like docker", arguments: [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("gcc:12", "docker.io/library/gcc:12", "gcc:12"),
        ("library/debian:bookworm", "docker.io/library/debian:bookworm", "debian:bookworm"),
        ("index.docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest"),
        ("user/app:v1.2", "docker.io/user/app:v1.2", "user/app:v1.2"),
        ("127.0.0.1:5000/library/busybox:1", "127.0.0.1:5000/library/busybox:1", "127.0.0.1:5000/library/busybox:1"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t"),
        ("ghcr.io/org/tool_x-y.z:1", "ghcr.io/org/tool_x-y.z:1", "ghcr.io/org/tool_x-y.z:1"),
        ("[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest"),
        ("Registry.Example/app", "Registry.Example/app:latest", "Registry.Example/app:latest"),
        ("alpine@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "docker.io/library/alpine@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "alpine@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("alpine:3@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "docker.io/library/alpine:3@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "alpine:3@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ])
    func normalises(_ text: String, _ full: String, _ familiar: String) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.description == full)
        #expect(reference.familiarDescription == familiar)
    }

    @Test("rejects invalid references with docker's message", arguments: [
        ("", "invalid reference format"),
        ("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
        ("busybox:", "invalid reference format"),
        ("busybox:-tag", "invalid reference format"),
        ("a//b", "invalid reference format"),
        ("a/b/", "invalid reference format"),
        ("-a", "invalid reference format"),
        ("a__-b", "invalid reference format"),
        ("a@sha256:abc", "invalid reference format"),
        ("host:port/app", "invalid reference format"),
        (":tag", "invalid reference format"),
    ])
    func rejects(_ text: String, _ message: String) {
        #expect(throws: ImageReference.ParseError(reference: text, reason: message)) { try ImageReference(parsing: text) }
    }

    @Test("a name over 255 characters is rejected")
    func tooLong() {
        #expect(throws: ImageReference.ParseError.self) { try ImageReference(parsing: String(repeating: "a", count: 250) + "/b") }
    }
}

@Suite("Manifests and indexes")
struct ManifestTests {
    @Test("canonical JSON is stable and round-trips")
    func canonical() throws {
        let config = Descriptor(mediaType: .ociConfig, digest: Digest.sha256(of: "c"), size: 1)
        let layer = Descriptor(mediaType: .ociLayerGzip, digest: Digest.sha256(of: "l"), size: 2)
        let manifest = Manifest(config: config, layers: [layer], annotations: ["b": "2", "a": "1"])
        let (data, digest) = try CanonicalJSON.encodeWithDigest(manifest)
        let again = try CanonicalJSON.encodeWithDigest(try CanonicalJSON.decode(Manifest.self, from: data))
        #expect(again.digest == digest)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"annotations\":{\"a\":\"1\",\"b\":\"2\"}"))
        #expect(text.hasPrefix("{\"annotations\""))
    }

    @Test("decodes a Docker schema 2 manifest list with platforms")
    func dockerList() throws {
        let json = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
            {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,
             "digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
             "platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}
            """
        let index = try CanonicalJSON.decode(Index.self, from: Data(json.utf8))
        #expect(index.mediaType?.isIndex == true)
        #expect(index.manifests[0].platform == Platform(os: "linux", architecture: "arm", variant: "v7"))
        #expect(index.manifests[0].mediaType.isManifest)
    }

    @Test("media types know their kind and compression", arguments: [
        (MediaType.ociLayerGzip, MediaType.Compression.gzip, true), (.dockerLayerGzip, .gzip, true), (.ociLayerZstd, .zstd, true),
        (.ociLayer, .none, true), (.ociConfig, .none, false), (.dockerManifest, .none, false),
    ])
    func mediaTypes(_ type: MediaType, _ compression: MediaType.Compression, _ isLayer: Bool) {
        #expect(type.compression == compression)
        #expect(type.isLayer == isLayer)
    }
}
