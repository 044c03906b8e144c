import ArgumentParser
import Foundation
import KilnOCI
import KilnRegistry
import KilnStore

/// Options shared by the commands that talk to registries.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"), help: ArgumentHelp("Use plain HTTP for this registry host (repeatable; loopback always does)", valueName: "host[:port]"))
    var insecureRegistries: [String] = []

    /// Runs `body` with a client configured from the flags, the environment and registries.conf, shut down
    /// afterwards; registry failures become one-line command errors.
    func withClient<T>(_ body: (RegistryClient) async throws -> T) async throws -> T {
        do {
            return try await RegistryClient.withClient(configuration: makeConfiguration(), body)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    func makeConfiguration() -> RegistryConfiguration {
        var hosts = Set(insecureRegistries)
        if let environment = ProcessInfo.processInfo.environment["KILN_INSECURE_REGISTRIES"] {
            hosts.formUnion(environment.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        }
        var configuration = RegistryConfiguration(insecureHosts: hosts)
        // Mirrors and insecure registries from /etc/containers/registries.conf(.d), as podman and buildah read them.
        do {
            configuration.registries = try RegistriesConf.load()
        } catch {
            printError("warning: ignoring the containers registries configuration: \(error)")
        }
        return configuration
    }
}

/// Prints one line per blob as it is transferred (plain progress, suitable for logs and terminals alike).
func transferReporter(verb: String) -> @Sendable (RegistryClient.TransferEvent) -> Void {
    { event in
        let short = event.digest.encoded.prefix(12)
        switch event.kind {
        case .started: print("\(short): \(verb) \(Formatting.size(event.size))")
        case .resumed: print("\(short): resuming at \(Formatting.size(event.offset)) of \(Formatting.size(event.size))")
        case .finished: print("\(short): done")
        case .skipped: print("\(short): already exists")
        case .unpacked: print("\(short): unpacked")
        }
    }
}

/// `kiln pull [--platform P] NAME[:TAG|@DIGEST]`.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Download an image from a registry")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    @Option(help: ArgumentHelp("Platform to pull from a multi-platform image", valueName: "os/arch[/variant]"))
    var platform: String?

    @Flag(name: .shortAndLong, help: "Print only the image reference")
    var quiet = false

    @Argument(help: "Image to pull")
    var image: String

    func run() async throws {
        let wanted = try ArgumentValue.platform(platform)
        let store = try store.openStore()
        var reference = try ArgumentValue.reference(image)
        let pulled = try await registry.withClient { client in
            reference = try ArgumentValue.reference(client.resolvingAlias(image))
            return try await client.pull(reference, platform: wanted, into: store, unpack: true, progress: quiet ? nil : transferReporter(verb: "downloading"))
        }
        if !quiet {
            print("Digest: \(pulled.manifestDescriptor.digest)")
            print("Status: Downloaded image for \(reference.familiarDescription)")
        }
        print(reference.description)
    }
}

/// `kiln push NAME[:TAG]`.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Upload an image to a registry")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    @Flag(name: .shortAndLong, help: "Print only the pushed digest")
    var quiet = false

    @Argument(help: "Image to push (it must be tagged with the registry's name)")
    var image: String

    func run() async throws {
        let reference = try ArgumentValue.reference(image)
        let store = try store.openStore()
        let found = try store.requireImage(image)
        let digest = try await registry.withClient { client in
            try await client.push(found, to: reference, from: store, progress: quiet ? nil : transferReporter(verb: "pushing"))
        }
        print(quiet ? digest.description : "\(reference.tag ?? "latest"): digest: \(digest) size: \(found.descriptor.size)")
    }
}

/// `kiln login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]`: stores credentials where docker reads them.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in to a registry")

    @Option(name: .shortAndLong, help: "Username")
    var username: String?

    @Option(name: .shortAndLong, help: "Password (prefer --password-stdin)")
    var password: String?

    @Flag(name: .customLong("password-stdin"), help: "Take the password from standard input")
    var passwordFromStandardInput = false

    @Argument(help: "Registry host (default: docker.io)")
    var server: String = "docker.io"

    func run() async throws {
        guard let username else { throw ValidationError("--username is required (kiln does not prompt)") }
        var secret = password
        if passwordFromStandardInput {
            secret = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .newlines)
        }
        guard let secret, !secret.isEmpty else { throw ValidationError("a password is required: -p or --password-stdin") }
        let host = Self.host(server)
        try DockerConfig().store(Credential(username: username, secret: secret), for: host)
        print("Login Succeeded")
    }

    /// `https://ghcr.io/` → `ghcr.io`.
    static func host(_ server: String) -> String {
        var text = server
        for prefix in ["https://", "http://"] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        return String(text.split(separator: "/").first ?? Substring(text))
    }
}

/// `kiln logout [SERVER]`.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out from a registry")

    @Argument(help: "Registry host (default: docker.io)")
    var server: String = "docker.io"

    func run() async throws {
        let host = LoginCommand.host(server)
        if try DockerConfig().remove(for: host) {
            print("Removing login credentials for \(host)")
        } else {
            print("Not logged in to \(host)")
        }
    }
}
