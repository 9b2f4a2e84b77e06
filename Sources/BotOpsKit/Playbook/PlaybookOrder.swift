/// The order a playbook's steps must run in. A step that reads what another produces (the
/// run's facts, `Produced` in Deploy/RunFacts.swift) comes after it; a step that measures the host
/// before anything changes comes before what changes it. The parser refuses any other order,
/// which would otherwise run and misbehave (a wait for containers not started yet, checks of
/// the old containers, a baseline of the new revision, nothing kept because it was stopped).
extension Playbook {
    /// A step an order rule names: a built-in step, or the one that starts the containers.
    enum OrderedStep: Equatable {
        case builtin(BuiltinStep)
        /// A `run:` step with `touches: containers` (or taken as one: see `assumeTouches`).
        case startsContainers

        func matches(_ step: PlaybookStep) -> Bool {
            switch self {
            case .builtin(let builtin): return step.action == .builtin(builtin)
            case .startsContainers: return step.effect == .startsContainers
            }
        }
    }

    /// `earlier` runs before `later` whenever a playbook has both, because `why`.
    struct OrderRule {
        let earlier: OrderedStep
        let later: OrderedStep
        let why: String
    }

    static let orderRules: [Kind: [OrderRule]] = {
        // The rules of both playbooks.
        let both = [
            OrderRule(earlier: .builtin(.stop), later: .builtin(.waitHealthy), why: "wait-healthy times the downtime from the stop, and the checks judge the images noted at the stop"),
            OrderRule(earlier: .startsContainers, later: .builtin(.waitHealthy), why: "wait-healthy waits for the containers that step starts"),
            OrderRule(earlier: .builtin(.waitHealthy), later: .builtin(.checks), why: "the checks judge the containers wait-healthy saw healthy"),
            OrderRule(earlier: .builtin(.checkout), later: .builtin(.checks), why: "the checks verify the revision the checkout moved to"),
            OrderRule(earlier: .builtin(.checkout), later: .startsContainers,
                      why: "that step starts the containers from the checkout (its compose file, the images built from it): before the checkout moves, they would run the revision it leaves, and the checks would pass them as the one it moves to"),
        ]
        let measuredBefore = "baseline measures the host before anything changes"
        return [
            .deploy: [
                OrderRule(earlier: .builtin(.preflight), later: .builtin(.keepImage), why: "keep-image reads the checkout and the releases the preflight reads"),
                OrderRule(earlier: .builtin(.preflight), later: .builtin(.checkout), why: "checkout judges the target against the running stack the preflight reads"),
                OrderRule(earlier: .builtin(.preflight), later: .builtin(.stop), why: "stop uses the stop grace periods of the compose file the preflight reads"),
                OrderRule(earlier: .builtin(.baseline), later: .builtin(.keepImage), why: "keep-image records whether the image it keeps passed the baseline's checks"),
                OrderRule(earlier: .builtin(.baseline), later: .builtin(.checkout), why: measuredBefore),
                OrderRule(earlier: .builtin(.baseline), later: .builtin(.stop), why: measuredBefore),
                OrderRule(earlier: .builtin(.baseline), later: .startsContainers, why: measuredBefore),
                OrderRule(earlier: .builtin(.keepImage), later: .builtin(.checkout), why: "a failure once the checkout moved rolls back to the image keep-image keeps"),
                OrderRule(earlier: .builtin(.keepImage), later: .builtin(.stop), why: "keep-image keeps the image of the running container, which stop stops"),
                OrderRule(earlier: .builtin(.keepImage), later: .startsContainers, why: "keep-image keeps the image of the running container, which that step replaces"),
            ] + both,
            .rollback: [
                OrderRule(earlier: .builtin(.restoreImage), later: .builtin(.stop), why: "stop notes the images restore-image points the service names at, which the checks then require"),
                OrderRule(earlier: .builtin(.restoreImage), later: .startsContainers, why: "that step starts the images restore-image restores"),
            ] + both,
        ]
    }()

    /// Refuses the first step that runs before a step it must follow (`orderRules`). `declared`:
    /// the steps whose `touches:` the file says (the others' may be taken by `assumeTouches`).
    static func checkOrder(_ steps: [PlaybookStep], kind: Kind, file: String, declared: Set<String>) throws {
        for rule in orderRules[kind] ?? [] {
            guard let first = steps.firstIndex(where: rule.earlier.matches) else { continue }
            guard let early = steps[..<first].first(where: rule.later.matches) else { continue }
            let earlier = steps[first]
            throw ConfigError(file: file, line: early.line, key: "steps",
                              problem: "step '\(early.name)' (\(early.orderDescription(declared: declared))) runs before step '\(earlier.name)' (\(earlier.orderDescription(declared: declared)), line \(earlier.line)); it must come after it: \(rule.why). Move '\(early.name)' below '\(earlier.name)'.")
        }
    }
}

extension PlaybookStep {
    /// "builtin: stop", or what a `run:` step does to the containers.
    fileprivate func orderDescription(declared: Set<String>) -> String {
        switch action {
        case .builtin(let builtin): return "builtin: \(builtin.rawValue)"
        case .run where effect == .startsContainers:
            return !declared.contains(name) ? "taken as 'touches: containers'; say 'touches: nothing-running' if it is not" : "touches: containers"
        case .run: return "run"
        }
    }
}
