import AsyncHTTPClient
import Foundation
import KilnArchive
import KilnOCI
import KilnStore
import NIOCore
import NIOHTTP1

extension RegistryClient {
    /// Every manifest media type kiln reads, best first.
    static let manifestAccept = [
        MediaType.ociIndex, .ociManifest, .dockerManifestList, .dockerManifest,
    ].map(\.rawValue).joined(separator: ", ")

    /// Progress of a transfer, reported per blob.
    public struct TransferEvent: Sendable {
        public enum Kind: Sendable { case started, resumed, finished, skipped, unpacked }
        public var kind: Kind
        public var digest: Digest
        public var size: Int64
        /// Where a resumed download continues.
        public var offset: Int64 = 0
    }

    /// Fetches a manifest or index by tag or digest and checks its digest.
    public func fetchManifest(_ reference: ImageReference, digest: Digest? = nil) async throws -> (descriptor: Descriptor, bytes: [UInt8]) {
        try await withRetries { try await fetchManifestOnce(reference, digest: digest) }
    }

    private func fetchManifestOnce(_ reference: ImageReference, digest: Digest?) async throws -> (descriptor: Descriptor, bytes: [UInt8]) {
        let target = digest?.description ?? reference.digest?.description ?? reference.tag ?? "latest"
        let url = "\(configuration.baseURL(for: reference.domain))/v2/\(reference.path)/manifests/\(target)"
        let response = try await send(
            .GET, url, domain: reference.domain, scope: "repository:\(reference.path):pull", headers: ["Accept": Self.manifestAccept])
        let body = try await response.body.collect(upTo: 8 << 20)
        switch response.status.code {
        case 200: break
        case 401, 403:
            throw RegistryError(.unauthorized, "unauthorized: pull access denied for \(reference.familiarDescription), repository does not exist or may require authorization")
        case 404:
            throw RegistryError(.manifestUnknown, "manifest unknown: \(reference.familiarDescription) not found in \(reference.domain)")
        default:
            throw RegistryError(.unexpectedResponse, "GET \(url): \(response.status.code) \(Self.errorSummary(body) ?? "")")
        }
        let bytes = Array(body.readableBytesView)
        let actual = Digest.sha256(of: bytes)
        if let expected = digest ?? reference.digest, expected != actual {
            throw RegistryError(.digestMismatch, "manifest of \(reference.familiarDescription) has digest \(actual), expected \(expected)")
        }
        var mediaType = response.headers.first(name: "Content-Type").map { MediaType(rawValue: String($0.split(separator: ";")[0])) }
        if mediaType == nil || !(mediaType!.isIndex || mediaType!.isManifest),
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        {
            if let declared = object["mediaType"] as? String {
                mediaType = MediaType(rawValue: declared)
            } else {
                mediaType = object["manifests"] != nil ? .ociIndex : .ociManifest
            }
        }
        return (Descriptor(mediaType: mediaType ?? .ociManifest, digest: actual, size: Int64(bytes.count)), bytes)
    }

    /// Pulls `reference` for `platform` into `store` and tags it: the manifest, the config and the layers
    /// (several at once), each verified against its digest while it streams in; blobs already stored are skipped.
    ///
    /// With a `registries.conf` in the configuration, mirrors of the reference's prefix are tried first, then
    /// the (possibly rewritten) registry itself; the image is tagged under the name that was asked for.
    ///
    /// With `unpack`, each layer is also unpacked into its snapshot as soon as its blob is in, while the
    /// others still download, so the image is ready to run when the pull returns (as `docker pull` leaves it).
    public func pull(
        _ reference: ImageReference, platform: Platform = .host, into store: LayoutStore, unpack: Bool = false,
        progress: (@Sendable (TransferEvent) -> Void)? = nil
    ) async throws -> StoredImage {
        let sources = try configuration.registries?.pullSources(for: reference).map(\.reference) ?? [reference]
        var failure: (any Error)?
        for source in sources {
            do {
                return try await pull(from: source, taggingAs: reference, platform: platform, into: store, unpack: unpack, progress: progress)
            } catch {
                failure = error
            }
        }
        throw failure ?? RegistryError(.manifestUnknown, "no source to pull \(reference.familiarDescription) from")
    }

