import Foundation
import Testing

@testable import KilnCommands

/// `--format` templates as docker evaluates them on `docker image inspect` output.
struct FormatTemplateTests {
    static let inspection = """
        {"Id": "sha256:abc", "Size": 2126848, "Os": "linux", "RepoTags": ["app:1", "app:latest"],
         "Config": {"Cmd": ["sh"], "Env": ["PATH=/bin", "A=b c"], "Labels": {"org.x": "1", "b": "two"}, "Tty": false},
         "Empty": null}
        """

    static let cases: [(template: String, expected: String)] = [
        ("{{.Size}}", "2126848"),
        ("{{.Os}}/{{.Id}}", "linux/sha256:abc"),
        ("{{.RepoTags}}", "[app:1 app:latest]"),
        ("{{.Config.Labels}}", "map[b:two org.x:1]"),
        ("{{json .Config.Cmd}}", #"["sh"]"#),
        ("{{json .Config.Labels}}", #"{"b":"two","org.x":"1"}"#),
        (#"{{index .Config.Labels "org.x"}}"#, "1"),
        ("{{index .Config.Env 1}}", "A=b c"),
        ("{{.Config.Tty}} {{.Empty}} {{.Missing.Field}}", "false <no value> <no value>"),
        ("{{ .Size }} bytes", "2126848 bytes"),
        ("{{println .Os .Size}}", "linux 2126848\n"),
        ("no actions", "no actions"),
    ]

    @Test(arguments: cases)
    func rendersAsDocker(template: String, expected: String) throws {
        let value = try JSONSerialization.jsonObject(with: Data(Self.inspection.utf8))
        #expect(try FormatTemplate(template).render(value) == expected)
    }

    @Test(arguments: ["{{range .RepoTags}}{{.}}{{end}}", "{{.Size", "{{}}", "{{.Os .Size}}", "{{json}}", "{{$x := 1}}"])
    func rejectsWhatItDoesNotUnderstand(template: String) {
        #expect(throws: FormatTemplate.Invalid.self) { try FormatTemplate(template) }
    }
}
