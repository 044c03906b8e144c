import Foundation
import KilnArchive
import KilnOCI
import KilnStore
import Testing

@testable import KilnRuntime

/// Real containers: busybox rootfs, overlayfs, crun and runc. Each test runs once per installed runtime, and
/// those about the layer a step leaves once more with the copying snapshotter.
@Suite(ContainerRequirements.enabled, .serialized)
struct ContainerExecutorTests {
    static let runtimes = ContainerRequirements.runtimes
    static let methods = ContainerRequirements.snapshotMethods

    @Test(arguments: runtimes)
    func reportsExitCodeAndOutput(runtime: OCIRuntime) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        let (execution, output) = try await sandbox.run("echo to-stdout; echo to-stderr >&2; exit 3")
        defer { execution.discard() }
        #expect(execution.exitCode == 3)
        #expect(output.contains("to-stdout") && output.contains("to-stderr"))
        #expect(execution.lastOutput.contains("to-stdout"))
        #expect(!execution.hasChanges)
    }

    @Test(arguments: runtimes, methods)
    func runsAsTheImagesUserInTheWorkingDirectoryWithTheEnvironment(runtime: OCIRuntime, method: SnapshotMethod) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime, snapshotMethod: method)
        let (execution, output) = try await sandbox.run(
            "id; pwd; echo FOO=$FOO; echo PATH=$PATH; echo HOME=$HOME; hostname; cat /etc/hosts", user: "app",
            workingDirectory: "/work/dir", environment: ["FOO=bar"])
        defer { execution.discard() }
        #expect(execution.exitCode == 0, "\(output)")
        #expect(output.contains("uid=1000(app) gid=1000(app) groups="))
        #expect(output.contains("50(staff)"))
        #expect(output.contains("/work/dir\n"))
        #expect(output.contains("FOO=bar\n"))
        #expect(output.contains("PATH=\(ProcessRequest.defaultPath)\n"))
        #expect(output.contains("HOME=/home/app\n"))
        #expect(output.contains("kiln\n127.0.0.1\tlocalhost kiln"))
        // The working directory is part of the layer, the mount points of /etc/hosts and friends are not.
        let names = try sandbox.layerEntries(of: execution).map(\.path)
        #expect(names.contains("work/dir"))
        #expect(!names.contains { $0.hasPrefix("etc") })
    }

    @Test(arguments: runtimes)
    func theStepStartsWithNoSignalBlockedOrIgnored(runtime: OCIRuntime) async throws {
        // kiln's worker threads block signals; runc used to hand that mask on (SIGALRM, SIGUSR1/2, SIGCONT, …).
        // Exec form: busybox sh itself ignores SIGQUIT for its children.
        let sandbox = try ContainerSandbox(runtime: runtime)
        let collected = Collected()
        let request = ProcessRequest(arguments: ["/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"])
        let execution = try await sandbox.executor.execute(request, lowers: [sandbox.base]) { _, bytes in collected.append(bytes) }
        defer { execution.discard() }
        let output = collected.text
        let masks = Dictionary(uniqueKeysWithValues: output.split(separator: "\n").compactMap { line -> (String, UInt64)? in
            let fields = line.split(separator: "\t")
            guard fields.count == 2, let mask = UInt64(fields[1], radix: 16) else { return nil }
            return (String(fields[0]), mask)
        })
        #expect(masks["SigBlk:"] == 0, "\(output)")
        #expect(masks["SigIgn:"].map { $0 & 0x7fff_ffff } == 0, "no standard signal ignored: \(output)")
    }

    @Test(arguments: runtimes)
    func rejectsAnUnknownUserBeforeRunning(runtime: OCIRuntime) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        await #expect {
            _ = try await sandbox.run("true", user: "ghost")
        } throws: { error in
            "\(error)" == "unable to find user ghost: no matching entries in passwd file"
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.executor.executionsDirectory).isEmpty)
    }

    @Test(arguments: runtimes, methods)
    func aStepThatChangesNothingLeavesNoLayer(runtime: OCIRuntime, method: SnapshotMethod) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime, snapshotMethod: method)
        // Mount points the runtime must create for kiln's files and the step's mounts, and that must go again.
        for file in ["/etc/hosts", "/etc/resolv.conf", "/etc/hostname"] { try? FileManager.default.removeItem(atPath: sandbox.base + file) }
        let (execution, output) = try await sandbox.run("true", mounts: [MountRequest(target: "/new/tmp", kind: .tmpfs(size: nil))])
        defer { execution.discard() }
        #expect(execution.exitCode == 0, "\(output)")
        #expect(!execution.hasChanges, "\((try? FileManager.default.subpathsOfDirectory(atPath: execution.upperDirectory)) ?? [])")
    }

    @Test(arguments: runtimes, methods)
    func theRuntimesOwnMountPointsStayAsInBuildKit(runtime: OCIRuntime, method: SnapshotMethod) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime, snapshotMethod: method)
        try FileManager.default.removeItem(atPath: sandbox.base + "/proc")
        try FileManager.default.removeItem(atPath: sandbox.base + "/dev")
        let (execution, output) = try await sandbox.run("true")
        defer { execution.discard() }
        #expect(execution.exitCode == 0, "\(output)")
        // BuildKit's stub cleaner removes /etc/hosts, /etc/resolv.conf and the step's mount targets only: a
        // root filesystem without /proc and /dev (a scratch stage) gets them in the RUN layer, mode 0755 with
        // either runtime (crun makes /dev 1755 itself).
        let entries = try sandbox.layerEntries(of: execution)
        let names = entries.map(\.path)
        #expect(names.contains { $0.hasPrefix("proc") } && names.contains { $0.hasPrefix("dev") }, "\(names)")
        #expect(names.allSatisfy { ["proc/", "proc", "dev/", "dev", "./", "/"].contains($0) }, "\(names)")
        for entry in entries where entry.path.hasPrefix("proc") || entry.path.hasPrefix("dev") {
            #expect(entry.mode & 0o7777 == 0o755, "\(entry.path) mode \(String(entry.mode, radix: 8))")
        }
    }

    @Test(arguments: runtimes, methods)
    func deletionsBecomeWhiteoutsAndRecreatedDirectoriesOpaque(runtime: OCIRuntime, method: SnapshotMethod) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime, snapshotMethod: method)
        try FileManager.default.createDirectory(atPath: sandbox.base + "/data/old", withIntermediateDirectories: true)
        try "x".write(toFile: sandbox.base + "/etc/remove-me", atomically: false, encoding: .utf8)
        try "y".write(toFile: sandbox.base + "/data/old/file", atomically: false, encoding: .utf8)
        let (execution, output) = try await sandbox.run("rm /etc/remove-me && rm -rf /data && mkdir /data && echo new > /data/c")
        defer { execution.discard() }
        #expect(execution.exitCode == 0, "\(output)")
        let names = try sandbox.layerEntries(of: execution).map(\.path)
        #expect(names.contains("etc/.wh.remove-me"))
        // overlayfs marks the new directory opaque; a comparison sees that `old` went.
        #expect(names.contains(method == .overlay ? "data/.wh..wh..opq" : "data/.wh.old"), "\(names)")
        #expect(names.contains("data/c"))
        #expect(!names.contains { $0.contains("old") && !$0.contains(".wh.") })
    }

    @Test(arguments: runtimes, methods)
    func hardlinksAndSetuidBitsSurvive(runtime: OCIRuntime, method: SnapshotMethod) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime, snapshotMethod: method)
        let (execution, output) = try await sandbox.run("echo hi > /usr/bin/tool && chmod 4755 /usr/bin/tool && ln /usr/bin/tool /usr/bin/alias")
        defer { execution.discard() }
        #expect(execution.exitCode == 0, "\(output)")
        let entries = try sandbox.layerEntries(of: execution)
        let tool = try #require(entries.first { $0.path == "usr/bin/alias" || $0.path == "usr/bin/tool" })
        #expect(tool.mode == 0o4755)
        let link = try #require(entries.first { $0.kind == .hardlink })
        #expect(link.linkTarget == tool.path)
    }

    @Test(arguments: runtimes, methods)
    func bindMountsAreReadOnlyByDefaultAndWritableCopiesAreDiscarded(runtime: OCIRuntime, method: SnapshotMethod) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime, snapshotMethod: method)
        let source = sandbox.path + "/context"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "context file\n".write(toFile: source + "/input", atomically: false, encoding: .utf8)
        let (execution, output) = try await sandbox.run(
            "cat /ro/input && ! touch /ro/new 2>/dev/null && echo changed > /rw/input && cat /rw/input",
            mounts: [
                .init(target: "/ro", kind: .bind(source: source, readOnly: true)),
                .init(target: "/rw", kind: .bind(source: source, readOnly: false)),
            ])
        defer { execution.discard() }
        #expect(execution.exitCode == 0, "\(output)")
        #expect(output == "context file\nchanged\n")
        #expect(try String(contentsOfFile: source + "/input", encoding: .utf8) == "context file\n")
        #expect(!FileManager.default.fileExists(atPath: source + "/new"))
        #expect(!execution.hasChanges)
    }

    @Test(arguments: runtimes)
    func tmpfsMountsHoldNothingAfterwards(runtime: OCIRuntime) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        let (execution, output) = try await sandbox.run(
            "grep ' /scratch tmpfs' /proc/mounts && dd if=/dev/zero of=/scratch/big bs=1024 count=64 2>/dev/null && ! dd if=/dev/zero of=/scratch/too-big bs=1024 count=2048 2>/dev/null",
            mounts: [.init(target: "/scratch", kind: .tmpfs(size: 1 << 20))])
        defer { execution.discard() }
        #expect(execution.exitCode == 0, "\(output)")
        #expect(!execution.hasChanges)
    }

    @Test(arguments: runtimes)
    func secretsAreReadableButNeverInTheLayer(runtime: OCIRuntime) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        let secret = "s3cr3t-\(UUID().uuidString)"
        let (execution, output) = try await sandbox.run(
            "test \"$(cat /run/secrets/token)\" = '\(secret)' && stat -c '%a %u' /run/secrets/token && cp /run/secrets/token /tmp/copy; rm /tmp/copy; echo done > /tmp/done",
            user: "app",
            mounts: [.init(target: "/run/secrets/token", kind: .secret(contents: Array(secret.utf8), uid: 1000, gid: 1000, mode: 0o400))])
        defer { execution.discard() }
        #expect(execution.exitCode == 0, "\(output)")
        #expect(output.contains("400 1000"))
        let entries = try sandbox.layerEntries(of: execution)
        #expect(!entries.contains { $0.path.hasPrefix("run") })
        #expect(!ContainerSandbox.allBytes(under: execution.upperDirectory).contains(Array(secret.utf8)))
        #expect(!ContainerSandbox.allBytes(under: sandbox.store.layout.root).contains(Array(secret.utf8)))
    }

    @Test(arguments: runtimes)
    func cacheMountsPersistAcrossRuns(runtime: OCIRuntime) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        let cache = MountRequest(
            target: "/var/cache/pkg",
            kind: .cache(id: "/var/cache/pkg", sharing: .locked, initialisation: .init(uid: 1000, gid: 1000, mode: 0o700), readOnly: false))
        let first = try await sandbox.run("stat -c '%a %u' /var/cache/pkg; echo warm > /var/cache/pkg/state", user: "app", mounts: [cache])
        first.execution.discard()
        #expect(first.execution.exitCode == 0, "\(first.output)")
        #expect(first.output == "700 1000\n")
        #expect(!first.execution.hasChanges)
        let second = try await sandbox.run("cat /var/cache/pkg/state", mounts: [cache])
        second.execution.discard()
        #expect(second.output == "warm\n")
        let other = MountRequest(target: "/var/cache/pkg", kind: .cache(id: "other", sharing: .shared, initialisation: .init(), readOnly: false))
        let third = try await sandbox.run("ls -A /var/cache/pkg | wc -l", mounts: [other])
        third.execution.discard()
        #expect(third.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test(arguments: runtimes)
    func sshAgentSocketIsReachable(runtime: OCIRuntime) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        let socketPath = sandbox.path + "/agent.sock"
        let listener = try UnixListener(path: socketPath)
        defer { listener.close() }
        let (execution, output) = try await sandbox.run(
            "test -S /run/buildkit/ssh_agent.0 && stat -c '%u:%g %a' /run/buildkit/ssh_agent.0", user: "app",
            mounts: [.init(target: "/run/buildkit/ssh_agent.0", kind: .sshAgent(socket: socketPath, uid: 1000, gid: 1000, mode: 0o600))])
        defer { execution.discard() }
        #expect(output == "1000:1000 600\n", "\(output)")
        #expect(!execution.hasChanges)
    }

    static let slirpInstalled = ["/usr/bin/slirp4netns", "/bin/slirp4netns"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    /// The default network reaches other hosts through slirp4netns when it is installed; none never; host always.
    /// Only host mode reaches the host's loopback.
    static let networkCases: [(network: NetworkAccess, reachesLoopback: Bool, reachesOut: Bool)] = [
        (.sandbox, false, slirpInstalled), (.none, false, false), (.host, true, true),
    ]

    @Test(arguments: runtimes, networkCases)
    func networkModes(runtime: OCIRuntime, mode: (network: NetworkAccess, reachesLoopback: Bool, reachesOut: Bool)) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        let loopback = try TCPListener()
        defer { loopback.close() }
        let everywhere = try TCPListener(host: "0.0.0.0")
        defer { everywhere.close() }
        let hostAddress = try #require(TCPListener.hostAddress(), "this machine has no IPv4 address besides loopback")
        let (execution, output) = try await sandbox.run(
            "echo links=$(ip -o link | grep -c .); ip -o link | grep -q 'lo:.*UP' && echo lo-up; "
                + "nc -w 2 127.0.0.1 \(loopback.port) -e true 2>/dev/null && echo reached-loopback; "
                + "nc -w 2 \(hostAddress) \(everywhere.port) -e true 2>/dev/null && echo reached-out; grep nameserver /etc/resolv.conf",
            network: mode.network)
        defer { execution.discard() }
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.contains("lo-up"))
        #expect(lines.contains("reached-loopback") == mode.reachesLoopback, "\(output)")
        #expect(lines.contains("reached-out") == mode.reachesOut, "\(output)")
        if mode.network == .none || (mode.network == .sandbox && !Self.slirpInstalled) { #expect(lines.contains("links=1"), "\(output)") }
        if mode.network == .sandbox && Self.slirpInstalled {
            #expect(lines.contains("links=2") && lines.contains("nameserver 10.0.2.3"), "lo and slirp4netns's tap0; its DNS forwarder: \(output)")
        }
    }

    @Test(.enabled(if: slirpInstalled, "needs slirp4netns (apt-get install slirp4netns)"), arguments: runtimes)
    func prestartedNetworksAreFreshForEachStepAndStopWithTheExecutor(runtime: OCIRuntime) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        var namespaces: [String] = []
        for _ in 0..<3 {
            let (execution, output) = try await sandbox.run("readlink /proc/self/ns/net; ip -o link | grep -c tap0", prestartingNetwork: true)
            execution.discard()
            let directories = try FileManager.default.contentsOfDirectory(atPath: sandbox.executor.executionsDirectory)
            #expect(directories.count == 1 && directories[0].hasPrefix("kiln-net-"), "the next step's network is ready: \(directories)")
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines.last == "1", "slirp4netns's tap0 is there: \(output)")
            namespaces.append(lines.first ?? "")
        }
        // Each step has a namespace of its own. (Only steps alive together are compared: the kernel reuses the
        // number of a namespace that is gone.)
        #expect(zip(namespaces, namespaces.dropFirst()).allSatisfy { $0 != $1 }, "\(namespaces)")
        await sandbox.executor.shutdown()
        #expect(MountTable.mountPoints(under: sandbox.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.executor.executionsDirectory).isEmpty)
        // After the shutdown a step still gets a network, and one that no step follows leaves nothing behind.
        let (last, output) = try await sandbox.run("ip -o link | grep -c tap0")
        last.discard()
        #expect(output == "1\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.executor.executionsDirectory).isEmpty)
        var slirps = ""
        for _ in 0..<40 {
            slirps = try await ChildProcess.capture("/bin/ps", ["-eo", "args"]).output.split(separator: "\n")
                .filter { $0.contains("slirp4netns") && $0.contains(sandbox.path) }.joined(separator: "\n")
            if slirps.isEmpty { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(slirps.isEmpty, "no slirp4netns of this sandbox left: \(slirps)")
    }

    @Test(.enabled(if: slirpInstalled, "needs slirp4netns (apt-get install slirp4netns)"))
    func slirp4netnsHoldsNoOtherDescriptor() async throws {
        // A prestarted network starts while the runtime's output pipes are open: had slirp4netns inherited their
        // write ends, the step's output would never end.
        let directory = "/dev/shm/kiln-slirp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let network = try await SlirpNetwork.start(executable: try #require(SlirpNetwork.executable), in: directory)
        defer { network.stop() }
        close(descriptors[1])
        _ = fcntl(descriptors[0], F_SETFL, O_NONBLOCK)
        var byte: UInt8 = 0
        #expect(read(descriptors[0], &byte, 1) == 0, "end of file: no other process holds the write end")
        close(descriptors[0])
    }

    @Test(arguments: runtimes)
    func cancellingKillsTheProcessAndLeavesNothingBehind(runtime: OCIRuntime) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        let started = Date()
        let task = Task { try await sandbox.run("echo started; sleep 67", mounts: [.init(target: "/scratch", kind: .tmpfs(size: nil))]) }
        try await Task.sleep(nanoseconds: 1_500_000_000)
        // Other suites run containers under the same runtime state directory meanwhile: watch only this one.
        // The step's directory, and its network's when slirp4netns is installed.
        let running = try FileManager.default.contentsOfDirectory(atPath: sandbox.executor.executionsDirectory)
        #expect(running.filter { !$0.hasPrefix("kiln-net-") }.count == 1, "\(running)")
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(MountTable.mountPoints(under: sandbox.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.executor.executionsDirectory).isEmpty)
        #expect(await runtime.containers().allSatisfy { !running.contains($0) })
        let (status, psOutput, _) = try await ChildProcess.capture("/bin/ps", ["-eo", "args"])
        #expect(status == 0 && !psOutput.contains("sleep 67"))
    }

    @Test(arguments: runtimes)
    func sweepingRemovesExecutionsOfDeadProcesses(runtime: OCIRuntime) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime)
        let abandoned = sandbox.executor.executionsDirectory + "/kiln-abandoned"
        for name in ["upper", "work", "rootfs"] {
            try FileManager.default.createDirectory(atPath: abandoned + "/" + name, withIntermediateDirectories: true)
        }
        try OverlayMount.mount(lowers: [sandbox.base], upper: abandoned + "/upper", work: abandoned + "/work", on: abandoned + "/rootfs")
        try "999999999".write(toFile: abandoned + "/owner", atomically: true, encoding: .utf8)
        let live = sandbox.executor.executionsDirectory + "/kiln-live"
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
        try String(getppid()).write(toFile: live + "/owner", atomically: true, encoding: .utf8)
        await sandbox.executor.sweepAbandoned()
        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(MountTable.mountPoints(under: abandoned).isEmpty)
        #expect(FileManager.default.fileExists(atPath: live))
    }

    @Test(arguments: runtimes, methods)
    func upperDirectoryBecomesTheNextSnapshot(runtime: OCIRuntime, method: SnapshotMethod) async throws {
        let sandbox = try ContainerSandbox(runtime: runtime, snapshotMethod: method)
        let first = try await sandbox.run("mkdir -p /app && echo one > /app/a && rm /bin/vi")
        let (descriptor, info) = try sandbox.store.commitLayer(directory: first.execution.upperDirectory, options: .init(convertsOverlayWhiteouts: true))
        let snapshots = SnapshotStore(store: sandbox.store)
        try snapshots.adopt(directory: first.execution.upperDirectory, diffID: info.diffID)
        first.execution.discard()
        #expect(try snapshots.prepare(layer: descriptor) == info.diffID)
        let second = try await sandbox.run(
            "cat /app/a; test -e /bin/vi || echo vi-gone", lowers: [snapshots.rootfs(for: info.diffID), sandbox.base])
        second.execution.discard()
        #expect(second.output == "one\nvi-gone\n")
    }
}
