import ArgumentParser

/// `kiln image ls|inspect|history|tag|rm|prune|save|load|import|pull|push`: docker's management command,
/// so scripts written for `docker image …` work unchanged.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images (docker image …)",
        subcommands: [
            ImageListCommand.self, InspectCommand.self, HistoryCommand.self, TagCommand.self, ImageRemoveCommand.self, PruneCommand.self,
            SaveCommand.self, LoadCommand.self, ImportCommand.self, PullCommand.self, PushCommand.self,
        ])
}

/// `kiln image ls`: `kiln images` under docker's management-command name.
struct ImageListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images", aliases: ["list"])

    @OptionGroup var images: ImagesCommand

    func run() async throws {
        try await images.run()
    }
}

/// `kiln image rm`: `kiln rmi` under docker's management-command name.
struct ImageRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more images")

    @OptionGroup var remove: RemoveImageCommand

    func run() async throws {
        try await remove.run()
    }
}
