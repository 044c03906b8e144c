import Foundation
import Testing

@Suite("Image store commands")
struct StoreCommandsTests {
    @Test("import, images, history, inspect, tag, rmi, prune")
    func lifecycle() throws {
        let scratch = try ScratchDirectory("store")
        let root = scratch.path + "/root"
        let tar = try scratch.makeRootfsTar()
        let imported = try KilnProcess.kiln(["import", "--change", "CMD [\"/bin/tool\"]", "--change", "ENV MODE=test", tar, "tool:1"], root: root)
        #expect(imported.status == 0, "\(imported.errors)")
        let id = imported.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("sha256:"))
        let images = try KilnProcess.kiln(["images"], root: root)
        #expect(images.output.contains("tool         1     \(id.dropFirst(7).prefix(12))"))
        let inspect = try KilnProcess.kiln(["inspect", "tool:1"], root: root)
        let json = try JSONSerialization.jsonObject(with: Data(inspect.output.utf8)) as! [[String: Any]]
        let config = json[0]["Config"] as! [String: Any]
        #expect(config["Cmd"] as? [String] == ["/bin/tool"])
        #expect(config["Env"] as? [String] == ["MODE=test"])
        #expect(json[0]["Id"] as? String == id)
        #expect(try KilnProcess.kiln(["history", "tool:1"], root: root).output.contains("Imported from"))
        #expect(try KilnProcess.kiln(["tag", "tool:1", "registry.local:5000/team/tool:v1"], root: root).status == 0)
        #expect(try KilnProcess.kiln(["images"], root: root).output.contains("registry.local:5000/team/tool   v1"))
        #expect(try KilnProcess.kiln(["rmi", "tool:1"], root: root).output.contains("Untagged: tool:1"))
        let removal = try KilnProcess.kiln(["rmi", "registry.local:5000/team/tool:v1"], root: root)
        #expect(removal.output.contains("Deleted: \(id)"))
        #expect(try KilnProcess.kiln(["fsck"], root: root).output.contains("0 problems, 0 garbage"))
    }

    @Test("a bad --change or a missing image is a clear error")
    func errors() throws {
        let scratch = try ScratchDirectory("store-errors")
        let root = scratch.path + "/root"
        let tar = try scratch.makeRootfsTar()
        let badChange = try KilnProcess.kiln(["import", "--change", "RUN make", tar, "x:1"], root: root)
        #expect(badChange.status != 0 && badChange.errors.contains("RUN is not a supported change for import"))
        let missing = try KilnProcess.kiln(["inspect", "nothing:here"], root: root)
        #expect(missing.status != 0 && missing.errors.contains("no such image: nothing:here"))
    }

    @Test("save and load round-trip through both archive formats and standard streams")
    func saveLoad() throws {
        let scratch = try ScratchDirectory("saveload")
        let tar = try scratch.makeRootfsTar()
        let id = try KilnProcess.kiln(["import", tar, "app:2"], root: scratch.path + "/a").output.trimmingCharacters(in: .whitespacesAndNewlines)
        for format in ["oci", "docker"] {
            let archive = scratch.path + "/app-\(format).tar"
            #expect(try KilnProcess.kiln(["save", "--format", format, "-o", archive, "app:2"], root: scratch.path + "/a").status == 0)
            let target = scratch.path + "/b-\(format)"
            let loaded = try KilnProcess.kiln(["load"], root: target, input: try Data(contentsOf: URL(fileURLWithPath: archive)))
            #expect(loaded.output == "Loaded image: app:2\n", "\(loaded.errors)")
            #expect(try KilnProcess.kiln(["images", "-q", "--no-trunc"], root: target).output == id + "\n")
        }
    }

    @Test("archives kiln saves are read by skopeo, unpacked by umoci and loaded by podman",
          .enabled(if: KilnProcess.has("skopeo") && KilnProcess.has("umoci") && KilnProcess.has("podman"), "skopeo, umoci and podman are installed by scripts/test.sh"))
    func interopOut() throws {
        let scratch = try ScratchDirectory("interop-out")
        let root = scratch.path + "/root"
        let id = try KilnProcess.kiln(["import", try scratch.makeRootfsTar(), "interop:1"], root: root).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let oci = scratch.path + "/oci.tar", docker = scratch.path + "/docker.tar"
        try KilnProcess.kiln(["save", "--format", "oci", "-o", oci, "interop:1"], root: root)
        try KilnProcess.kiln(["save", "--format", "docker", "-o", docker, "interop:1"], root: root)
        for reference in ["oci-archive:\(oci)", "docker-archive:\(docker)"] {
            let inspected = try KilnProcess.run("skopeo", ["inspect", "--raw", "--config", reference])
            #expect(inspected.status == 0, "\(inspected.errors)")
            #expect(try JSONSerialization.jsonObject(with: Data(inspected.output.utf8)) is [String: Any])
        }
        let layout = scratch.path + "/layout"
        try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
        try KilnProcess.run("tar", ["-C", layout, "-xf", oci])
        let unpacked = try KilnProcess.run("umoci", ["unpack", "--rootless", "--image", "\(layout):1", scratch.path + "/bundle"])
        #expect(unpacked.status == 0, "\(unpacked.errors)")
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/bundle/rootfs/bin/tool"))
        let podman = try PodmanSandbox(scratch).arguments
        for archive in [oci, docker] {
            let loaded = try KilnProcess.run("podman", podman + ["load", "-i", archive])
            #expect(loaded.status == 0, "\(loaded.errors)")
        }
        let images = try KilnProcess.run("podman", podman + ["images", "--no-trunc", "--format", "{{.ID}}"])
        #expect(images.output.contains(id.dropFirst(7)))
    }

    @Test("archives made by skopeo and podman load into kiln with the same image ID",
          .enabled(if: KilnProcess.has("skopeo") && KilnProcess.has("podman"), "skopeo and podman are installed by scripts/test.sh"))
    func interopIn() throws {
        let scratch = try ScratchDirectory("interop-in")
        let root = scratch.path + "/root"
        let id = try KilnProcess.kiln(["import", try scratch.makeRootfsTar(), "origin:1"], root: root).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let oci = scratch.path + "/origin.tar"
        try KilnProcess.kiln(["save", "--format", "oci", "-o", oci, "origin:1"], root: root)
        let destinations = [
            ("docker-archive:\(scratch.path)/sk-docker.tar:sk/docker:1", scratch.path + "/sk-docker.tar", "Loaded image: sk/docker:1"),
            ("oci-archive:\(scratch.path)/sk-oci.tar:sk/oci:2", scratch.path + "/sk-oci.tar", "Loaded image: sk/oci:2"),
            ("oci:\(scratch.path)/sk-layout:3", scratch.path + "/sk-layout", "Loaded image ID: \(id)"),
        ]
        for (destination, path, expected) in destinations {
            let copied = try KilnProcess.run("skopeo", ["copy", "--dest-compress-format", "zstd", "oci-archive:\(oci)", destination])
            #expect(copied.status == 0, "\(copied.errors)")
            let target = scratch.path + "/load-\(UUID().uuidString)"
            let loaded = try KilnProcess.kiln(["load", "-i", path], root: target)
            #expect(loaded.output.contains(expected), "\(loaded.errors)")
            #expect(try KilnProcess.kiln(["images", "-q", "--no-trunc"], root: target).output == id + "\n")
            #expect(try KilnProcess.kiln(["fsck"], root: target).status == 0)
        }
        let podman = try PodmanSandbox(scratch).arguments
        try KilnProcess.run("podman", podman + ["load", "-i", oci])
        for format in ["oci-archive", "docker-archive"] {
            let archive = scratch.path + "/podman-\(format).tar"
            let saved = try KilnProcess.run("podman", podman + ["save", "--format", format, "-o", archive, "docker.io/library/origin:1"])
            #expect(saved.status == 0, "\(saved.errors)")
            let target = scratch.path + "/podman-load-\(format)"
            #expect(try KilnProcess.kiln(["load", "-i", archive], root: target).status == 0)
            #expect(try KilnProcess.kiln(["images", "-q", "--no-trunc"], root: target).output == id + "\n")
        }
    }

    @Test("an image umoci made and changed loads into kiln",
          .enabled(if: KilnProcess.has("umoci"), "umoci is installed by scripts/test.sh"))
    func umociLayout() throws {
        let scratch = try ScratchDirectory("umoci")
        let layout = scratch.path + "/layout"
        let file = scratch.path + "/hello.txt"
        try "hello\n".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(try KilnProcess.run("umoci", ["init", "--layout", layout]).status == 0)
        #expect(try KilnProcess.run("umoci", ["new", "--image", layout + ":base"]).status == 0)
        #expect(try KilnProcess.run("umoci", ["insert", "--rootless", "--image", layout + ":base", file, "/hello.txt"]).status == 0)
        let root = scratch.path + "/root"
        let loaded = try KilnProcess.kiln(["load", "-i", layout], root: root)
        #expect(loaded.output.hasPrefix("Loaded image ID: sha256:"), "\(loaded.errors)")
        let id = String(loaded.output.dropFirst("Loaded image ID: ".count)).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try KilnProcess.kiln(["tag", id, "from-umoci:1"], root: root).status == 0)
        let history = try KilnProcess.kiln(["history", "from-umoci:1"], root: root)
        #expect(history.status == 0 && history.output.contains("umoci"), "\(history.output)")
        #expect(try KilnProcess.kiln(["fsck"], root: root).status == 0)
    }

    @Test("several kiln processes import into one store at once")
    func concurrentImports() throws {
        let scratch = try ScratchDirectory("concurrent")
        let root = scratch.path + "/root"
        let tars = try (0..<4).map { try scratch.makeRootfsTar(files: ["file-\($0)": String(repeating: "x", count: 100_000 * ($0 + 1))]) }
        let processes = try tars.enumerated().map { index, tar -> Process in
            let process = Process()
            process.executableURL = KilnProcess.executable
            process.arguments = ["import", tar, "parallel:\(index)"]
            process.environment = ["KILN_ROOT": root]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        processes.forEach { $0.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let images = try KilnProcess.kiln(["images"], root: root).output
        #expect((0..<4).allSatisfy { images.contains("parallel     \($0)") })
        #expect(try KilnProcess.kiln(["fsck"], root: root).output.contains("0 problems"))
    }

    @Test("a store killed at any moment of an import passes fsck and keeps working")
    func crashConsistency() throws {
        let scratch = try ScratchDirectory("crash")
        let root = scratch.path + "/root"
        let tree = scratch.path + "/big"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try KilnProcess.run("sh", ["-c", "head -c 48000000 /dev/urandom > \(tree)/random.bin"])
        let tar = scratch.path + "/big.tar"
        try KilnProcess.run("tar", ["-C", tree, "-cf", tar, "."])
        try KilnProcess.kiln(["import", try scratch.makeRootfsTar(), "survivor:1"], root: root)
        for delay in [0.05, 0.2, 0.5, 1.0, 1.5] {
            let process = Process()
            process.executableURL = KilnProcess.executable
            process.arguments = ["import", tar, "big:1"]
            process.environment = ["KILN_ROOT": root]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let check = try KilnProcess.kiln(["fsck"], root: root)
            #expect(check.status == 0, "after a kill at \(delay) s: \(check.output)")
            #expect(check.output.contains(" 0 problems"))
        }
        #expect(try KilnProcess.kiln(["images"], root: root).output.contains("survivor"))
        #expect(try KilnProcess.kiln(["import", tar, "big:1"], root: root).status == 0)
        #expect(try KilnProcess.kiln(["fsck"], root: root).status == 0)
    }
}

/// Podman pointed at private storage, so tests never touch the machine's images (its run root must be short).
struct PodmanSandbox {
    let arguments: [String]

    init(_ scratch: ScratchDirectory) throws {
        let runRoot = "/tmp/kpr-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: runRoot, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/podman-run", withDestinationPath: runRoot)
        arguments = ["--root", scratch.path + "/podman", "--runroot", runRoot, "--storage-driver", "vfs"]
    }
}
