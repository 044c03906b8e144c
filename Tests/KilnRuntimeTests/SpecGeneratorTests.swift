import Foundation
import KilnOCI
import Testing

@testable import KilnRuntime

@Suite struct SpecGeneratorTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func sandboxSpec() -> RuntimeSpec {
        var request = ProcessRequest(
            arguments: ["/bin/sh", "-c", "make"], environment: ["CC=gcc"], workingDirectory: "/src", user: "app")
        request.extraHosts = [.init(name: "registry", address: "10.0.0.2")]
        let user = ResolvedUser(uid: 1000, gid: 1000, additionalGids: [50], home: "/home/app")
        let mounts: [RuntimeSpec.Mount] = [
            .init(destination: "/root/.cache/go-build/sub", type: "bind", source: "/cache/b", options: ["rbind", "rw"]),
            .init(destination: "/etc/hosts", type: "bind", source: "/run/x/hosts", options: ["rbind", "ro"]),
            .init(destination: "/root/.cache", type: "bind", source: "/cache/a", options: ["rbind", "rw"]),
            .init(destination: "/etc/hosts", type: "bind", source: "/run/y/hosts", options: ["rbind", "ro"]),
        ]
        return SpecGenerator.spec(for: request, rootfs: "/store/executions/x/rootfs", user: user, mounts: mounts, containerID: "kiln-test")
    }

    /// The whole configuration, byte for byte: a change to the defaults must be a deliberate fixture update.
    @Test func sandboxSpecMatchesTheGoldenFile() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let actual = String(decoding: try encoder.encode(Self.sandboxSpec()), as: UTF8.self) + "\n"
        let golden = Self.fixtures.appendingPathComponent("sandbox-spec.json")
        if ProcessInfo.processInfo.environment["KILN_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: golden, atomically: true, encoding: .utf8)
        }
        #expect(actual == (try String(contentsOf: golden, encoding: .utf8)))
    }

    @Test func environmentGetsADefaultPathAndHomeButKeepsTheImages() {
        let user = ResolvedUser(uid: 0, gid: 0, home: "/root")
        let plain = SpecGenerator.spec(for: ProcessRequest(arguments: ["true"]), rootfs: "/r", user: user, mounts: [], containerID: "c")
        #expect(plain.process.env == ["PATH=" + ProcessRequest.defaultPath, "HOME=/root"])
        let own = SpecGenerator.spec(
            for: ProcessRequest(arguments: ["true"], environment: ["PATH=/opt/bin", "HOME=/h"]), rootfs: "/r", user: user, mounts: [],
            containerID: "c")
        #expect(own.process.env == ["PATH=/opt/bin", "HOME=/h"])
    }

    static let modes: [(network: NetworkAccess, security: SecurityMode)] = [
        (.sandbox, .sandbox), (.none, .sandbox), (.host, .sandbox), (.sandbox, .insecure), (.host, .insecure),
    ]

    @Test(arguments: modes)
    func isolationFollowsNetworkAndSecurityModes(network: NetworkAccess, security: SecurityMode) {
        let request = ProcessRequest(arguments: ["true"], network: network, security: security)
        let spec = SpecGenerator.spec(for: request, rootfs: "/r", user: .root, mounts: [], containerID: "c", networkNamespace: "/x/netns")
        let namespaces = spec.linux.namespaces.map(\.type)
        #expect(namespaces.contains("network") == (network != .host))
        // Only the default network joins the namespace slirp4netns serves; none gets an empty one of its own.
        #expect(spec.linux.namespaces.first { $0.type == "network" }?.path == (network == .sandbox ? "/x/netns" : nil))
        #expect(spec.hostname == (network == .host ? nil : ProcessRequest.defaultHostname))
        #expect(["pid", "ipc", "uts", "mount"].allSatisfy(namespaces.contains))
        #expect(!namespaces.contains("user"))
        let sys = spec.mounts.first { $0.destination == "/sys" }
        #expect(sys?.options?.contains("ro") == (security == .sandbox))
        switch security {
        case .sandbox:
            #expect(spec.process.capabilities.bounding == SpecGenerator.defaultCapabilities)
            #expect(spec.linux.maskedPaths.contains("/proc/kcore"))
            #expect(spec.linux.readonlyPaths.contains("/proc/sys"))
            #expect(spec.linux.resources?.devices == [.init(allow: false, access: "rwm")])
        case .insecure:
            #expect(spec.process.capabilities.bounding.contains("CAP_SYS_ADMIN"))
            #expect(spec.linux.maskedPaths.isEmpty && spec.linux.readonlyPaths.isEmpty)
            #expect(spec.linux.resources?.devices == [.init(allow: true, access: "rwm")])
        }
        // Setuid programs (sudo, su) work in RUN, as in BuildKit.
        #expect(spec.process.noNewPrivileges == false)
    }
}

@Suite struct HostFilesTests {
    static let resolvCases: [(host: String, network: NetworkAccess, expected: String)] = [
        ("nameserver 10.0.0.1\nsearch corp\n", .sandbox, "nameserver 10.0.0.1\nsearch corp\n"),
        ("nameserver 127.0.0.53\noptions edns0\n", .sandbox, "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
        ("nameserver ::1\nnameserver 192.168.1.1\n", .none, "nameserver 192.168.1.1\n"),
        ("nameserver 127.0.0.53\n", .host, "nameserver 127.0.0.53\n"),
        ("", .sandbox, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
    ]

    @Test(arguments: resolvCases)
    func resolvConfDropsUnreachableResolvers(host: String, network: NetworkAccess, expected: String) {
        #expect(HostFiles.resolvConf(host: host, network: network) == expected)
    }

    @Test("behind slirp4netns, its DNS forwarder replaces every host resolver; search and options stay")
    func resolvConfThroughAForwarder() {
        let resolv = HostFiles.resolvConf(host: "nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch corp\n", network: .sandbox, nameserver: "10.0.2.3")
        #expect(resolv == "nameserver 10.0.2.3\nsearch corp\n")
    }

    @Test func hostsNamesTheSandboxAndExtraHosts() {
        let hosts = HostFiles.hosts(hostname: "kiln", extraHosts: [.init(name: "db", address: "10.1.2.3")])
        #expect(hosts == "127.0.0.1\tlocalhost kiln\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tdb\n")
    }
}

@Suite struct PlatformEmulationTests {
    static let cases: [(platform: String, handlers: [String: String], runs: Bool)] = [
        ("linux/amd64", [:], true),
        ("linux/386", [:], true),
        ("linux/arm64", [:], false),
        ("linux/arm64", ["qemu-aarch64": "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"], true),
        ("linux/arm64", ["qemu-aarch64": "disabled\n"], false),
        ("linux/s390x", ["qemu-aarch64": "enabled\n"], false),
        ("windows/amd64", [:], false),
    ]

    @Test(arguments: cases)
    func foreignRunNeedsABinfmtHandler(platform: String, handlers: [String: String], runs: Bool) throws {
        let directory = "/dev/shm/kiln-binfmt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, status) in handlers { try status.write(toFile: directory + "/" + name, atomically: false, encoding: .utf8) }
        let host = try Platform(parsing: "linux/amd64")
        let check = { try PlatformEmulation.check(try Platform(parsing: platform), host: host, binfmtDirectory: directory) }
        if runs {
            try check()
        } else {
            #expect(throws: RuntimeError.self) { try check() }
        }
    }
}
