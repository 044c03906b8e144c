import CKilnLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnStore

/// Outbound network for `RUN --network=default`, as docker's bridge gives it, without touching the host's network
/// configuration: a network namespace made for the step and bound to a file, with slirp4netns (user-mode TCP/IP)
/// behind a tap device in it. The step sees `10.0.2.100/24`, a gateway at `10.0.2.2` and a DNS forwarder at
/// `10.0.2.3`; the host's loopback stays unreachable. slirp4netns exits when kiln closes its exit pipe, so
/// nothing outlives kiln even when it is killed; ``stop()`` unmounts the namespace file (a killed kiln's is swept
/// with its execution directory).
struct SlirpNetwork {
    /// The address of slirp's DNS forwarder, for the step's resolv.conf.
    static let nameserver = "10.0.2.3"

    /// slirp4netns on PATH, when installed.
    static var executable: String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/slirp4netns" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The namespace's file, for the runtime spec.
    let namespacePath: String
    private let pid: pid_t
    private let exitPipe: Int32
    /// The network's own directory, removed by ``stop()``.
    private let directory: String

    /// Makes the namespace at `directory/netns` and starts slirp4netns in it; returns once the tap device is up.
    /// `directory` becomes the network's: ``stop()`` removes it.
    static func start(executable: String, in directory: String) async throws -> SlirpNetwork {
        let namespacePath = directory + "/netns"
        guard FileManager.default.createFile(atPath: namespacePath, contents: nil) else { throw RuntimeError("cannot create \(namespacePath)") }
        let made = kiln_make_network_namespace(namespacePath)
        guard made == 0 else { throw RuntimeError("cannot make a network namespace at \(namespacePath): \(String(cString: strerror(made)))") }
        var ready: [Int32] = [0, 0], exit: [Int32] = [0, 0]
        guard kiln_pipe_cloexec(&ready) == 0 else { throw RuntimeError("pipe: \(String(cString: strerror(errno)))") }
        guard kiln_pipe_cloexec(&exit) == 0 else {
            close(ready[0]); close(ready[1])
            throw RuntimeError("pipe: \(String(cString: strerror(errno)))")
        }
        let arguments = [
            executable, "--configure", "--mtu=65520", "--disable-host-loopback", "--ready-fd=3", "--exit-fd=4",
            "--netns-type=path", namespacePath, "tap0",
        ]
        let spawned = ProcessSpawn.spawn(arguments, descriptors: [ready[1]: 3, exit[0]: 4])
        close(ready[1])
        close(exit[0])
        guard case .success(let pid) = spawned else {
            close(ready[0]); close(exit[1])
            umount2(namespacePath, Int32(MNT_DETACH))
            if case .failure(let error) = spawned { throw error }
            throw RuntimeError("cannot start slirp4netns")
        }
        let network = SlirpNetwork(namespacePath: namespacePath, pid: pid, exitPipe: exit[1], directory: directory)
        // slirp4netns writes "1" to the ready pipe once tap0 is configured, or exits (closing it) on failure.
        let readyEnd = ready[0]
        let readyByte = try await BlockingWork.run { () -> Int in
            var byte: UInt8 = 0
            var count = 0
            repeat { count = read(readyEnd, &byte, 1) } while count < 0 && errno == EINTR
            close(readyEnd)
            return count
        }
        guard readyByte == 1 else {
            network.stop()
            throw RuntimeError("slirp4netns did not start (see `slirp4netns --configure` on this host)")
        }
        return network
    }

    /// Stops slirp4netns and unmounts the namespace. The exit is reaped in the background: slirp4netns notices
    /// its exit pipe only at its next poll (about 20 ms), which a step need not wait for.
    func stop() {
        close(exitPipe)
        kill(pid, SIGTERM)
        umount2(namespacePath, Int32(MNT_DETACH))
        try? FileManager.default.removeItem(atPath: directory)
        let pid = self.pid
        DispatchQueue.global().async { _ = ProcessSpawn.exitCode(of: pid) }
    }
}
