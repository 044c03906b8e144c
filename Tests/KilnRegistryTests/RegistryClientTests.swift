import Foundation
import KilnArchive
import KilnOCI
import KilnStore
import KilnTestSupport
import Testing
@testable import KilnRegistry

@Suite("Registry client against the CNCF registry", .enabled(if: LoopbackRegistry.isAvailable, "docker-registry is installed by scripts/test.sh"))
struct RegistryClientTests {
    /// A store with one image made from a tar whose content is `size` pseudo-random bytes.
    static func storeWithImage(_ name: String, size: Int = 4096) throws -> (LayoutStore, StoredImage, String) {
        let root = "/dev/shm/kiln-registry-store-\(UUID().uuidString)"
        let store = try LayoutStore(root: root)
        // Unique content per call (so blobs differ between tests), cheap to make.
        let seed = Array(UUID().uuidString.utf8)
        let payload = (0..<size).map { seed[$0 % seed.count] &+ UInt8(truncatingIfNeeded: $0 >> 8) }
        var writer = TarWriter(sink: MemorySink())
        try writer.append(TarEntry(path: "data.bin", kind: .regular), contents: payload)
        try writer.finish()
        let (layer, info) = try store.ingestLayer(from: MemorySource(writer.sink.bytes), compression: .none)
        var config = ImageConfig(platform: .host)
        config.rootfs = RootFS(diffIDs: [info.diffID])
        let image = try store.commitImage(config: config, layers: [layer], tags: [try ImageReference(parsing: name)])
        return (store, image, root)
    }

    static func emptyStore() throws -> (LayoutStore, String) {
        let root = "/dev/shm/kiln-registry-store-\(UUID().uuidString)"
        return (try LayoutStore(root: root), root)
    }

