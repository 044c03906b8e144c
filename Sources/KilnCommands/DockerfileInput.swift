import ArgumentParser
import Foundation
import KilnDockerfile

/// The Dockerfile and `.dockerignore` a command works on, found as `docker build` finds them.
struct DockerfileInput {
    var displayName: String
    var source: String
    var ignorePatterns: [String]

    /// Parses the Dockerfile; when it does not parse, prints every error with its place and exits with `failureStatus`.
    func parse(renderer: DiagnosticRenderer, failureStatus: Int32) throws -> Dockerfile {
        do {
            return try Dockerfile(source: source)
        } catch {
            for dockerfileError in error.errors { printError(renderer.render(Diagnostic(dockerfileError))) }
            throw ExitCode(failureStatus)
        }
    }

    init(displayName: String, source: String, ignorePatterns: [String]) {
        self.displayName = displayName
        self.source = source
        self.ignorePatterns = ignorePatterns
    }

    /// - Parameters:
    ///   - file: `-f` value: a path, `-` for standard input, or nil for `CONTEXT/Dockerfile`.
    ///   - context: the context directory.
    init(file: String?, context: String) throws {
        let path = file ?? (context as NSString).appendingPathComponent("Dockerfile")
        if path == "-" {
            displayName = "Dockerfile"
            source = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("failed to read Dockerfile: open \(path): no such file or directory")
            }
            displayName = file == nil ? "Dockerfile" : (path as NSString).lastPathComponent
            source = String(decoding: data, as: UTF8.self)
        }
        // docker reads FILE.dockerignore next to the Dockerfile first, then CONTEXT/.dockerignore.
        var candidates: [String] = []
        if let file, file != "-" { candidates.append(file + ".dockerignore") }
        candidates.append((context as NSString).appendingPathComponent(".dockerignore"))
        ignorePatterns = []
        for candidate in candidates {
            if let data = FileManager.default.contents(atPath: candidate) {
                ignorePatterns = DockerignorePatterns.parse(String(decoding: data, as: UTF8.self))
                break
            }
        }
    }
}

/// `--build-arg NAME=value`, or `--build-arg NAME` to take the value from the environment.
enum BuildArgument {
    static func parse(_ values: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        for value in values {
            if let equals = value.firstIndex(of: "=") {
                result[String(value[..<equals])] = String(value[value.index(after: equals)...])
            } else if let environmentValue = ProcessInfo.processInfo.environment[value] {
                result[value] = environmentValue
            }
        }
        return result
    }
}
