import AsyncHTTPClient
import Foundation
import KilnOCI
import KilnStore
import NIOCore
import NIOHTTP1

extension RegistryClient {
    /// Pushes `image` from `store` to `reference`: the blobs the registry lacks, then the manifest.
    /// - Returns: the digest of the pushed manifest.
    @discardableResult
    public func push(
        _ image: StoredImage, to reference: ImageReference, from store: LayoutStore,
        progress: (@Sendable (TransferEvent) -> Void)? = nil
    ) async throws -> Digest {
        guard image.descriptor.mediaType.isIndex else {
            return try await pushManifest(
                image.manifestDescriptor, blobs: [image.manifest.config] + image.manifest.layers, to: reference, from: store, progress: progress)
        }
        // A multi-platform image: every platform's manifest (by digest), then the index under the tag.
        let index = try CanonicalJSON.decode(Index.self, from: Data(try store.readBlob(image.descriptor.digest)))
        let missing = index.manifests.filter { !store.hasBlob($0.digest) }
        guard missing.isEmpty else {
            let platforms = missing.map { $0.platform?.description ?? $0.digest.description }.joined(separator: ", ")
            throw RegistryError(.unexpectedResponse, "cannot push \(reference.familiarDescription): the store lacks its \(platforms) manifest")
        }
        for child in index.manifests {
            let manifest = try CanonicalJSON.decode(Manifest.self, from: Data(try store.readBlob(child.digest)))
            try await pushManifest(child, blobs: [manifest.config] + manifest.layers, to: reference, from: store, byDigest: true, progress: progress)
        }
        return try await pushManifest(image.descriptor, blobs: [], to: reference, from: store, progress: progress)
    }

    /// Pushes any manifest kept in `store` (an image, an index, a build cache): `blobs` the registry lacks,
    /// then the manifest itself, under the reference's tag (or its digest, always with `byDigest`).
    /// - Returns: the digest of the pushed manifest.
    @discardableResult
    public func pushManifest(
        _ manifest: Descriptor, blobs: [Descriptor], to reference: ImageReference, from store: LayoutStore, byDigest: Bool = false,
        progress: (@Sendable (TransferEvent) -> Void)? = nil
    ) async throws -> Digest {
        try await forEachBlob(blobs) { blob in
            try await self.pushBlob(blob, to: reference, from: store, progress: progress)
        }
        let bytes = try store.readBlob(manifest.digest)
        let target = byDigest ? manifest.digest.description : reference.tag ?? manifest.digest.description
        let url = "\(configuration.baseURL(for: reference.domain))/v2/\(reference.path)/manifests/\(target)"
        try await withRetries {
            let response = try await send(
                .PUT, url, domain: reference.domain, scope: "repository:\(reference.path):pull,push",
                headers: ["Content-Type": manifest.mediaType.rawValue], body: .bytes(bytes))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status.code == 201 || response.status.code == 200 else {
                throw pushError(response.status.code, body: body, reference: reference, what: "manifest")
            }
        }
        return manifest.digest
    }

    /// Uploads one blob unless the registry has it; tries a cross-repository mount from `mountFrom` first.
    public func pushBlob(
        _ blob: Descriptor, to reference: ImageReference, from store: LayoutStore, mountFrom: String? = nil,
        progress: (@Sendable (TransferEvent) -> Void)? = nil
    ) async throws {
        let base = "\(configuration.baseURL(for: reference.domain))/v2/\(reference.path)"
        let scope = "repository:\(reference.path):pull,push" + (mountFrom.map { " repository:\($0):pull" } ?? "")
        let exists = try await withRetries {
            let head = try await send(.HEAD, "\(base)/blobs/\(blob.digest)", domain: reference.domain, scope: scope)
            _ = try? await head.body.collect(upTo: 1 << 16)
            return head.status == .ok
        }
        if exists {
            progress?(TransferEvent(kind: .skipped, digest: blob.digest, size: blob.size))
            return
        }
        progress?(TransferEvent(kind: .started, digest: blob.digest, size: blob.size))
        // A broken upload is started over in a new session: a half-written session cannot be trusted.
        try await withRetries {
            try await upload(blob, base: base, reference: reference, scope: scope, mountFrom: mountFrom, store: store)
        }
        progress?(TransferEvent(kind: .finished, digest: blob.digest, size: blob.size))
    }

    /// One upload session: POST (or mount), then PUT or PATCH…PUT.
    private func upload(
        _ blob: Descriptor, base: String, reference: ImageReference, scope: String, mountFrom: String?, store: LayoutStore
    ) async throws {
        var start = "\(base)/blobs/uploads/"
        if let mountFrom { start += "?mount=\(blob.digest)&from=\(Self.formEncode(mountFrom))" }
        let opened = try await send(.POST, start, domain: reference.domain, scope: scope, headers: ["Content-Length": "0"])
        let openedBody = try await opened.body.collect(upTo: 1 << 20)
        if opened.status == .created { return }
        guard opened.status == .accepted, var location = opened.headers.first(name: "Location") else {
            throw pushError(opened.status.code, body: openedBody, reference: reference, what: "upload of \(blob.digest)")
        }
        location = absolute(location, base: configuration.baseURL(for: reference.domain))
        let path = store.layout.blobPath(blob.digest)
        if blob.size >= configuration.chunkedUploadThreshold {
            var offset: Int64 = 0
            while offset < blob.size {
                let length = min(configuration.uploadChunkSize, blob.size - offset)
                let response = try await send(
                    .PATCH, location, domain: reference.domain, scope: scope,
                    headers: ["Content-Type": "application/octet-stream", "Content-Range": "\(offset)-\(offset + length - 1)", "Content-Length": "\(length)"],
                    body: .file(path: path, offset: offset, length: length))
                let body = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .accepted, let next = response.headers.first(name: "Location") else {
                    throw pushError(response.status.code, body: body, reference: reference, what: "chunk of \(blob.digest)")
                }
                location = absolute(next, base: configuration.baseURL(for: reference.domain))
                offset += length
            }
            let separator = location.contains("?") ? "&" : "?"
            let response = try await send(
                .PUT, location + separator + "digest=\(blob.digest)", domain: reference.domain, scope: scope, headers: ["Content-Length": "0"])
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .created else { throw pushError(response.status.code, body: body, reference: reference, what: "blob \(blob.digest)") }
        } else {
            let separator = location.contains("?") ? "&" : "?"
            let response = try await send(
                .PUT, location + separator + "digest=\(blob.digest)", domain: reference.domain, scope: scope,
                headers: ["Content-Type": "application/octet-stream", "Content-Length": "\(blob.size)"],
                body: .file(path: path, offset: 0, length: blob.size))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .created else { throw pushError(response.status.code, body: body, reference: reference, what: "blob \(blob.digest)") }
        }
    }

    private func absolute(_ location: String, base: String) -> String {
        location.hasPrefix("http://") || location.hasPrefix("https://") ? location : base + (location.hasPrefix("/") ? "" : "/") + location
    }

    private func pushError(_ status: UInt, body: ByteBuffer, reference: ImageReference, what: String) -> RegistryError {
        if status == 401 || status == 403 {
            return RegistryError(.denied, "denied: requested access to \(reference.name) is denied (kiln login \(reference.domain))")
        }
        return RegistryError(.unexpectedResponse, "pushing \(what) to \(reference.name): \(status) \(Self.errorSummary(body) ?? "")")
    }
}
