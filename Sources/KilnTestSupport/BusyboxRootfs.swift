import Foundation

/// A minimal root filesystem made from Debian's `busybox-static`, for tests that run real containers:
/// `/bin/busybox` with a symlink per applet, `/etc/passwd` and `/etc/group` written directly (the static
/// busybox has no adduser), and the usual top-level directories.
public enum BusyboxRootfs {
    /// The static busybox binary, when installed.
    public static var binary: String? {
        ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Users beyond root: `app` (1000) in groups `app` (1000) and `staff` (50).
    public static let passwd = """
        root:x:0:0:root:/root:/bin/sh
        nobody:x:65534:65534:nobody:/nonexistent:/bin/false
        app:x:1000:1000:app:/home/app:/bin/sh

        """
    public static let group = """
        root:x:0:
        staff:x:50:app
        nogroup:x:65534:
        app:x:1000:

        """

    /// Creates the tree at `path` (which must not exist or be empty).
    public static func make(at path: String) throws {
        guard let binary else { throw BusyboxError("busybox-static is not installed (apt-get install busybox-static)") }
        let manager = FileManager.default
        for directory in ["bin", "etc", "root", "home/app", "tmp", "proc", "sys", "dev", "var", "usr/bin"] {
            try manager.createDirectory(atPath: path + "/" + directory, withIntermediateDirectories: true)
        }
        chmod(path + "/tmp", 0o1777)
        chown(path + "/home/app", 1000, 1000)
        try manager.copyItem(atPath: binary, toPath: path + "/bin/busybox")
        for applet in try applets(of: binary) where applet != "busybox" {
            try manager.createSymbolicLink(atPath: path + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try passwd.write(toFile: path + "/etc/passwd", atomically: false, encoding: .utf8)
        try group.write(toFile: path + "/etc/group", atomically: false, encoding: .utf8)
    }

    private static func applets(of binary: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--list"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.contains("/") }
    }
}

public struct BusyboxError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
