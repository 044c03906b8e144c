import ArgumentParser
import Foundation
import KilnArchive
import KilnDockerfile
import KilnOCI
import KilnStore

/// `kiln import FILE|- [REPOSITORY[:TAG]]`: a root filesystem tarball as a one-layer image, like `docker import`.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import a root filesystem tarball as an image")

    @OptionGroup var store: StoreOptions

    @Option(name: .shortAndLong, parsing: .singleValue, help: ArgumentHelp("Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL, HEALTHCHECK, SHELL)", valueName: "instruction"))
    var change: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("Commit message recorded in the history", valueName: "message"))
    var message: String?

    @Option(help: ArgumentHelp("Platform of the image (default: this machine's)", valueName: "os/arch[/variant]"))
    var platform: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Name the image (repeatable)", valueName: "name[:tag]"))
    var tag: [String] = []

    @Option(help: ArgumentHelp("Layer compression: gzip, zstd or none", valueName: "compression"))
    var compression: String = "gzip"

    @Option(name: .customLong("compression-level"), help: ArgumentHelp("Compression level (gzip 1–9, default 6; zstd 1–19, default 3)", valueName: "level"))
    var compressionLevel: Int32?

    @Argument(help: "The tarball (plain, gzip or zstd), a root filesystem directory, or - for standard input")
    var file: String

    @Argument(help: "Repository and tag for the image")
    var reference: String?

    static let allowedChanges: Set<String> = [
        "cmd", "entrypoint", "env", "expose", "label", "onbuild", "user", "volume", "workdir", "stopsignal", "healthcheck", "shell",
    ]

    func run() async throws {
        let references = try (tag + (reference.map { [$0] } ?? [])).map(ArgumentValue.reference)
        let layerCompression: CompressionFormat
        switch compression {
        case "gzip": layerCompression = .gzip
        case "zstd": layerCompression = .zstd
        case "none": layerCompression = .none
        default: throw ValidationError("unknown compression \(compression): use gzip, zstd or none")
        }
        let imagePlatform = try ArgumentValue.platform(platform)
        var config = ImageConfig(platform: imagePlatform, created: Formatting.creationTime())
        config.config = try Self.applying(change, platform: imagePlatform)

        let store = try store.openStore()
        var isDirectory: ObjCBool = false
        let (layer, info): (Descriptor, LayerInfo)
        if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
            // A directory is archived deterministically, times clamped to SOURCE_DATE_EPOCH when set.
            let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) }
            (layer, info) = try store.commitLayer(
                directory: file, compression: layerCompression, level: compressionLevel, options: TreeArchiver.Options(sourceDateEpoch: epoch))
        } else {
            (layer, info) = try store.ingestLayer(from: try FileByteSource(path: file), compression: layerCompression, level: compressionLevel)
        }
        config.rootfs = RootFS(diffIDs: [info.diffID])
        config.history = [History(createdBy: "", comment: message ?? "Imported from \(file)", created: config.created)]
        let image = try store.commitImage(config: config, layers: [layer], tags: references)
        print(image.id)
    }

    /// The container config that `--change` instructions describe, computed by kiln's Dockerfile frontend.
    static func applying(_ changes: [String], platform: Platform) throws -> ContainerConfig {
        guard !changes.isEmpty else { return ContainerConfig() }
        let base = "kiln.invalid/import-base"
        let source = "FROM \(base)\n" + changes.joined(separator: "\n") + "\n"
        do {
            let dockerfile = try Dockerfile(source: source)
            for instruction in dockerfile.stages[0].instructions where !allowedChanges.contains(instruction.node.keyword) {
                throw ValidationError("\(instruction.keyword) is not a supported change for import")
            }
            let plan = try BuildPlan(dockerfile: dockerfile, options: BuildOptions(targetPlatform: platform))
            struct EmptyBase: BaseImageConfigProvider {
                let platform: Platform
                func config(for reference: String, platform: Platform) -> ImageConfig? { ImageConfig(platform: platform) }
            }
            return try Lowering.lower(plan, baseImages: EmptyBase(platform: platform)).target.config.config
        } catch let error as DockerfileDiagnostics {
            throw ValidationError("invalid --change: \(error)")
        } catch let error as DockerfileError {
            throw ValidationError("invalid --change: \(error)")
        }
    }
}
