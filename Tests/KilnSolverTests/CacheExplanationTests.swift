import KilnGraph
import KilnOCI
import Testing

@testable import KilnSolver

private func run(_ command: String, env: [String] = ["PATH=/bin"], user: String = "") -> Op {
    .exec(ExecOp(arguments: ["/bin/sh", "-c", command], environment: env, workingDirectory: "/", user: user))
}

private func copy(_ sources: [String], to destination: String, mode: String? = nil) -> Op {
    .file(FileOp(base: 0, actions: [.copy(CopyAction(input: 1, sources: sources, destination: destination, mode: mode))]))
}

private func input(_ identity: String, image: String? = nil, number: Int = 3, name: String = "[2/3] COPY . .") -> StepFingerprint.Input {
    StepFingerprint.Input(name: name, number: number, identity: identity, resolvedImage: image)
}

private func fingerprint(
    _ op: Op, inputs: [StepFingerprint.Input] = [input("chain-a")], sources: [String: [String: String]] = [:], settings: String = "gzip -"
) -> StepFingerprint {
    StepFingerprint(name: "[3/3] step", op: op, inputs: inputs, sources: sources, settings: settings)
}

@Suite("Cache-miss explanations")
struct CacheExplanationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var previous: StepFingerprint
        var current: StepFingerprint
        var buildArguments: [String] = []
        var first: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(
            label: "build arg", previous: fingerprint(run("make", env: ["PATH=/bin", "VERSION=1.2"])),
            current: fingerprint(run("make", env: ["PATH=/bin", "VERSION=1.3"])), buildArguments: ["VERSION"],
            first: "ARG VERSION changed 1.2 → 1.3"),
        Case(
            label: "env", previous: fingerprint(run("make", env: ["PATH=/bin", "MODE=a"])),
            current: fingerprint(run("make", env: ["PATH=/bin", "MODE=b"])), first: "ENV MODE changed a → b"),
        Case(
            label: "new arg", previous: fingerprint(run("make")), current: fingerprint(run("make", env: ["PATH=/bin", "X=1"])),
            buildArguments: ["X"], first: "ARG X set to 1"),
        Case(
            label: "command", previous: fingerprint(run("make")), current: fingerprint(run("make all")),
            first: "command changed: \"make\" → \"make all\""),
        Case(label: "user", previous: fingerprint(run("id")), current: fingerprint(run("id", user: "app")), first: "USER changed root → app"),
        Case(
            label: "parent", previous: fingerprint(run("make")), current: fingerprint(run("make"), inputs: [input("chain-b", number: 6)]),
            first: "parent step changed (#6 [2/3] COPY . .)"),
        Case(
            label: "base image", previous: fingerprint(run("make"), inputs: [input("chain-a", image: "docker.io/library/gcc:12@sha256:aaa")]),
            current: fingerprint(run("make"), inputs: [input("chain-b", image: "docker.io/library/gcc:12@sha256:bbb")]),
            first: "base image docker.io/library/gcc:12 now resolves to sha256:bbb"),
        Case(
            label: "parent before command", previous: fingerprint(run("make")),
            current: fingerprint(run("make all"), inputs: [input("chain-b", number: 4)]), first: "parent step changed (#4 [2/3] COPY . .)"),
        Case(
            label: "content", previous: fingerprint(copy(["src/"], to: "/app/src"), sources: ["COPY source 1": ["src/main.c": "f 644 - sha256:1"]]),
            current: fingerprint(copy(["src/"], to: "/app/src"), sources: ["COPY source 1": ["src/main.c": "f 644 - sha256:2"]]),
            first: "src/main.c content changed"),
        Case(
            label: "mode", previous: fingerprint(copy(["run.sh"], to: "/"), sources: ["COPY source 1": ["run.sh": "f 644 - sha256:1"]]),
            current: fingerprint(copy(["run.sh"], to: "/"), sources: ["COPY source 1": ["run.sh": "f 755 - sha256:1"]]),
            first: "run.sh mode changed 644 → 755"),
        Case(
            label: "added file", previous: fingerprint(copy(["."], to: "/"), sources: ["COPY source 1": [".": "d 755 -"]]),
            current: fingerprint(copy(["."], to: "/"), sources: ["COPY source 1": [".": "d 755 -", "new.c": "f 644 - sha256:3"]]),
            first: "new.c added"),
        Case(
            label: "removed file", previous: fingerprint(copy(["."], to: "/"), sources: ["COPY source 1": [".": "d 755 -", "old.c": "f 644 - sha256:3"]]),
            current: fingerprint(copy(["."], to: "/"), sources: ["COPY source 1": [".": "d 755 -"]]), first: "old.c removed"),
        Case(
            label: "link", previous: fingerprint(copy(["l"], to: "/"), sources: ["COPY source 1": ["l": "l 777 - a"]]),
            current: fingerprint(copy(["l"], to: "/"), sources: ["COPY source 1": ["l": "l 777 - b"]]), first: "l link target changed"),
        Case(
            label: "destination", previous: fingerprint(copy(["a"], to: "/x")), current: fingerprint(copy(["a"], to: "/y")),
            first: "destination changed /x → /y"),
        Case(
            label: "chmod", previous: fingerprint(copy(["a"], to: "/x")), current: fingerprint(copy(["a"], to: "/x", mode: "755")),
            first: "--chmod changed none → 755"),
        Case(
            label: "settings", previous: fingerprint(run("make")), current: fingerprint(run("make"), settings: "zstd -"),
            first: "layer compression or SOURCE_DATE_EPOCH changed"),
    ]

    @Test("the first difference names what changed", arguments: cases)
    func firstDifference(_ example: Case) {
        let differences = CacheExplanation.differences(from: example.previous, to: example.current, buildArguments: example.buildArguments)
        #expect(differences.first == example.first)
        #expect(example.previous.key != example.current.key)
    }

    @Test("equal fingerprints have equal keys and no differences")
    func equal() {
        let a = fingerprint(run("make"), sources: ["COPY source 1": ["a": "f 644 - sha256:1"]])
        let b = fingerprint(run("make"), sources: ["COPY source 1": ["a": "f 644 - sha256:1"]])
        #expect(a.key == b.key)
        #expect(CacheExplanation.differences(from: a, to: b).isEmpty)
    }

    @Test("names and numbers of inputs do not change the key; identities do")
    func keyInputs() {
        let a = fingerprint(run("make"), inputs: [input("chain", number: 2, name: "[1/3] FROM a")])
        let b = fingerprint(run("make"), inputs: [input("chain", number: 5, name: "[1/4] FROM a")])
        #expect(a.key == b.key)
        #expect(fingerprint(run("make"), inputs: [input("other")]).key != a.key)
    }

    @Test("a source too large for the history still changes the key and is explained by its digest")
    func largeSource() {
        var many: [String: String] = [:]
        for index in 0...StepFingerprint.entryLimit { many["f\(index)"] = "f 644 - sha256:1" }
        var changed = many
        changed["f0"] = "f 644 - sha256:2"
        let a = fingerprint(copy(["."], to: "/"), sources: ["COPY source 1": many])
        let b = fingerprint(copy(["."], to: "/"), sources: ["COPY source 1": changed])
        #expect(a.sourceEntries.isEmpty)
        #expect(a.key != b.key)
        #expect(CacheExplanation.differences(from: a, to: b) == ["files of COPY source 1 changed"])
    }

    @Test("steps are compared by stage and position", arguments: [
        ("[builder 3/5] RUN make", "[builder 3"),
        ("[2/4] COPY a.txt /", "[2"),
        ("[internal] load build context", "[internal] load build context"),
        ("scratch", "scratch"),
    ])
    func slot(_ name: String, _ expected: String) {
        #expect(StepFingerprint.slot(of: name) == expected)
    }
}
