import ArgumentParser
import KilnOCI
import KilnStore

/// `kiln images`: the tagged images, then the unnamed ones, like `docker images`.
struct ImagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images")

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Only show image IDs")
    var quiet = false

    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTruncate = false

    func run() async throws {
        let store = try store.openStore()
        var entries: [(reference: ImageReference?, descriptor: Descriptor)] = try store.taggedImages().map { ($0.reference, $0.descriptor) }
        entries += try store.untaggedImages().map { (nil, $0) }
        var rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]]
        var seen = Set<String>()
        for (reference, descriptor) in entries {
            let image = try store.image(descriptor: descriptor, reference: reference)
            let id = noTruncate ? image.id.description : String(image.id.encoded.prefix(12))
            if quiet {
                if seen.insert(id).inserted { print(id) }
                continue
            }
            let size = try image.manifest.layers.reduce(Int64(0)) { $0 + (try store.layerInfo($1.digest).uncompressedSize) }
            var repository = "<none>"
            if let reference {
                let familiar = reference.familiarDescription
                repository = reference.tag.map { String(familiar.prefix(familiar.count - $0.count - 1)) } ?? familiar
            }
            rows.append([repository, reference?.tag ?? "<none>", id, Formatting.ago(image.config.created), Formatting.size(size)])
        }
        if !quiet { print(Formatting.table(rows)) }
    }
}
