import Foundation

/// Networks for `RUN --network=default`, each used by one step. Making a namespace and starting slirp4netns
/// takes milliseconds a step would otherwise wait for, so when another step will follow, the next network
/// starts while the current step runs, as BuildKit keeps a pool of CNI network namespaces. ``drain()`` stops
/// the one kept ready; a killed kiln's is swept with the execution directories (its directory has an owner file).
actor NetworkPool {
    private let executable: String
    private let directory: String
    private var next: Task<SlirpNetwork, any Error>?
    private var isDrained = false

    /// A pool starting slirp4netns at `executable`, with each network's directory under `directory`.
    init(executable: String, directory: String) {
        self.executable = executable
        self.directory = directory
    }

    /// A started network for one step, which the caller stops; with `prestartingNext`, the next one starts now.
    func take(prestartingNext: Bool) async throws -> SlirpNetwork {
        let taken = next ?? start()
        next = prestartingNext && !isDrained ? start() : nil
        return try await taken.value
    }

    /// Stops the network kept ready, and keeps none from now on.
    func drain() async {
        isDrained = true
        guard let pending = next else { return }
        next = nil
        (try? await pending.value)?.stop()
    }

    private func start() -> Task<SlirpNetwork, any Error> {
        let executable = executable, parent = directory
        return Task.detached {
            let directory = try OwnedDirectory.make(in: parent, prefix: "kiln-net-").path
            do {
                return try await SlirpNetwork.start(executable: executable, in: directory)
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
        }
    }
}
