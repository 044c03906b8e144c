import CKilnLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts helper programs (the OCI runtime, slirp4netns, git) with a clean slate: only the descriptors given,
/// no signal blocked and every signal's action the default. Foundation's `Process` passes on the spawning
/// thread's signal mask, and kiln's worker threads block most signals; runc handed that mask on to the step's
/// processes, where a blocked SIGALRM, SIGUSR1/2 or SIGCONT breaks programs that rely on them (alarm(), job
/// control, reload signals).
enum ProcessSpawn {
    /// Spawns `arguments` (a name without a slash is looked up in `PATH`) with `environment` (kiln's own when
    /// nil). `descriptors` maps parent descriptors to the child's; standard streams not mapped read from and
    /// write to /dev/null, and nothing else is inherited: a long-lived child (slirp4netns) holding another
    /// child's output pipe would keep its reader from ever seeing end-of-file.
    static func spawn(_ arguments: [String], environment: [String]? = nil, descriptors: [Int32: Int32]) -> Result<pid_t, RuntimeError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in 0...2 where !descriptors.values.contains(descriptor) {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        for (source, target) in descriptors { posix_spawn_file_actions_adddup2(&actions, source, target) }
        kiln_spawn_file_actions_closefrom(&actions, max(2, descriptors.values.max() ?? 2) + 1)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        defer { argv.forEach { free($0) } }
        var envp = environment?.map { strdup($0) }
        envp?.append(nil)
        defer { envp?.forEach { free($0) } }
        var pid: pid_t = 0
        let status: Int32
        if let envp {
            status = envp.withUnsafeBufferPointer { posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, UnsafeMutablePointer(mutating: $0.baseAddress)) }
        } else {
            status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        }
        guard status == 0 else { return .failure(RuntimeError("cannot start \(arguments[0]): \(String(cString: strerror(status)))")) }
        return .success(pid)
    }

    /// Waits for `pid` to end; its exit code, or 128 + N when signal N killed it.
    static func exitCode(of pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return 127 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
