import KilnDockerfile
import KilnGraph

/// The short plan `kiln check` prints: the target, the stages in build order with their bases and
/// dependencies, the stages left out, and the graph digest.
struct StagePlanReport {
    let plan: BuildPlan
    let lowered: LoweredBuild

    func render() -> String {
        let target = plan.stages[plan.target].stage
        var lines = ["target: \(target.displayName) (stage \(target.index) of \(plan.stages.count)), platform \(plan.stages[plan.target].platform)"]
        lines.append("build order:")
        for (position, index) in plan.order.enumerated() {
            let resolved = plan.stages[index]
            let base: String
            switch resolved.base {
            case .scratch: base = "scratch"
            case .stage(let stage): base = "stage \(plan.stages[stage].stage.displayName)"
            case .image(let reference): base = reference
            }
            let needs = Set(resolved.dependencies).sorted().map { plan.stages[$0].stage.displayName }
            var line = "  \(position + 1). \(resolved.stage.displayName)  FROM \(base)  (\(resolved.stage.instructions.count) instructions)"
            if !needs.isEmpty { line += "  needs: " + needs.joined(separator: ", ") }
            if !resolved.externalImages.isEmpty { line += "  images: " + resolved.externalImages.joined(separator: ", ") }
            lines.append(line)
        }
        let skipped = plan.stages.indices.filter { !plan.order.contains($0) }.map { plan.stages[$0].stage.displayName }
        if !skipped.isEmpty { lines.append("skipped (not needed by the target): " + skipped.joined(separator: ", ")) }
        lines.append("graph: \(lowered.graph.vertices.count) vertices, digest \(lowered.digest)")
        return lines.joined(separator: "\n")
    }
}
