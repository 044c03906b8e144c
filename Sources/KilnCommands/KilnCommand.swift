import ArgumentParser

/// The `kiln` command: a daemonless builder with `docker build`'s command line.
public struct KilnCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Build OCI container images from Dockerfiles, with no daemon.",
        version: "0.1.0",
        subcommands: [CheckCommand.self]
    )

    public init() {}
}