    @Test("push then pull into an empty store gives the same image; a second push uploads nothing")
    func roundTrip() async throws {
        let registry = try LoopbackRegistry()
        let reference = try ImageReference(parsing: "\(registry.host)/team/app:1")
        let (source, image, sourceRoot) = try Self.storeWithImage(reference.description)
        defer { try? FileManager.default.removeItem(atPath: sourceRoot) }
        let (target, targetRoot) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: targetRoot) }
        try await RegistryClient.withClient { client in
            let digest = try await client.push(image, to: reference, from: source)
            #expect(digest == image.manifestDescriptor.digest)

            let skipped = EventCounter()
            try await client.push(image, to: reference, from: source, progress: { if $0.kind == .skipped { skipped.increment() } })
            #expect(skipped.value == 2)

            let pulled = try await client.pull(reference, into: target)
            #expect(pulled.id == image.id)
            #expect(pulled.manifestDescriptor.digest == digest)
            #expect(try target.check().isHealthy)
            let diffID = image.config.rootfs.diffIDs[0]
            #expect(!SnapshotStore(store: target).exists(diffID), "a plain pull only stores blobs")

            let unpacked = EventCounter()
            _ = try await client.pull(reference, into: target, unpack: true, progress: { if $0.kind == .unpacked { unpacked.increment() } })
            #expect(unpacked.value == 1, "one layer, unpacked although its blob was already there")
            let snapshot = SnapshotStore(store: target).rootfs(for: diffID)
            #expect(FileManager.default.fileExists(atPath: snapshot + "/data.bin"))
            let byDigest = try await client.pull(try ImageReference(parsing: "\(registry.host)/team/app@\(digest)"), into: target)
            #expect(byDigest.id == image.id)
        }
    }

    @Test("a multi-platform image pushes every platform and the index; pulls pick their platform")
    func multiPlatform() async throws {
        let registry = try LoopbackRegistry()
        let reference = try ImageReference(parsing: "\(registry.host)/team/multi:1")
        let (source, sourceRoot) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: sourceRoot) }
        var children: [Descriptor] = []
        var ids: [String: Digest] = [:]
        for platform in [Platform(os: "linux", architecture: "amd64"), Platform(os: "linux", architecture: "arm64", variant: "v8")] {
            var writer = TarWriter(sink: MemorySink())
            try writer.append(TarEntry(path: "arch", kind: .regular), contents: Array(platform.description.utf8))
            try writer.finish()
            let (layer, info) = try source.ingestLayer(from: MemorySource(writer.sink.bytes))
            var config = ImageConfig(platform: platform)
            config.rootfs = RootFS(diffIDs: [info.diffID])
            let image = try source.commitImage(config: config, layers: [layer], tags: [])
            var child = image.manifestDescriptor
            child.platform = platform
            children.append(child)
            ids[platform.architecture] = image.id
        }
        let indexDescriptor = try source.putJSON(Index(manifests: children), mediaType: .ociIndex)
        try source.tag(reference, indexDescriptor)
        let stored = try source.image(reference.description)
        let (target, targetRoot) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: targetRoot) }
        try await RegistryClient.withClient { client in
            let digest = try await client.push(stored, to: reference, from: source)
            #expect(digest == indexDescriptor.digest)
            let (fetched, _) = try await client.fetchManifest(reference)
            #expect(fetched.mediaType == .ociIndex && fetched.digest == indexDescriptor.digest)
            let arm = try await client.pull(reference, platform: Platform(os: "linux", architecture: "arm64", variant: "v8"), into: target)
            #expect(arm.id == ids["arm64"])
            let amd = try await client.pull(reference, platform: Platform(os: "linux", architecture: "amd64"), into: target)
            #expect(amd.id == ids["amd64"])
            do {
                _ = try await client.pull(reference, platform: Platform(os: "linux", architecture: "s390x"), into: target)
                Issue.record("expected no s390x image")
            } catch {
                #expect("\(error)".contains("no linux/s390x image in index"))
            }
        }
    }

    @Test("large blobs are uploaded in chunks")
    func chunkedUpload() async throws {
        let registry = try LoopbackRegistry()
        let reference = try ImageReference(parsing: "\(registry.host)/big/blob:1")
        let (source, image, sourceRoot) = try Self.storeWithImage(reference.description, size: 3_000_000)
        defer { try? FileManager.default.removeItem(atPath: sourceRoot) }
        var configuration = RegistryConfiguration()
        configuration.chunkedUploadThreshold = 1 << 20
        configuration.uploadChunkSize = 256 << 10
        let (target, targetRoot) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: targetRoot) }
        let pulled = try await RegistryClient.withClient(configuration: configuration) { client in
            try await client.push(image, to: reference, from: source)
            return try await client.pull(reference, into: target)
        }
        #expect(pulled.id == image.id)
    }

    @Test("missing images and tags give the registry's error in plain words")
    func errors() async throws {
        let registry = try LoopbackRegistry()
        let client = RegistryClient()
        let (target, root) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        await #expect(throws: RegistryError.self) {
            _ = try await client.pull(try ImageReference(parsing: "\(registry.host)/nothing/here:1"), into: target)
        }
        do {
            _ = try await client.pull(try ImageReference(parsing: "\(registry.host)/nothing/here:1"), into: target)
        } catch let error as RegistryError {
            #expect(error.code == .manifestUnknown)
            #expect(error.description.contains("manifest unknown"))
        }
        try await client.shutdown()
    }

    @Test("a registry that does not listen fails on the first refusal, not after the retries")
    func connectionRefused() async throws {
        let client = RegistryClient()
        let (target, root) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            _ = try await client.pull(try ImageReference(parsing: "127.0.0.1:9/nothing/here:1"), into: target)
            Issue.record("the pull succeeded")
        } catch let error as RegistryError {
            // .unreachable is thrown on the first refusal; the retry loops would have ended in .transport.
            #expect(error.code == .unreachable, "\(error)")
            #expect(error.description.contains("connection refused (no registry listens at 127.0.0.1:9)"), "\(error)")
        }
        try await client.shutdown()
    }

    @Test("a pull that was interrupted (even killed) continues where it stopped; a bad partial download starts over",
          arguments: [false, true])
    func resumesInterruptedDownloads(corruptPartial: Bool) async throws {
        let registry = try LoopbackRegistry()
        let reference = try ImageReference(parsing: "\(registry.host)/team/resume:1")
        let (source, image, sourceRoot) = try Self.storeWithImage(reference.description, size: 300_000)
        defer { try? FileManager.default.removeItem(atPath: sourceRoot) }
        let (target, targetRoot) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: targetRoot) }
        let layer = image.manifest.layers[0]
        // What a pull killed after 100 000 bytes of the layer leaves: its partial file, no lock held.
        let blob = try Data(contentsOf: URL(fileURLWithPath: source.layout.blobPath(layer.digest)))
        var partial = blob.prefix(100_000)
        if corruptPartial { partial = Data(repeating: 0x5A, count: 100_000) }
        try partial.write(to: URL(fileURLWithPath: target.layout.ingestDirectory + "/partial-" + layer.digest.encoded))
        try await RegistryClient.withClient { client in
            try await client.push(image, to: reference, from: source)
            let resumed = EventCounter()
            let pulled = try await client.pull(reference, into: target, progress: { event in
                if event.kind == .resumed && event.offset == 100_000 && event.digest == layer.digest { resumed.increment() }
            })
            #expect(pulled.id == image.id)
            #expect(resumed.value == 1)
        }
        #expect(try target.check().isHealthy, "the blob landed whole and verified")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.layout.ingestDirectory).isEmpty, "no partial file is left")
    }

    @Test("basic auth: credentials from docker's config.json are used, and their absence is a clear error")
    func basicAuth() async throws {
        let registry = try LoopbackRegistry(user: "kiln", password: "s3cret")
        let reference = try ImageReference(parsing: "\(registry.host)/private/app:1")
        let (source, image, sourceRoot) = try Self.storeWithImage(reference.description)
        defer { try? FileManager.default.removeItem(atPath: sourceRoot) }

        let anonymous = RegistryClient(configuration: RegistryConfiguration(dockerConfig: DockerConfig(path: "/dev/null/none.json")))
        await #expect(throws: RegistryError.self) { try await anonymous.push(image, to: reference, from: source) }
        try await anonymous.shutdown()

        let configPath = "/dev/shm/kiln-docker-config-\(UUID().uuidString).json"
        defer { unlink(configPath) }
        let config = DockerConfig(path: configPath)
        try config.store(Credential(username: "kiln", secret: "s3cret"), for: registry.host)
        #expect(try config.credential(for: registry.host) == Credential(username: "kiln", secret: "s3cret"))
        let (target, targetRoot) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: targetRoot) }
        let pulled = try await RegistryClient.withClient(configuration: RegistryConfiguration(dockerConfig: config)) { client in
            try await client.push(image, to: reference, from: source)
            return try await client.pull(reference, into: target)
        }
        #expect(pulled.id == image.id)
        #expect(try config.remove(for: registry.host))
        #expect(try config.credential(for: registry.host) == nil)
    }
}

