import Testing
@testable import KilnRegistry

@Suite("WWW-Authenticate challenges")
struct AuthChallengeTests {
    @Test("parses bearer and basic challenges", arguments: [
        (#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
         [AuthChallenge(scheme: "bearer", parameters: ["realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/busybox:pull"])]),
        (#"Basic realm="kiln-test""#, [AuthChallenge(scheme: "basic", parameters: ["realm": "kiln-test"])]),
        (#"Bearer realm="https://ghcr.io/token", service="ghcr.io", scope="repository:a/b:pull,push""#,
         [AuthChallenge(scheme: "bearer", parameters: ["realm": "https://ghcr.io/token", "service": "ghcr.io", "scope": "repository:a/b:pull,push"])]),
        (#"Basic realm="a", Bearer realm="b",service=s"#,
         [AuthChallenge(scheme: "basic", parameters: ["realm": "a"]), AuthChallenge(scheme: "bearer", parameters: ["realm": "b", "service": "s"])]),
        (#"Bearer realm="with \"quote\"""#, [AuthChallenge(scheme: "bearer", parameters: ["realm": "with \"quote\""])]),
    ])
    func parses(_ header: String, _ expected: [AuthChallenge]) {
        #expect(AuthChallenge.parse(header) == expected)
    }

    @Test("plain HTTP only for loopback and hosts marked insecure")
    func schemes() {
        let configuration = RegistryConfiguration(insecureHosts: ["lab:5000"])
        #expect(configuration.baseURL(for: "docker.io") == "https://registry-1.docker.io")
        #expect(configuration.baseURL(for: "127.0.0.1:5000") == "http://127.0.0.1:5000")
        #expect(configuration.baseURL(for: "localhost:5000") == "http://localhost:5000")
        #expect(configuration.baseURL(for: "lab:5000") == "http://lab:5000")
        #expect(configuration.baseURL(for: "ghcr.io") == "https://ghcr.io")
    }
}
