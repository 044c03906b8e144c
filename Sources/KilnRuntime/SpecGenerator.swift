import KilnOCI

/// Builds the OCI runtime configuration of a build container. A pure function of its inputs, so the
/// configuration is golden-tested without root; the defaults are the ones docker and BuildKit use.
public enum SpecGenerator {
    /// Docker's default capability set (moby `oci/caps/defaults.go`, containerd's default spec).
    public static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    /// Every capability Linux defines, for `--security=insecure`.
    public static let allCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// Paths a sandboxed process cannot read (docker's defaults).
    public static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]

    /// Paths a sandboxed process cannot write (docker's defaults).
    public static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// The file systems every container gets: `/proc`, a `/dev` tmpfs (the runtime adds the standard device
    /// nodes), `/dev/pts`, `/dev/shm`, `/dev/mqueue`, and `/sys` (read-only unless insecure).
    public static func systemMounts(security: SecurityMode) -> [RuntimeSpec.Mount] {
        [
            .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            .init(
                destination: "/dev/pts", type: "devpts", source: "devpts",
                options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            .init(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            .init(
                destination: "/sys", type: "sysfs", source: "sysfs",
                options: ["nosuid", "noexec", "nodev"] + (security == .sandbox ? ["ro"] : [])),
        ]
    }

    /// The runtime configuration for running `request` as `user` in `rootfs`, with `mounts` (host files,
    /// `RUN --mount`s) on top of the system mounts. `containerID` names the container's cgroup.
    public static func spec(
        for request: ProcessRequest, rootfs: String, user: ResolvedUser, mounts: [RuntimeSpec.Mount], containerID: String,
        networkNamespace: String? = nil
    ) -> RuntimeSpec {
        var environment = request.environment
        let names = Set(environment.map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0 })
        if !names.contains("PATH") { environment.insert("PATH=" + ProcessRequest.defaultPath, at: 0) }
        if !names.contains("HOME") { environment.append("HOME=" + user.home) }
        let insecure = request.security == .insecure
        let process = RuntimeSpec.Process(
            user: .init(uid: user.uid, gid: user.gid, additionalGids: user.additionalGids.isEmpty ? nil : user.additionalGids),
            args: request.arguments, env: environment, cwd: request.workingDirectory,
            capabilities: .init(insecure ? allCapabilities : defaultCapabilities))
        var namespaces = ["pid", "ipc", "uts", "mount"].map { RuntimeSpec.Namespace(type: $0) }
        if request.network != .host { namespaces.append(.init(type: "network", path: request.network == .sandbox ? networkNamespace : nil)) }
        let linux = RuntimeSpec.Linux(
            namespaces: namespaces,
            maskedPaths: insecure ? [] : maskedPaths,
            readonlyPaths: insecure ? [] : readonlyPaths,
            cgroupsPath: "/kiln/" + containerID,
            resources: .init(devices: [.init(allow: insecure, access: "rwm")]))
        return RuntimeSpec(
            process: process, root: .init(path: rootfs), hostname: request.network == .host ? nil : request.hostname,
            mounts: systemMounts(security: request.security) + ordered(mounts), linux: linux)
    }

    /// Mounts in an order that mounts parents before what is inside them; a later mount on the same
    /// destination replaces an earlier one.
    static func ordered(_ mounts: [RuntimeSpec.Mount]) -> [RuntimeSpec.Mount] {
        var byDestination: [String: Int] = [:]
        var unique: [RuntimeSpec.Mount] = []
        for mount in mounts {
            if let index = byDestination[mount.destination] {
                unique[index] = mount
            } else {
                byDestination[mount.destination] = unique.count
                unique.append(mount)
            }
        }
        return unique.enumerated().sorted { left, right in
            let leftDepth = left.element.destination.split(separator: "/").count
            let rightDepth = right.element.destination.split(separator: "/").count
            return leftDepth != rightDepth ? leftDepth < rightDepth : left.offset < right.offset
        }.map(\.element)
    }
}
