import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A directory under the store's `executions/` that names its owner process in an `owner` file, so that
/// ``ContainerExecutor/sweepAbandoned()`` leaves it alone while that process lives and removes it after.
public enum OwnedDirectory {
    /// Makes `parent/<prefix><16 hex digits>` with `subdirectories` and an owner file naming this process;
    /// returns its name and path.
    public static func make(in parent: String, prefix: String, subdirectories: [String] = []) throws -> (name: String, path: String) {
        let name = prefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let path = parent + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        do {
            for subdirectory in subdirectories {
                try FileManager.default.createDirectory(atPath: path + "/" + subdirectory, withIntermediateDirectories: true)
            }
            try String(getpid()).write(toFile: path + "/owner", atomically: true, encoding: .utf8)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return (name, path)
    }
}