    private func pull(
        from source: ImageReference, taggingAs reference: ImageReference, platform: Platform, into store: LayoutStore,
        unpack: Bool, progress: (@Sendable (TransferEvent) -> Void)?
    ) async throws -> StoredImage {
        var (descriptor, bytes) = try await fetchManifest(source)
        if descriptor.mediaType.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: Data(bytes))
            guard let chosen = PlatformSelection.best(in: index.manifests, for: platform) else {
                let available = index.manifests.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw RegistryError(.noMatchingPlatform, "no \(platform) image in index for \(reference.familiarDescription) (it has \(available))")
            }
            (descriptor, bytes) = try await fetchManifest(source, digest: chosen.digest)
            descriptor.mediaType = chosen.mediaType
        }
        let manifest: Manifest
        do {
            manifest = try CanonicalJSON.decode(Manifest.self, from: Data(bytes))
        } catch {
            throw RegistryError(.unexpectedResponse, "the manifest of \(reference.familiarDescription) cannot be read", cause: error)
        }
        let layers = Set(manifest.layers.map(\.digest))
        try await forEachBlob([manifest.config] + manifest.layers) { blob in
            try await self.fetchBlob(blob, repository: source, into: store, progress: progress)
            if unpack && layers.contains(blob.digest) {
                try await BlockingWork.run { _ = try SnapshotStore(store: store).prepare(layer: blob) }
                progress?(TransferEvent(kind: .unpacked, digest: blob.digest, size: blob.size))
            }
        }
        try store.putBlob(bytes, expected: descriptor.digest)
        let tag = reference.tag == nil && reference.digest != nil ? nil : reference
        if let tag {
            var plain = reference
            plain.digest = nil
            try store.tag(tag.digest == nil ? tag : plain, descriptor)
        } else {
            try store.addUntagged(descriptor)
        }
        return try store.image(descriptor: descriptor, reference: tag, platform: platform)
    }

    /// Downloads one blob into the store unless it is there, resuming with `Range` after a broken connection.
    public func fetchBlob(
        _ blob: Descriptor, repository reference: ImageReference, into store: LayoutStore,
        progress: (@Sendable (TransferEvent) -> Void)? = nil
    ) async throws {
        try await fetchBlob(blob, repository: reference, into: store, progress: progress, restarts: 0)
    }

    /// `restarts` counts downloads started over because the registry ignored `Range`.
    private func fetchBlob(
        _ blob: Descriptor, repository reference: ImageReference, into store: LayoutStore,
        progress: (@Sendable (TransferEvent) -> Void)?, restarts: Int
    ) async throws {
        if store.hasBlob(blob.digest) {
            progress?(TransferEvent(kind: .skipped, digest: blob.digest, size: blob.size))
            return
        }
        let url = "\(configuration.baseURL(for: reference.domain))/v2/\(reference.path)/blobs/\(blob.digest)"
        // What an interrupted pull (even a killed process) left of this blob is continued with a Range request.
        let writer = try store.resumableBlobWriter(for: blob.digest)
        if writer.resumedBytes > blob.size {
            writer.abandon()
            return try await fetchBlob(blob, repository: reference, into: store, progress: progress, restarts: restarts + 1)
        }
        if writer.resumedBytes > 0 {
            progress?(TransferEvent(kind: .resumed, digest: blob.digest, size: blob.size, offset: writer.resumedBytes))
        } else {
            progress?(TransferEvent(kind: .started, digest: blob.digest, size: blob.size))
        }
        var failures = 0
        do {
            while true {
                var headers: HTTPHeaders = [:]
                if writer.count > 0 { headers.add(name: "Range", value: "bytes=\(writer.count)-") }
                let response = try await send(.GET, url, domain: reference.domain, scope: "repository:\(reference.path):pull", headers: headers)
                switch response.status.code {
                case 200 where writer.count > 0:
                    // The registry ignored the range: start again.
                    _ = try? await response.body.collect(upTo: 0)
                    throw RestartDownload()
                case 200, 206:
                    break
                case 404:
                    throw RegistryError(.blobUnknown, "blob unknown: \(blob.digest) is missing from \(reference.name)")
                default:
                    let body = try? await response.body.collect(upTo: 1 << 20)
                    throw RegistryError(.unexpectedResponse, "GET \(url): \(response.status.code) \(body.flatMap(Self.errorSummary) ?? "")")
                }
                let before = writer.count
                do {
                    for try await buffer in response.body {
                        try writer.write(Array(buffer.readableBytesView))
                        guard writer.count <= blob.size else {
                            throw RegistryError(.digestMismatch, "blob \(blob.digest) is larger than its \(blob.size) bytes")
                        }
                    }
                } catch let error as RegistryError {
                    throw error
                } catch {
                    // A connection that delivered something resets the count: the download is making progress.
                    failures = writer.count > before ? 0 : failures + 1
                    guard failures < configuration.maximumAttempts else {
                        throw RegistryError(.transport, "downloading \(blob.digest) failed", cause: error)
                    }
                    continue
                }
                if writer.count < blob.size {
                    failures += 1
                    guard failures < configuration.maximumAttempts else {
                        throw RegistryError(.transport, "downloading \(blob.digest) stopped at \(writer.count) of \(blob.size) bytes")
                    }
                    continue
                }
                break
            }
            do {
                try writer.commit(expected: blob.digest, expectedSize: blob.size)
            } catch {
                // The commit dropped the bytes; when some came from an earlier pull, they may be the bad ones.
                if writer.resumedBytes > 0 { throw RestartDownload() }
                throw RegistryError(.digestMismatch, "blob \(blob.digest) from \(reference.name) does not match its digest", cause: error)
            }
        } catch is RestartDownload {
            writer.abandon()
            guard restarts + 1 < configuration.maximumAttempts else {
                throw RegistryError(.transport, "downloading \(blob.digest) kept breaking and the registry does not resume downloads")
            }
            return try await fetchBlob(blob, repository: reference, into: store, progress: progress, restarts: restarts + 1)
        } catch let error as RegistryError where error.code == .digestMismatch {
            writer.abandon()
            throw error
        } catch {
            // Broken connections, Ctrl-C: keep what arrived for the next pull.
            writer.suspend()
            throw error
        }
        progress?(TransferEvent(kind: .finished, digest: blob.digest, size: blob.size))
    }
}

private struct RestartDownload: Error {}
