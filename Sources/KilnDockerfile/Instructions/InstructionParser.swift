import KilnGraph

/// Turns syntax nodes into typed instructions with BuildKit's argument checks and error texts.
public enum InstructionParser {
    /// The instruction keywords, lower case.
    public static let keywords: [String] = [
        "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label", "maintainer",
        "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir",
    ]

    /// Parses one instruction node.
    ///
    /// - Throws: ``DockerfileError`` placed at the instruction.
    public static func parse(_ node: Node) throws(DockerfileError) -> Instruction {
        do {
            let kind = try parseKind(node)
            return Instruction(
                kind: kind, keyword: node.value, code: node.original.trimmingGoSpace(), range: node.range,
                comments: node.previousComments, node: node)
        } catch {
            throw error.located(at: node.range)
        }
    }

    private static func parseKind(_ node: Node) throws(DockerfileError) -> InstructionKind {
        let args = node.arguments
        var flags = BuilderFlags(node.flags)
        switch node.keyword {
        case "env":
            try flags.parse()
            return .env(try keyValues(args, instruction: "ENV"))
        case "maintainer":
            guard args.count == 1 else { throw exactlyOne("MAINTAINER") }
            try flags.parse()
            return .maintainer(args[0])
        case "label":
            try flags.parse()
            return .label(try keyValues(args, instruction: "LABEL"))
        case "add":
            guard args.count >= 2 else { throw noDestination("ADD") }
            flags.declareString("chown")
            flags.declareString("chmod")
            flags.declareBool("link")
            flags.declareBool("keep-git-dir")
            flags.declareString("checksum")
            flags.declareBool("unpack")
            flags.declareStrings("exclude")
            try flags.parse()
            return .add(
                AddInstruction(
                    sources: try copySources(node, command: "ADD"), chown: flags.string("chown"),
                    chmod: flags.string("chmod"), link: flags.bool("link"),
                    keepGitDirectory: flags.isUsed("keep-git-dir") ? flags.bool("keep-git-dir") : nil,
                    checksum: flags.string("checksum"), unpack: flags.isUsed("unpack") ? flags.bool("unpack") : nil,
                    excludes: flags.strings("exclude")))
        case "copy":
            guard args.count >= 2 else { throw noDestination("COPY") }
            flags.declareString("chown")
            flags.declareString("from")
            flags.declareString("chmod")
            flags.declareBool("link")
            flags.declareStrings("exclude")
            flags.declareBool("parents")
            try flags.parse()
            return .copy(
                CopyInstruction(
                    sources: try copySources(node, command: "COPY"), from: flags.string("from"),
                    chown: flags.string("chown"), chmod: flags.string("chmod"), link: flags.bool("link"),
                    parents: flags.bool("parents"), excludes: flags.strings("exclude")))
        case "from":
            let stageName: String?
            if args.count == 3 && args[1].lowercased() == "as" {
                let name = args[2].lowercased()
                guard isValidStageName(name) else {
                    throw DockerfileError(
                        "invalid name for build stage: \(goQuoted(args[2])), name can't start with a number or contain symbols")
                }
                stageName = name
            } else if args.count != 1 {
                throw DockerfileError("FROM requires either one or three arguments")
            } else {
                stageName = nil
            }
            flags.declareString("platform")
            try flags.parse()
            return .from(base: args[0], stageName: stageName, platform: flags.string("platform"))
        case "onbuild":
            guard !args.isEmpty else { throw atLeastOne("ONBUILD") }
            try flags.parse()
            let trigger = args[0].trimmingGoSpace().uppercased()
            switch trigger {
            case "ONBUILD": throw DockerfileError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
            case "MAINTAINER", "FROM": throw DockerfileError("\(trigger) isn't allowed as an ONBUILD trigger")
            default: break
            }
            var expression = removingOnbuildKeyword(node.original)
            for heredoc in node.heredocs {
                expression += "\n" + heredoc.content + heredoc.name
            }
            return .onbuild(expression)
        case "workdir":
            guard args.count == 1 else { throw exactlyOne("WORKDIR") }
            try flags.parse()
            return .workdir(args[0])
        case "run":
            flags.declareStrings("mount")
            flags.declareString("network", default: "default")
            flags.declareString("security", default: "sandbox")
            flags.declareStrings("device")
            try flags.parse()
            let rawMounts = flags.strings("mount")
            let mounts = try rawMounts.map { (value) throws(DockerfileError) in try MountSpec.parse(value, expand: nil) }
            let network = flags.string("network")
            guard ["default", "none", "host"].contains(network) else {
                throw DockerfileError("invalid network mode \(goQuoted(network))")
            }
            let security = flags.string("security")
            guard ["sandbox", "insecure"].contains(security) else {
                throw DockerfileError("security \(goQuoted(security)) is not valid")
            }
            return .run(
                RunInstruction(
                    command: commandLine(node, args: args, emptyAsNil: false), mounts: mounts, network: network,
                    security: security, devices: flags.strings("device"), rawMounts: rawMounts))
        case "cmd":
            try flags.parse()
            return .cmd(commandLine(node, args: args, emptyAsNil: false))
        case "entrypoint":
            try flags.parse()
            return .entrypoint(commandLine(node, args: args, emptyAsNil: true))
        case "healthcheck":
            return .healthcheck(try healthcheck(node, args: args, flags: &flags))
        case "expose":
            guard !args.isEmpty else { throw atLeastOne("EXPOSE") }
            try flags.parse()
            return .expose(args.sorted())
        case "user":
            guard args.count == 1 else { throw exactlyOne("USER") }
            try flags.parse()
            return .user(args[0])
        case "volume":
            guard !args.isEmpty else { throw atLeastOne("VOLUME") }
            try flags.parse()
            var volumes: [String] = []
            for value in args {
                let trimmed = value.trimmingGoSpace()
                guard !trimmed.isEmpty else { throw DockerfileError("VOLUME specified can not be an empty string") }
                volumes.append(trimmed)
            }
            return .volume(volumes)
        case "stopsignal":
            guard args.count == 1 else { throw exactlyOne("STOPSIGNAL") }
            return .stopSignal(args[0])
        case "arg":
            guard !args.isEmpty else { throw atLeastOne("ARG") }
            var definitions: [ArgDefinition] = []
            for arg in args {
                if let equals = arg.firstIndex(of: "=") {
                    guard equals != arg.startIndex else { throw DockerfileError("ARG names can not be blank") }
                    definitions.append(
                        ArgDefinition(name: String(arg[..<equals]), defaultValue: String(arg[arg.index(after: equals)...])))
                } else {
                    definitions.append(ArgDefinition(name: arg, defaultValue: nil))
                }
            }
            return .arg(definitions)
        case "shell":
            try flags.parse()
            let shell = jsonArguments(args, isJSON: node.isJSON)
            if shell.isEmpty { throw atLeastOne("SHELL") }
            guard node.isJSON else { throw DockerfileError("SHELL requires the arguments to be in JSON form") }
            return .shell(shell)
        default:
            var message = "unknown instruction: \(node.value)"
            if let suggestion = Suggestion.closest(to: node.value, in: keywords.map { $0.uppercased() }, caseSensitive: false) {
                message += " (did you mean \(suggestion)?)"
            }
            throw DockerfileError(message)
        }
    }

