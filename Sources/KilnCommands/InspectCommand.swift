import ArgumentParser
import Foundation
import KilnOCI
import KilnStore

/// `kiln inspect IMAGE…`: image details as JSON, shaped like `docker image inspect`.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on images")

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("Platform to show from a multi-platform image", valueName: "os/arch[/variant]"))
    var platform: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Format each image with a Go template, as docker does (e.g. '{{.Size}}', '{{json .Config}}')", valueName: "template"))
    var format: String?

    @Argument(help: "Images (name, ID or digest)")
    var images: [String]

    struct Inspection: Encodable {
        var Id: String
        var RepoTags: [String]
        var Manifest: String
        var Created: String?
        var Author: String?
        var Architecture: String
        var Os: String
        var Variant: String?
        var Config: ContainerConfig
        var RootFS: RootFSView
        var Size: Int64
        var History: [History]
    }

    struct RootFSView: Encodable {
        var `Type`: String
        var Layers: [String]
    }

    func run() async throws {
        let store = try store.openStore()
        let wanted = try ArgumentValue.platform(platform)
        let tagged = try store.taggedImages()
        var result: [Inspection] = []
        for name in images {
            let image = try store.requireImage(name, platform: wanted)
            let tags = tagged.filter { $0.descriptor.digest == image.descriptor.digest }.map { $0.reference.familiarDescription }
            let size = try image.manifest.layers.reduce(Int64(0)) { $0 + (try store.layerInfo($1.digest).uncompressedSize) }
            result.append(
                Inspection(
                    Id: image.id.description, RepoTags: tags, Manifest: image.manifestDescriptor.digest.description,
                    Created: image.config.created, Author: image.config.author, Architecture: image.config.architecture,
                    Os: image.config.os, Variant: image.config.variant, Config: image.config.config,
                    RootFS: RootFSView(Type: image.config.rootfs.type, Layers: image.config.rootfs.diffIDs.map(\.description)),
                    Size: size, History: image.config.history))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let format {
            let template: FormatTemplate
            do { template = try FormatTemplate(format) } catch { throw CommandFailure("\(error)") }
            for inspection in result {
                print(try template.render(try JSONSerialization.jsonObject(with: try encoder.encode(inspection))))
            }
            return
        }
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}
