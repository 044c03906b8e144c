import ArgumentParser
import Foundation
import KilnOCI
import KilnRuntime
import KilnStore

/// `kiln run`: runs a command in a throwaway container of an image, to try what a build produced.
/// Changes are always discarded (docker's `--rm` is accepted and implied).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a command in a new container of an image; its changes are discarded.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .customLong("rm"), help: "Remove the container when it exits (always done).")
    var remove = false

    @Option(name: [.short, .customLong("env")], help: ArgumentHelp("Set an environment variable (NAME=value, or NAME to pass it through)", valueName: "env"))
    var environment: [String] = []

    @Option(name: [.short, .customLong("user")], help: ArgumentHelp("User to run as (name, uid, name:group, uid:gid)", valueName: "user"))
    var user: String?

    @Option(name: [.short, .customLong("workdir")], help: ArgumentHelp("Working directory inside the container", valueName: "dir"))
    var workingDirectory: String?

    @Option(help: ArgumentHelp("Override the image's entrypoint", valueName: "command"))
    var entrypoint: String?

    @Option(help: ArgumentHelp("Network: default (loopback only), none, host", valueName: "mode"))
    var network = "default"

    @Option(help: ArgumentHelp("OCI runtime: crun, runc or a path (default: crun, else runc)", valueName: "runtime"))
    var runtime: String?

    @Option(help: ArgumentHelp("Platform of the image to run", valueName: "os/arch"))
    var platform: String?

    @Argument(help: "The image to run")
    var image: String

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (default: the image's)")
    var command: [String] = []

    func run() async throws {
        let store = try store.openStore()
        let wanted = try platform.map { try Platform(parsing: $0) } ?? .host
        let stored = try store.requireImage(image, platform: wanted)
        let request = try processRequest(for: stored.config)
        let runtime: OCIRuntime
        do {
            runtime = try OCIRuntime.detect(preferred: self.runtime)
        } catch {
            throw CommandFailure("\(error)")
        }
        let snapshots = SnapshotStore(store: store)
        let holder = "run-\(getpid())"
        var lowers: [String] = []
        for layer in stored.manifest.layers {
            let diffID = try snapshots.prepare(layer: layer)
            try snapshots.acquire(diffID, holder: holder)
            lowers.insert(snapshots.rootfs(for: diffID), at: 0)
        }
        defer {
            for layer in stored.manifest.layers {
                if let diffID = try? store.layerInfo(layer.digest).diffID { try? snapshots.release(diffID, holder: holder) }
            }
        }
        let executor = ContainerExecutor(runtime: runtime, store: store)
        await executor.sweepAbandoned()
        let stack = lowers
        let execution = try await SignalCancellation.run {
            try await executor.execute(request, lowers: stack) { stream, bytes in
                let handle = stream == .standardOutput ? FileHandle.standardOutput : FileHandle.standardError
                handle.write(Data(bytes))
            }
        }
        execution.discard()
        if execution.exitCode != 0 { throw ExitCode(execution.exitCode) }
    }

    /// The process docker would start: entrypoint and command from the image unless overridden.
    func processRequest(for image: ImageConfig) throws -> ProcessRequest {
        let config = image.config
        let entrypointArguments = entrypoint.map { $0.isEmpty ? [] : [$0] } ?? config.entrypoint ?? []
        // As in docker, a new entrypoint drops the image's command.
        let commandArguments = !command.isEmpty ? command : entrypoint == nil ? config.cmd ?? [] : []
        let arguments = entrypointArguments + commandArguments
        guard !arguments.isEmpty else { throw CommandFailure("no command specified: the image has no entrypoint or command") }
        var environment = config.env ?? []
        for assignment in self.environment {
            let pair = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            let value = pair.count == 2 ? pair[1] : ProcessInfo.processInfo.environment[pair[0]]
            guard let value else { continue }
            environment.removeAll { $0.hasPrefix(pair[0] + "=") }
            environment.append(pair[0] + "=" + value)
        }
        guard let access = NetworkAccess(cliValue: network) else {
            throw CommandFailure("invalid network mode \(network): expected default, none or host")
        }
        return ProcessRequest(
            arguments: arguments, environment: environment, workingDirectory: workingDirectory ?? config.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/",
            user: user ?? config.user ?? "", network: access)
    }
}

extension NetworkAccess {
    /// Parses the value of `--network` (`default` is the sandbox).
    init?(cliValue: String) {
        switch cliValue {
        case "default", "sandbox", "": self = .sandbox
        case "none": self = .none
        case "host": self = .host
        default: return nil
        }
    }
}
