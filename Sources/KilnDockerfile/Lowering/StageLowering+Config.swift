import KilnGraph
import KilnOCI

/// Instructions that only change the image configuration.
extension StageLowering {
    mutating func dispatchEnv(_ pairs: [KeyValue]) throws(DockerfileError) {
        var text: [String] = []
        for pair in pairs {
            let key = try expand(pair.key)
            let value = try expand(pair.value)
            variables[key] = value
            var env = (config.config.env ?? []).filter { !$0.hasPrefix(key + "=") && $0 != key }
            env.append("\(key)=\(value)")
            config.config.env = env
            text.append("\(key)=\(value)")
        }
        commitHistory("ENV " + text.joined(separator: " "))
    }

    mutating func dispatchLabel(_ pairs: [KeyValue]) throws(DockerfileError) {
        var text: [String] = []
        var labels = config.config.labels ?? [:]
        for pair in pairs {
            let key = try expand(pair.key)
            let value = try expand(pair.value)
            labels[key] = value
            text.append("\(key)=\(value)")
        }
        config.config.labels = labels
        commitHistory("LABEL " + text.joined(separator: " "))
    }

    mutating func dispatchArg(_ definitions: [ArgDefinition]) throws(DockerfileError) {
        var text: [String] = []
        for definition in definitions {
            var value: String?
            if let given = plan.options.buildArgs[definition.name] {
                value = given
            } else if let defaultValue = definition.defaultValue {
                value = try expand(defaultValue)
            } else if let global = plan.globalArgs[definition.name] {
                value = global
            }
            if let value {
                variables[definition.name] = value
                declaredArgs.removeAll { $0.0 == definition.name }
                declaredArgs.append((definition.name, value))
                text.append("\(definition.name)=\(value)")
            } else {
                text.append(definition.name)
            }
        }
        commitHistory("ARG " + text.joined(separator: " "))
    }

    mutating func dispatchUser(_ user: String) throws(DockerfileError) {
        let expanded = try expand(user)
        config.config.user = expanded
        commitHistory("USER \(expanded)")
    }

    mutating func dispatchExpose(_ ports: [String]) throws(DockerfileError) {
        var exposed = config.config.exposedPorts ?? [:]
        var added: [String] = []
        for port in ports {
            let words: [String]
            do {
                words = try lexer.processWords(port, with: variables)
            } catch {
                throw DockerfileError(error.description)
            }
            for word in words {
                for spec in try PortSpec.expand(word) {
                    exposed[spec] = EmptyObject()
                    added.append(spec)
                }
            }
        }
        config.config.exposedPorts = exposed
        commitHistory("EXPOSE " + added.sorted().joined(separator: " "))
    }

    mutating func dispatchVolume(_ volumes: [String]) throws(DockerfileError) {
        var all = config.config.volumes ?? [:]
        var added: [String] = []
        for volume in volumes {
            let path = try expand(volume)
            guard !path.isEmpty else { throw DockerfileError("VOLUME specified can not be an empty string") }
            all[path] = EmptyObject()
            added.append(path)
        }
        config.config.volumes = all
        commitHistory("VOLUME \(goList(added))")
    }

    mutating func dispatchStopSignal(_ signal: String) throws(DockerfileError) {
        let expanded = try expand(signal)
        guard Signals.isValid(expanded) else { throw DockerfileError("Invalid signal: \(expanded)") }
        config.config.stopSignal = expanded
        commitHistory("STOPSIGNAL \(expanded)")
    }

    mutating func dispatchCmd(_ command: CommandLine) {
        let arguments = command.prependsShell ? shell + command.arguments : command.arguments
        config.config.cmd = arguments
        config.config.argsEscaped = nil
        commitHistory("CMD \(goList(arguments))")
        commandWasSet = true
    }

    mutating func dispatchEntrypoint(_ command: CommandLine) {
        let arguments = command.prependsShell ? shell + command.arguments : command.arguments
        config.config.entrypoint = arguments.isEmpty ? nil : arguments
        if !commandWasSet { config.config.cmd = nil }
        commitHistory("ENTRYPOINT \(goList(arguments))")
    }

    mutating func dispatchHealthcheck(_ health: HealthcheckInstruction, instruction: Instruction) {
        func nonZero(_ value: Int64) -> Int64? { value == 0 ? nil : value }
        config.config.healthcheck = Healthcheck(
            test: health.test, interval: nonZero(health.interval), timeout: nonZero(health.timeout),
            startPeriod: nonZero(health.startPeriod), startInterval: nonZero(health.startInterval),
            retries: health.retries == 0 ? nil : health.retries)
        commitHistory("HEALTHCHECK " + String(instruction.code.dropFirst(instruction.keyword.count)).trimmingGoSpace())
    }
}

/// Port specs of EXPOSE: `80`, `80/tcp`, `53/udp`, ranges `8000-8002`.
enum PortSpec {
    static func expand(_ text: String) throws(DockerfileError) -> [String] {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let proto = parts.count > 1 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else { throw DockerfileError("invalid proto: \(parts[1])") }
        let range = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard range.count <= 2, let low = UInt16(range[0]), let high = range.count == 2 ? UInt16(range[1]) : low, low <= high
        else { throw DockerfileError("invalid containerPort: \(parts[0])") }
        return (low...high).map { "\($0)/\(proto)" }
    }
}

/// Signal names and numbers accepted by STOPSIGNAL.
enum Signals {
    static let names: Set<String> = [
        "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE", "POLL",
        "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "UNUSED",
        "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
    ]

    static func isValid(_ text: String) -> Bool {
        if let number = Int(text) { return number > 0 && number <= 64 }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if names.contains(name) { return true }
        if name.hasPrefix("RTMIN") || name.hasPrefix("RTMAX") {
            let offset = name.dropFirst(5)
            return offset.isEmpty || (offset.first == "+" || offset.first == "-") && Int(offset.dropFirst()) != nil
        }
        return false
    }
}
