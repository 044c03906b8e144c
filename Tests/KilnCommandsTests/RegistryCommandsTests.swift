import Foundation
import KilnTestSupport
import Testing

@Suite("Registry commands", .enabled(if: LoopbackRegistry.isAvailable && KilnProcess.has("skopeo"), "docker-registry and skopeo are installed by scripts/test.sh"))
struct RegistryCommandsTests {
    @Test("kiln push, kiln pull, and skopeo in both directions give the same image")
    func pushPullInterop() throws {
        let registry = try LoopbackRegistry()
        let scratch = try ScratchDirectory("registry-cli")
        let source = scratch.path + "/source"
        let name = "\(registry.host)/cli/app:1"
        let id = try KilnProcess.kiln(["import", try scratch.makeRootfsTar(), name], root: source).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let pushed = try KilnProcess.kiln(["push", name], root: source)
        #expect(pushed.status == 0, "\(pushed.errors)")
        #expect(pushed.output.contains("1: digest: sha256:"))

        let target = scratch.path + "/target"
        let pulled = try KilnProcess.kiln(["pull", name], root: target)
        #expect(pulled.status == 0, "\(pulled.errors)")
        #expect(pulled.output.contains("Status: Downloaded image for \(name)"))
        #expect(try KilnProcess.kiln(["images", "-q", "--no-trunc"], root: target).output == id + "\n")

        // skopeo reads what kiln pushed, and kiln pulls what skopeo pushed.
        let archive = scratch.path + "/from-registry.tar"
        let copied = try KilnProcess.run("skopeo", ["copy", "--src-tls-verify=false", "docker://\(name)", "docker-archive:\(archive):cli/app:1"])
        #expect(copied.status == 0, "\(copied.errors)")
        let other = "\(registry.host)/skopeo/pushed:2"
        let skopeoPush = try KilnProcess.run("skopeo", ["copy", "--dest-tls-verify=false", "docker-archive:\(archive)", "docker://\(other)"])
        #expect(skopeoPush.status == 0, "\(skopeoPush.errors)")
        let fromSkopeo = scratch.path + "/from-skopeo"
        #expect(try KilnProcess.kiln(["pull", "-q", other], root: fromSkopeo).status == 0)
        #expect(try KilnProcess.kiln(["images", "-q", "--no-trunc"], root: fromSkopeo).output == id + "\n")
        #expect(try KilnProcess.kiln(["fsck"], root: fromSkopeo).status == 0)

        // podman pulls what kiln pushed, digest-identical.
        if KilnProcess.has("podman") {
            let podman = try PodmanSandbox(scratch).arguments
            let pulledByPodman = try KilnProcess.run("podman", podman + ["pull", "--tls-verify=false", name])
            #expect(pulledByPodman.status == 0, "\(pulledByPodman.errors)")
            let ids = try KilnProcess.run("podman", podman + ["images", "--no-trunc", "--format", "{{.ID}}"])
            #expect(ids.output.contains(id.dropFirst(7)))
        }
    }

    @Test("a pull killed midway leaves a consistent store and the next pull completes it")
    func killedPull() throws {
        let registry = try LoopbackRegistry()
        let scratch = try ScratchDirectory("killed-pull")
        let source = scratch.path + "/source"
        let name = "\(registry.host)/big/app:1"
        // Several incompressible layers, so the pull takes long enough to be interrupted.
        let tree = scratch.path + "/tree"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try KilnProcess.run("sh", ["-c", "for i in 1 2 3 4; do head -c 8000000 /dev/urandom > \(tree)/blob-$i; done"])
        let id = try KilnProcess.kiln(["import", "--compression", "none", tree, name], root: source).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try KilnProcess.kiln(["push", "-q", name], root: source).status == 0)
        let target = scratch.path + "/target"
        for delay in [0.02, 0.08, 0.2] {
            let process = Process()
            process.executableURL = KilnProcess.executable
            process.arguments = ["pull", "-q", name]
            process.environment = ["KILN_ROOT": target]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let check = try KilnProcess.kiln(["fsck"], root: target)
            #expect(check.status == 0 && check.output.contains(" 0 problems"), "after a kill at \(delay) s: \(check.output)")
        }
        #expect(try KilnProcess.kiln(["pull", "-q", name], root: target).status == 0)
        #expect(try KilnProcess.kiln(["images", "-q", "--no-trunc"], root: target).output == id + "\n")
        #expect(try KilnProcess.kiln(["fsck"], root: target).status == 0)
    }

    @Test("pulling a missing image fails with the registry's reason")
    func missing() throws {
        let registry = try LoopbackRegistry()
        let scratch = try ScratchDirectory("registry-missing")
        let result = try KilnProcess.kiln(["pull", "\(registry.host)/no/such:image"], root: scratch.path + "/root")
        #expect(result.status != 0)
        #expect(result.errors.contains("manifest unknown"))
    }

    @Test("login writes docker's config.json and logout removes the entry")
    func loginLogout() throws {
        let scratch = try ScratchDirectory("login")
        let environment = ["DOCKER_CONFIG": scratch.path + "/docker"]
        let login = try KilnProcess.run(KilnProcess.executable.path, ["login", "-u", "me", "--password-stdin", "registry.example:5000"], environment: environment, input: Data("pa55\n".utf8))
        #expect(login.output == "Login Succeeded\n", "\(login.errors)")
        let config = try String(contentsOfFile: scratch.path + "/docker/config.json", encoding: .utf8)
        #expect(config.contains(Data("me:pa55".utf8).base64EncodedString()))
        let logout = try KilnProcess.run(KilnProcess.executable.path, ["logout", "registry.example:5000"], environment: environment)
        #expect(logout.output.contains("Removing login credentials for registry.example:5000"))
        #expect(!(try String(contentsOfFile: scratch.path + "/docker/config.json", encoding: .utf8)).contains("me:"))
    }
}
