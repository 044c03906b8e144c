import Foundation
import KilnGraph
import KilnOCI

/// Supplies the configuration of a base image (its ENV, WORKDIR, USER, SHELL, ONBUILD …), when known.
public protocol BaseImageConfigProvider: Sendable {
    func config(for reference: String, platform: Platform) -> ImageConfig?
}

/// Knows no base image: lowering proceeds with empty configs (what `kiln check` uses).
public struct NoBaseImageConfigs: BaseImageConfigProvider {
    public init() {}
    public func config(for reference: String, platform: Platform) -> ImageConfig? { nil }
}

/// The lowered result of one stage.
public struct LoweredStage: Sendable {
    public var index: Int
    public var name: String
    /// The vertex holding the stage's filesystem, nil for an empty one.
    public var root: VertexID?
    /// The image configuration, history included.
    public var config: ImageConfig
}

/// A Dockerfile lowered to a build graph: the stages the target needs, and the target's image config.
public struct LoweredBuild: Sendable {
    public var graph: BuildGraph
    /// The lowered stages, in build order.
    public var stages: [LoweredStage]
    /// The stage that becomes the image.
    public var target: LoweredStage
    /// A digest of the target's filesystem vertex and config: same Dockerfile, context rules and args give the same digest.
    public var digest: Digest
}

/// Lowers a ``BuildPlan`` into a ``BuildGraph`` (BuildKit's `dockerfile2llb`).
public enum Lowering {
    /// The default PATH of a build step when the image sets none.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Lowers the target of `plan` and the stages it needs.
    ///
    /// - Parameters:
    ///   - contextExcludes: `.dockerignore` patterns of the build context.
    ///   - baseImages: configs of base images; unknown ones start from an empty config.
    public static func lower(
        _ plan: BuildPlan, contextExcludes: [String] = [], baseImages: some BaseImageConfigProvider = NoBaseImageConfigs()
    ) throws(DockerfileError) -> LoweredBuild {
        var graph = BuildGraph()
        var lowered: [Int: LoweredStage] = [:]
        let context = ContextSource(name: "context", excludePatterns: contextExcludes)
        for index in plan.order {
            var state = StageLowering(
                plan: plan, resolved: plan.stages[index], graph: graph, loweredStages: lowered, context: context,
                baseImages: baseImages)
            let stage = try state.run()
            graph = state.graph
            lowered[index] = stage
        }
        let target = lowered[plan.target]!
        let configJSON = (try? CanonicalJSON.encode(target.config)) ?? Data()
        let rootDigest = target.root.map { graph[$0].digest.description } ?? "scratch"
        let digest = Digest.sha256(of: Array(rootDigest.utf8) + [0x0A] + Array(configJSON))
        return LoweredBuild(graph: graph, stages: plan.order.map { lowered[$0]! }, target: target, digest: digest)
    }
}
