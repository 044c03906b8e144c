import Foundation
import KilnOCI
import KilnStore
import KilnTestSupport
import Testing
@testable import KilnRegistry

@Suite("registries.conf")
struct RegistriesConfTests {
    static func labConf(_ registry: String) -> String {
        """
        # Managed by the kiln peer lab (setup.sh). Loopback registry without TLS.
        unqualified-search-registries = ["docker.io"]

        [[registry]]
        location = "\(registry)"
        insecure = true

        [[registry]]
        prefix = "docker.io/library"
        location = "docker.io/library"

        [[registry.mirror]]
        location = "\(registry)/library"
        insecure = true

        [[registry]]
        location = "blocked.example"
        blocked = true # nobody pulls from here
        """
    }

    static let aliasConf = """
        [aliases]
        "busybox" = "lab.local:5000/base/busybox"
        "team/tool" = "quay.io/team/tool"
        """

    @Test("short-name aliases apply to names written without a registry, keeping tag and digest", arguments: [
        ("busybox", "lab.local:5000/base/busybox"),
        ("busybox:1", "lab.local:5000/base/busybox:1"),
        ("busybox@sha256:" + String(repeating: "a", count: 64), "lab.local:5000/base/busybox@sha256:" + String(repeating: "a", count: 64)),
        ("team/tool:2", "quay.io/team/tool:2"),
        ("docker.io/library/busybox:1", "docker.io/library/busybox:1"),
        ("localhost/busybox", "localhost/busybox"),
        ("busybox2:1", "busybox2:1"),
        ("other/busybox", "other/busybox"),
    ])
    func aliases(written: String, resolved: String) throws {
        var conf = try RegistriesConf.parse(Self.labConf("lab.local:5000"))
        conf.merge(try RegistriesConf.parse(Self.aliasConf))
        #expect(conf.resolvingAlias(written) == resolved)
        #expect(conf.registries.count == 3, "an [aliases] table does not end up in the last registry")
    }

    @Test("the lab's drop-in parses into registries, mirrors and flags")
    func parses() throws {
        let conf = try RegistriesConf.parse(Self.labConf("lab.local:5000"))
        #expect(conf.unqualifiedSearchRegistries == ["docker.io"])
        #expect(conf.registries.count == 3)
        #expect(conf.registries[1].mirrors == [RegistriesConf.Endpoint(location: "lab.local:5000/library", insecure: true)])
        #expect(conf.insecureHosts == ["lab.local:5000"])
    }

    @Test("a pull tries the mirror of the longest matching prefix first, then the registry itself", arguments: [
        ("busybox:1", ["lab.local:5000/library/busybox:1", "docker.io/library/busybox:1"]),
        ("gcc@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         ["lab.local:5000/library/gcc@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          "docker.io/library/gcc@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]),
        ("user/tool:2", ["docker.io/user/tool:2"]),
        ("lab.local:5000/team/app:3", ["lab.local:5000/team/app:3"]),
    ])
    func sources(_ name: String, _ expected: [String]) throws {
        let conf = try RegistriesConf.parse(Self.labConf("lab.local:5000"))
        #expect(try conf.pullSources(for: try ImageReference(parsing: name)).map(\.reference.description) == expected)
    }

    @Test("blocked registries refuse, malformed files say where")
    func errors() throws {
        let conf = try RegistriesConf.parse(Self.labConf("lab.local:5000"))
        #expect(throws: RegistryError.self) { try conf.pullSources(for: try ImageReference(parsing: "blocked.example/x:1")) }
        #expect(throws: (any Error).self) { try RegistriesConf.parse("[[registry]]\nlocation \"x\"\n") }
    }

    @Test("short names pull through the loopback mirror and are tagged as asked",
          .enabled(if: LoopbackRegistry.isAvailable, "docker-registry is installed by scripts/test.sh"))
    func mirrorPull() async throws {
        let registry = try LoopbackRegistry()
        let (source, image, sourceRoot) = try RegistryClientTests.storeWithImage("\(registry.host)/library/mirrored:1")
        defer { try? FileManager.default.removeItem(atPath: sourceRoot) }
        try await RegistryClient.withClient { client in
            try await client.push(image, to: try ImageReference(parsing: "\(registry.host)/library/mirrored:1"), from: source)
        }
        var configuration = RegistryConfiguration(maximumAttempts: 1)
        configuration.registries = try RegistriesConf.parse(Self.labConf(registry.host))
        let (target, targetRoot) = try RegistryClientTests.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: targetRoot) }
        let pulled = try await RegistryClient.withClient(configuration: configuration) { client in
            try await client.pull(try ImageReference(parsing: "mirrored:1"), into: target)
        }
        #expect(pulled.id == image.id)
        #expect(pulled.reference?.description == "docker.io/library/mirrored:1")
        #expect(try target.image("mirrored:1").id == image.id)
    }
}
