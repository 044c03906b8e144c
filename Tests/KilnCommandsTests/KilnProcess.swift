import Foundation

/// Runs the real `kiln` binary (and other tools) for integration tests.
enum KilnProcess {
    /// The `kiln` executable built next to the test bundle.
    static let executable: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("kiln").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("kiln")
    }()

    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `kiln arguments…` with `KILN_ROOT=root`.
    @discardableResult
    static func kiln(_ arguments: [String], root: String, environment: [String: String] = [:], input: Data? = nil) throws -> Result {
        try run(executable.path, arguments, environment: environment.merging(["KILN_ROOT": root]) { $1 }, input: input)
    }

    /// Runs any program, waiting for it.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:], input: Data? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/env")
        process.arguments = program.hasPrefix("/") ? arguments : [program] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe(), errors = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            let writer = Thread {
                stdin.fileHandleForWriting.write(input)
                try? stdin.fileHandleForWriting.close()
            }
            writer.start()
        }
        let errorReader = ErrorCollector(errors.fileHandleForReading)
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self), errors: errorReader.wait())
    }

    /// Whether `tool` is on PATH.
    static func has(_ tool: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
        }
    }
}

/// Reads a pipe on a thread so a chatty stderr cannot block the child.
final class ErrorCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }.start()
    }

    func wait() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A scratch directory on tmpfs, removed at the end.
final class ScratchDirectory: Sendable {
    let path: String

    init(_ name: String) throws {
        path = "/dev/shm/kiln-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        // A podman sandbox leaves its run root under /tmp, linked from here.
        if let runRoot = try? FileManager.default.destinationOfSymbolicLink(atPath: path + "/podman-run") {
            try? FileManager.default.removeItem(atPath: runRoot)
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a small root filesystem tarball (made with GNU tar) and returns its path.
    func makeRootfsTar(files: [String: String] = ["etc/hostname": "kiln\n", "bin/tool": "#!/bin/sh\necho hi\n"]) throws -> String {
        let tree = path + "/tree-\(UUID().uuidString)"
        for (relative, text) in files {
            let file = tree + "/" + relative
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: false, encoding: .utf8)
        }
        let tar = path + "/rootfs-\(UUID().uuidString).tar"
        try KilnProcess.run("tar", ["-C", tree, "-cf", tar, "."])
        return tar
    }
}
