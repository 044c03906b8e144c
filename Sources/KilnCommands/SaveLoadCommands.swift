import ArgumentParser
import Foundation
import KilnArchive
import KilnStore

/// `kiln save [--format docker|oci] -o FILE IMAGE…`.
struct SaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Save one or more images to a tar archive")

    @OptionGroup var store: StoreOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to a file instead of standard output", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Archive format: docker (docker load) or oci (OCI image layout)", valueName: "format"))
    var format: String = "docker"

    @Argument(help: "Images (name, ID or digest)")
    var images: [String]

    func run() async throws {
        guard let archiveFormat = ImageArchiveFormat(rawValue: format) else {
            throw ValidationError("unknown format \(format): use docker or oci")
        }
        if output == nil && isatty(1) != 0 {
            throw CommandFailure("refusing to write an archive to a terminal: use -o or redirect standard output")
        }
        let store = try store.openStore()
        let tagged = try store.taggedImages()
        var found: [StoredImage] = []
        for name in images {
            var image = try store.requireImage(name)
            // An image named by ID is saved under one of its tags, so the archive still carries a name.
            if image.reference == nil {
                image.reference = tagged.first { $0.descriptor.digest == image.descriptor.digest }?.reference
            }
            found.append(image)
        }
        if let output {
            // Written next to the destination and renamed, so a failed save leaves no half archive.
            let temporary = output + ".kiln-partial"
            do {
                _ = try store.save(found, format: archiveFormat, to: try FileByteSink(path: temporary))
                guard rename(temporary, output) == 0 else { throw CommandFailure("cannot write \(output)") }
            } catch {
                unlink(temporary)
                throw error
            }
        } else {
            _ = try store.save(found, format: archiveFormat, to: FileByteSink(descriptor: 1, name: "standard output"))
        }
    }
}

/// `kiln load -i FILE`: OCI archives, OCI layout directories and `docker save` archives, compressed or not.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load images from a tar archive or an OCI layout")

    @OptionGroup var store: StoreOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Read from a file or OCI layout directory instead of standard input", valueName: "file"))
    var input: String?

    func run() async throws {
        let store = try store.openStore()
        var path = input ?? "-"
        var temporary: String?
        if path == "-" {
            // Standard input is spooled inside the store so loading can read it more than once.
            let spool = store.layout.ingestDirectory + "/stdin-" + UUID().uuidString
            let sink = try FileByteSink(path: spool)
            let source = try FileByteSource(path: "-")
            while case let chunk = try source.read(upTo: 1 << 20), !chunk.isEmpty { try sink.write(chunk) }
            path = spool
            temporary = spool
        }
        defer { if let temporary { unlink(temporary) } }
        let loaded: [StoredImage]
        do {
            loaded = try store.load(from: path)
        } catch {
            throw CommandFailure("\(error)")
        }
        for image in loaded {
            if let reference = image.reference {
                print("Loaded image: \(reference.familiarDescription)")
            } else {
                print("Loaded image ID: \(image.id)")
            }
        }
    }
}
