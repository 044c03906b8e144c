import KilnGraph
import Testing
@testable import KilnDockerfile

@Suite("Diagnostics")
struct DiagnosticRendererTests {
    @Test("errors print as FILE:LINE:COL with the line and a caret")
    func rendersErrors() throws {
        let source = "FROM busybox\n  RUNN echo\n"
        var message = ""
        do {
            _ = try Dockerfile(source: source)
        } catch {
            let renderer = DiagnosticRenderer(fileName: "Dockerfile", source: source)
            message = renderer.render(Diagnostic(error.errors[0]))
        }
        #expect(message == """
            Dockerfile:2:3: error: unknown instruction: RUNN (did you mean RUN?)
            2 |   RUNN echo
                  ^
            """)
    }

    @Test("every instruction error of one file is reported, not only the first")
    func collectsErrors() throws {
        do {
            _ = try Dockerfile(source: "FROM a\nCOPY x\nWORKDIR\nRUN --bogus true\n")
            Issue.record("accepted")
        } catch {
            #expect(error.errors.map(\.range?.start.line) == [2, 3, 4])
            #expect(error.errors[2].message == "unknown flag: --bogus")
        }
    }

    @Test("warnings carry their rule")
    func warnings() throws {
        let parsed = try DockerfileParser.parse("FROM a\nRUN a \\\n\n  b\n")
        let text = DiagnosticRenderer(fileName: "Dockerfile", source: "").render(Diagnostic(parsed.warnings[0]))
        #expect(text.hasSuffix("[NoEmptyContinuation]"))
    }
}
