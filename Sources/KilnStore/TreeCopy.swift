import Foundation

/// Copies directory trees with everything a layer carries (modes, owners, times, xattrs, hardlinks,
/// special files), by coreutils' `cp -a`, which does it right and uses reflinks where the file system can.
public enum TreeCopy {
    /// Copies what is inside `source` into the existing directory `destination`.
    public static func copyContents(of source: String, to destination: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cp")
        process.arguments = ["-a", "--reflink=auto", "--", source + "/.", destination + "/"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw StoreError(.io, "cannot run cp to copy \(source)", cause: error)
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw StoreError(.io, "cannot copy \(source) to \(destination): \(text)")
        }
    }
}
