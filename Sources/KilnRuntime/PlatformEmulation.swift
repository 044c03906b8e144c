import Foundation
import KilnOCI

/// Whether this host can run programs of another platform: through binfmt_misc handlers (qemu-user-static)
/// registered with the kernel, which RUN steps then use without knowing.
public enum PlatformEmulation {
    /// QEMU's name of the architecture of `platform`, as binfmt handlers are named (`qemu-aarch64`).
    public static func qemuArchitecture(of platform: Platform) -> String {
        switch platform.architecture {
        case "amd64": return "x86_64"
        case "arm64": return "aarch64"
        case "386": return "i386"
        case "arm": return "arm"
        case "ppc64le": return "ppc64le"
        case "riscv64": return "riscv64"
        case "s390x": return "s390x"
        case "mips64le": return "mips64el"
        default: return platform.architecture
        }
    }

    /// Throws a clear error when RUN steps for `platform` cannot run on this host.
    public static func check(_ platform: Platform, host: Platform = .host, binfmtDirectory: String = "/proc/sys/fs/binfmt_misc") throws {
        guard platform.os == "linux" else { throw RuntimeError("RUN needs a linux platform, not \(platform)") }
        if platform.architecture == host.architecture { return }
        // A 64-bit x86 kernel runs 32-bit x86 programs natively.
        if host.architecture == "amd64" && platform.architecture == "386" { return }
        let handler = binfmtDirectory + "/qemu-" + qemuArchitecture(of: platform)
        guard let status = try? String(contentsOfFile: handler, encoding: .utf8), status.hasPrefix("enabled") else {
            throw RuntimeError(
                "RUN for \(platform) needs emulation, and this \(host) host has no binfmt_misc handler \(handler): "
                    + "install qemu-user-static and binfmt-support (apt-get install qemu-user-static binfmt-support)")
        }
    }
}
