import KilnOCI
import Testing
import KilnGraph

@Suite("Build graph")
struct BuildGraphTests {
    let platform = Platform(os: "linux", architecture: "amd64")

    @Test("identical ops on identical inputs are one vertex")
    func dedup() {
        var graph = BuildGraph()
        let image = graph.add(.image(ImageSource(reference: "busybox", platform: platform)), name: "a")
        let again = graph.add(.image(ImageSource(reference: "busybox", platform: platform)), name: "b")
        let exec = ExecOp(arguments: ["true"], environment: [], workingDirectory: "/")
        let first = graph.add(.exec(exec), inputs: [image], name: "run")
        let second = graph.add(.exec(exec), inputs: [again], name: "run again")
        #expect(image == again)
        #expect(first == second)
        #expect(graph.vertices.count == 2)
    }

    @Test("a vertex digest covers its inputs")
    func digestCoversInputs() {
        var graph = BuildGraph()
        let a = graph.add(.image(ImageSource(reference: "a", platform: platform)), name: "a")
        let b = graph.add(.image(ImageSource(reference: "b", platform: platform)), name: "b")
        let exec = ExecOp(arguments: ["true"], environment: [], workingDirectory: "/")
        #expect(graph.add(.exec(exec), inputs: [a], name: "") != graph.add(.exec(exec), inputs: [b], name: ""))
    }

    @Test("digests are stable across processes and machines (golden value)")
    func golden() {
        let digest = BuildGraph.digest(of: .image(ImageSource(reference: "busybox:1", platform: platform)), inputs: [])
        // Changing this value invalidates every cache key: only do it on purpose.
        #expect(digest.description == Self.goldenImageDigest)
    }

    static let goldenImageDigest = "sha256:efc1be585088505ab86438f4a927ee768105bcd4d135a69151c7a7222fecad88"

    @Test("closure lists what a vertex needs, in order")
    func closure() {
        var graph = BuildGraph()
        let a = graph.add(.image(ImageSource(reference: "a", platform: platform)), name: "a")
        _ = graph.add(.image(ImageSource(reference: "unused", platform: platform)), name: "u")
        let exec = graph.add(.exec(ExecOp(arguments: ["x"], environment: [], workingDirectory: "/")), inputs: [a], name: "x")
        #expect(graph.closure(of: [exec]) == [a, exec])
    }
}
