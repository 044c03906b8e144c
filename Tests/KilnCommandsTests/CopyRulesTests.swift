import Foundation
import KilnTestSupport
import Testing

private let buildsAvailable = geteuid() == 0 && BusyboxRootfs.binary != nil && (KilnProcess.has("crun") || KilnProcess.has("runc"))

/// Cases found by the buildah conformance harness (scripts/buildah-conformance.py), with BuildKit's results.
@Suite("COPY rules from the conformance corpus", .enabled(if: buildsAvailable, "needs root, busybox-static and crun or runc"), .serialized)
struct CopyRulesTests {
    /// Every path of the exported filesystem, sorted.
    func tree(_ directory: String) -> [String] {
        let walker = FileManager.default.enumerator(atPath: directory)
        var paths: [String] = []
        while let path = walker?.nextObject() as? String { paths.append(path) }
        return paths.sorted()
    }

    @Test("--parents keeps each match's path (below a /./ pivot); .dockerignore re-includes make their directories visible")
    func parentsAndReincludes() throws {
        let sandbox = try BuildSandbox("copy-parents")
        try sandbox.write([
            "Dockerfile": """
                FROM scratch
                COPY --parents x /p1/
                COPY --parents x/y /p2/
                COPY --parents ./x/* /p3/
                COPY --parents ./x/./y/*.txt /p4/
                COPY keepdir /explicit/
                COPY k* /glob/
                COPY . /dot/
                """,
            "x/a.txt": "a", "x/y/b.txt": "b", "x/z/c.txt": "c",
            "keepdir/keep": "k", "keepdir/drop": "d", "folder/file": "f",
            ".dockerignore": "keepdir\n!keepdir/keep\nfolder\n!folder/subfolder/file\nDockerfile\n.dockerignore\n",
        ])
        let output = sandbox.scratch.path + "/out"
        let result = try sandbox.build(["-o", "type=local,dest=\(output)"])
        try #require(result.status == 0, "\(result.errors)")
        #expect(tree(output) == [
            "dot", "dot/keepdir", "dot/keepdir/keep", "dot/x", "dot/x/a.txt", "dot/x/y", "dot/x/y/b.txt", "dot/x/z", "dot/x/z/c.txt",
            "explicit", "explicit/keep", "glob", "glob/keep",
            "p1", "p1/x", "p1/x/a.txt", "p1/x/y", "p1/x/y/b.txt", "p1/x/z", "p1/x/z/c.txt",
            "p2", "p2/x", "p2/x/y", "p2/x/y/b.txt",
            "p3", "p3/x", "p3/x/a.txt", "p3/x/y", "p3/x/y/b.txt", "p3/x/z", "p3/x/z/c.txt",
            "p4", "p4/y", "p4/y/b.txt",
        ])
    }

    @Test("a later source replaces a symlink an earlier one left in the destination; root's HOME comes from /etc/passwd")
    func symlinkAndHome() throws {
        let sandbox = try BuildSandbox("copy-symlink")
        try sandbox.write([
            "Dockerfile": "FROM busybox:1\nCOPY a/ x /d/\nRUN echo \"$HOME\" > /home.txt\n",
            "x": "hello\n",
        ])
        try FileManager.default.createDirectory(atPath: sandbox.context + "/a", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: sandbox.context + "/a/x", withDestinationPath: "/etc/passwd")
        let result = try sandbox.build(["-t", "symlink"])
        try #require(result.status == 0, "\(result.errors)")
        let run = try sandbox.run("symlink", "head -c 5 /etc/passwd; echo; test -L /d/x || cat /d/x; cat /home.txt")
        #expect(run.output == "root:\nhello\n/root\n", "\(run.output)")
    }
}
