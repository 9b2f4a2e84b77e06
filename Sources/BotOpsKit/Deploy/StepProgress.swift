/// What the steps of a run did to the running services so far, from what each step declares
/// (`PlaybookStep.effect`), never from its name or command: a failure rolls the containers back
/// once they were touched, and an interruption starts again old containers a stop left stopped.
struct StepProgress: Equatable {
    /// Containers were stopped or replaced: set when such a step starts (it may fail half-way).
    private(set) var containersTouched = false
    /// The effects of the steps that ended, in order.
    private(set) var ended: [StepEffect] = []

    mutating func started(_ step: PlaybookStep) {
        if step.effect.touchesContainers { containersTouched = true }
    }

    mutating func ended(_ step: PlaybookStep) {
        ended.append(step.effect)
    }

    /// A step that starts the new containers ended.
    var startEnded: Bool { ended.contains(.startsContainers) }
    /// The old containers were stopped and nothing started new ones since: an interruption starts
    /// them again. The order counts: a start that ended before the stop started nothing after it.
    var oldContainersLeftStopped: Bool { ended.last(where: \.touchesContainers) == .stopsContainers }
}

/// What a run does, as the audit and the messages name it.
enum RunAction: String, CustomStringConvertible {
    case deploy
    case rollback
    /// `deploy --host-files`.
    case deployHostFiles = "deploy-host-files"

    var description: String { rawValue }
}
