import ArgumentParser
import KilnOCI
import KilnStore

/// `kiln history IMAGE`: one line per history entry, with the size of the layer it made.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show the history of an image")

    @OptionGroup var store: StoreOptions

    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTruncate = false

    @Argument(help: "Image (name, ID or digest)")
    var image: String

    func run() async throws {
        let store = try store.openStore()
        let found = try store.requireImage(image)
        var layerSizes = try found.manifest.layers.map { try store.layerInfo($0.digest).uncompressedSize }[...]
        var rows: [[String]] = []
        for entry in found.config.history {
            let size = entry.emptyLayer == true ? 0 : (layerSizes.popFirst() ?? 0)
            var createdBy = entry.createdBy ?? ""
            if !noTruncate && createdBy.count > 45 { createdBy = String(createdBy.prefix(44)) + "…" }
            rows.append(["<missing>", Formatting.ago(entry.created), createdBy, Formatting.size(size), entry.comment ?? ""])
        }
        rows.reverse()
        if !rows.isEmpty { rows[0][0] = noTruncate ? found.id.description : String(found.id.encoded.prefix(12)) }
        print(Formatting.table([["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]] + rows))
    }
}
