@testable import BotOpsKit
import SandboxSupport
import Testing

/// What a step does to the running containers is declared (by botops for a built-in step, by
/// `touches:` for a `run:` step), never read from the step's name or command: renaming `up`, or a
/// harmless command that says " up ", must not change what a failure or an interruption does.
@Suite struct StepEffectTests {
    static func playbook(_ middle: String) throws -> Playbook {
        try Playbook.parse("""
            steps:
              - {name: lock, builtin: lock}
              - {name: preflight, builtin: preflight}
              - {name: keep-image, builtin: keep-image}
              - {name: checkout, builtin: checkout}
            \(middle)
              - {name: wait-healthy, builtin: wait-healthy}
              - {name: checks, builtin: checks}

            """, file: "deploy.yml", kind: .deploy)
    }

    /// The progress once the steps up to `last` ran and ended, and `failing` started after them.
    static func progress(_ playbook: Playbook, through last: String, thenStarted failing: String? = nil) -> StepProgress {
        var progress = StepProgress()
        for step in playbook.steps {
            progress.started(step)
            progress.ended(step)
            if step.name == last { break }
        }
        if let step = playbook.steps.first(where: { $0.name == failing }) { progress.started(step) }
        return progress
    }

    static let renamedUp = """
          - {name: stop, builtin: stop}
          - {name: warm, run: "echo warm up the caches"}
          - {name: start-new, run: "{compose} create {services} && {compose} start {services}", touches: containers}
        """

    @Test func anInterruptionAfterTheStopStartsTheOldContainersUntilTheDeclaredStepStartsNewOnes() throws {
        let playbook = try Self.playbook(Self.renamedUp)
        // The harmless step says " up ": the old containers are still stopped after it.
        let afterWarm = Self.progress(playbook, through: "warm")
        #expect(afterWarm.oldContainersLeftStopped)
        #expect(!afterWarm.startEnded)
        // The renamed step started the new ones, though neither its name nor its command says "up".
        let afterStart = Self.progress(playbook, through: "start-new")
        #expect(!afterStart.oldContainersLeftStopped)
        #expect(afterStart.startEnded)
    }

    @Test func aFailureRollsTheContainersBackOnceADeclaredStepStartedAndNotForACommandThatSaysUp() throws {
        let playbook = try Self.playbook("""
              - {name: warm, run: "echo warm up the caches"}
              - {name: replace, run: "{compose} create --force-recreate {services}", touches: containers}
            """)
        #expect(!Self.progress(playbook, through: "checkout", thenStarted: "warm").containersTouched)
        #expect(!Self.progress(playbook, through: "warm").containersTouched)
        #expect(Self.progress(playbook, through: "warm", thenStarted: "replace").containersTouched)
        // The built-in stop touches them from its start.
        let stopped = try Self.playbook(Self.renamedUp)
        #expect(Self.progress(stopped, through: "checkout", thenStarted: "stop").containersTouched)
    }

    @Test func aStopAfterAStartLeavesTheOldContainersStoppedForTheInterruptionToStart() throws {
        let playbook = try Self.playbook("""
              - {name: warm, run: "{compose} up -d cache", touches: containers}
              - {name: stop, builtin: stop}
              - {name: up, run: "{compose} up -d {services}", touches: containers}
            """)
        #expect(Self.progress(playbook, through: "stop").oldContainersLeftStopped)
        #expect(!Self.progress(playbook, through: "up").oldContainersLeftStopped)
    }