extension RegistryClientTests {
    @Test("bearer tokens: the client fetches a JWT from the registry's token service with basic credentials")
    func bearerTokens() async throws {
        let directory = "/dev/shm/kiln-token-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let issuer = try TokenIssuer(users: ["builder": "t0ken-pass"], directory: directory)
        let registry = try LoopbackRegistry(tokenIssuer: issuer)
        let reference = try ImageReference(parsing: "\(registry.host)/secure/app:1")
        let (source, image, sourceRoot) = try Self.storeWithImage(reference.description)
        defer { try? FileManager.default.removeItem(atPath: sourceRoot) }

        let anonymous = RegistryClient(configuration: RegistryConfiguration(dockerConfig: DockerConfig(path: directory + "/none.json")))
        do {
            try await anonymous.push(image, to: reference, from: source)
            Issue.record("anonymous push succeeded")
        } catch let error as RegistryError {
            #expect(error.code == .unauthorized)
        }
        try await anonymous.shutdown()

        let config = DockerConfig(path: directory + "/config.json")
        try config.store(Credential(username: "builder", secret: "t0ken-pass"), for: registry.host)
        let (target, targetRoot) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: targetRoot) }
        let pulled = try await RegistryClient.withClient(configuration: RegistryConfiguration(dockerConfig: config)) { client in
            try await client.push(image, to: reference, from: source)
            return try await client.pull(reference, into: target)
        }
        #expect(pulled.id == image.id)
        // One token for push (pull,push scope), one for pull: cached, not fetched per request.
        #expect(issuer.issuedCount >= 1 && issuer.issuedCount <= 4)
    }
}

final class EventCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

extension RegistryClientTests {
    @Test("with connections cut mid-response (20 % of chunks), pushes and pulls still succeed and no corrupt blob lands")
    func faultInjection() async throws {
        let registry = try LoopbackRegistry()
        let proxy = try FaultyProxy(upstreamPort: registry.port, faultRate: Double(ProcessInfo.processInfo.environment["KILN_FAULT_RATE"] ?? "") ?? 0.2, seed: 7)
        let reference = try ImageReference(parsing: "127.0.0.1:\(proxy.port)/flaky/app:1")
        // Several layers, so there are many connections to break.
        let (source, _, sourceRoot) = try Self.storeWithImage(reference.description, size: 400_000)
        defer { try? FileManager.default.removeItem(atPath: sourceRoot) }
        var layers: [Descriptor] = []
        var diffIDs: [Digest] = []
        for index in 0..<6 {
            var writer = TarWriter(sink: MemorySink())
            let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* (index + 3) >> 3) }
            try writer.append(TarEntry(path: "layer-\(index).bin", kind: .regular), contents: payload)
            try writer.finish()
            let (layer, info) = try source.ingestLayer(from: MemorySource(writer.sink.bytes), compression: .none)
            layers.append(layer)
            diffIDs.append(info.diffID)
        }
        var config = ImageConfig(platform: .host)
        config.rootfs = RootFS(diffIDs: diffIDs)
        let image = try source.commitImage(config: config, layers: layers, tags: [reference])

        var configuration = RegistryConfiguration(maximumAttempts: 10, initialBackoff: .milliseconds(10))
        configuration.maximumConcurrentTransfers = 2
        let (target, targetRoot) = try Self.emptyStore()
        defer { try? FileManager.default.removeItem(atPath: targetRoot) }
        let pulled = try await RegistryClient.withClient(configuration: configuration) { client in
            try await client.push(image, to: reference, from: source)
            return try await client.pull(reference, into: target)
        }
        #expect(pulled.id == image.id)
        #expect(try target.check().isHealthy)
        #expect(proxy.faults > 0, "the proxy broke no connection, so nothing was tested")
    }
}
