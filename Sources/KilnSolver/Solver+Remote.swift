import AsyncHTTPClient
import Foundation
import KilnGraph
import KilnOCI
import KilnRuntime

extension Solver {
    /// `ADD <url>`: the file downloaded into a directory of its own (mode 0600 and the server's
    /// Last-Modified time, as docker does), checked against `--checksum` when given.
    func download(_ source: HTTPSource, vertex: Vertex, session: BuildSession) async throws -> FileSystemState {
        let directory = try makeScratchDirectory("download", session: session) + "/file"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        progress(.status(vertex.id, "downloading \(source.url)"))
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(HTTPClientRequest(url: source.url), timeout: .seconds(600))
        } catch {
            throw SolveError(step: vertex.name, message: "cannot download \(source.url): \(error)")
        }
        guard response.status == .ok else {
            throw SolveError(step: vertex.name, message: "cannot download \(source.url): \(response.status.code) \(response.status.reasonPhrase)")
        }
        let name = source.filename ?? Self.fileName(of: source.url)
        let path = directory + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw SolveError(step: vertex.name, message: "cannot write \(path)") }
        var hasher = DigestHasher()
        do {
            for try await buffer in response.body {
                let bytes = Array(buffer.readableBytesView)
                hasher.update(bytes)
                try handle.write(contentsOf: bytes)
            }
            try handle.close()
        } catch {
            try? handle.close()
            throw SolveError(step: vertex.name, message: "download of \(source.url) failed: \(error)")
        }
        let digest = hasher.finalize()
        if let checksum = source.checksum, checksum != digest.description {
            throw SolveError(step: vertex.name, message: "digest mismatch \(checksum): \(digest) (downloaded from \(source.url))")
        }
        if let modified = response.headers.first(name: "Last-Modified"), let date = Self.httpDate(modified) {
            try? FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
        }
        return FileSystemState(directory: directory)
    }

    /// `ADD <git url>`: a checkout of the reference (branch, tag or commit), without `.git` unless kept.
    func checkout(_ source: GitSource, vertex: Vertex, session: BuildSession) async throws -> FileSystemState {
        let directory = try makeScratchDirectory("git", session: session) + "/checkout"
        progress(.status(vertex.id, "cloning \(source.remote)"))
        @discardableResult
        func git(_ arguments: [String]) async throws -> String {
            let result: (status: Int32, output: String, errors: String)
            do {
                result = try await ChildProcess.capture("git", arguments, environment: ["GIT_TERMINAL_PROMPT": "0"])
            } catch {
                throw SolveError(step: vertex.name, message: "git is needed for ADD of a git repository: \(error)")
            }
            guard result.status == 0 else {
                throw SolveError(step: vertex.name, message: "git \(arguments.first ?? "") failed: \(result.errors.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try await git(["clone", "--quiet", "--recurse-submodules", source.remote, directory])
        if !source.reference.isEmpty { try await git(["-C", directory, "checkout", "--quiet", source.reference]) }
        if let checksum = source.checksum {
            let head = try await git(["-C", directory, "rev-parse", "HEAD"])
            if !head.hasPrefix(checksum) && !checksum.isEmpty {
                throw SolveError(step: vertex.name, message: "expected checksum to match \(checksum), got \(head)")
            }
        }
        if !source.keepGitDirectory { try? FileManager.default.removeItem(atPath: directory + "/.git") }
        let root = source.subdirectory.isEmpty ? directory : directory + "/" + source.subdirectory
        return FileSystemState(directory: root)
    }

    static func fileName(of url: String) -> String {
        let path = URL(string: url)?.path ?? ""
        let last = (path as NSString).lastPathComponent
        return last.isEmpty || last == "/" ? "index.html" : last
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