    @Test func onlyADeclaredBuildIsStoppedByAnInterruption() throws {
        let shipped = try Playbook.parse(Playbook.Kind.deploy.builtInText, file: "deploy.yml", kind: .deploy)
        let effects = Dictionary(uniqueKeysWithValues: shipped.steps.map { ($0.name, $0.effect) })
        #expect(effects["build"] == .nothingRunning)
        #expect(effects["up"] == .startsContainers)
        #expect(effects["stop"] == .stopsContainers)
        #expect(effects["checkout"] == .host)
        let rollback = try Playbook.parse(Playbook.Kind.rollback.builtInText, file: "rollback.yml", kind: .rollback)
        #expect(rollback.steps.first { $0.name == "up" }?.effect == .startsContainers)
        // In a playbook that declares its start, an undeclared command runs to its end, whatever it says.
        let undeclared = try Self.playbook("""
              - {name: compile, run: "{compose} build {services}"}
              - {name: up, run: "{compose} up -d {services}", touches: containers}
            """)
        #expect(undeclared.steps.first { $0.name == "compile" }?.effect == .host)
        #expect(undeclared.warnings.isEmpty)
    }

    @Test func touchesIsCheckedWhereItIsWritten() {
        func problem(_ middle: String) -> ConfigError? {
            #expect(throws: ConfigError.self) { try Self.playbook(middle) }
        }
        let unknown = problem("  - {name: up, run: x, touches: everything}")
        #expect(unknown?.key == "steps[5].touches")
        #expect(unknown?.problem.contains("containers, nothing-running") == true)
        let builtin = problem("  - {name: stop, builtin: stop, touches: containers}\n  - {name: up, run: x, touches: containers}")
        #expect(builtin?.key == "steps[5].touches")
    }

    /// The shipped playbooks as they were before `touches:` existed: an operator's exported copy
    /// must still run, as safely, with a warning that names the key to add.
    static func oldStyle(_ kind: Playbook.Kind) throws -> Playbook {
        let text = kind == .deploy ? PlaybooksBeforeTouches.deploy : PlaybooksBeforeTouches.rollback
        #expect(!text.contains("touches"))
        return try Playbook.parse(text, file: kind.fileName, kind: kind)
    }


    @Test func aPlaybookFromBeforeTouchesRunsWithTheSafeAssumptionAndAWarning() throws {
        let deploy = try Self.oldStyle(.deploy)
        let effects = Dictionary(uniqueKeysWithValues: deploy.steps.map { ($0.name, $0.effect) })
        // After the stop, the undeclared step may be the one that starts the containers.
        #expect(effects["up"] == .startsContainers)
        // Before it, the build leaves the containers alone and, undeclared, runs to its end.
        #expect(effects["build"] == .host)
        #expect(deploy.warnings.count == 2)
        #expect(deploy.warnings.contains { $0.contains("step 'up'") && $0.contains("'touches: containers'") })
        #expect(deploy.warnings.contains { $0.contains("step 'build'") && $0.contains("'touches: nothing-running'") })
        // A failing up rolls the containers back; an interruption after it leaves the new ones running.
        #expect(Self.progress(deploy, through: "stop", thenStarted: "up").containersTouched)
        #expect(!Self.progress(deploy, through: "checkout", thenStarted: "build").containersTouched)
        #expect(Self.progress(deploy, through: "up").startEnded)
        #expect(!Self.progress(deploy, through: "up").oldContainersLeftStopped)
        #expect(Self.progress(deploy, through: "stop").oldContainersLeftStopped)
        let rollback = try Self.oldStyle(.rollback)
        #expect(rollback.steps.first { $0.name == "up" }?.effect == .startsContainers)
        #expect(rollback.warnings.count == 1)
    }

    @Test func withoutAStopAnUndeclaredStepIsTakenAsTouchingTheContainers() throws {
        // No stop and no declaration: an `up` that replaces the containers must still roll them back.
        let playbook = try Self.playbook("  - {name: replace, run: \"{compose} up -d --build {services}\"}")
        #expect(Self.progress(playbook, through: "checkout", thenStarted: "replace").containersTouched)
        #expect(playbook.warnings.count == 1)
    }

    @Test func aStopWithoutADeclaredStartIsWarnedAboutNotRefused() throws {
        let playbook = try Self.playbook("""
              - {name: up, run: "{compose} up -d {services}", touches: containers}
              - {name: stop, builtin: stop}
            """)
        #expect(playbook.warnings.count == 1)
        #expect(playbook.warnings.first?.contains("no step after it declares 'touches: containers'") == true)
    }
}
