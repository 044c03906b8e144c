import Foundation
import KilnTestSupport
import Testing

private let buildsAvailable = geteuid() == 0 && BusyboxRootfs.binary != nil && (KilnProcess.has("crun") || KilnProcess.has("runc"))

/// Emulation for linux/arm64 RUN steps: qemu-user-static's binfmt handler, enabled here when the package is
/// installed but the handler is not registered yet (binfmt_misc unmounted, as on a fresh machine).
private enum ArmEmulation {
    static let handler = "/proc/sys/fs/binfmt_misc/qemu-aarch64"
    static let imageCache = ProcessInfo.processInfo.environment["KILN_IMAGE_CACHE"] ?? "/var/cache/kiln-images"
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static let available: Bool = {
        guard buildsAvailable, FileManager.default.fileExists(atPath: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P")
            || FileManager.default.fileExists(atPath: "/usr/bin/qemu-aarch64-static")
        else { return false }
        if !FileManager.default.fileExists(atPath: "/proc/sys/fs/binfmt_misc/register") {
            _ = try? KilnProcess.run("mount", ["-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc"])
        }
        if !isEnabled { _ = try? KilnProcess.run("update-binfmts", ["--enable", "qemu-aarch64"]) }
        return isEnabled
    }()

    static var isEnabled: Bool {
        (try? String(contentsOfFile: handler, encoding: .utf8))?.hasPrefix("enabled") == true
    }

    /// Debian's busybox-static for arm64, fetched once into the image cache.
    static func busybox() throws -> String {
        let fetched = try KilnProcess.run("/bin/bash", [repository + "/scripts/foreign-busybox.sh", "arm64", imageCache])
        guard fetched.status == 0 else { throw BusyboxError("scripts/foreign-busybox.sh arm64: \(fetched.errors)") }
        return imageCache + "/busybox-arm64"
    }
}

@Suite("kiln build --platform a,b", .enabled(if: buildsAvailable, "needs root, busybox-static and crun or runc"), .serialized)
struct MultiPlatformBuildTests {
    @Test("two platforms make an index of two images; outputs as buildx writes them; docker archives refuse")
    func copyOnlyIndex() throws {
        let sandbox = try BuildSandbox("multi-platform")
        try sandbox.write([
            "Dockerfile": """
                FROM scratch
                ARG TARGETPLATFORM TARGETARCH
                COPY payload-${TARGETARCH}.txt /payload.txt
                LABEL built-for=$TARGETPLATFORM
                """,
            "payload-amd64.txt": "for amd64\n",
            "payload-arm64.txt": "for arm64\n",
        ])
        let exported = sandbox.scratch.path + "/exported"
        let iidfile = sandbox.scratch.path + "/iid"
        let result = try sandbox.build([
            "--platform", "linux/amd64,linux/arm64", "-t", "multi:1", "-o", "type=image", "-o", "type=local,dest=\(exported)", "--iidfile", iidfile,
        ])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.contains("[linux/amd64 1/") && result.errors.contains("[linux/arm64 1/"), "step names carry the platform: \(result.errors)")
        #expect(result.output.contains("Index multi:1: 2 platforms (linux/amd64, linux/arm64)"))
        #expect(try String(contentsOfFile: exported + "/linux_amd64/payload.txt", encoding: .utf8) == "for amd64\n")
        #expect(try String(contentsOfFile: exported + "/linux_arm64/payload.txt", encoding: .utf8) == "for arm64\n")

        for (platform, architecture) in [("linux/amd64", "amd64"), ("linux/arm64", "arm64")] {
            let inspected = try sandbox.kiln(["inspect", "--platform", platform, "multi:1"])
            let image = (try JSONSerialization.jsonObject(with: Data(inspected.output.utf8)) as? [[String: Any]])?.first ?? [:]
            #expect(image["Architecture"] as? String == architecture)
            #expect(((image["Config"] as? [String: Any])?["Labels"] as? [String: String])?["built-for"] == platform)
        }

