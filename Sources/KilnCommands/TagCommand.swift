import ArgumentParser
import KilnOCI
import KilnStore

/// `kiln tag SOURCE TARGET`.
struct TagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")

    @OptionGroup var store: StoreOptions

    @Argument(help: "Source image (name, ID or digest)")
    var source: String

    @Argument(help: "New name")
    var target: String

    func run() async throws {
        let store = try store.openStore()
        let image = try store.requireImage(source)
        try store.tag(try ArgumentValue.reference(target), image.descriptor)
    }
}

/// `kiln rmi IMAGE…`: removes tags, then the content nothing refers to any more.
struct RemoveImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove one or more images")

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Remove every tag of an image given by ID")
    var force = false

    @Argument(help: "Images (name, ID or digest)")
    var images: [String]

    func run() async throws {
        let store = try store.openStore()
        for name in images {
            let tagged = try store.taggedImages()
            if let reference = try? ImageReference(parsing: name), tagged.contains(where: { $0.reference == reference }) {
                try store.untag(reference)
                print("Untagged: \(reference.familiarDescription)")
                continue
            }
            let image = try store.requireImage(name)
            let references = tagged.filter { $0.descriptor.digest == image.descriptor.digest }.map(\.reference)
            if references.count > 1 && !force {
                throw CommandFailure("unable to delete \(String(image.id.encoded.prefix(12))) (must be forced) - image is referenced in multiple repositories")
            }
            for reference in references {
                try store.untag(reference)
                print("Untagged: \(reference.familiarDescription)")
            }
            try store.removeUntagged(image.descriptor.digest)
        }
        let (removed, _) = try store.collectGarbage()
        for item in removed where item.hasPrefix("blob ") { print("Deleted: \(item.dropFirst(5))") }
    }
}

/// `kiln prune`: removes blobs and snapshots no image uses and interrupted writes.
struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused data from the store")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let (removed, bytes) = try store.openStore().collectGarbage()
        for item in removed { print("Deleted \(item)") }
        print("Total reclaimed space: \(Formatting.size(bytes))")
    }
}

/// `kiln fsck`: verifies every blob and image; `--repair` removes corrupt blobs and garbage.
struct FsckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fsck", abstract: "Check the store's consistency")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Remove corrupt blobs and garbage")
    var repair = false

    func run() async throws {
        let report = try store.openStore().check(repair: repair)
        for problem in report.problems { print("error: \(problem)") }
        for item in report.garbage { print("garbage: \(item)") }
        for item in report.repaired { print("repaired: \(item)") }
        print("checked \(report.blobsChecked) blobs and \(report.imagesChecked) images: \(report.problems.count) problems, \(report.garbage.count) garbage")
        if !report.isHealthy { throw ExitCode(1) }
    }
}
