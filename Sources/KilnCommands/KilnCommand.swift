import ArgumentParser

/// The `kiln` command: a daemonless builder with `docker build`'s command line.
public struct KilnCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Build OCI container images from Dockerfiles, with no daemon.",
        version: "0.1.0",
        subcommands: [
            BuildCommand.self, CheckCommand.self, ImagesCommand.self, InspectCommand.self, HistoryCommand.self, TagCommand.self,
            RemoveImageCommand.self, PruneCommand.self, SaveCommand.self, LoadCommand.self, ImportCommand.self,
            FsckCommand.self, PullCommand.self, PushCommand.self, LoginCommand.self, LogoutCommand.self, RunCommand.self, CacheCommand.self,
            ImageCommand.self,
        ]
    )

    public init() {}
}

extension KilnCommand {
    /// Parses the process arguments and runs the chosen subcommand, exiting with its status.
    ///
    /// `main.swift` calls this instead of `main()`, whose synchronous overload wins at top level and
    /// refuses to run asynchronous subcommands.
    public static func runFromCommandLine() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