        // The OCI archive holds the index; its digest is what --iidfile names (as buildx does for several platforms).
        let archive = sandbox.scratch.path + "/multi.tar"
        #expect(try sandbox.kiln(["save", "--format", "oci", "-o", archive, "multi:1"]).status == 0)
        if KilnProcess.has("skopeo") {
            let raw = try KilnProcess.run("skopeo", ["inspect", "--raw", "oci-archive:" + archive])
            let index = try JSONSerialization.jsonObject(with: Data(raw.output.utf8)) as? [String: Any] ?? [:]
            let platforms = (index["manifests"] as? [[String: Any]] ?? []).compactMap { ($0["platform"] as? [String: String])?["architecture"] }
            #expect(index["mediaType"] as? String == "application/vnd.oci.image.index.v1+json", "\(raw.output) \(raw.errors)")
            #expect(platforms == ["amd64", "arm64"])
            let rawDigest = "sha256:" + (try KilnProcess.run("/bin/sh", ["-c", "skopeo inspect --raw oci-archive:\(archive) | sha256sum"]).output.prefix(64))
            #expect(try String(contentsOfFile: iidfile, encoding: .utf8) == rawDigest)
        }
        #expect(try sandbox.kiln(["images"]).output.components(separatedBy: "<none>").count == 1, "the platform images are not listed on their own")

        let docker = try sandbox.build(["--platform", "linux/amd64,linux/arm64", "-o", "type=docker,dest=\(sandbox.scratch.path)/d.tar"])
        #expect(docker.status != 0 && docker.errors.contains("a docker archive holds one platform"), "\(docker.errors)")
    }

    @Test("RUN for arm64 runs through qemu; a $BUILDPLATFORM builder runs natively for both platforms",
          .enabled(if: ArmEmulation.available, "needs qemu-user-static with binfmt_misc (installed by scripts/test.sh)"))
    func emulatedRun() throws {
        let sandbox = try BuildSandbox("multi-platform-run")
        let armBusybox = try ArmEmulation.busybox()
        try FileManager.default.copyItem(atPath: BusyboxRootfs.binary!, toPath: sandbox.context + "/busybox-amd64")
        try FileManager.default.copyItem(atPath: armBusybox, toPath: sandbox.context + "/busybox-arm64")
        // A two-platform busybox base, made as docker users make one: COPY the platform's binary, RUN its installer.
        try sandbox.write([
            "Dockerfile": """
                FROM scratch
                ARG TARGETARCH
                COPY busybox-${TARGETARCH} /bin/busybox
                RUN ["/bin/busybox", "--install", "-s", "/bin"]
                CMD ["sh"]
                """
        ])
        let base = try sandbox.build(["--platform", "linux/amd64,linux/arm64", "-t", "multi/busybox:1"])
        #expect(base.status == 0, "\(base.errors)")
        #expect(try sandbox.kiln(["run", "--rm", "--platform", "linux/arm64", "multi/busybox:1", "uname", "-m"]).output == "aarch64\n")

        try sandbox.write([
            "Dockerfile": """
                FROM --platform=$BUILDPLATFORM multi/busybox:1 AS build
                ARG TARGETARCH BUILDARCH
                RUN echo "built on $BUILDARCH for $TARGETARCH" > /note && uname -m > /build-machine

                FROM multi/busybox:1
                COPY --from=build /note /build-machine /
                RUN uname -m > /run-machine
                CMD ["cat", "/note", "/build-machine", "/run-machine"]
                """
        ])
        let app = try sandbox.build(["--platform", "linux/amd64,linux/arm64", "-t", "multi/app"])
        #expect(app.status == 0, "\(app.errors)")
        #expect(app.errors.contains("[linux/amd64 build 2/2] RUN"), "the builder runs on the build platform for both")
        #expect(!app.errors.contains("[linux/arm64 build"))
        let arm = try sandbox.kiln(["run", "--rm", "--platform", "linux/arm64", "multi/app"])
        #expect(arm.output == "built on amd64 for arm64\nx86_64\naarch64\n", "\(arm.errors)")
        let amd = try sandbox.kiln(["run", "--rm", "--platform", "linux/amd64", "multi/app"])
        #expect(amd.output == "built on amd64 for amd64\nx86_64\nx86_64\n", "\(amd.errors)")
    }
}
