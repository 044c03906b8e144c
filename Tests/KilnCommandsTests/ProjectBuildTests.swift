import Foundation
import KilnTestSupport
import Testing

/// The repository's `examples/` and the peer lab's `projects/`, built end to end with the real base images they
/// name: `gcc:12` and `debian:bookworm` come from Debian (debootstrap, cached by `scripts/debian-rootfs.sh`),
/// `busybox:1` from busybox-static. The lab's registry names (`127.0.0.1:5000/library/…`) are tags in the test
/// store, so nothing is pulled and the lab itself is not needed.
private enum ProjectFixture {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let shared = ProcessInfo.processInfo.environment["KILN_SHARED"] ?? repository + "/../shared"
    static let imageCache = ProcessInfo.processInfo.environment["KILN_IMAGE_CACHE"] ?? "/var/cache/kiln-images"

    static let available = geteuid() == 0 && BusyboxRootfs.binary != nil && (KilnProcess.has("crun") || KilnProcess.has("runc"))
        && KilnProcess.has("debootstrap") && FileManager.default.fileExists(atPath: shared + "/lab/projects")

    nonisolated(unsafe) static var scratchPath: String?

    /// One store for every test of the suite, made once: importing gcc's 330 MB is the slow part.
    static let sandbox: Result<BuildSandbox, Error> = Result {
        let sandbox = try BuildSandbox("projects")
        // The suite's store (about a gigabyte on tmpfs) lives as long as the test process: remove it at exit.
        scratchPath = sandbox.scratch.path
        atexit { if let path = ProjectFixture.scratchPath { try? FileManager.default.removeItem(atPath: path) } }
        // The lab's busybox: root and nobody only (the projects add their users themselves).
        let busybox = sandbox.scratch.path + "/lab-busybox"
        try BusyboxRootfs.make(at: busybox)
        try FileManager.default.removeItem(atPath: busybox + "/home")
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n".write(toFile: busybox + "/etc/passwd", atomically: false, encoding: .utf8)
        try "root:x:0:\nnogroup:x:65534:\n".write(toFile: busybox + "/etc/group", atomically: false, encoding: .utf8)
        let replaced = try sandbox.kiln(["import", "--change", "CMD [\"sh\"]", busybox, "busybox:1"])
        guard replaced.status == 0 else { throw FixtureError("kiln import busybox:1: \(replaced.errors)") }
        let made = try KilnProcess.run("/bin/bash", [repository + "/scripts/debian-rootfs.sh", imageCache])
        guard made.status == 0 else { throw FixtureError("scripts/debian-rootfs.sh failed: \(made.errors)") }
        for (tarball, name) in [("debian-bookworm.tar", "debian:bookworm"), ("gcc-12.tar", "gcc:12")] {
            let imported = try sandbox.kiln(["import", "--change", "CMD [\"bash\"]", imageCache + "/" + tarball, name])
            guard imported.status == 0 else { throw FixtureError("kiln import \(name): \(imported.errors)") }
        }
        for name in ["busybox:1", "debian:bookworm", "gcc:12"] {
            let tagged = try sandbox.kiln(["tag", name, "127.0.0.1:5000/library/" + name])
            guard tagged.status == 0 else { throw FixtureError("kiln tag \(name): \(tagged.errors)") }
        }
        return sandbox
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

@Suite(
    "examples and lab projects",
    .enabled(if: ProjectFixture.available, "needs root, crun or runc, busybox-static, debootstrap with Debian's mirror, and ../shared/lab/projects"),
    .serialized
)
struct ProjectBuildTests {
    private func sandbox() throws -> BuildSandbox { try ProjectFixture.sandbox.get() }

    @discardableResult
    private func build(_ context: String, _ arguments: [String]) throws -> KilnProcess.Result {
        let result = try KilnProcess.kiln(["build", "--progress", "plain"] + arguments + [context], root: try sandbox().root)
        #expect(result.status == 0, "kiln build \(context): \(result.errors.suffix(3000))")
        return result
    }

    private func run(_ arguments: [String]) throws -> String {
        let result = try sandbox().kiln(["run", "--rm"] + arguments)
        #expect(result.status == 0, "kiln run \(arguments): \(result.errors)")
        return result.output
    }

    /// Builds `context` into the store as `tag` and also exports its final filesystem; returns the top-level entries.
    private func buildExporting(_ context: String, tag: String) throws -> [String] {
        let destination = try sandbox().scratch.path + "/export-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: destination) }
        try build(context, ["-t", tag, "-o", "type=image", "-o", "type=local,dest=\(destination)"])
        return try FileManager.default.contentsOfDirectory(atPath: destination).sorted()
    }

    private func config(_ image: String) throws -> [String: Any] {
        try sandbox().inspect(image)["Config"] as? [String: Any] ?? [:]
    }

    private func layerCount(_ image: String) throws -> Int {
        ((try sandbox().inspect(image)["RootFS"] as? [String: Any])?["Layers"] as? [String])?.count ?? -1
    }

    /// What a shell in `image` says, run as root: for files the final image must (not) hold.
    private func shell(_ image: String, _ script: String) throws -> String {
        try run(["--user", "0", "--entrypoint", "/bin/sh", image, "-c", script])
    }

    // MARK: the lab's projects

    @Test("p1: gcc builder, one static binary on scratch")
    func p1() throws {
        #expect(try buildExporting(ProjectFixture.shared + "/lab/projects/p1", tag: "lab/p1") == ["hello"], "no compiler, no sources: only the binary")
        #expect(try run(["lab/p1"]) == "hello, world, from a FROM scratch image\n")
        #expect(try run(["lab/p1", "kiln"]) == "hello, kiln, from a FROM scratch image\n")
        #expect(try layerCount("lab/p1") == 1)
        #expect(try config("lab/p1")["Entrypoint"] as? [String] == ["/hello"])
    }

    @Test("p2: non-root service on busybox with --chown by name, USER, EXPOSE and HEALTHCHECK")
    func p2() throws {
        try build(ProjectFixture.shared + "/lab/projects/p2", ["-t", "lab/p2"])
        let config = try config("lab/p2")
        #expect(config["User"] as? String == "app")
        #expect(config["WorkingDir"] as? String == "/home/app")
        #expect((config["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["8080/tcp"])
        #expect(config["Entrypoint"] as? [String] == ["/usr/local/bin/greeter"])
        #expect(config["Cmd"] as? [String] == ["--port", "8080", "--name", "world"])
        let healthcheck = config["Healthcheck"] as? [String: Any] ?? [:]
        #expect(healthcheck["Test"] as? [String] == ["CMD", "/usr/local/bin/greeter", "--check"])
        #expect(healthcheck["Interval"] as? Int == 30_000_000_000)
        #expect(healthcheck["Retries"] as? Int == 3)
        #expect(try run(["lab/p2", "--version"]).hasPrefix("greeter "))
        let identity = try run(["--entrypoint", "id", "lab/p2"])
        #expect(identity.hasPrefix("uid=10001(app) gid=10001(app)"), "USER app: \(identity)")
        let owners = try shell("lab/p2", "stat -c '%u:%g %n' /usr/local/bin/greeter /home/app/static/* /home/app; command -v gcc make || echo no-compiler; ls /src 2>&1 || true")
        #expect(owners.contains("10001:10001 /usr/local/bin/greeter"))
        #expect(owners.contains("10001:10001 /home/app\n"))
        #expect(owners.contains("no-compiler"))
        #expect(owners.contains("No such file or directory"), "no sources in the final image: \(owners)")
    }

    @Test("p3: parallel builders, ARG in FROM, COPY --from by index and name, .dockerignore re-include, --target")
    func p3() throws {
        let context = ProjectFixture.shared + "/lab/projects/p3"
        let result = try build(context, ["-t", "lab/p3"])
        #expect(result.errors.contains("[tool ") && !result.errors.contains("[test "), "the default target does not need the test stage")
        #expect(result.output.contains("tool (127.0.0.1:5000/library/gcc:12)") && result.output.contains("data (127.0.0.1:5000/library/gcc:12)"))
        let labels = try config("lab/p3")["Labels"] as? [String: String]
        #expect(labels?["org.opencontainers.image.version"] == "1.0.0")
        #expect(!(try run(["lab/p3"]).isEmpty), "the default command prints the word statistics")
        #expect(try shell("lab/p3", "wordstat --version").contains("1.0.0"))
        let contents = try shell("lab/p3", "wc -l < /usr/share/wordstat/words.txt; ls /usr/share/doc/wordstat; command -v gcc || echo no-compiler")
        #expect(contents == "20000\nUSAGE.md\nno-compiler\n")

        let test = try build(context, ["--target", "test", "-t", "lab/p3-test"])
        #expect(test.errors.contains("[test 2/2] RUN ./wordstat --selftest") && test.errors.contains("selftest passed: 20000 words"), "--target test runs the self-test stage")
        try build(context, ["--build-arg", "VERSION=2.5.0", "-t", "lab/p3:2.5.0"])
        #expect(try shell("lab/p3:2.5.0", "wordstat --version").contains("2.5.0"))
    }

    @Test("without overlayfs, the copying snapshotter builds p3 into the same image, byte for byte")
    func copyingSnapshotterMakesTheSameImage() throws {
        let context = ProjectFixture.shared + "/lab/projects/p3"
        var digests: [String: String] = [:]
        for method in ["auto", "copy"] {
            let environment = ["KILN_SNAPSHOTTER": method, "SOURCE_DATE_EPOCH": "1700000000"]
            let result = try KilnProcess.kiln(["build", "-q", "--no-cache", "-t", "lab/p3-\(method)", context], root: try sandbox().root, environment: environment)
            #expect(result.status == 0, "\(result.errors.suffix(2000))")
            #expect(result.errors.contains("KILN_SNAPSHOTTER=copy") == (method == "copy"), "the fallback says so: \(result.errors)")
            digests[method] = result.output
        }
        #expect(digests["copy"]?.hasPrefix("sha256:") == true && digests["copy"] == digests["auto"])
    }

    // MARK: the repository's examples

    @Test("c-static-scratch: the final image is one static binary")
    func cStaticScratch() throws {
        #expect(try buildExporting(ProjectFixture.repository + "/examples/c-static-scratch", tag: "example/hello") == ["hello"])
        #expect(try run(["example/hello"]) == "hello from a scratch image built by kiln\n")
    }

    @Test("nonroot-busybox: runs as the user written into /etc/passwd, files chowned to it")
    func nonrootBusybox() throws {
        try build(ProjectFixture.repository + "/examples/nonroot-busybox", ["-t", "example/web"])
        #expect(try run(["example/web", "id", "-u"]) == "10001\n")
        let files = try shell("example/web", "stat -c '%u %a %n' /usr/local/bin/server /srv/www/index.html.gz")
        #expect(files == "10001 755 /usr/local/bin/server\n10001 644 /srv/www/index.html.gz\n")
        #expect(try config("example/web")["Healthcheck"] != nil)
    }

    @Test("parallel-builders: both builders feed the final image; --target test and --target docs")
    func parallelBuilders() throws {
        let context = ProjectFixture.repository + "/examples/parallel-builders"
        let result = try build(context, ["-t", "example/parallel"])
        #expect(result.errors.contains("[app ") && !result.errors.contains("[test "))
        #expect(try run(["example/parallel"]) == "built by one of two parallel builder stages\n")
        #expect(try shell("example/parallel", "head -n 1 /usr/share/doc/app/README.txt; command -v gcc || echo no-compiler").hasSuffix("no-compiler\n"))
        try build(context, ["--target", "test", "-t", "example/parallel-test"])
        let docs = try build(context, ["--target", "docs", "-t", "example/parallel-docs"])
        #expect(docs.errors.contains("[docs ") && !docs.errors.contains("[app "), "--target docs does not build the app stage")
    }

    @Test("cache-and-secrets: the secret is readable by RUN and in no layer")
    func cacheAndSecrets() throws {
        let secret = try sandbox().scratch.path + "/token"
        try "s3cr3t-value-for-kiln".write(toFile: secret, atomically: false, encoding: .utf8)
        let context = ProjectFixture.repository + "/examples/cache-and-secrets"
        try build(context, ["--secret", "id=token,src=\(secret)", "-t", "example/secrets", "-o", "type=image,compression=uncompressed"])
        #expect(try run(["example/secrets"]) == "21\n")
        let archive = try sandbox().scratch.path + "/secrets.tar"
        let saved = try sandbox().kiln(["save", "-o", archive, "example/secrets"])
        #expect(saved.status == 0, "\(saved.errors)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        #expect(bytes.range(of: Data("s3cr3t-value".utf8)) == nil, "the secret is in no byte of the image")
        #expect(bytes.range(of: Data("token-length".utf8)) != nil, "the layers are plain tar, so the search means something")
        let missing = try KilnProcess.kiln(["build", "--progress", "plain", context], root: try sandbox().root)
        #expect(missing.status != 0 && missing.errors.contains("token"), "a required secret that was not given fails the build")
    }
}
