import Foundation
import KilnTestSupport
import Testing

private let containersAvailable = geteuid() == 0 && BusyboxRootfs.binary != nil && (KilnProcess.has("crun") || KilnProcess.has("runc"))

@Suite("kiln run", .enabled(if: containersAvailable, "needs root, busybox-static and crun or runc (installed by scripts/test.sh)"), .serialized)
struct RunCommandTests {
    /// A store holding `busybox:test`, imported from a busybox rootfs made by the test.
    static func storeWithBusybox(_ scratch: ScratchDirectory) throws -> String {
        let root = scratch.path + "/root"
        try BusyboxRootfs.make(at: scratch.path + "/rootfs")
        let imported = try KilnProcess.kiln(
            ["import", "--change", "CMD [\"sh\", \"-c\", \"echo hello from $(hostname) as $(id -un) in $PWD\"]", "--change", "WORKDIR /tmp",
             scratch.path + "/rootfs", "busybox:test"], root: root)
        #expect(imported.status == 0, "\(imported.errors)")
        return root
    }

    @Test("runs the image's command, with overrides, and exits with the process's code")
    func runsCommands() throws {
        let scratch = try ScratchDirectory("run")
        let root = try Self.storeWithBusybox(scratch)
        let plain = try KilnProcess.kiln(["run", "--rm", "busybox:test"], root: root)
        #expect(plain.status == 0, "\(plain.errors)")
        #expect(plain.output == "hello from kiln as root in /tmp\n")
        let overridden = try KilnProcess.kiln(["run", "-u", "app", "-w", "/home/app", "-e", "GREETING=hi", "busybox:test", "sh", "-c", "echo $GREETING $(id -u) $PWD; exit 7"], root: root)
        #expect(overridden.status == 7)
        #expect(overridden.output == "hi 1000 /home/app\n")
        for runtime in ["crun", "runc"] where KilnProcess.has(runtime) {
            let chosen = try KilnProcess.kiln(["run", "--runtime", runtime, "--network", "none", "busybox:test", "cat", "/proc/1/cmdline"], root: root)
            #expect(chosen.status == 0 && chosen.output == "cat\0/proc/1/cmdline\0", "\(runtime): \(chosen.errors)")
        }
        let unknownUser = try KilnProcess.kiln(["run", "-u", "ghost", "busybox:test", "true"], root: root)
        #expect(unknownUser.status != 0 && unknownUser.errors.contains("unable to find user ghost"))
    }

    @Test("SIGTERM kills the container and leaves no mounts, containers or directories behind")
    func terminationCleansUp() throws {
        let scratch = try ScratchDirectory("run-kill")
        let root = try Self.storeWithBusybox(scratch)
        let process = Process()
        process.executableURL = KilnProcess.executable
        process.arguments = ["run", "busybox:test", "sh", "-c", "echo started; sleep 60"]
        process.environment = ProcessInfo.processInfo.environment.merging(["KILN_ROOT": root]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let started = Date()
        let firstLine = output.fileHandleForReading.availableData
        #expect(String(decoding: firstLine, as: UTF8.self) == "started\n")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 143)
        #expect(Date().timeIntervalSince(started) < 20)
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mountinfo.contains(root))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: root + "/executions")) ?? [] == [])
        let processes = try KilnProcess.run("ps", ["-eo", "args"]).output
        #expect(!processes.contains("sleep 60"))
    }
}