    static func isValidStageName(_ name: String) -> Bool {
        // ^[a-z][a-z0-9-_.]*$
        guard let first = name.unicodeScalars.first, first >= "a" && first <= "z" else { return false }
        return name.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "_" || $0 == "."
        }
    }

    private static func keyValues(_ args: [String], instruction: String) throws(DockerfileError) -> [KeyValue] {
        guard !args.isEmpty else { throw atLeastOne(instruction) }
        guard args.count % 3 == 0 else { throw DockerfileError("Bad input to \(instruction), too many arguments") }
        var result: [KeyValue] = []
        for index in stride(from: 0, to: args.count, by: 3) {
            guard !args[index].isEmpty else { throw DockerfileError("\(instruction) names can not be blank") }
            result.append(KeyValue(key: args[index], value: args[index + 1], isLegacyForm: args[index + 2].isEmpty))
        }
        return result
    }

    private static func copySources(_ node: Node, command: String) throws(DockerfileError) -> CopySources {
        let args = node.arguments
        let destination = args[args.count - 1]
        if (try? HeredocMarker.parse(destination)) != nil {
            throw DockerfileError("\(command) cannot accept a heredoc as a destination")
        }
        var bodies: [String: Heredoc] = [:]
        for heredoc in node.heredocs { bodies[heredoc.name] = heredoc }
        var paths: [String] = []
        var inline: [CopySources.InlineSource] = []
        for source in args.dropLast() {
            if let marker = (try? HeredocMarker.parse(source)) ?? nil {
                let content = bodies[marker.name]?.content ?? ""
                inline.append(
                    CopySources.InlineSource(
                        path: marker.name, data: marker.chomp ? Heredoc.removingLeadingTabs(content) : content,
                        expand: marker.expand))
            } else {
                paths.append(source)
            }
        }
        return CopySources(sourcePaths: paths, inlineSources: inline, destination: destination)
    }

    private static func jsonArguments(_ args: [String], isJSON: Bool) -> [String] {
        if args.isEmpty { return [] }
        return isJSON ? args : [args.joined(separator: " ")]
    }

    private static func commandLine(_ node: Node, args: [String], emptyAsNil: Bool) -> CommandLine {
        CommandLine(arguments: jsonArguments(args, isJSON: node.isJSON), prependsShell: !node.isJSON, files: node.heredocs)
    }

    private static func healthcheck(_ node: Node, args: [String], flags: inout BuilderFlags) throws(DockerfileError)
        -> HealthcheckInstruction
    {
        guard !args.isEmpty else { throw atLeastOne("HEALTHCHECK") }
        let type = args[0].uppercased()
        let rest = Array(args.dropFirst())
        if type == "NONE" {
            guard rest.isEmpty else { throw DockerfileError("HEALTHCHECK NONE takes no arguments") }
            return HealthcheckInstruction(test: ["NONE"], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0)
        }
        for name in ["interval", "timeout", "start-period", "start-interval", "retries"] { flags.declareString(name) }
        try flags.parse()
        guard type == "CMD" else { throw DockerfileError("Unknown type \(goQuoted(type)) in HEALTHCHECK (try CMD)") }
        let command = jsonArguments(rest, isJSON: node.isJSON)
        guard !command.isEmpty else { throw DockerfileError("Missing command after HEALTHCHECK CMD") }
        func interval(_ name: String) throws(DockerfileError) -> Int64 {
            let text = flags.string(name)
            if text.isEmpty { return 0 }
            let nanoseconds: Int64
            do {
                nanoseconds = try GoDuration.parse(text)
            } catch {
                throw DockerfileError(error.description)
            }
            if nanoseconds == 0 { return 0 }
            guard nanoseconds >= 1_000_000 else { throw DockerfileError("Interval \(goQuoted(name)) cannot be less than 1ms") }
            return nanoseconds
        }
        var retries = 0
        let retriesText = flags.string("retries")
        if !retriesText.isEmpty {
            guard let value = Int32(retriesText) else {
                throw DockerfileError("strconv.ParseInt: parsing \(goQuoted(retriesText)): invalid syntax")
            }
            guard value >= 0 else { throw DockerfileError("--retries cannot be negative (\(value))") }
            retries = Int(value)
        }
        return HealthcheckInstruction(
            test: [node.isJSON ? "CMD" : "CMD-SHELL"] + command, interval: try interval("interval"),
            timeout: try interval("timeout"), startPeriod: try interval("start-period"),
            startInterval: try interval("start-interval"), retries: retries)
    }

    /// `(?i)^\s*ONBUILD\s*` removed from the original line.
    private static func removingOnbuildKeyword(_ original: String) -> String {
        var scalars = Substring(original).unicodeScalars.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0C}" }
        let keyword = String(scalars.prefix(7))
        guard keyword.lowercased() == "onbuild" else { return original }
        scalars = scalars.dropFirst(7).drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0C}" }
        return String(scalars)
    }

    static func exactlyOne(_ command: String) -> DockerfileError {
        DockerfileError("\(command) requires exactly one argument")
    }

    static func atLeastOne(_ command: String) -> DockerfileError {
        DockerfileError("\(command) requires at least one argument")
    }

    static func noDestination(_ command: String) -> DockerfileError {
        DockerfileError(
            "\(command) requires at least two arguments, but only one was provided. Destination could not be determined")
    }
}
