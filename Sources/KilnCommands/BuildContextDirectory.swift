import ArgumentParser
import Foundation
import KilnArchive

/// The build context as a directory: the one given, or a tar (compressed or not) read from standard
/// input and unpacked into a temporary directory; a Dockerfile on standard input gives an empty context.
struct BuildContextDirectory {
    let directory: String
    private let temporary: String?
    /// A Dockerfile read from standard input instead of a context.
    private let dockerfileFromInput: String?
    private let dockerfile: String?

    init(argument: String, dockerfile: String?) throws {
        self.dockerfile = dockerfile
        guard argument == "-" else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("unable to prepare context: path \"\(argument)\" not found")
            }
            directory = argument
            temporary = nil
            dockerfileFromInput = nil
            return
        }
        let scratch = NSTemporaryDirectory() + "/kiln-context-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        temporary = scratch
        directory = scratch
        let data = FileHandle.standardInput.readDataToEndOfFile()
        var reader = TarReader(source: DecompressingSource(MemorySource(Array(data))))
        if ((try? reader.next()) ?? nil) != nil {
            var reader = TarReader(source: DecompressingSource(MemorySource(Array(data))))
            var options = SafeExtractor.Options()
            options.preservesOwners = false
            options.allowsDevices = false
            var extractor = try SafeExtractor(root: scratch, options: options)
            try extractor.extractAll(from: &reader)
            dockerfileFromInput = nil
        } else {
            dockerfileFromInput = String(decoding: data, as: UTF8.self)
        }
    }

    /// The Dockerfile and ignore patterns of this context.
    func dockerfileInput() throws -> DockerfileInput {
        if let dockerfileFromInput {
            return DockerfileInput(displayName: "Dockerfile", source: dockerfileFromInput, ignorePatterns: [])
        }
        return try DockerfileInput(file: dockerfile, context: directory)
    }

    func cleanUp() {
        if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
    }
}
