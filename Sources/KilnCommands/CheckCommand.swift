import ArgumentParser
import Foundation
import KilnDockerfile
import KilnGraph
import KilnOCI

/// `kiln check`: parse and resolve a Dockerfile, print diagnostics and the stage plan, build nothing.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a Dockerfile: report errors with their position and show which stages a build would run."
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Name of the Dockerfile (default: CONTEXT/Dockerfile)", valueName: "file"))
    var file: String?

    @Option(help: ArgumentHelp("Set the target build stage", valueName: "stage"))
    var target: String?

    @Option(name: .customLong("build-arg"), help: ArgumentHelp("Set a build-time variable", valueName: "name[=value]"))
    var buildArgs: [String] = []

    @Option(help: ArgumentHelp("Set the target platform", valueName: "os/arch[/variant]"))
    var platform: String?

    @Flag(help: "Print the syntax tree in BuildKit's dump format")
    var ast = false

    @Flag(help: "Print every vertex of the lowered build graph")
    var graph = false

    @Argument(help: ArgumentHelp("The build context directory", valueName: "context"))
    var context: String = "."

    func run() async throws {
        let input = try DockerfileInput(file: file, context: context)
        let renderer = DiagnosticRenderer(fileName: input.displayName, source: input.source)
        let dockerfile = try input.parse(renderer: renderer, failureStatus: 2)
        for warning in dockerfile.syntax.warnings { printError(renderer.render(Diagnostic(warning))) }
        if ast { print(dockerfile.syntax.root.dump()) }

        var options = BuildOptions(target: target, buildArgs: try BuildArgument.parse(buildArgs))
        options.targetPlatform = try ArgumentValue.platform(platform)
        let lowered: LoweredBuild
        let plan: BuildPlan
        do {
            plan = try BuildPlan(dockerfile: dockerfile, options: options)
            lowered = try Lowering.lower(plan, contextExcludes: input.ignorePatterns)
        } catch {
            printError(renderer.render(Diagnostic(error)))
            throw ExitCode(2)
        }
        let unconsumed = plan.unconsumedBuildArgs
        if !unconsumed.isEmpty {
            printError("warning: one or more build-args [\(unconsumed.joined(separator: " "))] were not consumed")
        }
        print(StagePlanReport(plan: plan, lowered: lowered).render())
        if graph {
            for vertex in lowered.graph.vertices {
                print("  #\(vertex.id) \(vertex.digest.encoded.prefix(12)) \(vertex.name) <- \(vertex.inputs.map { "#\($0)" }.joined(separator: ","))")
            }
        }
    }
}

/// Prints a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
